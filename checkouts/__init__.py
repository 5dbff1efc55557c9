"""Checkout tracking: the merchant's checkout page (or a hosted checkout) reports the customer's
progress; this app keeps each checkout's timeline, its linked payment attempts and the funnel
columns that checkout insights aggregate."""

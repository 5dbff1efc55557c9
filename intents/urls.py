"""Browser-facing pages (the hosted 3-D Secure page) that live outside /v1."""

from django.urls import path

from . import views

urlpatterns = [
    path("authenticate/payment_intents/<str:id>", views.three_d_secure, name="three_d_secure"),
]

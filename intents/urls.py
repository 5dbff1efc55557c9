"""Browser-facing pages (the hosted 3-D Secure page, of a payment or a setup) that live outside /v1."""

from django.urls import path

from . import views

urlpatterns = [
    path("authenticate/payment_intents/<str:id>", views.three_d_secure, name="three_d_secure"),
    path(
        "authenticate/setup_intents/<str:id>",
        views.setup_three_d_secure,
        name="setup_three_d_secure",
    ),
]

"""The hosted checkout page and embedded forms (outside /v1)."""

from django.urls import path

from . import views

urlpatterns = [
    path("checkout/<str:key>", views.checkout_page, name="checkout_page"),
    path("checkout/<str:key>/return", views.checkout_return, name="checkout_return"),
    path("checkout/<str:key>/status", views.checkout_status, name="checkout_status"),
    path("pay/<str:key>", views.payment_link_page, name="payment_link_page"),
    path("pay/<str:key>/done", views.payment_link_done, name="payment_link_done"),
]

from django.apps import AppConfig


class CheckoutPagesConfig(AppConfig):
    name = "checkout_pages"
    verbose_name = "Checkout pages"

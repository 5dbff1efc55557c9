"""Admin for customers, payment methods and charges. Only what may be stored is shown, and the
fingerprint and processor token are read-only; there is no card number or CVC to show."""

from django.contrib import admin

from .models import Charge, Customer, PaymentMethod


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("id", "email", "name", "account", "livemode", "deleted", "created")
    list_filter = ("livemode", "deleted")
    search_fields = ("id", "email", "name")
    readonly_fields = ("id", "account", "livemode", "created")
    raw_id_fields = ("account",)


@admin.register(PaymentMethod)
class PaymentMethodAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "card_brand",
        "card_last4",
        "card_exp_month",
        "card_exp_year",
        "customer",
        "account",
        "livemode",
        "created",
    )
    list_filter = ("livemode", "card_brand", "card_funding")
    search_fields = ("id", "card_last4", "card_fingerprint")
    readonly_fields = (
        "id",
        "account",
        "livemode",
        "created",
        "type",
        "card_brand",
        "card_last4",
        "card_exp_month",
        "card_exp_year",
        "card_funding",
        "card_country",
        "card_fingerprint",
        "processor_token",
        "magic_id",
    )
    raw_id_fields = ("customer",)

    def has_add_permission(self, request):
        return False  # cards are vaulted only through the API (tokenisation)


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "payment_intent",
        "amount",
        "amount_captured",
        "amount_refunded",
        "currency",
        "status",
        "captured",
        "livemode",
        "created",
    )
    list_filter = ("status", "captured", "livemode", "currency")
    search_fields = ("id", "payment_intent__id", "processor_reference")
    readonly_fields = [field.name for field in Charge._meta.fields]

    def has_add_permission(self, request):
        return False  # charges are payment attempts made by the intent services

    def has_change_permission(self, request, obj=None):
        return False

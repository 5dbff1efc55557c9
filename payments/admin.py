"""The console's customers, payment methods and charges, read-only. A card shows only its brand
and last four digits: nothing else of it is shown here (and no number or CVC is ever stored)."""

from __future__ import annotations

from django.contrib import admin

from console.base import ConsoleAdmin, admin_link, money

from .models import Charge, Customer, PaymentMethod


@admin.register(Customer)
class CustomerAdmin(ConsoleAdmin):
    list_display = ("id", "email", "name", "deleted", "account_link", "mode", "created_utc")
    list_filter = ("livemode", "deleted", "created")
    search_fields = ("=id", "email", "name")
    fields = (
        "id",
        "email",
        "name",
        "phone",
        "description",
        "address",
        "shipping",
        "metadata",
        "deleted",
        "account_link",
        "mode",
        "created_utc",
    )
    readonly_fields = fields


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ConsoleAdmin):
    list_display = ("id", "card_brand", "card_last4", "customer_link", "account_link", "mode")
    list_display += ("created_utc",)
    list_filter = ("livemode", "card_brand", "created")
    search_fields = ("=id", "card_last4", "=customer__id")
    fields = (
        "id",
        "type",
        "card_brand",
        "card_last4",
        "customer_link",
        "metadata",
        "account_link",
        "mode",
        "created_utc",
    )
    readonly_fields = fields

    @admin.display(description="customer", ordering="customer_id")
    def customer_link(self, pm: PaymentMethod) -> str:
        return admin_link(Customer, pm.customer_id)


class ChargeDisplay:
    """Money columns of a charge (shared by its list and its page)."""

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, charge: Charge) -> str:
        return money(charge.amount, charge.currency)

    @admin.display(description="captured", ordering="amount_captured")
    def captured_display(self, charge: Charge) -> str:
        return money(charge.amount_captured, charge.currency) if charge.captured else "—"

    @admin.display(description="refunded", ordering="amount_refunded")
    def refunded_display(self, charge: Charge) -> str:
        return money(charge.amount_refunded, charge.currency) if charge.amount_refunded else "—"

    @admin.display(description="card")
    def card(self, charge: Charge) -> str:
        pm = charge.payment_method
        label = f"{pm.card_brand} •••• {pm.card_last4}" if pm else None
        return admin_link(PaymentMethod, charge.payment_method_id, label)

    @admin.display(description="payment intent", ordering="payment_intent_id")
    def payment_intent_link(self, charge: Charge) -> str:
        return admin_link("intents.paymentintent", charge.payment_intent_id)

    @admin.display(description="decline")
    def decline(self, charge: Charge) -> str:
        if charge.status != Charge.Status.FAILED:
            return "—"
        reason = (charge.outcome or {}).get("reason")
        if reason and reason != charge.failure_code:
            return f"{charge.failure_code} / {reason}"
        return charge.failure_code or "—"


@admin.register(Charge)
class ChargeAdmin(ChargeDisplay, ConsoleAdmin):
    list_display = (
        "id",
        "payment_intent_link",
        "amount_display",
        "captured_display",
        "refunded_display",
        "status",
        "decline",
        "card",
        "three_d_secure",
        "account_link",
        "mode",
        "created_utc",
    )
    list_filter = ("status", "captured", "livemode", "currency", "three_d_secure", "created")
    search_fields = ("=id", "=payment_intent__id", "processor_reference", "failure_code")
    list_select_related = ("payment_method",)
    fields = (
        "id",
        "payment_intent_link",
        "status",
        "amount_display",
        "captured_display",
        "refunded_display",
        "decline",
        "failure_message",
        "outcome",
        "card",
        "three_d_secure",
        "processor_reference",
        "description",
        "metadata",
        "account_link",
        "mode",
        "created_utc",
    )
    readonly_fields = fields

    def get_object(self, request, object_id, from_field=None):
        return (
            self.get_queryset(request).select_related("payment_method").filter(pk=object_id).first()
        )

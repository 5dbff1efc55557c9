"""Operators see checkout intents read-only (status moves only through services) and cancel or
expire them with admin actions that call those services in the scope of the intent acted on;
a refusal (a payment under way, an intent no longer pending) is a message, never a 500."""

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from console.base import ConsoleAdmin, about
from core.errors import DomainError
from core.money import format_amount
from core.scope import Scope

from .models import CheckoutIntent, CheckoutSession, PaymentLink, Price, Product
from .presenters import session_status
from .selectors import checkout_intent_attempts
from .services import checkout_intent_cancel, checkout_intent_expire, checkout_session_expire


def _act(modeladmin, request, queryset, service, verb: str) -> None:
    done = 0
    for ci in queryset:
        try:
            service(scope=Scope.of(ci), checkout_intent_id=ci.id)
            done += 1
        except DomainError as exc:
            modeladmin.message_user(request, about(ci, exc.message), level=messages.WARNING)
    if done:
        modeladmin.message_user(request, f"{verb} {done} checkout intent(s).")


@admin.action(description="Cancel the selected checkout intents")
def cancel_checkout_intents(modeladmin, request, queryset):
    _act(modeladmin, request, queryset, checkout_intent_cancel, "Canceled")


@admin.action(description="Expire the selected checkout intents now")
def expire_checkout_intents(modeladmin, request, queryset):
    _act(modeladmin, request, queryset, checkout_intent_expire, "Expired")


@admin.register(CheckoutIntent)
class CheckoutIntentAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "account",
        "type",
        "shown_status",
        "money",
        "customer_id",
        "order_number",
        "livemode",
        "created",
        "expires_at",
    )
    list_filter = ("status", "type", "livemode", "capture", "currency")
    search_fields = ("id", "customer__id", "customer__email", "order_number", "description")
    date_hierarchy = "created"
    ordering = ("-created",)
    list_select_related = ("account",)
    actions = [cancel_checkout_intents, expire_checkout_intents]
    readonly_fields = ["attempts_table"] + [
        f.name for f in CheckoutIntent._meta.fields if f.name != "client_token_hash"
    ]
    exclude = ("client_token_hash",)
    show_full_result_count = False

    @admin.display(description="status")
    def shown_status(self, obj: CheckoutIntent) -> str:
        """As a reader sees it: pending past expires_at is expired before the sweep writes it."""
        return obj.as_shown().status

    @admin.display(description="amount", ordering="amount")
    def money(self, obj: CheckoutIntent) -> str:
        if obj.amount is None or not obj.currency:
            return "editable" if obj.amount_editable else "—"
        return format_amount(obj.amount, obj.currency)

    @admin.display(description="attempts")
    def attempts_table(self, obj: CheckoutIntent) -> str:
        attempts = checkout_intent_attempts(obj) if obj.pk else []
        if not attempts:
            return "No payment attempt yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    charge.created.strftime("%Y-%m-%d %H:%M:%S"),
                    charge.id,
                    charge.payment_intent_id,
                    format_amount(charge.amount, charge.currency),
                    charge.status,
                    charge.failure_message or "",
                )
                for charge in attempts
            ),
        )
        return format_html(
            "<table><thead><tr><th>when</th><th>charge</th><th>payment intent</th>"
            "<th>amount</th><th>status</th><th>reason</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Every field is read-only: a page to view, with no Save button that saves nothing.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Stripe Checkout: sessions, payment links, products and prices ---------------------------


class _ReadOnly(ConsoleAdmin):
    date_hierarchy = "created"
    list_select_related = ("account",)


@admin.action(description="Expire the selected Checkout Sessions now")
def expire_checkout_sessions(modeladmin, request, queryset):
    done = 0
    for session in queryset:
        try:
            checkout_session_expire(scope=Scope.of(session), session_id=session.id)
            done += 1
        except DomainError as exc:
            modeladmin.message_user(request, about(session, exc.message), level=messages.WARNING)
    if done:
        modeladmin.message_user(request, f"Expired {done} Checkout Session(s).")


@admin.register(CheckoutSession)
class CheckoutSessionAdmin(_ReadOnly):
    list_display = (
        "id",
        "account",
        "mode",
        "shown_status",
        "total",
        "client_reference_id",
        "payment_link",
        "livemode",
        "created",
    )
    list_filter = ("mode", "livemode", "currency")
    search_fields = ("id", "client_reference_id", "customer_email", "checkout_intent__id")
    list_select_related = ("account", "checkout_intent")
    actions = [expire_checkout_sessions]
    object_actions = (("expire_checkout_sessions", "Expire now"),)
    exclude = ("page_token",)
    readonly_fields = [f.name for f in CheckoutSession._meta.fields if f.name != "page_token"]

    @admin.display(description="status")
    def shown_status(self, obj: CheckoutSession) -> str:
        return session_status(obj.checkout_intent)

    @admin.display(description="total", ordering="amount_total")
    def total(self, obj: CheckoutSession) -> str:
        if obj.amount_total is None or not obj.currency:
            return "—"
        return format_amount(obj.amount_total, obj.currency)


@admin.register(PaymentLink)
class PaymentLinkAdmin(_ReadOnly):
    list_display = ("id", "account", "active", "currency", "redirect_url", "livemode", "created")
    list_filter = ("active", "livemode", "currency")
    search_fields = ("id",)
    exclude = ("url_key",)
    readonly_fields = [f.name for f in PaymentLink._meta.fields if f.name != "url_key"]


@admin.register(Product)
class ProductAdmin(_ReadOnly):
    list_display = ("id", "account", "name", "active", "livemode", "created")
    list_filter = ("active", "livemode")
    search_fields = ("id", "name")
    readonly_fields = [f.name for f in Product._meta.fields]


@admin.register(Price)
class PriceAdmin(_ReadOnly):
    list_display = ("id", "account", "product", "money", "active", "livemode", "created")
    list_filter = ("active", "livemode", "currency")
    search_fields = ("id", "product__name", "lookup_key")
    readonly_fields = [f.name for f in Price._meta.fields]

    @admin.display(description="unit amount", ordering="unit_amount")
    def money(self, obj: Price) -> str:
        return format_amount(obj.unit_amount, obj.currency)

"""The console's customers, payment methods and charges, read-only. A card shows only its brand
and last four digits: nothing else of it is shown here (and no number or CVC is ever stored)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from accounts.models import Account
from console.base import (
    ConsoleAdmin,
    MajorAmountField,
    MoneyForm,
    act,
    admin_link,
    form_action,
    money,
    utc,
)
from console.charts import Series, color, line_chart, stacked_bar_chart
from core.money import format_amount
from core.scope import Scope
from routing.models import PaymentFlow

from .insights import authorization_rate, processor_insights
from .models import Charge, Customer, PaymentMethod, Refund
from .services import refund_create

# --- refunds: the form and the action, for a charge here and for an intent in intents.admin ----


class RefundForm(MoneyForm):
    amount = MajorAmountField(help_text="Leave empty to refund all that is left to refund.")
    reason = forms.ChoiceField(required=False, choices=[("", "— none —"), *Refund.Reason.choices])


def refunded(refund: Refund) -> str:
    """What the log and the message say about a refund the service made."""
    return f"Refunded {money(refund.amount, refund.currency)} ({refund.id}, {refund.status})."


def refund_action(modeladmin, request, queryset, *, target: str, describe):
    """Refund each selected row (`target` names the `refund_create` parameter it fills:
    `payment_intent_id` or `charge_id`) through the refunds service, as the operator."""

    def perform(obj, data: dict) -> None:
        act(
            modeladmin,
            request,
            obj,
            lambda: refund_create(
                scope=Scope.of(obj),
                **{target: obj.pk},
                amount=data["amount"],
                reason=data["reason"] or None,
            ),
            refunded,
        )

    return form_action(
        modeladmin,
        request,
        queryset,
        form_class=RefundForm,
        title="Refund payment",
        perform=perform,
        describe=describe,
        submit="Refund",
    )


def _describe_charge(charge: Charge) -> str:
    return (
        f"{charge.id}: {money(charge.amount, charge.currency)}, captured "
        f"{money(charge.amount_captured, charge.currency)}, refunded "
        f"{money(charge.amount_refunded, charge.currency)}, left to refund "
        f"{money(charge.amount_refundable, charge.currency)}"
    )


@admin.action(description="Refund (all or part, with a reason)…")
def refund_charge(modeladmin, request, queryset):
    return refund_action(
        modeladmin, request, queryset, target="charge_id", describe=_describe_charge
    )


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
    actions = [refund_charge]
    object_actions = (("refund_charge", "Refund…"),)
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

    def get_urls(self):
        # the processor insights page (`processor_insights_page`, below), under the charges
        page = path(
            "processor_insights/",
            self.admin_site.admin_view(partial(processor_insights_page, self)),
            name="payments_processor_insights",
        )
        return [page, *super().get_urls()]


@admin.register(Refund)
class RefundAdmin(ConsoleAdmin):
    list_display = (
        "id",
        "amount_display",
        "status",
        "reason",
        "failure_reason",
        "charge_link",
        "payment_intent_link",
        "account_link",
        "mode",
        "created_utc",
    )
    list_filter = ("status", "reason", "failure_reason", "livemode", "currency", "created")
    search_fields = ("=id", "=charge__id", "=payment_intent__id", "processor_reference")
    fields = (
        "id",
        "amount_display",
        "status",
        "reason",
        "failure_reason",
        "charge_link",
        "payment_intent_link",
        "metadata",
        "processor_reference",
        "account_link",
        "mode",
        "created_utc",
        "updated_utc",
    )
    readonly_fields = fields

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, refund: Refund) -> str:
        return money(refund.amount, refund.currency)

    @admin.display(description="charge", ordering="charge_id")
    def charge_link(self, refund: Refund) -> str:
        return admin_link(Charge, refund.charge_id)

    @admin.display(description="payment intent", ordering="payment_intent_id")
    def payment_intent_link(self, refund: Refund) -> str:
        return admin_link("intents.paymentintent", refund.payment_intent_id)

    @admin.display(description="updated (UTC)")
    def updated_utc(self, refund: Refund) -> str:
        return utc(refund.updated)


# --- the processor insights page: /admin/payments/charge/processor_insights/ -----------------

INSIGHTS_PERIODS = {"7": 7, "30": 30, "90": 90}


def _amounts(amounts: list[dict]) -> str:
    return ", ".join(format_amount(a["amount"], a["currency"]) for a in amounts) or "—"


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1%}"


def processor_insights_page(modeladmin: admin.ModelAdmin, request):
    """Per processor connection: its figures over the period (a table), its authorisation rate
    and its attempts per UTC day (SVG), and what retries recovered, from
    `payments.insights.processor_insights`; filters for account, mode, period and flow."""
    accounts = list(Account.objects.order_by("name").values_list("id", "name"))
    get = request.GET
    account_id = get.get("account") or (accounts[0][0] if accounts else "")
    livemode = get.get("mode") == "live"
    period = get.get("period") if get.get("period") in INSIGHTS_PERIODS else "30"
    scope = Scope(account_id=account_id, livemode=livemode)
    flows = list(
        PaymentFlow.objects.filter(**scope.filters).order_by("name").values_list("id", "name")
    )
    flow = get.get("flow") if get.get("flow") in {f for f, _ in flows} else None
    now = timezone.now()
    last = now.astimezone(UTC).date()
    first = last - timedelta(days=INSIGHTS_PERIODS[period] - 1)
    insights = partial(
        processor_insights,
        scope=scope,
        gte=int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp()),
        lt=int(now.timestamp()) + 1,  # (whole seconds: the one under way too)
        payment_flow=flow,
        now=now,
    )
    answer = insights(group_by="processor")
    daily = insights(group_by="processor_day")["data"]
    # by the connection's name, then its id (a connection no longer known has no name: last)
    rows = sorted(
        answer["data"],
        key=lambda r: (r["name"] is None, (r["name"] or "").casefold(), r["processor"]),
    )
    days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    labels = [datetime.fromisoformat(d).strftime("%b %d") for d in days]
    by_day = {(r["processor"], r["day"]): r for r in daily}
    rates, attempts = [], []
    for index, row in enumerate(rows):
        label = row["name"] or row["processor"]
        cells = [by_day.get((row["processor"], d)) for d in days]
        rates.append(
            Series(label, [c["authorization_rate"] if c else None for c in cells], color(index))
        )
        attempts.append(Series(label, [c["attempts"] if c else 0 for c in cells], color(index)))
    total = {
        name: sum(r[name] for r in rows)
        for name in ("attempts", "succeeded", "soft_declines", "hard_declines")
    }
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Processor insights",
        "opts": modeladmin.model._meta,
        "accounts": accounts,
        "flows": flows,
        "periods": list(INSIGHTS_PERIODS),
        "selected": {
            "account": account_id,
            "mode": "live" if livemode else "test",
            "period": period,
            "flow": flow or "",
        },
        "total": total,
        "rate": _percent(
            authorization_rate(total["succeeded"], total["soft_declines"], total["hard_declines"])
        ),
        "recovered": {
            "count": answer["recovered"]["count"],
            "amount": _amounts(answer["recovered"]["amount"]),
        },
        "rows": [
            {
                **row,
                "link": admin_link("routing.processorconnection", row["processor"], row["name"])
                if row["name"] is not None
                else row["processor"],
                "color": color(index),
                "rate": _percent(row["authorization_rate"]),
                "volume": _amounts(row["volume"]),
            }
            for index, row in enumerate(rows)
        ],
        "rate_svg": line_chart(
            rates,
            labels,
            top=1,
            percent=True,
            css_class="processor-rates",
            aria_label="Authorisation rate per day, per processor",
        ),
        "attempts_svg": stacked_bar_chart(
            attempts,
            labels,
            css_class="processor-attempts",
            aria_label="Authorisation attempts per day, per processor",
        ),
    }
    return TemplateResponse(request, "admin/payments/processor_insights.html", context)

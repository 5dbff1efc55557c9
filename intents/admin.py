"""The console's payment intents: a list with money as money, and one page per intent with its
whole story in time order. Capture and cancel are actions that call the intent services (the
state machine under its row lock) in the intent's own scope, as the operator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.contrib import admin
from django.db.models import Sum
from django.utils.html import format_html, format_html_join

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
from core.scope import Scope
from events.models import Delivery, Event
from payments.admin import refund_action
from payments.models import Charge, Customer, PaymentMethod, Refund

from . import services
from .models import PaymentIntent, SetupIntent

CANCELLATION_REASONS = ("requested_by_customer", "duplicate", "fraudulent", "abandoned")


# --- actions ---------------------------------------------------------------------------------


class CaptureForm(MoneyForm):
    amount_to_capture = MajorAmountField(
        help_text="Leave empty to capture everything capturable; less captures part and "
        "releases the rest.",
    )


class CancelForm(forms.Form):
    cancellation_reason = forms.ChoiceField(
        choices=[(reason, reason) for reason in CANCELLATION_REASONS]
    )


def _describe(pi: PaymentIntent) -> str:
    return (
        f"{pi.id}: {money(pi.amount, pi.currency)}, {pi.status}, "
        f"capturable {money(pi.amount_capturable, pi.currency)}, "
        f"received {money(pi.amount_received, pi.currency)}"
    )


@admin.action(description="Capture (all or part)…")
def capture(modeladmin, request, queryset):
    def perform(pi: PaymentIntent, data: dict) -> None:
        act(
            modeladmin,
            request,
            pi,
            lambda: services.payment_intent_capture(
                scope=Scope.of(pi),
                payment_intent_id=pi.id,
                amount_to_capture=data["amount_to_capture"],
            ),
            lambda done: f"Captured {money(done.amount_received, done.currency)}.",
        )

    return form_action(
        modeladmin,
        request,
        queryset,
        form_class=CaptureForm,
        title="Capture payment",
        perform=perform,
        describe=_describe,
        submit="Capture",
    )


@admin.action(description="Cancel (with a reason)…")
def cancel(modeladmin, request, queryset):
    def perform(pi: PaymentIntent, data: dict) -> None:
        act(
            modeladmin,
            request,
            pi,
            lambda: services.payment_intent_cancel(
                scope=Scope.of(pi),
                payment_intent_id=pi.id,
                cancellation_reason=data["cancellation_reason"],
            ),
            lambda done: f"Canceled ({done.cancellation_reason}).",
        )

    return form_action(
        modeladmin,
        request,
        queryset,
        form_class=CancelForm,
        title="Cancel payment",
        perform=perform,
        describe=_describe,
        initial={"cancellation_reason": "requested_by_customer"},
        submit="Cancel payment",
    )


@admin.action(description="Refund (all or part, with a reason)…")
def refund(modeladmin, request, queryset):
    return refund_action(
        modeladmin, request, queryset, target="payment_intent_id", describe=_describe
    )


# --- the timeline ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Moment:
    at: datetime
    kind: str
    what: str  # already escaped HTML


def timeline(pi: PaymentIntent) -> list[Moment]:
    """Everything that happened to the intent, oldest first: its attempts (charges, with their
    decline codes and 3-D Secure), captures, refunds, the events about all of these, and every
    webhook delivery of those events with its last HTTP status. A constant number of queries
    however long the story: one per kind of row."""
    charges = list(
        Charge.objects.filter(payment_intent_id=pi.id)
        .select_related("payment_method")
        .order_by("created", "id")
    )
    refunds = list(Refund.objects.filter(payment_intent_id=pi.id).order_by("created", "id"))
    object_ids = [pi.id, *(charge.id for charge in charges), *(r.id for r in refunds)]
    events = list(
        Event.objects.filter(**Scope.of(pi).filters, object_id__in=object_ids).order_by(
            "created", "id"
        )
    )
    deliveries = list(
        Delivery.objects.filter(event_id__in=[event.id for event in events])
        .select_related("endpoint")
        .prefetch_related("attempts")
    )
    moments: list[Moment] = []
    # a capture's time: its `charge.captured`, or for an automatic_async payment the worker's
    # `charge.updated` that set `captured`
    captured_at = {
        event.object_id: event.created
        for event in reversed(events)
        if event.type == "charge.captured"
        or (
            event.type == "charge.updated"
            and "captured" in ((event.data or {}).get("previous_attributes") or {})
        )
    }
    for charge in charges:
        moments.append(Moment(charge.created, "attempt", _attempt(charge)))
        if charge.three_d_secure:
            moments.append(
                Moment(
                    charge.created,
                    "3-D Secure",
                    format_html("{}: {}", charge.id, charge.three_d_secure),
                )
            )
        if charge.captured:
            moments.append(
                Moment(
                    captured_at.get(charge.id, charge.updated),
                    "capture",
                    format_html(
                        "{} captured {}", charge.id, money(charge.amount_captured, charge.currency)
                    ),
                )
            )
    for row in refunds:
        moments.append(
            Moment(
                row.created,
                "refund",
                format_html(
                    "{} {} of {}: {}{}{}",
                    admin_link(Refund, row.id),
                    money(row.amount, row.currency),
                    row.charge_id,
                    row.status,
                    f" ({row.reason})" if row.reason else "",
                    f" — {row.failure_reason}" if row.failure_reason else "",
                ),
            )
        )
    for event in events:
        who = format_html(" — by {}", event.operator) if event.operator else ""
        moments.append(
            Moment(
                event.created,
                "event",
                format_html(
                    "{} {} (request {}){}",
                    admin_link(Event, event.id),
                    event.type,
                    event.request_id or "—",
                    who,
                ),
            )
        )
    for delivery in deliveries:
        attempts = sorted(delivery.attempts.all(), key=lambda a: (a.created, a.id))
        last = attempts[-1] if attempts else None
        status = (
            f"HTTP {last.http_status}"
            if last and last.http_status
            else (last.error or "no answer")
            if last
            else "not yet sent"
        )
        moments.append(
            Moment(
                last.created if last else delivery.created,
                "webhook",
                format_html(
                    "{} of {} to {}: {} ({}, {} attempt(s))",
                    admin_link(Delivery, delivery.id),
                    delivery.event_id,
                    delivery.endpoint.url,
                    status,
                    delivery.status,
                    len(attempts),
                ),
            )
        )
    order = {"attempt": 0, "3-D Secure": 1, "capture": 2, "refund": 3, "event": 4, "webhook": 5}
    return sorted(moments, key=lambda m: (m.at, order.get(m.kind, 9)))


def _attempt(charge: Charge) -> str:
    card = (
        f"{charge.payment_method.card_brand} •••• {charge.payment_method.card_last4}"
        if charge.payment_method
        else "no card"
    )
    decline = ""
    if charge.status == Charge.Status.FAILED:
        reason = (charge.outcome or {}).get("reason")
        decline = format_html(
            " — {}{}: {}",
            charge.failure_code or "failed",
            f" / {reason}" if reason and reason != charge.failure_code else "",
            charge.failure_message or "",
        )
    return format_html(
        "{} {} on {}: {}{}",
        admin_link(Charge, charge.id),
        money(charge.amount, charge.currency),
        card,
        charge.status,
        decline,
    )


# --- the pages -------------------------------------------------------------------------------


@admin.register(PaymentIntent)
class PaymentIntentAdmin(ConsoleAdmin):
    list_display = (
        "id",
        "amount_display",
        "received_display",
        "status",
        "card",
        "customer_email",
        "capture_method",
        "account_link",
        "mode",
        "created_utc",
    )
    list_filter = ("status", "livemode", "capture_method", "currency", "created")
    search_fields = ("=id", "=customer__id", "customer__email", "description", "receipt_email")
    list_select_related = ("payment_method", "customer")
    date_hierarchy = "created"
    actions = [capture, cancel, refund]
    object_actions = (("capture", "Capture…"), ("cancel", "Cancel…"), ("refund", "Refund…"))
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "status",
                    "amount_display",
                    "capturable_display",
                    "received_display",
                    "refunded_display",
                    "capture_method",
                    "payment_method_link",
                    "customer_link",
                    "account_link",
                    "mode",
                )
            },
        ),
        ("Timeline (UTC)", {"fields": ("timeline",)}),
        (
            "Details",
            {
                "classes": ("collapse",),
                "fields": (
                    "description",
                    "receipt_email",
                    "metadata",
                    "statement_descriptor",
                    "statement_descriptor_suffix",
                    "last_payment_error",
                    "next_action",
                    "cancellation_reason",
                    "canceled_utc",
                    "authorized_utc",
                    "attempts_display",
                    "created_utc",
                    "updated_utc",
                ),
            },
        ),
    )
    readonly_fields = (
        "id",
        "status",
        "amount_display",
        "capturable_display",
        "received_display",
        "refunded_display",
        "capture_method",
        "payment_method_link",
        "customer_link",
        "account_link",
        "mode",
        "timeline",
        "description",
        "receipt_email",
        "metadata",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "last_payment_error",
        "next_action",
        "cancellation_reason",
        "canceled_utc",
        "authorized_utc",
        "attempts_display",
        "created_utc",
        "updated_utc",
    )

    @admin.display(description="Processor attempts")
    def attempts_display(self, pi: PaymentIntent) -> str:
        """The attempt ledger of this intent: every call to the processor, newest first."""
        rows = pi.attempts.order_by("-created")[:20]
        return (
            format_html_join(
                "",
                "<div><code>{}</code> {} {} · {} · {}</div>",
                ((a.id, a.kind, a.status, utc(a.created), a.processor) for a in rows),
            )
            or "—"
        )

    def get_object(self, request, object_id, from_field=None):
        return (
            self.get_queryset(request)
            .select_related("payment_method", "customer")
            .filter(pk=object_id)
            .first()
        )

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, pi: PaymentIntent) -> str:
        return money(pi.amount, pi.currency)

    @admin.display(description="capturable")
    def capturable_display(self, pi: PaymentIntent) -> str:
        return money(pi.amount_capturable, pi.currency)

    @admin.display(description="received", ordering="amount_received")
    def received_display(self, pi: PaymentIntent) -> str:
        return money(pi.amount_received, pi.currency)

    @admin.display(description="refunded")
    def refunded_display(self, pi: PaymentIntent) -> str:
        """What its charges' refunds gave back (and what pending refunds hold), one query."""
        sums = Charge.objects.filter(payment_intent_id=pi.id).aggregate(
            refunded=Sum("amount_refunded"), pending=Sum("amount_refund_pending")
        )
        shown = money(sums["refunded"] or 0, pi.currency)
        if sums["pending"]:
            return f"{shown} ({money(sums['pending'], pi.currency)} pending)"
        return shown

    @admin.display(description="card")
    def card(self, pi: PaymentIntent) -> str:
        pm = pi.payment_method
        return f"{pm.card_brand} •••• {pm.card_last4}" if pm else "—"

    @admin.display(description="payment method")
    def payment_method_link(self, pi: PaymentIntent) -> str:
        return admin_link(PaymentMethod, pi.payment_method_id, self.card(pi))

    @admin.display(description="customer", ordering="customer__email")
    def customer_email(self, pi: PaymentIntent) -> str:
        return pi.customer.email or pi.customer_id if pi.customer else "—"

    @admin.display(description="customer")
    def customer_link(self, pi: PaymentIntent) -> str:
        return admin_link(Customer, pi.customer_id)

    @admin.display(description="canceled (UTC)")
    def canceled_utc(self, pi: PaymentIntent) -> str:
        return utc(pi.canceled_at)

    @admin.display(description="authorized (UTC)")
    def authorized_utc(self, pi: PaymentIntent) -> str:
        return utc(pi.authorized_at)

    @admin.display(description="updated (UTC)")
    def updated_utc(self, pi: PaymentIntent) -> str:
        return utc(pi.updated)

    @admin.display(description="what happened, in order")
    def timeline(self, pi: PaymentIntent) -> str:
        rows = format_html_join(
            "",
            '<tr class="timeline-{}"><td>{}</td><td>{}</td><td>{}</td></tr>',
            ((m.kind.replace(" ", "-"), utc(m.at), m.kind, m.what) for m in timeline(pi)),
        )
        return format_html(
            '<table id="timeline"><thead><tr><th>when (UTC)</th><th>what</th><th></th></tr>'
            "</thead><tbody>{}</tbody></table>",
            rows,
        )


@admin.register(SetupIntent)
class SetupIntentAdmin(ConsoleAdmin):
    """SetupIntents, read-only: they change only through their services."""

    list_display = (
        "id",
        "status",
        "customer_id",
        "payment_method_id",
        "usage",
        "mode",
        "created_utc",
    )
    list_filter = ("status", "livemode", "usage")
    search_fields = ("id", "customer__id", "customer__email")
    list_select_related = ("account",)
    exclude = ("client_secret",)
    readonly_fields = [f.name for f in SetupIntent._meta.fields if f.name != "client_secret"]

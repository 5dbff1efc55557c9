from __future__ import annotations

import copy
from datetime import datetime

from django.db import models
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from core.ids import id_factory
from core.models import ScopedModel


class Status(models.TextChoices):
    PENDING = "pending"
    FINISHED = "finished"
    EXPIRED = "expired"
    CANCELED = "canceled"


class Type(models.TextChoices):
    CHECKOUT_PAGE = "checkout_page"
    CHECKOUT_PLUGIN = "checkout_plugin"
    PAYMENT_FORM = "payment_form"
    PAYMENT_METHOD_FORM = "payment_method_form"


class Capture(models.TextChoices):
    AUTOMATIC = "automatic"
    MANUAL = "manual"


# The types shown inside a merchant's page (an iframe): `allowed_origins` may frame them.
FRAMED_TYPES = (Type.CHECKOUT_PLUGIN, Type.PAYMENT_FORM, Type.PAYMENT_METHOD_FORM)
# The types that take a payment (the other one saves a card).
PAYING_TYPES = (Type.CHECKOUT_PAGE, Type.CHECKOUT_PLUGIN, Type.PAYMENT_FORM)
TERMINAL_STATUSES = (Status.FINISHED, Status.EXPIRED, Status.CANCELED)


class CheckoutIntent(FSMModelMixin, ScopedModel):
    """What a merchant asks a customer to finish in the browser: pay an amount (or save a card)
    on a hosted page or an embedded form. `status` changes only through the django-fsm
    transitions below, called by `checkout_pages.services` under a row lock with the matching
    Event written alongside. The payment itself is a PaymentIntent (one open at a time)."""

    id = models.CharField(
        primary_key=True, max_length=40, default=id_factory("cint"), editable=False
    )
    type = models.CharField(max_length=24, choices=Type.choices)
    status = FSMField(default=Status.PENDING, choices=Status.choices, protected=True)
    amount = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, null=True, blank=True)
    amount_editable = models.BooleanField(default=False)
    amount_min = models.BigIntegerField(null=True, blank=True)
    amount_max = models.BigIntegerField(null=True, blank=True)
    capture = models.CharField(max_length=16, choices=Capture.choices, default=Capture.AUTOMATIC)
    customer = models.ForeignKey(
        "payments.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    description = models.CharField(max_length=1000, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # The payment flow (`flow_…`) its payments run under; None: the account's default flow.
    payment_flow = models.CharField(max_length=40, null=True, blank=True)
    order_number = models.CharField(max_length=255, null=True, blank=True)
    invoice = models.CharField(max_length=255, null=True, blank=True)
    card_payments = models.BooleanField(default=True)
    billing_address = models.BooleanField(default=False)
    save_payment_method = models.BooleanField(default=False)
    completed_url = models.CharField(max_length=2048, null=True, blank=True)
    return_url = models.CharField(max_length=2048, null=True, blank=True)
    allowed_origins = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField()
    # SHA-256 of the client token (checkout_pages.tokens); the token itself is never stored.
    client_token_hash = models.CharField(max_length=64, unique=True)
    payment_intent = models.ForeignKey(
        "intents.PaymentIntent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Every PaymentIntent this checkout has used, in order (a new one only when the open one
    # was canceled under it); their charges are the checkout's attempts.
    payment_intent_ids = models.JSONField(default=list, blank=True)
    # The tracked checkout (`chk_…`, `source: hosted`) this intent drives: started with it,
    # its steps moved by the page, its payment attempts recorded by the linked PaymentIntent.
    # None for a payment_method_form (it takes no payment).
    checkout = models.ForeignKey(
        "checkouts.Checkout", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payment_method = models.ForeignKey(
        "payments.PaymentMethod", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # How many failed attempts already have their `checkout_intent.payment_failed` event.
    failures_reported = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "livemode", "-created", "-id"], name="cint_list_idx"),
            models.Index(
                fields=["status", "expires_at"],
                name="cint_expiry_idx",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return self.id

    # --- the state machine: fields only, no I/O ------------------------------------------------

    @transition(field=status, source=Status.PENDING, target=Status.PENDING)
    def change(self) -> None:
        """An update by the merchant (or a new PaymentIntent): only while pending."""

    # A payment that succeeded is never lost: it finishes the intent even when the expiry or a
    # cancel reached the intent while the processor was answering.
    @transition(
        field=status,
        source=[Status.PENDING, Status.EXPIRED, Status.CANCELED],
        target=Status.FINISHED,
    )
    def finish(self, *, payment_method=None, at: datetime | None = None) -> None:
        self.finished_at = at or timezone.now()
        if payment_method is not None:
            self.payment_method = payment_method

    @transition(field=status, source=Status.PENDING, target=Status.EXPIRED)
    def expire(self, *, at: datetime | None = None) -> None:
        self.expired_at = at or timezone.now()

    @transition(field=status, source=Status.PENDING, target=Status.CANCELED)
    def cancel(self, *, at: datetime | None = None) -> None:
        self.canceled_at = at or timezone.now()

    # --- expiry: computed here, written by the sweep ------------------------------------------

    def expiry_due(self, now: datetime | None = None) -> bool:
        return self.status == Status.PENDING and self.expires_at <= (now or timezone.now())

    def as_shown(self, now: datetime | None = None) -> CheckoutIntent:
        """The intent as a reader sees it now: pending past `expires_at` reads as expired (at
        `expires_at`) before the sweep writes it. Pure: an unsaved copy (or `self`)."""
        if not self.expiry_due(now):
            return self
        shown = copy.copy(self)
        shown.expire(at=self.expires_at)
        return shown

    @property
    def framed(self) -> bool:
        return self.type in FRAMED_TYPES

    @property
    def pays(self) -> bool:
        return self.type in PAYING_TYPES

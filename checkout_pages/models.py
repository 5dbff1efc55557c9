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
    # A payment_method_form's SetupIntent (its one open one, reused for every retry): saving
    # the card is that SetupIntent's verification, with its 3-D Secure step.
    setup_intent = models.ForeignKey(
        "intents.SetupIntent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
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


# --- Stripe Checkout: products, prices, sessions, payment links --------------------------------
#
# A Checkout Session is Stripe's face of a CheckoutIntent: its page, payment, expiry sweep and
# protections are the checkout intent's (`checkout_intent`, one to one); the session adds what
# Stripe's object shows (line items, success/cancel URLs, the customer's details) and its own
# events. Its status is its checkout intent's, named as Stripe names it (`session_status`).


class Product(ScopedModel):
    id = models.CharField(
        primary_key=True, max_length=40, default=id_factory("prod"), editable=False
    )
    name = models.CharField(max_length=5000)
    description = models.CharField(max_length=40000, null=True, blank=True)
    active = models.BooleanField(default=True)
    metadata = models.JSONField(default=dict, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "livemode", "-created", "-id"], name="prod_list_idx")
        ]

    def __str__(self) -> str:
        return self.id


class Price(ScopedModel):
    """A one-time price of a product, in minor units (recurring prices: no billing engine)."""

    id = models.CharField(
        primary_key=True, max_length=40, default=id_factory("price"), editable=False
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="prices")
    currency = models.CharField(max_length=3)
    unit_amount = models.BigIntegerField()
    active = models.BooleanField(default=True)
    nickname = models.CharField(max_length=5000, null=True, blank=True)
    lookup_key = models.CharField(max_length=200, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "livemode", "-created", "-id"], name="price_list_idx")
        ]

    def __str__(self) -> str:
        return self.id


class SessionMode(models.TextChoices):
    PAYMENT = "payment"
    SETUP = "setup"


class PaymentLink(ScopedModel):
    """A reusable URL: each visit starts a new Checkout Session of these line items."""

    id = models.CharField(
        primary_key=True, max_length=40, default=id_factory("plink"), editable=False
    )
    active = models.BooleanField(default=True)
    # [{"price": "price_…", "quantity": n}], in order.
    line_items = models.JSONField(default=list)
    currency = models.CharField(max_length=3)
    # The redirect after completion (`after_completion[redirect][url]`), else our own page.
    redirect_url = models.CharField(max_length=2048, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # The public part of `url` (unguessable, unlike the id, which the API shows).
    url_key = models.CharField(max_length=64, unique=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "livemode", "-created", "-id"], name="plink_list_idx")
        ]

    def __str__(self) -> str:
        return self.id


class CheckoutSession(ScopedModel):
    id = models.CharField(primary_key=True, max_length=80, default=id_factory("cs"), editable=False)
    checkout_intent = models.OneToOneField(
        CheckoutIntent, on_delete=models.PROTECT, related_name="session"
    )
    mode = models.CharField(max_length=16, choices=SessionMode.choices)
    ui_mode = models.CharField(max_length=16, default="hosted")
    # [{"id": "li_…", "price": {price as the API shows it}, "quantity": n, "description": …}]
    line_items = models.JSONField(default=list, blank=True)
    amount_subtotal = models.BigIntegerField(null=True, blank=True)
    amount_total = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, null=True, blank=True)
    success_url = models.CharField(max_length=2048, null=True, blank=True)
    cancel_url = models.CharField(max_length=2048, null=True, blank=True)
    # ui_mode=embedded: where the customer goes once done (its origin may frame the form).
    return_url = models.CharField(max_length=2048, null=True, blank=True)
    client_reference_id = models.CharField(max_length=200, null=True, blank=True)
    customer_email = models.CharField(max_length=800, null=True, blank=True)
    customer_creation = models.CharField(max_length=16, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    payment_method_types = models.JSONField(default=list, blank=True)
    payment_link = models.ForeignKey(
        PaymentLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    setup_intent = models.ForeignKey(
        "intents.SetupIntent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The page's client token, encrypted (core.crypto): `url` is shown on every read while the
    # session is open, as Stripe does; the checkout intent keeps only its hash.
    page_token = models.TextField()
    customer_details = models.JSONField(null=True, blank=True)
    # The customer submitted a payment that settles later (a `processing` card): the session
    # is complete and unpaid until `checkout.session.async_payment_succeeded` (or `_failed`).
    async_submitted = models.BooleanField(default=False)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "livemode", "-created", "-id"], name="cs_list_idx")
        ]

    def __str__(self) -> str:
        return self.id

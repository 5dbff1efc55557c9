from __future__ import annotations

import copy
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from core.ids import id_factory
from core.models import ScopedModel
from payments.models import attempt_stale_before


class Status(models.TextChoices):
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    REQUIRES_CAPTURE = "requires_capture"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


TERMINAL_STATUSES = (Status.SUCCEEDED, Status.CANCELED)
CONFIRMABLE = [Status.REQUIRES_PAYMENT_METHOD, Status.REQUIRES_CONFIRMATION, Status.REQUIRES_ACTION]
CANCELABLE = [
    Status.REQUIRES_PAYMENT_METHOD,
    Status.REQUIRES_CONFIRMATION,
    Status.REQUIRES_ACTION,
    Status.REQUIRES_CAPTURE,
    Status.PROCESSING,
]
# Abandonment applies to intents waiting on the merchant or the customer; requires_capture has
# its own (longer) expiry and processing waits on the processor.
ABANDONABLE = [Status.REQUIRES_PAYMENT_METHOD, Status.REQUIRES_CONFIRMATION, Status.REQUIRES_ACTION]


_UNREAD = object()


class PaymentIntent(FSMModelMixin, ScopedModel):
    """A Stripe PaymentIntent. `status` changes only through the django-fsm transitions below,
    called by `intents.services` under a row lock with the matching Event written alongside."""

    id = models.CharField(primary_key=True, max_length=40, default=id_factory("pi"), editable=False)
    # No index of its own on the account, the status or `updated`: the list index and the
    # sweeps' indexes (below) lead with them, and every index is one more write per insert
    # and per UPDATE of a column it covers (docs/architecture.md, "Indexes").
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    status = FSMField(
        default=Status.REQUIRES_PAYMENT_METHOD,
        choices=Status.choices,
        protected=True,
    )
    amount = models.BigIntegerField()
    amount_capturable = models.BigIntegerField(default=0)
    amount_received = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    capture_method = models.CharField(max_length=16, default="automatic_async")
    confirmation_method = models.CharField(max_length=16, default="automatic")
    payment_method = models.ForeignKey(
        "payments.PaymentMethod", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payment_method_types = models.JSONField(default=list)
    payment_method_options = models.JSONField(default=dict, blank=True)
    # {"allow_redirects": "always"|"never", "enabled": bool} when the caller asked for it
    automatic_payment_methods = models.JSONField(null=True, blank=True)
    customer = models.ForeignKey(
        "payments.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="payment_intents",
    )
    description = models.CharField(max_length=1000, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # The payment flow (`flow_…`) that routes its attempts; None: the account's default flow.
    payment_flow = models.CharField(max_length=40, null=True, blank=True)
    receipt_email = models.CharField(max_length=512, null=True, blank=True)
    shipping = models.JSONField(null=True, blank=True)
    statement_descriptor = models.CharField(max_length=22, null=True, blank=True)
    statement_descriptor_suffix = models.CharField(max_length=22, null=True, blank=True)
    setup_future_usage = models.CharField(max_length=16, null=True, blank=True)
    client_secret = models.CharField(max_length=120, unique=True)
    next_action = models.JSONField(null=True, blank=True)
    last_payment_error = models.JSONField(null=True, blank=True)
    latest_charge = models.ForeignKey(
        "payments.Charge", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    canceled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.CharField(max_length=32, null=True, blank=True)
    return_url = models.CharField(max_length=2048, null=True, blank=True)
    off_session = models.BooleanField(default=False)
    authorized_at = models.DateTimeField(
        null=True, blank=True, help_text="when it entered requires_capture"
    )
    # The tracked checkout this intent pays for: each confirm attempt is recorded on it (in
    # the attempt's own transaction) and its success completes it.
    checkout = models.ForeignKey(
        "checkouts.Checkout",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="payment_intents",
    )
    updated = models.DateTimeField(auto_now=True)
    # When a `processing` attempt is due to be resolved (read by a short periodic sweep).
    processing_resolve_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "livemode", "-created", "-id"], name="pi_list_idx"),
            models.Index(
                fields=["account", "livemode", "customer", "-created"], name="pi_customer_idx"
            ),
            models.Index(fields=["status", "authorized_at"], name="pi_expiry_idx"),
            models.Index(fields=["status", "updated"], name="pi_abandon_idx"),
            models.Index(fields=["status", "processing_resolve_at"], name="pi_processing_idx"),
        ]

    def __str__(self) -> str:
        return self.id

    # --- the state machine: one method per arrow of the lifecycle; fields only, no I/O -------------

    @transition(
        field=status,
        source=[
            Status.REQUIRES_PAYMENT_METHOD,
            Status.REQUIRES_CONFIRMATION,
            Status.REQUIRES_ACTION,
        ],
        target=Status.REQUIRES_CONFIRMATION,
    )
    def set_payment_method(self, payment_method) -> None:
        """create/update with a `payment_method`: the intent waits for its confirm."""
        self.payment_method = payment_method
        self.next_action = None

    @transition(field=status, source=CONFIRMABLE, target=Status.SUCCEEDED)
    def confirm_succeeded(self, *, amount_received: int) -> None:
        self.amount_received = amount_received
        self.amount_capturable = 0
        self.next_action = None
        self.last_payment_error = None

    @transition(field=status, source=CONFIRMABLE, target=Status.REQUIRES_CAPTURE)
    def confirm_requires_capture(self, *, amount_capturable: int, at=None) -> None:
        self.amount_capturable = amount_capturable
        self.authorized_at = at or timezone.now()
        self.next_action = None
        self.last_payment_error = None

    @transition(field=status, source=CONFIRMABLE, target=Status.REQUIRES_ACTION)
    def confirm_requires_action(self, *, next_action: dict) -> None:
        self.next_action = next_action
        self.last_payment_error = None

    @transition(field=status, source=CONFIRMABLE, target=Status.PROCESSING)
    def confirm_processing(self, *, resolve_at) -> None:
        self.processing_resolve_at = resolve_at
        self.next_action = None
        self.last_payment_error = None

    @transition(field=status, source=CONFIRMABLE, target=Status.REQUIRES_PAYMENT_METHOD)
    def decline(self, *, error: dict) -> None:
        """A declined confirm (or a failed/declined 3-D Secure): the method is detached."""
        self.last_payment_error = error
        self.payment_method = None
        self.next_action = None

    @transition(field=status, source=Status.REQUIRES_ACTION, target=Status.REQUIRES_PAYMENT_METHOD)
    def fail_authentication(self, *, error: dict) -> None:
        self.last_payment_error = error
        self.payment_method = None
        self.next_action = None

    @transition(field=status, source=Status.REQUIRES_CAPTURE, target=Status.SUCCEEDED)
    def capture(self, *, amount: int) -> None:
        self.amount_received = amount
        self.amount_capturable = 0

    @transition(field=status, source=Status.REQUIRES_CAPTURE, target=Status.REQUIRES_CAPTURE)
    def increment_authorization(self, *, amount: int) -> None:
        self.amount = amount
        self.amount_capturable = amount

    @transition(field=status, source=CANCELABLE, target=Status.CANCELED)
    def cancel(self, *, reason: str | None, at=None) -> None:
        self.canceled_at = at or timezone.now()
        self.cancellation_reason = reason
        self.amount_capturable = 0
        self.next_action = None
        self.processing_resolve_at = None

    @transition(field=status, source=Status.REQUIRES_CAPTURE, target=Status.CANCELED)
    def expire(self, *, at=None) -> None:
        self.canceled_at = at or timezone.now()
        self.cancellation_reason = "expired"
        self.amount_capturable = 0

    @transition(field=status, source=ABANDONABLE, target=Status.CANCELED)
    def abandon(self, *, at=None) -> None:
        self.canceled_at = at or timezone.now()
        self.cancellation_reason = "abandoned"
        self.next_action = None

    @transition(field=status, source=Status.PROCESSING, target=Status.SUCCEEDED)
    def async_succeeded(self, *, amount_received: int) -> None:
        self.amount_received = amount_received
        self.processing_resolve_at = None

    @transition(field=status, source=Status.PROCESSING, target=Status.REQUIRES_CAPTURE)
    def async_requires_capture(self, *, amount_capturable: int, at=None) -> None:
        self.amount_capturable = amount_capturable
        self.authorized_at = at or timezone.now()
        self.processing_resolve_at = None

    @transition(field=status, source=Status.PROCESSING, target=Status.REQUIRES_PAYMENT_METHOD)
    def async_declined(self, *, error: dict) -> None:
        self.last_payment_error = error
        self.payment_method = None
        self.processing_resolve_at = None

    # The claimed_at of the attempt recorded on this intent and not yet settled (None when there
    # is none), read along by the locks that ask for it (`payments.attempts.with_recorded`).
    recorded_attempt_since: datetime | None | object = _UNREAD

    def attempt_under_way(self, now: datetime | None = None) -> bool:
        """A processor call is under way for this intent: an attempt recorded on it less than
        INFLIGHT_TIMEOUT_SECONDS ago (an older one is a dead process's, and no longer counts).
        Read from the ledger when the row was not read with it."""
        since = self.recorded_attempt_since
        if since is _UNREAD:
            since = (
                self.attempts.filter(target=self.pk, status="recorded")  # type: ignore[attr-defined]
                .values_list("claimed_at", flat=True)
                .first()
            )
        return isinstance(since, datetime) and since > attempt_stale_before(now)

    # --- authorisation expiry: computed here, written by the sweep (or a capture) ------------

    @property
    def expires_at(self) -> datetime | None:
        """When an uncaptured authorisation lapses: AUTHORIZATION_EXPIRY_SECONDS after it."""
        if self.status != Status.REQUIRES_CAPTURE or self.authorized_at is None:
            return None
        return self.authorized_at + timedelta(seconds=settings.AUTHORIZATION_EXPIRY_SECONDS)

    def expiry_due(self, now: datetime | None = None) -> bool:
        """An authorisation past its expiry with no processor call under way for it."""
        expires_at = self.expires_at
        if expires_at is None:  # most intents: no clock read
            return False
        now = now or timezone.now()
        return expires_at <= now and not self.attempt_under_way(now)

    def as_shown(self, now: datetime | None = None) -> PaymentIntent:
        """The intent as a reader sees it now. An authorisation past its expiry reads as
        canceled (reason `expired`, nothing capturable) even before the expiry sweep writes
        that. Pure: returns an unsaved copy (or `self`), never writes."""
        if not self.expiry_due(now):
            return self
        shown = copy.copy(self)
        shown.expire(at=self.expires_at)
        return shown


def expiry_due_q(now: datetime) -> Q:
    """The rows `PaymentIntent.expiry_due(now)` is true of, as a queryset filter."""
    cutoff = now - timedelta(seconds=settings.AUTHORIZATION_EXPIRY_SECONDS)
    return Q(status=Status.REQUIRES_CAPTURE, authorized_at__lte=cutoff)


class SetupStatus(models.TextChoices):
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


SETUP_OPEN = (
    SetupStatus.REQUIRES_PAYMENT_METHOD,
    SetupStatus.REQUIRES_CONFIRMATION,
    SetupStatus.REQUIRES_ACTION,
)


class SetupIntent(FSMModelMixin, ScopedModel):
    """Saving a card for later payments without charging it (Stripe's SetupIntent). `status`
    changes only through the transitions below, called by `intents.services.setup_intents`
    under the row lock with the `setup_intent.*` event written alongside."""

    id = models.CharField(
        primary_key=True, max_length=40, default=id_factory("seti"), editable=False
    )
    status = FSMField(
        default=SetupStatus.REQUIRES_PAYMENT_METHOD, choices=SetupStatus.choices, protected=True
    )
    client_secret = models.CharField(max_length=120, unique=True)
    customer = models.ForeignKey(
        "payments.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payment_method = models.ForeignKey(
        "payments.PaymentMethod", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    usage = models.CharField(max_length=16, default="off_session")
    description = models.CharField(max_length=1000, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    payment_method_types = models.JSONField(default=list, blank=True)
    return_url = models.CharField(max_length=2048, null=True, blank=True)
    last_setup_error = models.JSONField(null=True, blank=True)
    # requires_action: the 3-D Secure page to send the customer to (Stripe's `next_action`),
    # and the verification attempt (`att_…`) that asked for the challenge.
    next_action = models.JSONField(null=True, blank=True)
    challenged_attempt = models.CharField(max_length=40, null=True, blank=True)
    cancellation_reason = models.CharField(max_length=40, null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "livemode", "-created", "-id"], name="seti_list_idx")
        ]

    def __str__(self) -> str:
        return self.id

    @transition(field=status, source=list(SETUP_OPEN), target=SetupStatus.REQUIRES_CONFIRMATION)
    def attach_method(self, payment_method) -> None:
        self.payment_method = payment_method
        self.last_setup_error = None
        self._no_action()

    @transition(field=status, source=list(SETUP_OPEN), target=SetupStatus.REQUIRES_PAYMENT_METHOD)
    def change(self) -> None:
        """An update that leaves it waiting for a payment method."""
        self._no_action()

    @transition(
        field=status,
        source=[SetupStatus.REQUIRES_CONFIRMATION, SetupStatus.REQUIRES_ACTION],
        target=SetupStatus.REQUIRES_ACTION,
    )
    def require_action(self, *, next_action: dict, attempt_id: str) -> None:
        """The issuer asks the customer for a 3-D Secure challenge before the card is saved."""
        self.next_action = next_action
        self.challenged_attempt = attempt_id

    @transition(
        field=status,
        source=[SetupStatus.REQUIRES_CONFIRMATION, SetupStatus.REQUIRES_ACTION],
        target=SetupStatus.SUCCEEDED,
    )
    def succeed(self) -> None:
        self.last_setup_error = None
        self._no_action()

    @transition(
        field=status,
        source=[SetupStatus.REQUIRES_CONFIRMATION, SetupStatus.REQUIRES_ACTION],
        target=SetupStatus.REQUIRES_PAYMENT_METHOD,
    )
    def fail(self, *, error: dict) -> None:
        self.last_setup_error = error
        self.payment_method = None
        self._no_action()

    @transition(field=status, source=list(SETUP_OPEN), target=SetupStatus.CANCELED)
    def cancel(self, *, reason: str | None = None) -> None:
        self.cancellation_reason = reason
        self.canceled_at = timezone.now()
        self._no_action()

    def _no_action(self) -> None:
        self.next_action = None
        self.challenged_attempt = None

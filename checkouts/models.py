"""A tracked checkout: the customer's way from landing on a checkout page to paying.

`status` is a protected django-fsm field: `intent` at start, `active` on the first update,
`inactive` after CHECKOUT_INACTIVE_SECONDS without activity (true on read at once through
`as_shown()`, written by a sweep), `active` again on the next update, `complete` (terminal).

Besides the timeline the API shows, the row carries one timestamp per funnel step (the first
time each was reached), the last activity, the completion time, whether it was ever inactive
and where it came from, so checkout insights are one aggregate query over the rows.
"""

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
from core.values import unix


class Status(models.TextChoices):
    INTENT = "intent"
    ACTIVE = "active"
    INACTIVE = "inactive"
    COMPLETE = "complete"


class StepStatus(models.TextChoices):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"


class Source(models.TextChoices):
    TRACKED = "tracked"  # the merchant's own page reports through /v1/checkouts
    HOSTED = "hosted"  # a hosted checkout page drives its own checkout


# The form steps a page reports, in funnel order (intent_started is the landing itself).
FORM_STEPS = ("shipping", "delivery", "billing")
TIMELINE_STEPS = ("intent_started", *FORM_STEPS)
OPEN_STATUSES = (Status.INTENT, Status.ACTIVE, Status.INACTIVE)
# Statuses that turn inactive when nothing happens for CHECKOUT_INACTIVE_SECONDS.
GOES_INACTIVE = [Status.INTENT, Status.ACTIVE]


def inactive_seconds() -> int:
    return settings.CHECKOUT_INACTIVE_SECONDS


def empty_steps(now: datetime) -> dict:
    """The timeline of a checkout just started: landed (in progress), no form step begun."""
    steps = {"intent_started": {"status": StepStatus.IN_PROGRESS.value, "date": unix(now)}}
    for name in FORM_STEPS:
        steps[name] = {"status": StepStatus.NOT_STARTED.value, "date": None}
    return steps


class Checkout(FSMModelMixin, ScopedModel):
    id = models.CharField(
        primary_key=True, max_length=40, default=id_factory("chk"), editable=False
    )
    status = FSMField(default=Status.INTENT, choices=Status.choices, protected=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    client_secret = models.CharField(max_length=120, unique=True)
    tracking_id = models.CharField(max_length=255)
    # The tracking id came from a browser (a publishable key): it names the checkout but claims
    # nothing, so a page cannot take (block) or test (probe) the merchant's own ids.
    tracking_id_from_browser = models.BooleanField(default=False)
    payment_flow = models.CharField(max_length=255, null=True, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.TRACKED)
    # {"id", "email", "name", "is_guest"}: email and name are never shown to a publishable key.
    customer = models.JSONField(null=True, blank=True)
    amount = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, null=True, blank=True)
    country = models.CharField(max_length=3, null=True, blank=True, help_text="ISO 3166-1 alpha-3")
    cart = models.JSONField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    payment_reference = models.CharField(max_length=255, null=True, blank=True)
    # The timeline: each step's current {status, date}, and every change with its time.
    steps = models.JSONField(default=dict)
    step_history = models.JSONField(default=list)
    # Every payment attempt of a linked intent, in order: {payment_intent, charge, status,
    # date, decline_code}. timeline.payment_attempts and linked_payments are views of it.
    attempts = models.JSONField(default=list)
    # --- the funnel, one column per step: when it was first reached ---------------------------
    active_at = models.DateTimeField(null=True, blank=True)
    shipping_completed_at = models.DateTimeField(null=True, blank=True)
    delivery_completed_at = models.DateTimeField(null=True, blank=True)
    billing_completed_at = models.DateTimeField(null=True, blank=True)
    payment_attempted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(default=timezone.now)
    inactive_at = models.DateTimeField(null=True, blank=True)
    was_inactive = models.BooleanField(default=False, help_text="ever inactive: 'recovered'")
    declined_attempts = models.IntegerField(default=0)
    last_decline_code = models.CharField(max_length=64, null=True, blank=True)
    # Counted in CheckoutRollup (PostgreSQL): set by the roll-up sweep, cleared (its figures
    # taken back out) by any write to the row.
    rolled_up = models.BooleanField(default=False, db_default=False)

    class Meta:
        indexes = [
            models.Index(fields=["account", "livemode", "-created", "-id"], name="chk_list_idx"),
            models.Index(fields=["status", "last_activity_at"], name="chk_inactive_idx"),
            # Insights read a window of one account's rows and only these columns: on
            # PostgreSQL that is an index-only scan (other databases ignore INCLUDE).
            models.Index(
                fields=["account", "livemode", "created"],
                include=[
                    "status",
                    "currency",
                    "amount",
                    "country",
                    "payment_flow",
                    "source",
                    "last_activity_at",
                    "was_inactive",
                    "declined_attempts",
                    "last_decline_code",
                    "active_at",
                    "shipping_completed_at",
                    "delivery_completed_at",
                    "billing_completed_at",
                    "payment_attempted_at",
                    "completed_at",
                ],
                name="chk_insights_idx",
            ),
            # The insights' histogram of seconds to completion reads only completed rows: a
            # narrow index of those alone (a fraction of the covering one) read index-only.
            models.Index(
                fields=["account", "livemode", "created"],
                include=["completed_at", "currency", "country", "payment_flow", "source"],
                condition=Q(completed_at__isnull=False),
                name="chk_completed_idx",
            ),
            # What the rollup does not hold yet: the open rows insights aggregate live, and
            # the candidates of the roll-up sweep.
            models.Index(
                fields=["account", "livemode", "created"],
                # the figures' columns: the open rows are read index-only (at ten million
                # checkouts a day's open rows fetched from the heap were most of the time)
                include=[
                    "status",
                    "currency",
                    "amount",
                    "last_activity_at",
                    "was_inactive",
                    "declined_attempts",
                    "last_decline_code",
                    "active_at",
                    "shipping_completed_at",
                    "delivery_completed_at",
                    "billing_completed_at",
                    "payment_attempted_at",
                    "completed_at",
                ],
                condition=Q(rolled_up=False),
                name="chk_open_insights_idx",
            ),
            models.Index(
                fields=["status", "last_activity_at"],
                condition=Q(rolled_up=False),
                name="chk_roll_up_due_idx",
            ),
            # The completed rows not in the rollup yet (between a completion and the next
            # sweep): the live part of the median's histogram, read index-only, without a
            # second pass over every open row.
            models.Index(
                fields=["account", "livemode", "created"],
                include=["completed_at"],
                condition=Q(rolled_up=False, completed_at__isnull=False),
                name="chk_completed_open_idx",
            ),
        ]
        constraints = [
            # A tracking id the merchant's server gave names one open checkout per account and
            # mode (a partial unique index); one a browser gave claims nothing.
            models.UniqueConstraint(
                fields=["account", "livemode", "tracking_id"],
                condition=~Q(status="complete") & Q(tracking_id_from_browser=False),
                name="chk_open_tracking_id_uniq",
            )
        ]

    def __str__(self) -> str:
        return self.id

    # --- the state machine: fields only, no I/O ------------------------------------------------

    def _status_changed(self, at: datetime) -> None:
        self.status_changed_at = at

    @transition(field=status, source=Status.INTENT, target=Status.ACTIVE)
    def activate(self, *, at: datetime) -> None:
        """The first update: the customer is filling the form."""
        self._status_changed(at)
        self.active_at = self.active_at or at

    @transition(field=status, source=GOES_INACTIVE, target=Status.INACTIVE)
    def go_inactive(self, *, at: datetime) -> None:
        """No activity for CHECKOUT_INACTIVE_SECONDS (`at` is when that time ran out)."""
        self._status_changed(at)
        self.inactive_at = at
        self.was_inactive = True

    @transition(field=status, source=Status.INACTIVE, target=Status.ACTIVE)
    def reactivate(self, *, at: datetime) -> None:
        self._status_changed(at)
        self.active_at = self.active_at or at

    @transition(field=status, source=OPEN_STATUSES, target=Status.COMPLETE)
    def complete(self, *, at: datetime, payment_reference: str | None) -> None:
        self._status_changed(at)
        self.completed_at = at
        if payment_reference:
            self.payment_reference = payment_reference

    # --- inactivity: computed here, written by the sweep -------------------------------------

    def inactive_since(self) -> datetime:
        return self.last_activity_at + timedelta(seconds=inactive_seconds())

    def inactivity_due(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.status in GOES_INACTIVE and self.inactive_since() <= now

    def as_shown(self, now: datetime | None = None) -> Checkout:
        """The checkout as a reader sees it now: one left alone past CHECKOUT_INACTIVE_SECONDS
        reads as `inactive` before the sweep writes it. Pure: an unsaved copy (or `self`)."""
        if not self.inactivity_due(now):
            return self
        shown = copy.copy(self)
        shown.go_inactive(at=self.inactive_since())
        return shown

    @property
    def is_abandoned(self) -> bool:
        """Inactive (as shown now) for longer than CHECKOUT_ABANDONED_SECONDS."""
        shown = self.as_shown()
        return shown.status == Status.INACTIVE and self.last_activity_at <= timezone.now() - (
            timedelta(seconds=settings.CHECKOUT_ABANDONED_SECONDS)
        )


class CheckoutRollup(models.Model):
    """The insights figures of the checkouts that can no longer change (complete, or abandoned:
    any write to one takes it back out first), per account, mode, quarter hour of `created`
    (every zone's midnight falls on one) and the values insights group and filter by ('' for none). Written by `checkouts/rollup.py`
    only, read by `checkouts/insights.py` (PostgreSQL)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    livemode = models.BooleanField()
    quarter = models.DateTimeField()
    currency = models.CharField(max_length=3)
    country = models.CharField(max_length=3)
    payment_flow = models.CharField(max_length=255)
    source = models.CharField(max_length=8)
    code = models.CharField(max_length=64)
    started = models.BigIntegerField(default=0)
    active = models.BigIntegerField(default=0)
    shipping_completed = models.BigIntegerField(default=0)
    delivery_completed = models.BigIntegerField(default=0)
    billing_completed = models.BigIntegerField(default=0)
    payment_attempted = models.BigIntegerField(default=0)
    completed = models.BigIntegerField(default=0)
    inactive = models.BigIntegerField(default=0)
    abandoned = models.BigIntegerField(default=0)
    recovered = models.BigIntegerField(default=0)
    completed_amount = models.BigIntegerField(default=0)
    lost_amount = models.BigIntegerField(default=0)
    recovered_amount = models.BigIntegerField(default=0)
    declined_attempts = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "account",
                    "livemode",
                    "quarter",
                    "currency",
                    "country",
                    "payment_flow",
                    "source",
                    "code",
                ],
                name="chk_rollup_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.quarter:%Y-%m-%d %H:%M} {self.currency or '-'}"


class CheckoutQuarterRollup(models.Model):
    """`CheckoutRollup` without the columns insights filter or group by: per account, mode,
    quarter hour, currency and decline code, the same figures of the same checkouts. The total
    and the day and week buckets without a filter read it (a tenth of the rows, or less, where
    merchants sell to many countries through several flows). Kept with `CheckoutRollup`, by the
    same statements (`checkouts/rollup.py`)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    livemode = models.BooleanField()
    quarter = models.DateTimeField()
    currency = models.CharField(max_length=3)
    code = models.CharField(max_length=64)
    started = models.BigIntegerField(default=0)
    active = models.BigIntegerField(default=0)
    shipping_completed = models.BigIntegerField(default=0)
    delivery_completed = models.BigIntegerField(default=0)
    billing_completed = models.BigIntegerField(default=0)
    payment_attempted = models.BigIntegerField(default=0)
    completed = models.BigIntegerField(default=0)
    inactive = models.BigIntegerField(default=0)
    abandoned = models.BigIntegerField(default=0)
    recovered = models.BigIntegerField(default=0)
    completed_amount = models.BigIntegerField(default=0)
    lost_amount = models.BigIntegerField(default=0)
    recovered_amount = models.BigIntegerField(default=0)
    declined_attempts = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "livemode", "quarter", "currency", "code"],
                name="chk_quarter_rollup_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.quarter:%Y-%m-%d %H:%M} {self.currency or '-'}"


class CheckoutCompletionRollup(models.Model):
    """How many of the completed checkouts counted in `CheckoutRollup` took each whole number
    of seconds from start to completion, per account, mode and quarter hour of `created`: the
    histogram the exact median of insights without filters is read from. Kept with
    `CheckoutRollup`, by the same statements (`checkouts/rollup.py`)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    livemode = models.BooleanField()
    quarter = models.DateTimeField()
    seconds = models.BigIntegerField()
    completed = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "livemode", "quarter", "seconds"],
                name="chk_completion_rollup_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.quarter:%Y-%m-%d %H:%M} {self.seconds} s"


class CheckoutInsights(Checkout):
    """No rows of its own: the console's insights page hangs off this entry of the admin."""

    class Meta:
        proxy = True
        verbose_name = "checkout insights"
        verbose_name_plural = "checkout insights"


def inactivity_due_q(now: datetime) -> Q:
    """The rows `Checkout.inactivity_due(now)` is true of, as a queryset filter."""
    cutoff = now - timedelta(seconds=inactive_seconds())
    return Q(status__in=GOES_INACTIVE, last_activity_at__lte=cutoff)


def shown_status_q(status: str, now: datetime) -> Q:
    """Rows whose status, as `as_shown()` reads it now, is `status`."""
    due = inactivity_due_q(now)
    if status == Status.INACTIVE:
        return Q(status=Status.INACTIVE) | due
    if status in GOES_INACTIVE:
        return Q(status=status) & ~due
    return Q(status=status)

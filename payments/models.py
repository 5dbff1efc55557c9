from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from core.ids import id_factory
from core.models import ScopedModel


class Customer(ScopedModel):
    id = models.CharField(
        primary_key=True, max_length=40, default=id_factory("cus"), editable=False
    )
    email = models.CharField(max_length=512, null=True, blank=True)
    name = models.CharField(max_length=256, null=True, blank=True)
    # The name as two parts, when it was given so (PayMongo's `first_name` / `last_name`):
    # `name` is then the two joined; a `name` given whole clears them.
    first_name = models.CharField(max_length=256, null=True, blank=True)
    last_name = models.CharField(max_length=256, null=True, blank=True)
    phone = models.CharField(max_length=64, null=True, blank=True)
    # How the customer prefers to be reached: `phone` or `email` (PayMongo's `default_device`).
    default_device = models.CharField(max_length=8, null=True, blank=True)
    description = models.CharField(max_length=1000, null=True, blank=True)
    address = models.JSONField(null=True, blank=True)
    shipping = models.JSONField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    invoice_settings = models.JSONField(default=dict, blank=True)
    deleted = models.BooleanField(default=False)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["account", "livemode", "-created", "-id"], name="customer_list_idx"
            )
        ]

    def __str__(self) -> str:
        return self.id


class PaymentMethod(ScopedModel):
    """A card (only what may be stored: brand, last4, expiry, funding, country, fingerprint) and
    the processor's token for it. A magic test id (`pm_card_visa`) given where a method id is
    accepted creates a fresh method each time, as Stripe does; `magic_id` remembers which."""

    id = models.CharField(primary_key=True, max_length=40, default=id_factory("pm"), editable=False)
    type = models.CharField(max_length=32, default="card")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="payment_methods"
    )
    billing_details = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    card_brand = models.CharField(max_length=32)
    card_last4 = models.CharField(max_length=4)
    card_exp_month = models.PositiveSmallIntegerField()
    card_exp_year = models.PositiveSmallIntegerField()
    card_funding = models.CharField(max_length=16, default="credit")
    card_country = models.CharField(max_length=2, default="US")
    card_fingerprint = models.CharField(max_length=64)
    # The simulated vault's token (every simulated connection reads it), and one token per
    # connection the card was tokenized at when it was created: {"proc_…": token}.
    processor_token = models.CharField(max_length=255)
    tokens = models.JSONField(default=dict, blank=True)
    magic_id = models.CharField(max_length=80, null=True, blank=True, help_text="pm_card_visa etc.")

    class Meta:
        indexes = [
            models.Index(fields=["account", "livemode", "-created", "-id"], name="pm_list_idx"),
            models.Index(fields=["customer", "-created"], name="pm_customer_idx"),
        ]

    def __str__(self) -> str:
        return self.id


class Charge(ScopedModel):
    """One payment attempt on an intent (`ch_…`). Created before the processor is called, so a
    crash between leaves a visible, recoverable attempt."""

    class Status(models.TextChoices):
        PENDING = "pending"  # recorded, processor not yet answered (or processing)
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = models.CharField(primary_key=True, max_length=40, default=id_factory("ch"), editable=False)
    payment_intent = models.ForeignKey(
        "intents.PaymentIntent", on_delete=models.CASCADE, related_name="charges"
    )
    payment_method = models.ForeignKey(
        PaymentMethod, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    amount = models.BigIntegerField()
    amount_captured = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    captured = models.BooleanField(default=False)
    # The authorisation exists and is not yet captured or released.
    authorized = models.BooleanField(default=False)
    capture_pending = models.BooleanField(
        default=False, help_text="automatic_async: a worker owes the processor a capture"
    )
    released = models.BooleanField(default=False)
    failure_code = models.CharField(max_length=64, null=True, blank=True)
    failure_message = models.CharField(max_length=500, null=True, blank=True)
    outcome = models.JSONField(null=True, blank=True)
    payment_method_details = models.JSONField(null=True, blank=True)
    processor_reference = models.CharField(max_length=255, blank=True, default="")
    # The connection that made the charge (its capture, cancel, increment and refunds go back to
    # it, never re-routed), and the flow, version and attempt number it ran as.
    processor = models.ForeignKey(
        "routing.ProcessorConnection",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    payment_flow = models.CharField(max_length=40, null=True, blank=True)
    payment_flow_version = models.PositiveIntegerField(null=True, blank=True)
    attempt_number = models.PositiveSmallIntegerField(default=1)
    three_d_secure = models.CharField(
        max_length=16, null=True, blank=True, help_text="required / passed / failed"
    )
    description = models.CharField(max_length=1000, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # Refunds, changed only under this row's lock: what succeeded, what pending refunds hold
    # back (given back when one fails or is canceled), and how many refunds were ever made (so
    # a charge without any shows its empty `refunds` list without a read).
    amount_refunded = models.BigIntegerField(default=0)
    amount_refund_pending = models.BigIntegerField(default=0)
    refund_count = models.IntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "livemode", "-created", "-id"], name="charge_list_idx"),
            models.Index(fields=["payment_intent", "-created"], name="charge_pi_idx"),
            models.Index(
                fields=["capture_pending"],
                name="charge_capture_pending_idx",
                condition=models.Q(capture_pending=True),
            ),
            # the processor insights' `recovered`: charges that succeeded on a retry
            models.Index(
                fields=["account", "livemode", "created"],
                name="charge_recovered_idx",
                condition=models.Q(status="succeeded", attempt_number__gte=2),
                include=["currency", "amount", "payment_flow"],
            ),
        ]

    def __str__(self) -> str:
        return self.id

    @property
    def amount_paid(self) -> int:
        """What the customer paid and a refund may give back: the captured amount, or the whole
        amount while an `automatic_async` capture is owed to the processor."""
        if self.captured:
            return self.amount_captured
        if self.capture_pending and self.status == self.Status.SUCCEEDED:
            return self.amount
        return 0

    @property
    def refunded(self) -> bool:
        """The whole payment has been refunded."""
        return self.amount_refunded > 0 and self.amount_refunded >= self.amount_paid

    @property
    def amount_refundable(self) -> int:
        """What is left to refund: paid, less refunded, less what pending refunds hold."""
        return max(self.amount_paid - self.amount_refunded - self.amount_refund_pending, 0)


class RefundStatus(models.TextChoices):
    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


REFUND_OPEN = [RefundStatus.PENDING, RefundStatus.REQUIRES_ACTION]


class Refund(FSMModelMixin, ScopedModel):
    """Money given back on a charge (`re_…`). Created `pending` before the processor is asked
    (its amount held back on the charge), so a crash between leaves a visible refund that the
    resolution sweep finishes. `status` changes only through the transitions below, under the
    charge's row lock, with the matching events written alongside."""

    Status = RefundStatus

    class FailureReason(models.TextChoices):
        LOST_OR_STOLEN_CARD = "lost_or_stolen_card"
        EXPIRED_OR_CANCELED_CARD = "expired_or_canceled_card"
        DECLINED = "declined"
        UNKNOWN = "unknown"

    class Reason(models.TextChoices):
        DUPLICATE = "duplicate"
        FRAUDULENT = "fraudulent"
        REQUESTED_BY_CUSTOMER = "requested_by_customer"

    id = models.CharField(primary_key=True, max_length=40, default=id_factory("re"), editable=False)
    charge = models.ForeignKey(Charge, on_delete=models.CASCADE, related_name="refunds")
    payment_intent = models.ForeignKey(
        "intents.PaymentIntent", on_delete=models.CASCADE, related_name="refunds"
    )
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=32, choices=Reason.choices, null=True, blank=True)
    # The merchant's note on why (PayMongo's `notes`); shown as `description`.
    description = models.CharField(max_length=255, null=True, blank=True)
    status = FSMField(default=RefundStatus.PENDING, choices=RefundStatus.choices, protected=True)
    failure_reason = models.CharField(
        max_length=32, choices=FailureReason.choices, null=True, blank=True
    )
    metadata = models.JSONField(default=dict, blank=True)
    # The processor's id for the refund; empty until the processor has answered once.
    processor_reference = models.CharField(max_length=255, blank=True, default="")
    # A refund the processor answered `pending`: when to ask it for the outcome.
    resolve_after = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "livemode", "-created", "-id"], name="refund_list_idx"),
            models.Index(fields=["charge", "created"], name="refund_charge_idx"),
            models.Index(fields=["payment_intent", "-created"], name="refund_pi_idx"),
            models.Index(
                fields=["resolve_after"],
                name="refund_open_idx",
                condition=models.Q(status__in=["pending", "requires_action"]),
            ),
        ]

    def __str__(self) -> str:
        return self.id

    # --- the state machine: fields only, no I/O ------------------------------------------

    @transition(field=status, source=REFUND_OPEN, target=RefundStatus.PENDING)
    def wait(self, *, reference: str, resolve_after) -> None:
        """The processor took the refund and will answer later."""
        self.processor_reference = reference or self.processor_reference
        self.resolve_after = resolve_after

    @transition(field=status, source=REFUND_OPEN, target=RefundStatus.SUCCEEDED)
    def succeed(self, *, reference: str) -> None:
        self.processor_reference = reference or self.processor_reference
        self.resolve_after = None

    @transition(field=status, source=REFUND_OPEN, target=RefundStatus.FAILED)
    def fail(self, *, reference: str, failure_reason: str) -> None:
        self.processor_reference = reference or self.processor_reference
        self.failure_reason = failure_reason
        self.resolve_after = None

    @transition(field=status, source=REFUND_OPEN, target=RefundStatus.CANCELED)
    def cancel(self) -> None:
        self.resolve_after = None


class AttemptKind(models.TextChoices):
    """What an attempt asks of the processor."""

    AUTHORIZE = "authorize"  # a confirm
    AUTHENTICATE = "authenticate"  # the authorisation after a 3-D Secure challenge
    CAPTURE = "capture"  # a merchant's capture of an authorisation
    CAPTURE_ASYNC = "capture_async"  # the capture an automatic_async charge owes
    VOID = "void"  # a cancel: the authorisation released, then the intent canceled
    RELEASE = "release"  # an authorisation no longer wanted (expired, authorised too late)
    INCREMENT = "increment"
    RESOLVE_ASYNC = "resolve_async"  # the final answer of a `processing` authorisation
    REFUND = "refund"
    REFUND_RESOLVE = "refund_resolve"  # the final answer of a `pending` refund
    REFUND_CANCEL = "refund_cancel"
    # a SetupIntent's confirm: the card checked with the issuer, nothing charged
    VERIFY = "verify"
    VERIFY_AUTHENTICATE = "verify_3ds"  # the check after the setup's 3-D Secure challenge


class AttemptStatus(models.TextChoices):
    RECORDED = "recorded"  # written before the call; the call's answer not yet applied
    ANSWERED = "answered"  # the processor answered, and the answer changed nothing here
    APPLIED = "applied"  # the answer was applied to its target
    ABORTED = "aborted"  # the processor never received it: nothing happened


def attempt_stale_before(now: datetime | None = None) -> datetime:
    """An attempt recorded before this belongs to a process that died: it no longer blocks its
    target, and the reconciler (or a retry of the same request) settles it with the processor.
    settings.INFLIGHT_TIMEOUT_SECONDS is also the Idempotency-Key lock's timeout."""
    return (now or timezone.now()) - timedelta(seconds=settings.INFLIGHT_TIMEOUT_SECONDS)


# What the processor insights read of an attempt (besides account, mode and time).
INSIGHTS_COLUMNS = ["processor", "payment_flow", "outcome", "currency", "amount", "latency_ms"]


class Attempt(ScopedModel):
    """One call to a processor (`att_…`), the ledger of every money movement. Recorded before
    the call under its target's row lock, its id handed to the processor as the idempotency
    key, then settled with the answer in the transaction that applies it (`payments.attempts`
    runs the protocol). At most one attempt per target is `recorded` at a time (a partial
    unique index); one recorded for longer than INFLIGHT_TIMEOUT_SECONDS belongs to a process
    that died, and the reconciler settles it. Nothing else stores in-flight state."""

    Kind = AttemptKind
    Status = AttemptStatus

    id = models.CharField(
        primary_key=True, max_length=40, default=id_factory("att"), editable=False
    )
    kind = models.CharField(max_length=16, choices=AttemptKind.choices)
    # The row the attempt is made under the lock of (an intent, a charge or a refund): its id.
    target = models.CharField(max_length=40)
    # The intent's attempts are deleted with it (by its index); the charge and the refund are
    # the intent's own rows, so their links need neither an index nor a constraint.
    payment_intent = models.ForeignKey(
        "intents.PaymentIntent",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attempts",
    )
    charge = models.ForeignKey(
        Charge,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    refund = models.ForeignKey(
        Refund,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # The connection called (`proc_…`; "simulated" on attempts made before connections).
    processor = models.CharField(max_length=40)
    payment_flow = models.CharField(max_length=40, blank=True, default="")
    # An authorisation's outcome for the processor insights: succeeded, requires_action,
    # processing, soft_decline, hard_decline or processor_error; and how long the call took.
    outcome = models.CharField(max_length=16, blank=True, default="")
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    amount = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    status = models.CharField(
        max_length=16, choices=AttemptStatus.choices, default=AttemptStatus.RECORDED
    )
    # Counted in the processor insights' rollup (`payments/rollup.py`): set by its sweep once
    # the outcome is written (an outcome never changes after).
    rolled_up = models.BooleanField(default=False, db_default=False)
    # What the movement's apply needs of the request that made it (a cancellation reason, an
    # increment's description): a reconciler rebuilds the movement from the row alone.
    params = models.JSONField(default=dict, blank=True)
    # When it was recorded, or last claimed by the reconciler (its claim).
    claimed_at = models.DateTimeField()
    answer = models.JSONField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["target"],
                name="attempt_one_recorded_per_target",
                condition=models.Q(status="recorded"),
            )
        ]
        indexes = [
            # the reconciler's: recorded attempts by age (a target's recorded attempt is found
            # through the unique constraint's index)
            models.Index(
                fields=["claimed_at"],
                name="attempt_recorded_idx",
                condition=models.Q(status="recorded"),
            ),
            # the processor insights': an account's authorisations by time, read index-only
            # for the parts of a window the rollup does not cover (the days it cuts)
            models.Index(
                fields=["account", "livemode", "created"],
                name="attempt_insights_idx",
                condition=~models.Q(outcome=""),
                include=INSIGHTS_COLUMNS,
            ),
            # the authorisations the rollup's sweep has not counted yet: what it picks, and
            # what insights read beside the rollup for the whole days of a window
            models.Index(
                fields=["account", "livemode", "created"],
                name="attempt_open_insights_idx",
                condition=~models.Q(outcome="") & models.Q(rolled_up=False),
                include=INSIGHTS_COLUMNS,
            ),
        ]

    def __str__(self) -> str:
        return self.id


class AttemptRollup(models.Model):
    """The processor insights' figures of the authorisations counted by the rollup's sweep
    (`payments/rollup.py`): per account, mode, UTC day, connection, flow, currency and outcome,
    how many and their amount. An attempt's figures never change once its outcome is written,
    so a row only grows."""

    # the key's unique index leads with the account: no index of its own
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    livemode = models.BooleanField()
    day = models.DateField()
    processor = models.CharField(max_length=40)
    payment_flow = models.CharField(max_length=40)
    currency = models.CharField(max_length=3)
    outcome = models.CharField(max_length=16)
    attempts = models.BigIntegerField(default=0)
    amount = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "account",
                    "livemode",
                    "day",
                    "processor",
                    "payment_flow",
                    "currency",
                    "outcome",
                ],
                name="attempt_rollup_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day} {self.processor} {self.outcome}"


class AttemptLatencyRollup(models.Model):
    """The histogram of the same attempts' latencies: per account, mode, UTC day, connection
    and flow, how many calls took each whole number of milliseconds. The exact continuous
    percentiles are read off it (a day holds as many rows as distinct latencies, not calls)."""

    # the key's unique index leads with the account: no index of its own
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    livemode = models.BooleanField()
    day = models.DateField()
    processor = models.CharField(max_length=40)
    payment_flow = models.CharField(max_length=40)
    latency_ms = models.IntegerField()
    attempts = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "livemode", "day", "processor", "payment_flow", "latency_ms"],
                name="attempt_latency_rollup_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day} {self.processor} {self.latency_ms} ms"


class SimulatedProcessorRecord(models.Model):
    """What the simulated processor remembers of each attempt it was asked to make, by the
    attempt id it was given (its idempotency key). The simulated processor stands in for a
    remote system: a real processor keeps these records on its side, where a crash of this
    service cannot touch them. The simulator keeps them in this table — not in the memory of
    the process that called it — so that a kill -9 of a web worker in the middle of a call
    loses nothing the "processor" did, and the reconciler can ask what happened (`lookup`).
    Nothing in the service reads this table except the simulated processor."""

    attempt_id = models.CharField(primary_key=True, max_length=40)
    operation = models.CharField(max_length=16)
    reference = models.CharField(max_length=40, db_index=True, help_text="our charge id")
    outcome = models.TextField(help_text="the answer given, as JSON")
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.operation} {self.attempt_id}"

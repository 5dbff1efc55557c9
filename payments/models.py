from django.db import models

from core.ids import id_factory
from core.models import ScopedModel


class Customer(ScopedModel):
    id = models.CharField(
        primary_key=True, max_length=40, default=id_factory("cus"), editable=False
    )
    email = models.CharField(max_length=512, null=True, blank=True)
    name = models.CharField(max_length=256, null=True, blank=True)
    phone = models.CharField(max_length=64, null=True, blank=True)
    description = models.CharField(max_length=1000, null=True, blank=True)
    address = models.JSONField(null=True, blank=True)
    shipping = models.JSONField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    invoice_settings = models.JSONField(default=dict, blank=True)
    deleted = models.BooleanField(default=False)

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
    processor_token = models.CharField(max_length=255)
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
    amount_refunded = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    captured = models.BooleanField(default=False)
    # The authorisation exists and is not yet captured or released.
    authorized = models.BooleanField(default=False)
    capture_pending = models.BooleanField(
        default=False, help_text="automatic_async: a worker owes the processor a capture"
    )
    # Set while a worker's capture call is under way (its claim); one older than the in-flight
    # timeout belongs to a crashed worker and is taken over by the next sweep.
    capture_claimed_at = models.DateTimeField(null=True, blank=True)
    released = models.BooleanField(default=False)
    # Set when the authorisation is marked released here and its release (`void`) is still owed
    # to the processor; cleared once the processor has it. One older than the in-flight timeout
    # is a crashed process's: the reconciler makes the release (same attempt id, harmless twice).
    release_owed_at = models.DateTimeField(null=True, blank=True)
    failure_code = models.CharField(max_length=64, null=True, blank=True)
    failure_message = models.CharField(max_length=500, null=True, blank=True)
    outcome = models.JSONField(null=True, blank=True)
    payment_method_details = models.JSONField(null=True, blank=True)
    processor_reference = models.CharField(max_length=255, blank=True, default="")
    three_d_secure = models.CharField(
        max_length=16, null=True, blank=True, help_text="required / passed / failed"
    )
    description = models.CharField(max_length=1000, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
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
            models.Index(
                fields=["release_owed_at"],
                name="charge_release_owed_idx",
                condition=models.Q(release_owed_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.id


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

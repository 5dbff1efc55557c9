"""The product's rows as a bare Django app: generated, do not edit by hand.

    DJANGO_SETTINGS_MODULE=config.settings PAYINTENTS_DEV=1 \\
        .venv/bin/python bench/baseline/generate_models.py \\
        | .venv/bin/ruff format --stdin-filename bench/baseline/models.py - > bench/baseline/models.py

Each table has the columns of the product's table (names, types, nullability, max_length,
unique, defaults), read from the product models' `_meta.concrete_fields` (`deconstruct()`):
django-fsm's FSMField is a CharField here, events' PayloadField a ValuesJSONField (a JSONField
inserted as plain VALUES rows, as the product does: the baseline gets the product's cheap
bulk insert of events), foreign keys point at the baseline's tables. Customer and Checkout hold only their primary key (the intent's,
the method's and the charge's nullable foreign keys to them stay columns with their
constraint and index; the bench leaves them NULL). Indexes: the foreign keys' default ones and
each table's list index (account, livemode, -created, -id; named `bl_…`). Left out: the
product's other indexes, which serve its features (expiry, abandonment, processing and
in-flight sweeps, the event relay, customer and type filters, `db_index` on status, updated
and events' object_id), and `choices`/`help_text` (not columns).
"""

from django.db import models
from django.utils import timezone

from .fields import IdFactory, ValuesJSONField  # noqa: F401 (the generated fields use them)


class Account(models.Model):
    """The columns of `accounts.Account`."""

    id = models.CharField(
        primary_key=True, max_length=40, default=IdFactory("acct"), editable=False
    )
    name = models.CharField(max_length=200)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "baseline"

    def __str__(self) -> str:
        return self.id


class Customer(models.Model):
    """The columns of `payments.Customer` (its primary key only)."""

    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("cus"), editable=False)

    class Meta:
        app_label = "baseline"

    def __str__(self) -> str:
        return self.id


class Checkout(models.Model):
    """The columns of `checkouts.Checkout` (its primary key only)."""

    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("chk"), editable=False)

    class Meta:
        app_label = "baseline"

    def __str__(self) -> str:
        return self.id


class PaymentMethod(models.Model):
    """The columns of `payments.PaymentMethod`."""

    account = models.ForeignKey("Account", on_delete=models.CASCADE, related_name="+")
    livemode = models.BooleanField()
    created = models.DateTimeField(default=timezone.now)
    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("pm"), editable=False)
    type = models.CharField(max_length=32, default="card")
    customer = models.ForeignKey(
        "Customer", on_delete=models.SET_NULL, blank=True, null=True, related_name="payment_methods"
    )
    billing_details = models.JSONField(blank=True, default=dict)
    metadata = models.JSONField(blank=True, default=dict)
    card_brand = models.CharField(max_length=32)
    card_last4 = models.CharField(max_length=4)
    card_exp_month = models.PositiveSmallIntegerField()
    card_exp_year = models.PositiveSmallIntegerField()
    card_funding = models.CharField(max_length=16, default="credit")
    card_country = models.CharField(max_length=2, default="US")
    card_fingerprint = models.CharField(max_length=64)
    processor_token = models.CharField(max_length=255)
    magic_id = models.CharField(max_length=80, blank=True, null=True)

    class Meta:
        app_label = "baseline"
        indexes = [
            models.Index(fields=["account", "livemode", "-created", "-id"], name="bl_pm_list_idx")
        ]

    def __str__(self) -> str:
        return self.id


class PaymentIntent(models.Model):
    """The columns of `intents.PaymentIntent`."""

    livemode = models.BooleanField()
    created = models.DateTimeField(default=timezone.now)
    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("pi"), editable=False)
    account = models.ForeignKey("Account", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=50, default="requires_payment_method")
    amount = models.BigIntegerField()
    amount_capturable = models.BigIntegerField(default=0)
    amount_received = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    capture_method = models.CharField(max_length=16, default="automatic_async")
    confirmation_method = models.CharField(max_length=16, default="automatic")
    payment_method = models.ForeignKey(
        "PaymentMethod", on_delete=models.SET_NULL, blank=True, null=True, related_name="+"
    )
    payment_method_types = models.JSONField(default=list)
    payment_method_options = models.JSONField(blank=True, default=dict)
    automatic_payment_methods = models.JSONField(blank=True, null=True)
    customer = models.ForeignKey(
        "Customer", on_delete=models.SET_NULL, blank=True, null=True, related_name="payment_intents"
    )
    description = models.CharField(max_length=1000, blank=True, null=True)
    metadata = models.JSONField(blank=True, default=dict)
    receipt_email = models.CharField(max_length=512, blank=True, null=True)
    shipping = models.JSONField(blank=True, null=True)
    statement_descriptor = models.CharField(max_length=22, blank=True, null=True)
    statement_descriptor_suffix = models.CharField(max_length=22, blank=True, null=True)
    setup_future_usage = models.CharField(max_length=16, blank=True, null=True)
    client_secret = models.CharField(max_length=120, unique=True)
    next_action = models.JSONField(blank=True, null=True)
    last_payment_error = models.JSONField(blank=True, null=True)
    latest_charge = models.ForeignKey(
        "Charge", on_delete=models.SET_NULL, blank=True, null=True, related_name="+"
    )
    canceled_at = models.DateTimeField(blank=True, null=True)
    cancellation_reason = models.CharField(max_length=32, blank=True, null=True)
    return_url = models.CharField(max_length=2048, blank=True, null=True)
    off_session = models.BooleanField(default=False)
    authorized_at = models.DateTimeField(blank=True, null=True)
    checkout = models.ForeignKey(
        "Checkout", on_delete=models.SET_NULL, blank=True, null=True, related_name="payment_intents"
    )
    updated = models.DateTimeField(auto_now=True)
    inflight = models.CharField(max_length=16, blank=True, null=True)
    inflight_since = models.DateTimeField(blank=True, null=True)
    last_attempt_id = models.CharField(max_length=40, blank=True, null=True)
    last_attempt_refusal = models.JSONField(blank=True, null=True)
    processing_resolve_at = models.DateTimeField(blank=True, null=True)

    class Meta:
        app_label = "baseline"
        indexes = [
            models.Index(fields=["account", "livemode", "-created", "-id"], name="bl_pi_list_idx")
        ]

    def __str__(self) -> str:
        return self.id


class Charge(models.Model):
    """The columns of `payments.Charge`."""

    account = models.ForeignKey("Account", on_delete=models.CASCADE, related_name="+")
    livemode = models.BooleanField()
    created = models.DateTimeField(default=timezone.now)
    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("ch"), editable=False)
    payment_intent = models.ForeignKey(
        "PaymentIntent", on_delete=models.CASCADE, related_name="charges"
    )
    payment_method = models.ForeignKey(
        "PaymentMethod", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    customer = models.ForeignKey(
        "Customer", on_delete=models.SET_NULL, blank=True, null=True, related_name="+"
    )
    amount = models.BigIntegerField()
    amount_captured = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, default="pending")
    captured = models.BooleanField(default=False)
    authorized = models.BooleanField(default=False)
    capture_pending = models.BooleanField(default=False)
    capture_claimed_at = models.DateTimeField(blank=True, null=True)
    released = models.BooleanField(default=False)
    release_owed_at = models.DateTimeField(blank=True, null=True)
    failure_code = models.CharField(max_length=64, blank=True, null=True)
    failure_message = models.CharField(max_length=500, blank=True, null=True)
    outcome = models.JSONField(blank=True, null=True)
    payment_method_details = models.JSONField(blank=True, null=True)
    processor_reference = models.CharField(max_length=255, blank=True, default="")
    three_d_secure = models.CharField(max_length=16, blank=True, null=True)
    description = models.CharField(max_length=1000, blank=True, null=True)
    metadata = models.JSONField(blank=True, default=dict)
    amount_refunded = models.BigIntegerField(default=0)
    amount_refund_pending = models.BigIntegerField(default=0)
    refund_count = models.IntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "baseline"
        indexes = [
            models.Index(
                fields=["account", "livemode", "-created", "-id"], name="bl_charge_list_idx"
            )
        ]

    def __str__(self) -> str:
        return self.id


class Event(models.Model):
    """The columns of `events.Event`."""

    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("evt"), editable=False)
    account = models.ForeignKey("Account", on_delete=models.CASCADE, related_name="+")
    livemode = models.BooleanField()
    type = models.CharField(max_length=64)
    created = models.DateTimeField(default=timezone.now)
    api_version = models.CharField(max_length=16)
    data = ValuesJSONField()
    object_id = models.CharField(max_length=40)
    request_id = models.CharField(max_length=40, blank=True, null=True)
    idempotency_key = models.CharField(max_length=255, blank=True, null=True)
    operator = models.CharField(max_length=200, blank=True, null=True)
    pending_webhooks = models.IntegerField(default=0)
    relayed_at = models.DateTimeField(blank=True, null=True)

    class Meta:
        app_label = "baseline"
        indexes = [
            models.Index(
                fields=["account", "livemode", "-created", "-id"], name="bl_event_list_idx"
            )
        ]

    def __str__(self) -> str:
        return self.id

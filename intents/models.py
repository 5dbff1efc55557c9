from django.db import models
from django_fsm import FSMField

from api.ids import id_factory
from api.models import ScopedModel


class Status(models.TextChoices):
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    REQUIRES_CAPTURE = "requires_capture"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


TERMINAL_STATUSES = (Status.SUCCEEDED, Status.CANCELED)


class PaymentIntent(ScopedModel):
    """A Stripe PaymentIntent. `status` changes only through the django-fsm transitions below,
    called by `intents.services` under a row lock with the matching Event written alongside."""

    id = models.CharField(primary_key=True, max_length=40, default=id_factory("pi"), editable=False)
    status = FSMField(
        default=Status.REQUIRES_PAYMENT_METHOD,
        choices=Status.choices,
        protected=True,
        db_index=True,
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
    customer = models.ForeignKey(
        "payments.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="payment_intents",
    )
    description = models.CharField(max_length=1000, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
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
    updated = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "livemode", "-created", "-id"], name="pi_list_idx"),
            models.Index(
                fields=["account", "livemode", "customer", "-created"], name="pi_customer_idx"
            ),
            models.Index(fields=["status", "authorized_at"], name="pi_expiry_idx"),
            models.Index(fields=["status", "updated"], name="pi_abandon_idx"),
        ]

    def __str__(self) -> str:
        return self.id

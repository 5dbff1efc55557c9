from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.ids import id_factory
from core.models import SavesChangedFields, ScopedModel


class PayloadField(models.JSONField):
    """An event's payload: a JSONField whose rows a bulk insert sends as one VALUES row each.
    On PostgreSQL, Django otherwise inserts several rows through UNNEST of one array per
    column, and the array of payloads is escaped character by character on the client (most
    of the cost of writing two events). The same column as a JSONField for migrations."""

    def get_placeholder(self, value, compiler, connection) -> str:
        return "%s"

    def deconstruct(self):
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.JSONField", args, kwargs


class Event(models.Model):
    """The transactional outbox: written in the same transaction as the change it reports.

    `relayed_at` is NULL until the relay has turned the event into one `Delivery` per matching
    endpoint; the partial index keeps the sweep's "what is left to relay" scan cheap however
    large the table grows.
    """

    id = models.CharField(
        primary_key=True, max_length=40, default=id_factory("evt"), editable=False
    )
    # No index of its own: both list indexes below lead with the account.
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    livemode = models.BooleanField()
    type = models.CharField(max_length=64)
    created = models.DateTimeField(default=timezone.now)
    api_version = models.CharField(max_length=16)
    # {"object": <the API representation at that moment>, "previous_attributes": {...}?}
    data = PayloadField()
    object_id = models.CharField(max_length=40, db_index=True)
    request_id = models.CharField(max_length=40, null=True, blank=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    # Who caused it by hand (an operator in the console, e.g. "admin:alice"); None for the API.
    operator = models.CharField(max_length=200, null=True, blank=True)
    pending_webhooks = models.IntegerField(default=0)
    relayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "livemode", "-created", "-id"], name="event_list_idx"),
            models.Index(fields=["account", "livemode", "type", "-created"], name="event_type_idx"),
            models.Index(
                fields=["created"], name="event_unrelayed_idx", condition=Q(relayed_at__isnull=True)
            ),
            models.Index(fields=["created"], name="event_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.type}"

    @staticmethod
    def retention_cutoff() -> datetime:
        """Events created before this are past EVENT_RETENTION_DAYS: the API no longer shows
        them and the purge deletes them."""
        return timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS)


class WebhookEndpoint(ScopedModel):
    """Where an account wants its events POSTed. The secret is stored as is (it has to be: it
    is the HMAC key every delivery is signed with) and only ever shown by create/roll."""

    class Status(models.TextChoices):
        ENABLED = "enabled"
        DISABLED = "disabled"

    id = models.CharField(primary_key=True, max_length=40, default=id_factory("we"), editable=False)
    url = models.CharField(max_length=2048)
    enabled_events = models.JSONField(default=list)
    description = models.CharField(max_length=5000, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ENABLED)
    disabled_reason = models.CharField(max_length=500, null=True, blank=True)
    api_version = models.CharField(max_length=16)
    secret = models.CharField(max_length=128)
    # After a roll the old secret keeps signing (a second signature) until this moment.
    previous_secret = models.CharField(max_length=128, null=True, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # Start of the current unbroken run of failed attempts (None after any success).
    failing_since = models.DateTimeField(null=True, blank=True)
    # Set when an attempt got no answer at all (refused, timed out): until then its deliveries
    # wait in the database instead of holding a worker for a timeout each.
    paused_until = models.DateTimeField(null=True, blank=True)
    # Attempts failed in a row (0 after any success): at WEBHOOK_CIRCUIT_FAILURES the endpoint
    # is paused as one that does not answer is (its circuit open), until a probe succeeds.
    failures_in_row = models.IntegerField(default=0)
    # Set when a hint to send its due deliveries is on its way to a worker, cleared when a
    # worker takes it: one hint outstanding per endpoint, however many events arrive meanwhile.
    send_requested_at = models.DateTimeField(null=True, blank=True)
    # Whose webhooks these are: `stripe` (the service's own events, Stripe-Signature), or a
    # face's (`settings.WEBHOOK_DIALECTS`: which events it sends, their body and signature).
    dialect = models.CharField(max_length=16, default="stripe")

    class Meta:
        indexes = [
            models.Index(
                fields=["account", "livemode", "-created", "-id"], name="endpoint_list_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.url}"

    def subscribes_to(self, event_type: str) -> bool:
        return "*" in self.enabled_events or event_type in self.enabled_events

    def signing_secrets(self, now=None) -> list[str]:
        now = now or timezone.now()
        secrets = [self.secret]
        if (
            self.previous_secret
            and self.previous_secret_expires_at
            and self.previous_secret_expires_at > now
        ):
            secrets.append(self.previous_secret)
        return secrets


class Delivery(SavesChangedFields):
    """One event for one endpoint. The row is the truth about what is left to send:
    `next_attempt_at` says when, `lease_until` marks an attempt in flight (a crashed worker's
    lease simply expires), `dispatched_at` stops the sweep enqueueing the same row twice."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"  # gave up after the retry window
        CANCELED = "canceled"  # the endpoint was disabled

    id = models.CharField(
        primary_key=True, max_length=40, default=id_factory("whdel"), editable=False
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.IntegerField(default=0)
    # Start of the current retry window (creation, or the last manual resend).
    window_start = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="delivery_event_endpoint")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due_idx",
                condition=Q(status="pending"),
            ),
            # An endpoint's pending deliveries oldest first, for the sender that takes them in
            # batches: a claim walks it in order and stops at its batch, where an index on the
            # due time had every pending row sorted on each claim (a backlog of N, claimed 100
            # at a time, sorted N²/100 rows).
            models.Index(
                fields=["endpoint", "created", "id"],
                name="delivery_endpoint_order_idx",
                condition=Q(status="pending"),
            ),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.status})"


class DeliveryAttempt(ScopedModel):
    """The log: one row per HTTP attempt (or refusal to connect)."""

    id = models.CharField(
        primary_key=True, max_length=40, default=id_factory("whatt"), editable=False
    )
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=64)
    http_status = models.IntegerField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    latency_ms = models.IntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True, default="")
    error = models.CharField(max_length=500, null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["endpoint", "-created", "-id"], name="attempt_endpoint_idx"),
            models.Index(fields=["event", "-created", "-id"], name="attempt_event_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.http_status or self.error}"

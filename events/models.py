from django.db import models
from django.utils import timezone

from api.ids import id_factory


class Event(models.Model):
    """The transactional outbox: written in the same transaction as the change it reports."""

    id = models.CharField(
        primary_key=True, max_length=40, default=id_factory("evt"), editable=False
    )
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    livemode = models.BooleanField()
    type = models.CharField(max_length=64)
    created = models.DateTimeField(default=timezone.now)
    api_version = models.CharField(max_length=16)
    # {"object": <the API representation at that moment>, "previous_attributes": {...}?}
    data = models.JSONField()
    object_id = models.CharField(max_length=40, db_index=True)
    request_id = models.CharField(max_length=40, null=True, blank=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    pending_webhooks = models.IntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["account", "livemode", "-created", "-id"], name="event_list_idx"),
            models.Index(fields=["account", "livemode", "type", "-created"], name="event_type_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.type}"

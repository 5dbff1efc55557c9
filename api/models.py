from django.db import models
from django.utils import timezone


class IdempotencyKey(models.Model):
    """One `Idempotency-Key` of one account and mode (docs/security.md).

    The row is claimed atomically by its INSERT (unique on account, livemode, key); `locked_at`
    is set while the first request executes and cleared when its response is stored. A lock
    older than settings.INFLIGHT_TIMEOUT_SECONDS may be taken over (compare-and-set on
    `locked_at`). Purged after settings.IDEMPOTENCY_KEY_TTL_SECONDS by `api.tasks`.
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    livemode = models.BooleanField()
    key = models.CharField(max_length=255)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    # The fingerprint of the first request: method, path and a hash of the canonical params.
    request_method = models.CharField(max_length=8)
    request_path = models.CharField(max_length=2048)
    request_params_hash = models.CharField(max_length=64)
    request_id = models.CharField(max_length=40, blank=True, default="")
    locked_at = models.DateTimeField(null=True, blank=True)
    # The stored answer (null until the first request finishes executing).
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "livemode", "key"], name="idempotency_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.account_id}, {'live' if self.livemode else 'test'})"

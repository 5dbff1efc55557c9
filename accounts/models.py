from django.db import models
from django.utils import timezone

from core.ids import id_factory
from core.models import SavesChangedFields


class Account(SavesChangedFields):
    id = models.CharField(
        primary_key=True, max_length=40, default=id_factory("acct"), editable=False
    )
    name = models.CharField(max_length=200)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class ApiKey(SavesChangedFields):
    """An API key, stored only as a SHA-256 hash plus a short lookup prefix.

    The keys carry 32 random base62 characters (190 bits), so a fast hash is enough: there is
    nothing to brute-force that a slow hash would protect.
    """

    class Kind(models.TextChoices):
        SECRET = "secret"
        PUBLISHABLE = "publishable"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_keys")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    livemode = models.BooleanField()
    lookup = models.CharField(
        max_length=32, unique=True, help_text="The key's first characters, e.g. sk_test_AbCdEfGh"
    )
    hashed = models.CharField(max_length=64)
    created = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "livemode", "kind"])]

    def __str__(self) -> str:
        return f"{self.lookup}… ({self.kind}, {'live' if self.livemode else 'test'})"

    @property
    def is_secret(self) -> bool:
        return self.kind == self.Kind.SECRET

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

"""The abstract base of every API object."""

from django.db import models
from django.utils import timezone


class ScopedModel(models.Model):
    """Every API object belongs to one account and one mode; selectors always filter on both.
    Subclasses declare `id = models.CharField(primary_key=True, default=id_factory("xx"), …)`."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    livemode = models.BooleanField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    @property
    def created_unix(self) -> int:
        return int(self.created.timestamp())

"""The two rows a payment writes, in their bare form."""

import secrets

from django.db import models


def _id(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(18)


class Intent(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=32, default="requires_payment_method")
    amount_received = models.BigIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "baseline"

    def __str__(self) -> str:
        return self.id


class Charge(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    intent = models.ForeignKey(Intent, on_delete=models.CASCADE)
    amount = models.BigIntegerField()
    status = models.CharField(max_length=32)
    captured = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "baseline"

    def __str__(self) -> str:
        return self.id

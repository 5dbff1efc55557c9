"""Periodic upkeep of the API layer (thin: call a service)."""

from celery import shared_task

from .idempotency import idempotency_keys_purge as _purge


@shared_task(name="api.tasks.idempotency_keys_purge", ignore_result=True)
def idempotency_keys_purge() -> int:
    """Delete Idempotency-Key rows past settings.IDEMPOTENCY_KEY_TTL_SECONDS (idempotent)."""
    return _purge()

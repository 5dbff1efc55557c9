"""Thin tasks: call a service. Each is idempotent (the broker may deliver twice)."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def expire_checkout_intents() -> None:
    """Sweep: pending checkout intents past `expires_at`."""
    services.checkout_intents_expire_due()

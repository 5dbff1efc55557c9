"""Thin tasks: load ids, call a service. Each is idempotent (the broker may deliver twice)."""

from celery import shared_task

from payments import services as payment_services

from . import services


@shared_task(ignore_result=True)
def capture_charge(charge_id: str) -> None:
    """automatic_async: the processor capture owed for one charge."""
    services.charge_capture_async(charge_id=charge_id)


@shared_task(ignore_result=True)
def capture_pending_charges() -> None:
    """Sweep: captures whose on_commit enqueue was missed or failed."""
    services.charges_capture_pending()


@shared_task(ignore_result=True)
def resolve_processing_intent(intent_id: str) -> None:
    services.payment_intent_resolve_processing(payment_intent_id=intent_id)


@shared_task(ignore_result=True)
def resolve_processing_intents() -> None:
    services.payment_intents_resolve_due()


@shared_task(ignore_result=True)
def expire_authorizations() -> None:
    services.payment_intents_expire_due()


@shared_task(ignore_result=True)
def abandon_stale_intents() -> None:
    services.payment_intents_abandon_stale()


@shared_task(ignore_result=True)
def reconcile_attempts() -> None:
    """The reconciler: attempts left in flight past the timeout, settled with the processor."""
    payment_services.attempts_reconcile()

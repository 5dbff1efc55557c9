"""Thin tasks: load ids, call a service. Each is idempotent (the broker may deliver twice)."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def refund_resolve(refund_id: str) -> None:
    """One refund the processor answered `pending`, once it is due."""
    services.refund_resolve(refund_id=refund_id)


@shared_task(ignore_result=True)
def refunds_resolve_due() -> None:
    """Sweep: every due pending refund, whether or not its enqueue reached a worker."""
    services.refunds_resolve_due()


@shared_task(ignore_result=True)
def roll_up_attempts() -> None:
    """Sweep: authorisation attempts with an outcome join the processor insights' rollup."""
    services.attempts_roll_up()

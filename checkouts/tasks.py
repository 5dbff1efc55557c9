"""Thin tasks: call a service. Idempotent (the broker may deliver twice)."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def mark_inactive_checkouts() -> None:
    """Sweep: checkouts left alone past CHECKOUT_INACTIVE_SECONDS become `inactive`."""
    services.checkouts_mark_inactive()


@shared_task(ignore_result=True)
def roll_up_checkouts() -> None:
    """Sweep: checkouts that can no longer change join the insights rollup (PostgreSQL)."""
    services.checkouts_roll_up()

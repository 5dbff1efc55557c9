"""A payment in progress locks its own intent and nothing of its account's: another payment of
the same account goes through meanwhile, on PostgreSQL with real threads, whether the movement
runs as one transaction (in-process processor) or in two phases.

The intent's row lock once read the account along (a bare `select_related()` follows every
foreign key) and `FOR UPDATE` locked that row too, so all of an account's confirms and captures
queued behind each other."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from accounts.models import Account
from core.scope import Scope
from intents.services import payment_intent_confirm, payment_intent_create
from intents.services._common import lock_intent
from payments.processors.simulated import SimulatedProcessor
from tests.conftest import make_account


def _intent(scope: Scope) -> str:
    return payment_intent_create(
        scope=scope, amount=1500, currency="usd", payment_method="pm_card_visa"
    ).id


@pytest.mark.django_db(transaction=True)
def test_an_intents_lock_leaves_the_account_row_and_other_intents_free():
    acct = make_account()
    scope = Scope(account_id=acct.account.id, livemode=False)
    first, second = _intent(scope), _intent(scope)
    results: dict = {}

    def other_transaction():
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                lock_intent(second, scope=scope)
                results["intent"] = True
                Account.objects.select_for_update(nowait=True).get(id=acct.account.id)
                results["account"] = True
        except Exception as exc:  # reported below
            results["error"] = repr(exc)
        finally:
            connection.close()

    with transaction.atomic():
        lock_intent(first, scope=scope)
        thread = threading.Thread(target=other_transaction)
        thread.start()
        thread.join(timeout=10)
    assert results == {"intent": True, "account": True}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("in_process", [True, False], ids=["one_transaction", "two_phases"])
def test_a_confirm_held_at_the_processor_does_not_hold_up_another_of_the_account(
    settings, monkeypatch, in_process
):
    settings.SIMULATED_PROCESSOR_IN_PROCESS = in_process
    acct = make_account()
    scope = Scope(account_id=acct.account.id, livemode=False)
    slow, fast = _intent(scope), _intent(scope)
    inside, release = threading.Event(), threading.Event()
    authorize = SimulatedProcessor.authorize
    held_charges: list[str] = []

    def held_authorize(self, **kwargs):
        if not held_charges:  # the first call (the slow intent's) waits at the processor
            held_charges.append(kwargs["reference"])
            inside.set()
            release.wait(timeout=20)
        return authorize(self, **kwargs)

    monkeypatch.setattr(SimulatedProcessor, "authorize", held_authorize)
    statuses: dict = {}

    def confirm(pi_id: str):
        try:
            statuses[pi_id] = payment_intent_confirm(
                scope=scope, payment_intent_id=pi_id, payment_method="pm_card_visa"
            ).status
        except Exception as exc:
            statuses[pi_id] = repr(exc)
        finally:
            connection.close()

    first = threading.Thread(target=confirm, args=(slow,))
    first.start()
    try:
        assert inside.wait(timeout=10), "the first confirm did not reach the processor"
        second = threading.Thread(target=confirm, args=(fast,))
        second.start()
        second.join(timeout=8)
        # answered while the first is still at the processor
        assert statuses.get(fast) == "succeeded" and slow not in statuses
    finally:
        release.set()
        first.join(timeout=20)
    assert statuses[slow] == "succeeded"

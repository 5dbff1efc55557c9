"""Writers and roll-up sweeps at once, on PostgreSQL with real threads: closed checkouts brought
back or given late declines while sweeps count closed rows; afterwards the rollup path gives
exactly the Python path's answer (nothing counted twice, nothing lost), and no thread failed."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from checkouts.models import Checkout
from checkouts.services import (
    checkout_record_payment_attempt,
    checkout_update,
    checkouts_roll_up,
)
from core.scope import Scope
from tests.checkouts.sample import load_sample
from tests.checkouts.test_insights_paths import answers, differences, python_answers

pytestmark = [pytest.mark.django_db(transaction=True)]

WRITERS = 4


def test_writes_during_roll_ups_leave_the_rollup_exact(acct, monkeypatch):
    load_sample(acct.account, n=600, seed=5)
    scope = Scope(acct.id, False)
    checkouts_roll_up(batch_size=50, max_batches=3)  # some counted before the writers start
    complete = list(Checkout.objects.filter(status="complete").values_list("id", flat=True))
    idle = list(
        Checkout.objects.exclude(status="complete").order_by("id").values_list("id", flat=True)
    )
    assert complete and idle
    barrier = threading.Barrier(WRITERS + 1)
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            barrier.wait()
            for chk_id in idle[k::WRITERS][:15]:
                checkout_update(scope=scope, checkout_id=chk_id, delivery="in_progress")
            for n, chk_id in enumerate(complete[k::WRITERS][:15]):
                with transaction.atomic():  # as in a confirm's phase 2
                    checkout_record_payment_attempt(
                        scope=scope,
                        checkout_id=chk_id,
                        payment_intent_id=f"pi_late_{k}_{n}",
                        charge_id=f"ch_late_{k}_{n}",
                        status="failed",
                        decline_code="do_not_honor",
                    )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def sweeper() -> None:
        try:
            barrier.wait()
            for _ in range(8):
                checkouts_roll_up(batch_size=40, max_batches=2)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(WRITERS)]
    threads.append(threading.Thread(target=sweeper))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert Checkout.objects.filter(rolled_up=True).exists()
    now = timezone.now()
    expected = python_answers(scope, now, monkeypatch)
    assert differences(answers(scope, now), expected) == []
    checkouts_roll_up()
    assert differences(answers(scope, now), expected) == []

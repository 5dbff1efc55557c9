"""The migrations that move the in-flight markers into the attempt ledger: a database with a
processor call under way on an intent, a release owed on a charge and a refund in flight comes
out with a recorded attempt for each (the reconciler's to settle), and without the markers.

It runs on an empty database of its own, migrated forwards only (to before the ledger, then
across it): taking the test database back through the later migrations and forwards again
made Django render the whole history three times (35 s of a run)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.conftest import ScratchDatabase

pytestmark = pytest.mark.long(15)

BEFORE = [("intents", "0008_lean_indexes"), ("payments", "0004_refunds")]
AFTER = [("intents", "0009_attempt_ledger"), ("payments", "0006_attempt_ledger_markers")]


@contextmanager
def _default_connection_on(database: ScratchDatabase) -> Iterator[None]:
    """The default connection, which the migrations' own code uses, points at `database`."""
    saved = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = database.name
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = saved


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_markers_in_flight_become_recorded_attempts():
    database = ScratchDatabase("ledger").create()
    try:
        with _default_connection_on(database):
            _markers_in_flight_become_recorded_attempts()
    finally:
        database.drop()


def _markers_in_flight_become_recorded_attempts():
    old = _migrate(BEFORE)
    since = timezone.now() - timedelta(seconds=5)
    account = old.get_model("accounts", "Account").objects.create(id="acct_m", name="M")
    intents = old.get_model("intents", "PaymentIntent").objects
    charges = old.get_model("payments", "Charge").objects
    refunds = old.get_model("payments", "Refund").objects
    common = {"account_id": account.id, "livemode": False, "currency": "usd"}
    confirming = intents.create(
        id="pi_confirming",
        amount=1000,
        client_secret="s1",
        **common,
        inflight="confirm",
        inflight_since=since,
        last_attempt_id="att_confirming",
    )
    charge = charges.create(id="ch_c", payment_intent=confirming, amount=1000, **common)
    intents.filter(id=confirming.id).update(latest_charge=charge)
    expired = intents.create(id="pi_expired", amount=500, client_secret="s2", **common)
    owed = charges.create(
        id="ch_owed", payment_intent=expired, amount=500, release_owed_at=since, **common
    )
    paid = intents.create(id="pi_paid", amount=700, client_secret="s3", **common)
    paid_charge = charges.create(id="ch_paid", payment_intent=paid, amount=700, **common)
    refunds.create(
        id="re_flight",
        charge=paid_charge,
        payment_intent=paid,
        amount=300,
        inflight_since=since,
        **common,
    )
    quiet = intents.create(id="pi_quiet", amount=100, client_secret="s4", **common)

    new = _migrate(AFTER)

    attempts = {a.target: a for a in new.get_model("payments", "Attempt").objects.all()}
    assert set(attempts) == {"pi_confirming", "ch_owed", "re_flight"}  # pi_quiet: none
    confirm = attempts["pi_confirming"]
    assert (confirm.id, confirm.kind, confirm.status) == (
        "att_confirming",
        "authorize",
        "recorded",
    )
    assert (confirm.charge_id, confirm.claimed_at) == ("ch_c", since)
    release = attempts["ch_owed"]
    assert (release.kind, release.status, release.charge_id) == ("release", "recorded", owed.id)
    refund = attempts["re_flight"]
    assert (refund.kind, refund.refund_id, refund.amount) == ("refund", "re_flight", 300)
    columns = {
        c.name
        for c in connection.introspection.get_table_description(
            connection.cursor(), "intents_paymentintent"
        )
    }
    assert not columns & {
        "inflight",
        "inflight_since",
        "last_attempt_id",
        "last_attempt_refusal",
    }
    assert quiet.id not in attempts

"""How many SQL statements each hot API call costs, through HTTP with the test client.

Counted: every statement the service sends, on PostgreSQL. Not counted:
- transaction control (BEGIN, COMMIT, SAVEPOINT, RELEASE/ROLLBACK TO SAVEPOINT): inside the
  test's own transaction the service's `atomic()` blocks become savepoints, which a request in
  production does not send; what a transaction costs is its statements and its one COMMIT;
- the simulated processor's own table (`SimulatedProcessorRecord`): it stands in for the
  remote processor's storage, so its one INSERT per processor call is the processor's work,
  not the service's SQL.
"""

from __future__ import annotations

import contextlib

from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.models import SimulatedProcessorRecord

URL = "/v1/payment_intents"
TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT")
PROCESSOR_TABLE = SimulatedProcessorRecord._meta.db_table


def service_statements(captured: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].upper().startswith(TRANSACTION_CONTROL) and PROCESSOR_TABLE not in q["sql"]
    ]


@contextlib.contextmanager
def at_most(n: int):
    with CaptureQueriesContext(connection) as captured:
        yield captured
    statements = service_statements(captured)
    assert len(statements) <= n, "\n".join([f"{len(statements)} statements:", *statements])


def create(client, **params):
    response = client.post(URL, {"amount": 2000, "currency": "usd", **params})
    assert response.status_code == 200, response.json()
    return response.json()


def test_create_is_at_most_2_statements(client):
    create(client)  # warm: the key cache
    with at_most(2):  # the intent, its event
        create(client)


def test_retrieve_is_one_statement_with_a_warm_key_cache(client):
    pi = create(client, payment_method="pm_card_visa", confirm=True)
    for _ in range(3):
        create(client, payment_method="pm_card_visa", confirm=True)
    with at_most(1):
        assert client.get(f"{URL}/{pi['id']}").status_code == 200


# Routing costs a confirm no statement: the scope's connections and the intent's payment flow
# are read along with the intent's lock (routing.selectors.routing_document).


def test_confirm_is_at_most_6_statements(client):
    pi = create(client, payment_method="pm_card_visa", capture_method="manual")
    with at_most(6):
        response = client.post(f"{URL}/{pi['id']}/confirm")
    assert response.json()["status"] == "requires_capture"


def test_confirm_with_a_payment_method_id_is_at_most_6_statements(client):
    card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2040, "cvc": "123"}
    pm = client.post(
        "/v1/payment_methods", {"type": "card", **{f"card[{k}]": v for k, v in card.items()}}
    ).json()
    pi = create(client, capture_method="manual")
    with at_most(6):
        response = client.post(f"{URL}/{pi['id']}/confirm", {"payment_method": pm["id"]})
    assert response.json()["status"] == "requires_capture", response.json()


def test_capture_is_at_most_5_statements(client):
    pi = create(client, payment_method="pm_card_visa", capture_method="manual", confirm=True)
    with at_most(5):
        response = client.post(f"{URL}/{pi['id']}/capture")
    assert response.json()["status"] == "succeeded"


def test_refund_is_at_most_8_statements(client):
    pi = create(client, payment_method="pm_card_visa", confirm=True)
    client.post("/v1/refunds", {"payment_intent": pi["id"], "amount": 100})
    with at_most(8):
        response = client.post("/v1/refunds", {"payment_intent": pi["id"], "amount": 100})
    assert response.json()["status"] == "succeeded"


def _transactions(captured: CaptureQueriesContext) -> int:
    """Transactions a request opened: inside the test's own transaction each `atomic()` block
    of the service is one SAVEPOINT."""
    return sum(1 for q in captured.captured_queries if q["sql"].upper().startswith("SAVEPOINT"))


def test_with_the_in_process_simulator_confirm_and_capture_are_one_transaction_each(
    client, settings
):
    settings.SIMULATED_PROCESSOR_IN_PROCESS = True
    create(client, payment_method="pm_card_visa")  # the scope's built-in connection exists
    pi = create(client, capture_method="manual")
    # lock (with the routing), payment method, charge, intent, events, the attempt (inserted
    # already applied)
    with at_most(6) as confirmed:
        response = client.post(f"{URL}/{pi['id']}/confirm", {"payment_method": "pm_card_visa"})
    assert response.json()["status"] == "requires_capture"
    with at_most(5) as captured:  # lock (intent and charge), charge, intent, events, attempt
        response = client.post(f"{URL}/{pi['id']}/capture")
    assert response.json()["status"] == "succeeded"
    assert (_transactions(confirmed), _transactions(captured)) == (1, 1)


def test_with_a_remote_processor_they_are_two_phases(client, settings):
    settings.SIMULATED_PROCESSOR_IN_PROCESS = False
    pi = create(client, payment_method="pm_card_visa", capture_method="manual")
    # phase 1: lock (with the routing), charge, intent, attempt; phase 2: lock, attempt, charge,
    # intent, events
    with at_most(9) as confirmed:
        response = client.post(f"{URL}/{pi['id']}/confirm")
    assert response.json()["status"] == "requires_capture"
    # phase 1: lock, attempt; phase 2: lock, attempt, charge, intent, events
    with at_most(7) as captured:
        response = client.post(f"{URL}/{pi['id']}/capture")
    assert response.json()["status"] == "succeeded"
    assert (_transactions(confirmed), _transactions(captured)) == (2, 2)


def test_the_hot_locks_stay_short_enough_for_psycopg_to_cache_their_parsing(db):
    """psycopg parses a statement's placeholders once and caches it, for statements up to
    MAX_CACHED_STATEMENT_LENGTH bytes; past it every run parses again (a regular expression
    over the whole text: a tenth of a capture's instructions). The locks every payment takes
    must stay under it."""
    from django.db import transaction
    from psycopg import _queries

    from intents.services._common import _intent_lock_query

    with transaction.atomic():
        for variant in (
            ((), False, True, False),  # capture, increment, 3-D Secure: the intent and its charge
            ((), False, False, True),  # confirm: the intent and its routing document
            (("payment_method",), False, False, True),  # a confirm naming no method
        ):
            queryset = _intent_lock_query(variant, "pi_x", "acct_x")
            sql, _ = queryset.query.get_compiler(using="default").as_sql()
            assert len(sql.encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH, variant

"""The two tables every payment writes carry only indexes something reads: each index is one
more write per insert (and per UPDATE of a column it covers). What the dropped ones served is
still served by an index that leads with the same columns."""

from __future__ import annotations

import re

import pytest
from django.db import connection

EXPECTED = {
    "intents_paymentintent": {
        "intents_paymentintent_pkey",
        "intents_paymentintent_client_secret_key",
        "pi_list_idx",
        "pi_customer_idx",
        "pi_expiry_idx",
        "pi_abandon_idx",
        "pi_processing_idx",
        # foreign keys: what a delete of the row they point to looks the intents up by
        "intents_paymentintent_customer_id_51b5f23a",
        "intents_paymentintent_latest_charge_id_366de7ef",
        "intents_paymentintent_payment_method_id_026b870d",
        "intents_paymentintent_checkout_id_d06c4234",
    },
    "events_event": {
        "events_event_pkey",
        "event_list_idx",
        "event_type_idx",
        "event_unrelayed_idx",
        "event_created_idx",
        "events_event_object_id_51b2e729",
    },
}


def _indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
@pytest.mark.parametrize("table", sorted(EXPECTED))
def test_only_the_indexes_something_reads(table):
    assert _indexes(table) == EXPECTED[table]


def _plan(sql: str, params: list) -> str:
    """The plan PostgreSQL makes when it may not scan the whole table: which index serves it."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sql", "index"),
    [
        # an account's deletion cascades by account_id alone
        ("SELECT id FROM intents_paymentintent WHERE account_id = %s", "pi_"),
        ("SELECT id FROM events_event WHERE account_id = %s", "event_"),
        # the abandonment sweep: open statuses not updated since the cutoff
        (
            "SELECT id FROM intents_paymentintent WHERE status IN ('requires_payment_method', "
            "'requires_confirmation') AND updated <= now() ORDER BY updated",
            "pi_abandon_idx",
        ),
    ],
)
def test_what_the_dropped_indexes_served_is_still_indexed(sql, index):
    params = ["acct_x"] if "%s" in sql else []
    plan = _plan(sql, params)
    # an index scan, index-only scan or bitmap scan (what PostgreSQL picks depends on the rows
    # the other tests left) of an index whose name starts so
    served = re.search(
        rf"(Index Scan|Index Only Scan) using {index}|Bitmap Index Scan on {index}", plan
    )
    assert "Seq Scan" not in plan and served, plan

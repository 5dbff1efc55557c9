"""UPDATEs write the columns that changed (core.models.SavesChangedFields), and nothing is lost
by it: every column a transition sets is written, a change made in place to a JSON value is
seen, and concurrent writers of different columns keep each other's values."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from intents.models import PaymentIntent
from payments.models import Charge
from tests.helpers import StripeTestClient

URL = "/v1/payment_intents"


def updated_columns(captured, table: str) -> list[set[str]]:
    """The columns each `UPDATE "<table>"` statement sets."""
    out = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if sql.startswith(f'UPDATE "{table}" SET '):
            set_clause = sql.split(" SET ", 1)[1].split(" WHERE ", 1)[0]
            out.append(set(re.findall(r'"(\w+)" = ', set_clause)))
    return out


@pytest.mark.parametrize("in_process", [True, False], ids=["one_transaction", "two_phases"])
def test_capture_updates_only_the_columns_it_changes(client, settings, in_process):
    settings.SIMULATED_PROCESSOR_IN_PROCESS = in_process
    pi = client.post(
        URL,
        {
            "amount": 2000,
            "currency": "usd",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "description": "order 7",
            "metadata[order]": "7",
            "confirm": "true",
        },
    ).json()
    with CaptureQueriesContext(connection) as captured:
        response = client.post(f"{URL}/{pi['id']}/capture")
    assert response.json()["status"] == "succeeded"
    intent_updates = updated_columns(captured, PaymentIntent._meta.db_table)
    # either way one UPDATE of the intent: the attempt is recorded in the ledger, not on it
    assert intent_updates == [{"status", "amount_capturable", "amount_received", "updated"}]
    charge_updates = updated_columns(captured, Charge._meta.db_table)
    assert charge_updates == [{"captured", "amount_captured", "authorized", "updated"}]
    # and what was written is all there
    row = PaymentIntent.objects.get(id=pi["id"])
    assert (row.status, row.amount_received, row.amount_capturable) == ("succeeded", 2000, 0)
    assert (row.description, row.metadata) == ("order 7", {"order": "7"})
    assert not row.attempts.filter(status="recorded").exists()
    charge = Charge.objects.get(id=pi["latest_charge"])
    assert (charge.captured, charge.amount_captured, charge.authorized) == (True, 2000, False)


def test_a_json_value_changed_in_place_is_written(acct):
    client = StripeTestClient(key=acct.sk)
    pi_id = client.post(URL, {"amount": 100, "currency": "usd", "metadata[a]": "1"}).json()["id"]
    pi = PaymentIntent.objects.get(id=pi_id)
    pi.metadata["b"] = "2"  # in place: the remembered value must not change with it
    pi.payment_method_types.append("link")
    pi.save()
    row = PaymentIntent.objects.get(id=pi_id)
    assert row.metadata == {"a": "1", "b": "2"}
    assert row.payment_method_types == ["card", "link"]


def test_a_stale_copy_saved_keeps_the_columns_it_did_not_change(acct):
    """Two copies of one row: each save writes only its own change, so neither undoes the
    other's (a whole-row UPDATE would put the first copy's stale description back)."""
    client = StripeTestClient(key=acct.sk)
    pi_id = client.post(URL, {"amount": 100, "currency": "usd"}).json()["id"]
    first = PaymentIntent.objects.get(id=pi_id)
    second = PaymentIntent.objects.get(id=pi_id)
    second.description = "from the second"
    second.save()
    first.receipt_email = "first@example.com"
    first.save()
    row = PaymentIntent.objects.get(id=pi_id)
    assert (row.description, row.receipt_email) == ("from the second", "first@example.com")


def test_a_new_or_re_keyed_row_is_saved_whole(acct):
    client = StripeTestClient(key=acct.sk)
    pi_id = client.post(URL, {"amount": 100, "currency": "usd", "description": "x"}).json()["id"]
    pi = PaymentIntent.objects.get(id=pi_id)
    assert pi.changed_fields() == ["updated"]
    pi.pk = pi.id = "pi_copyofrow000000000001"
    pi.client_secret = "pi_copyofrow000000000001_secret_x"
    assert pi.changed_fields() is None
    pi.save()
    copy = PaymentIntent.objects.get(id="pi_copyofrow000000000001")
    assert (copy.description, copy.amount) == ("x", 100)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_different_columns_keep_every_change(acct):
    """Updates of description, receipt_email and metadata keys race a confirm and a capture of
    the same intent: every value each one wrote is there at the end."""
    client = StripeTestClient(key=acct.sk)
    pi = client.post(
        URL,
        {
            "amount": 2000,
            "currency": "usd",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
        },
    ).json()
    url = f"{URL}/{pi['id']}"
    calls = [lambda: StripeTestClient(key=acct.sk).post(f"{url}/confirm")]
    calls += [
        (lambda n=n: StripeTestClient(key=acct.sk).post(url, {f"metadata[k{n}]": str(n)}))
        for n in range(8)
    ]
    calls.append(lambda: StripeTestClient(key=acct.sk).post(url, {"description": "desc"}))
    calls.append(lambda: StripeTestClient(key=acct.sk).post(url, {"receipt_email": "a@b.co"}))
    barrier = threading.Barrier(len(calls))
    statuses: list[int] = []

    def run(call):
        try:
            barrier.wait()
            for _ in range(500):  # an update meeting the confirm's processor call is refused
                response = call()
                code = response.json().get("error", {}).get("code")
                if code != "payment_intent_unexpected_state":
                    break
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # metadata, description and receipt_email may change until the intent is canceled (an
    # update is refused only while the confirm's processor call is under way: it retries)
    assert statuses.count(200) == len(calls), statuses
    captured = client.post(f"{url}/capture", {"metadata[last]": "yes"})
    assert captured.status_code == 200, captured.json()
    row = PaymentIntent.objects.get(id=pi["id"])
    assert row.status == "succeeded"
    assert row.metadata == {**{f"k{n}": str(n) for n in range(8)}, "last": "yes"}
    assert (row.description, row.receipt_email) == ("desc", "a@b.co")
    assert row.latest_charge.captured is True


def test_a_save_of_named_fields_leaves_the_other_changes_to_the_next_save(acct):
    client = StripeTestClient(key=acct.sk)
    pi_id = client.post(URL, {"amount": 100, "currency": "usd"}).json()["id"]
    pi = PaymentIntent.objects.get(id=pi_id)
    pi.description = "named"
    pi.receipt_email = "later@example.com"
    pi.save(update_fields=["description"])
    assert PaymentIntent.objects.get(id=pi_id).receipt_email is None
    pi.save()
    row = PaymentIntent.objects.get(id=pi_id)
    assert (row.description, row.receipt_email) == ("named", "later@example.com")

"""Payment methods through HTTP: create (raw cards and their errors), magic ids, retrieve,
update, attach/detach with their events, lists, scoping, and what is (not) stored."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.db import connection

from core.scope import Scope
from events.models import Event
from payments.models import PaymentMethod
from payments.processors.simulated import CARDS_BY_MAGIC_ID
from payments.services import payment_method_resolve
from tests.helpers import StripeTestClient

YEAR = datetime.now(UTC).year + 3


def card_params(number="4242424242424242", **card):
    card = {"number": number, "exp_month": 12, "exp_year": YEAR, "cvc": "123", **card}
    return {"type": "card", "card": card}


def create_pm(client, number="4242424242424242", **extra):
    response = client.post("/v1/payment_methods", {**card_params(number), **extra})
    assert response.status_code == 200, response
    return response.json()


def create_customer(client, **params):
    response = client.post("/v1/customers", params)
    assert response.status_code == 200, response
    return response.json()


# --- create --------------------------------------------------------------------------------


def test_create_card_payment_method_answers_stripe_shape(client):
    body = create_pm(client)
    assert body["id"].startswith("pm_")
    assert body["object"] == "payment_method"
    assert body["type"] == "card"
    assert body["livemode"] is False
    assert body["customer"] is None
    assert isinstance(body["created"], int)
    card = body["card"]
    assert (card["brand"], card["last4"], card["exp_month"], card["exp_year"]) == (
        "visa",
        "4242",
        12,
        YEAR,
    )
    assert card["funding"] == "credit"
    assert card["country"] == "US"
    assert len(card["fingerprint"]) == 64


def test_create_accepts_json_body(client):
    response = client.post("/v1/payment_methods", card_params("5555555555554444"), json=True)
    assert response.status_code == 200
    assert response.json()["card"]["brand"] == "mastercard"


def test_create_with_billing_details_and_metadata(client):
    body = create_pm(
        client,
        billing_details={
            "name": "Jenny Rosen",
            "address": {"country": "US", "postal_code": "94107"},
        },
        metadata={"order": "42"},
    )
    assert body["billing_details"]["name"] == "Jenny Rosen"
    assert body["billing_details"]["address"]["postal_code"] == "94107"
    assert body["billing_details"]["address"]["line1"] is None
    assert body["metadata"] == {"order": "42"}


@pytest.mark.parametrize(
    ("number", "cvc"),
    [
        ("424242424242424²", "123"),
        ("４２４２４２４２４２４２４２４２", "123"),
        ("4242424242424242", "1²3"),
    ],
    ids=["superscript_digit", "full_width_digits", "superscript_cvc"],
)
def test_digits_other_than_ascii_are_a_402_not_a_500(client, number, cvc):
    response = client.post("/v1/payment_methods", card_params(number, cvc=cvc))
    assert response.status_code == 402
    assert response.error["code"] in ("incorrect_number", "invalid_cvc")
    assert PaymentMethod.objects.count() == 0


def test_same_card_gives_same_fingerprint(client):
    assert create_pm(client)["card"]["fingerprint"] == create_pm(client)["card"]["fingerprint"]


def test_luhn_failure_is_402_incorrect_number(client):
    response = client.post("/v1/payment_methods", card_params("4242424242424241"))
    assert response.status_code == 402
    assert response.error["type"] == "card_error"
    assert response.error["code"] == "incorrect_number"
    assert response.error["param"] == "card[number]"
    assert response.error["message"] == "Your card number is incorrect."
    assert PaymentMethod.objects.count() == 0


def test_past_expiry_year_is_402_invalid_expiry_year(client):
    response = client.post("/v1/payment_methods", card_params(exp_year=datetime.now(UTC).year - 1))
    assert response.status_code == 402
    assert response.error["code"] == "invalid_expiry_year"
    assert response.error["param"] == "card[exp_year]"


def test_invalid_expiry_month_is_402_invalid_expiry_month(client):
    response = client.post("/v1/payment_methods", card_params(exp_month=13))
    assert response.status_code == 402
    assert response.error["code"] == "invalid_expiry_month"
    assert response.error["param"] == "card[exp_month]"


def test_live_key_refuses_test_card_with_test_mode_live_card(acct):
    live = StripeTestClient(key=acct.sk_live)
    response = live.post("/v1/payment_methods", card_params())
    assert response.status_code == 402
    assert response.error["code"] == "card_declined"
    assert response.error["decline_code"] == "test_mode_live_card"


def test_live_key_accepts_other_card_in_live_mode(acct):
    live = StripeTestClient(key=acct.sk_live)
    body = create_pm(live, number="4111111111111111")
    assert body["livemode"] is True


def test_missing_card_is_parameter_missing(client):
    response = client.post("/v1/payment_methods", {"type": "card"})
    assert response.status_code == 400
    assert response.error["code"] == "parameter_missing"
    assert response.error["param"] == "card"


def test_missing_exp_month_is_parameter_missing_with_bracket_param(client):
    response = client.post(
        "/v1/payment_methods",
        {"type": "card", "card": {"number": "4242424242424242", "exp_year": YEAR}},
    )
    assert response.status_code == 400
    assert response.error["param"] == "card[exp_month]"


def test_unknown_param_is_rejected(client):
    response = client.post("/v1/payment_methods", {**card_params(), "colour": "blue"})
    assert response.status_code == 400
    assert response.error["code"] == "parameter_unknown"
    assert response.error["param"] == "colour"


def test_unknown_card_param_is_rejected_with_bracket_path(client):
    response = client.post("/v1/payment_methods", card_params(pin="1234"))
    assert response.status_code == 400
    assert response.error["code"] == "parameter_unknown"
    assert response.error["param"] == "card[pin]"


def test_unsupported_type_is_rejected(client):
    response = client.post("/v1/payment_methods", {**card_params(), "type": "sepa_debit"})
    assert response.status_code == 400
    assert response.error["param"] == "type"


def test_publishable_key_can_create_a_payment_method(acct):
    browser = StripeTestClient(key=acct.pk)
    body = create_pm(browser)
    assert body["id"].startswith("pm_")


def test_publishable_key_cannot_list_payment_methods(acct):
    browser = StripeTestClient(key=acct.pk)
    response = browser.get("/v1/payment_methods")
    assert response.status_code == 403
    assert response.error["code"] == "secret_key_required"


def test_publishable_key_cannot_retrieve_a_payment_method(acct, client):
    pm = create_pm(client)
    response = StripeTestClient(key=acct.pk).get(f"/v1/payment_methods/{pm['id']}")
    assert response.status_code == 403


def test_publishable_key_cannot_list_customers(acct):
    response = StripeTestClient(key=acct.pk).get("/v1/customers")
    assert response.status_code == 403
    assert response.error["code"] == "secret_key_required"


# --- nothing sensitive is stored -----------------------------------------------------------


def _all_rows_text() -> str:
    """Every column of every row of every table, as text."""
    chunks = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            table = model._meta.db_table
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from models
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def test_card_number_is_stored_nowhere_in_the_database(client):
    create_pm(client, number="4000056655665556", billing_details={"name": "A"})
    text = _all_rows_text()
    assert "4000056655665556" not in text
    assert "400005665566" not in text  # not even a prefix beyond the last four


def test_cvc_is_stored_in_no_payment_method_field(client):
    response = client.post("/v1/payment_methods", card_params(cvc="9731"))
    pm = PaymentMethod.objects.get(id=response.json()["id"])
    for field in PaymentMethod._meta.fields:
        value = field.value_from_object(pm)
        # As a value of its own: "9731" may well be part of a timestamp or a fingerprint.
        assert not re.search(r"(?<![0-9A-Za-z])9731(?![0-9A-Za-z])", str(value)), field.name


def test_number_is_not_in_the_response(client):
    response = client.post("/v1/payment_methods", card_params("4000056655665556"))
    assert b"4000056655665556" not in response.content


# --- magic ids -----------------------------------------------------------------------------


@pytest.mark.parametrize("magic_id", sorted(CARDS_BY_MAGIC_ID))
def test_magic_id_resolves_to_a_fresh_payment_method(acct, magic_id):
    first = payment_method_resolve(
        scope=Scope(account_id=acct.id, livemode=False), payment_method_id=magic_id
    )
    second = payment_method_resolve(
        scope=Scope(account_id=acct.id, livemode=False), payment_method_id=magic_id
    )
    assert first.id != second.id
    assert first.id.startswith("pm_")
    assert first.magic_id == magic_id
    assert first.card_last4 == CARDS_BY_MAGIC_ID[magic_id].number[-4:]


def test_magic_visa_is_a_visa(acct):
    pm = payment_method_resolve(
        scope=Scope(account_id=acct.id, livemode=False), payment_method_id="pm_card_visa"
    )
    assert (pm.card_brand, pm.card_last4) == ("visa", "4242")


def test_unknown_magic_like_id_is_resource_missing(acct):
    from core.errors import ResourceMissing

    with pytest.raises(ResourceMissing) as exc:
        payment_method_resolve(
            scope=Scope(account_id=acct.id, livemode=False), payment_method_id="pm_card_nonsense"
        )
    assert exc.value.param == "payment_method"


def test_resolve_of_another_accounts_method_is_resource_missing(acct, other_acct):
    other = StripeTestClient(key=other_acct.sk)
    pm = create_pm(other)
    from core.errors import ResourceMissing

    with pytest.raises(ResourceMissing):
        payment_method_resolve(
            scope=Scope(account_id=acct.id, livemode=False), payment_method_id=pm["id"]
        )


def test_resolve_of_own_method_returns_it(client, acct):
    pm = create_pm(client)
    resolved = payment_method_resolve(
        scope=Scope(account_id=acct.id, livemode=False), payment_method_id=pm["id"], param="x"
    )
    assert resolved.id == pm["id"]


def test_resolve_of_a_live_method_in_test_mode_is_resource_missing(acct):
    from core.errors import ResourceMissing

    live = create_pm(StripeTestClient(key=acct.sk_live), number="4111111111111111")
    with pytest.raises(ResourceMissing):
        payment_method_resolve(
            scope=Scope(account_id=acct.id, livemode=False), payment_method_id=live["id"]
        )


def test_magic_id_in_live_mode_is_test_mode_live_card(acct):
    from payments.exceptions import TestCardInLiveMode

    with pytest.raises(TestCardInLiveMode) as exc:
        payment_method_resolve(
            scope=Scope(account_id=acct.id, livemode=True), payment_method_id="pm_card_visa"
        )
    assert exc.value.param == "payment_method"


# --- retrieve / update ---------------------------------------------------------------------


def test_retrieve_payment_method(client):
    pm = create_pm(client)
    response = client.get(f"/v1/payment_methods/{pm['id']}")
    assert response.status_code == 200
    assert response.json() == pm


def test_retrieve_another_accounts_method_is_404(client, other_acct):
    pm = create_pm(StripeTestClient(key=other_acct.sk))
    response = client.get(f"/v1/payment_methods/{pm['id']}")
    assert response.status_code == 404
    assert response.error["code"] == "resource_missing"
    assert response.error["param"] == "id"


def test_retrieve_a_live_method_with_a_test_key_is_404(client, acct):
    pm = create_pm(StripeTestClient(key=acct.sk_live), number="4111111111111111")
    assert client.get(f"/v1/payment_methods/{pm['id']}").status_code == 404


def test_retrieve_with_unknown_query_param_is_rejected(client):
    pm = create_pm(client)
    response = client.get(f"/v1/payment_methods/{pm['id']}", {"foo": "1"})
    assert response.status_code == 400
    assert response.error["param"] == "foo"


def test_update_merges_metadata_and_billing_details(client):
    pm = create_pm(
        client, metadata={"a": "1", "b": "2"}, billing_details={"name": "A", "email": "a@x.io"}
    )
    response = client.post(
        f"/v1/payment_methods/{pm['id']}",
        {"metadata": {"b": "", "c": "3"}, "billing_details": {"name": "B"}},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["metadata"] == {"a": "1", "c": "3"}
    assert body["billing_details"]["name"] == "B"
    assert body["billing_details"]["email"] == "a@x.io"


def test_update_writes_payment_method_updated_event_with_previous_attributes(client):
    pm = create_pm(client, metadata={"a": "1"})
    client.post(f"/v1/payment_methods/{pm['id']}", {"metadata": {"a": "2"}})
    event = Event.objects.get(type="payment_method.updated", object_id=pm["id"])
    assert event.data["previous_attributes"] == {"metadata": {"a": "1"}}
    assert event.data["object"]["metadata"] == {"a": "2"}


def test_update_of_card_number_is_unknown_param(client):
    pm = create_pm(client)
    response = client.post(f"/v1/payment_methods/{pm['id']}", {"card": {"number": "4111"}})
    assert response.status_code == 400
    assert response.error["code"] == "parameter_unknown"


# --- attach / detach -----------------------------------------------------------------------


def test_attach_sets_customer_and_writes_attached_event(client):
    pm = create_pm(client)
    customer = create_customer(client)
    response = client.post(f"/v1/payment_methods/{pm['id']}/attach", {"customer": customer["id"]})
    assert response.status_code == 200
    assert response.json()["customer"] == customer["id"]
    event = Event.objects.get(type="payment_method.attached", object_id=pm["id"])
    assert event.data["object"]["customer"] == customer["id"]


def test_attach_twice_to_the_same_customer_writes_one_event(client):
    pm = create_pm(client)
    customer = create_customer(client)
    for _ in range(2):
        client.post(f"/v1/payment_methods/{pm['id']}/attach", {"customer": customer["id"]})
    assert Event.objects.filter(type="payment_method.attached").count() == 1


def test_attach_to_a_second_customer_is_rejected(client):
    pm = create_pm(client)
    first, second = create_customer(client), create_customer(client)
    client.post(f"/v1/payment_methods/{pm['id']}/attach", {"customer": first["id"]})
    response = client.post(f"/v1/payment_methods/{pm['id']}/attach", {"customer": second["id"]})
    assert response.status_code == 400
    assert response.error["code"] == "payment_method_unexpected_state"
    assert PaymentMethod.objects.get(id=pm["id"]).customer_id == first["id"]


def test_attach_without_customer_is_parameter_missing(client):
    pm = create_pm(client)
    response = client.post(f"/v1/payment_methods/{pm['id']}/attach", {})
    assert response.status_code == 400
    assert response.error["code"] == "parameter_missing"
    assert response.error["param"] == "customer"


def test_attach_with_empty_customer_is_rejected(client):
    pm = create_pm(client)
    response = client.post(f"/v1/payment_methods/{pm['id']}/attach", {"customer": ""})
    assert response.status_code == 400
    assert response.error["param"] == "customer"


def test_attach_to_another_accounts_customer_is_400(client, other_acct):
    pm = create_pm(client)
    foreign = create_customer(StripeTestClient(key=other_acct.sk))
    response = client.post(f"/v1/payment_methods/{pm['id']}/attach", {"customer": foreign["id"]})
    assert response.status_code == 400
    assert response.error["param"] == "customer"
    assert PaymentMethod.objects.get(id=pm["id"]).customer_id is None


def test_attach_to_a_deleted_customer_is_400(client):
    pm = create_pm(client)
    customer = create_customer(client)
    client.delete(f"/v1/customers/{customer['id']}")
    response = client.post(f"/v1/payment_methods/{pm['id']}/attach", {"customer": customer["id"]})
    assert response.status_code == 400


def test_detach_clears_customer_and_writes_detached_event(client):
    pm = create_pm(client)
    customer = create_customer(client)
    client.post(f"/v1/payment_methods/{pm['id']}/attach", {"customer": customer["id"]})
    response = client.post(f"/v1/payment_methods/{pm['id']}/detach")
    assert response.status_code == 200
    assert response.json()["customer"] is None
    event = Event.objects.get(type="payment_method.detached", object_id=pm["id"])
    assert event.data["previous_attributes"] == {"customer": customer["id"]}


def test_detach_of_unattached_method_is_rejected(client):
    pm = create_pm(client)
    response = client.post(f"/v1/payment_methods/{pm['id']}/detach")
    assert response.status_code == 400
    assert response.error["code"] == "payment_method_unexpected_state"
    assert not Event.objects.filter(type="payment_method.detached").exists()


def test_detach_of_default_method_clears_the_customers_default(client):
    pm = create_pm(client)
    customer = create_customer(client)
    client.post(f"/v1/payment_methods/{pm['id']}/attach", {"customer": customer["id"]})
    client.post(
        f"/v1/customers/{customer['id']}",
        {"invoice_settings": {"default_payment_method": pm["id"]}},
    )
    client.post(f"/v1/payment_methods/{pm['id']}/detach")
    body = client.get(f"/v1/customers/{customer['id']}").json()
    assert body["invoice_settings"]["default_payment_method"] is None


# --- lists ---------------------------------------------------------------------------------


def test_list_by_customer_returns_only_that_customers_methods_newest_first(client):
    customer = create_customer(client)
    attached = [create_pm(client) for _ in range(3)]
    create_pm(client)  # not attached
    for pm in attached:
        client.post(f"/v1/payment_methods/{pm['id']}/attach", {"customer": customer["id"]})
    response = client.get("/v1/payment_methods", {"customer": customer["id"], "type": "card"})
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    assert body["url"] == "/v1/payment_methods"
    assert [pm["id"] for pm in body["data"]] == [pm["id"] for pm in reversed(attached)]


def test_list_paginates_with_limit_and_starting_after(client):
    ids = [create_pm(client)["id"] for _ in range(3)]
    first = client.get("/v1/payment_methods", {"limit": 2}).json()
    assert first["has_more"] is True
    assert [pm["id"] for pm in first["data"]] == ids[::-1][:2]
    second = client.get(
        "/v1/payment_methods", {"limit": 2, "starting_after": first["data"][-1]["id"]}
    ).json()
    assert [pm["id"] for pm in second["data"]] == [ids[0]]
    assert second["has_more"] is False


def test_list_with_foreign_customer_is_400(client, other_acct):
    foreign = create_customer(StripeTestClient(key=other_acct.sk))
    response = client.get("/v1/payment_methods", {"customer": foreign["id"]})
    assert response.status_code == 400
    assert response.error["param"] == "customer"


def test_list_never_shows_another_accounts_methods(client, other_acct):
    create_pm(StripeTestClient(key=other_acct.sk))
    mine = create_pm(client)
    body = client.get("/v1/payment_methods").json()
    assert [pm["id"] for pm in body["data"]] == [mine["id"]]


def test_list_with_unknown_param_is_rejected(client):
    response = client.get("/v1/payment_methods", {"colour": "red"})
    assert response.status_code == 400
    assert response.error["param"] == "colour"


def test_customer_payment_methods_endpoint_lists_attached_methods(client):
    customer = create_customer(client)
    pm = create_pm(client)
    create_pm(client)
    client.post(f"/v1/payment_methods/{pm['id']}/attach", {"customer": customer["id"]})
    response = client.get(f"/v1/customers/{customer['id']}/payment_methods")
    assert response.status_code == 200
    body = response.json()
    assert body["url"] == f"/v1/customers/{customer['id']}/payment_methods"
    assert [m["id"] for m in body["data"]] == [pm["id"]]


def test_customer_payment_methods_of_foreign_customer_is_404(client, other_acct):
    foreign = create_customer(StripeTestClient(key=other_acct.sk))
    response = client.get(f"/v1/customers/{foreign['id']}/payment_methods")
    assert response.status_code == 404


def test_attaching_a_magic_id_in_test_mode_attaches_a_new_copy(client):
    customer = client.post("/v1/customers", {}).json()
    response = client.post("/v1/payment_methods/pm_card_visa/attach", {"customer": customer["id"]})
    assert response.status_code == 200, response
    body = response.json()
    assert body["id"] != "pm_card_visa" and body["customer"] == customer["id"]
    assert body["card"]["last4"] == "4242"


def test_a_magic_id_in_the_url_is_no_object_for_a_live_key(acct):
    live = StripeTestClient(key=acct.sk_live)
    customer = live.post("/v1/customers", {}).json()
    response = live.post("/v1/payment_methods/pm_card_visa/attach", {"customer": customer["id"]})
    assert response.status_code == 404
    assert response.error["code"] == "resource_missing" and response.error["param"] == "id"
    assert not PaymentMethod.objects.filter(livemode=True).exists()

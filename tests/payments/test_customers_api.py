"""Customers through HTTP: create, retrieve, update (events with previous_attributes), delete,
list (email, created, pagination), scoping and validation."""

from __future__ import annotations

from datetime import UTC, datetime

from events.models import Event
from payments.models import Customer, PaymentMethod
from tests.helpers import StripeTestClient

YEAR = datetime.now(UTC).year + 3


def create_customer(client, **params):
    response = client.post("/v1/customers", params)
    assert response.status_code == 200, response
    return response.json()


def test_create_customer_answers_stripe_shape(client):
    body = create_customer(
        client,
        email="jenny@example.com",
        name="Jenny Rosen",
        phone="+15555550100",
        description="VIP",
        metadata={"crm": "7"},
        address={"line1": "1 Main St", "country": "US"},
        shipping={"name": "Jenny", "address": {"line1": "2 Side St"}},
    )
    assert body["id"].startswith("cus_")
    assert body["object"] == "customer"
    assert body["livemode"] is False
    assert isinstance(body["created"], int)
    assert (body["email"], body["name"], body["phone"], body["description"]) == (
        "jenny@example.com",
        "Jenny Rosen",
        "+15555550100",
        "VIP",
    )
    assert body["metadata"] == {"crm": "7"}
    assert body["address"]["line1"] == "1 Main St"
    assert body["address"]["city"] is None
    assert body["shipping"]["name"] == "Jenny"
    assert body["shipping"]["address"]["line1"] == "2 Side St"
    assert body["invoice_settings"]["default_payment_method"] is None


def test_an_empty_shipping_address_is_a_missing_one_in_json_as_in_a_form(client):
    """A form body cannot write an empty hash (`shipping[address]` is then missing): a JSON
    body's `{}` is refused the same way, as the document says (one of its parts is required)."""
    for as_json in (True, False):
        response = client.post(
            "/v1/customers", {"shipping": {"name": "Jo", "address": {}}}, json=as_json
        )
        assert response.status_code == 400, response
        assert (response.error["code"], response.error["param"]) == (
            "parameter_missing",
            "shipping[address]",
        )
        assert response.error["message"] == "Missing required param: shipping[address]."
    response = client.post(
        "/v1/customers", {"shipping": {"name": "Jo", "address": {"city": None}}}, json=True
    )
    assert response.status_code == 400 and response.error["param"] == "shipping[address]"
    create_customer(client, shipping={"name": "Jo", "address": {"city": "Dublin"}})


def test_create_customer_writes_customer_created_event(client):
    body = create_customer(client, email="a@example.com")
    event = Event.objects.get(type="customer.created", object_id=body["id"])
    assert event.data["object"]["email"] == "a@example.com"
    assert event.livemode is False


def test_create_customer_with_magic_payment_method_attaches_a_fresh_one(client):
    body = create_customer(client, payment_method="pm_card_visa")
    methods = PaymentMethod.objects.filter(customer_id=body["id"])
    assert methods.count() == 1
    assert methods.get().magic_id == "pm_card_visa"
    assert Event.objects.filter(type="payment_method.attached").count() == 1


def test_create_customer_with_default_payment_method_sets_the_attached_one(client):
    body = create_customer(
        client,
        payment_method="pm_card_visa",
        invoice_settings={"default_payment_method": "pm_card_visa"},
    )
    attached = PaymentMethod.objects.get(customer_id=body["id"])
    assert body["invoice_settings"]["default_payment_method"] == attached.id


def test_create_customer_with_unattached_default_is_rejected_and_creates_nothing(client):
    response = client.post(
        "/v1/customers", {"invoice_settings": {"default_payment_method": "pm_card_visa"}}
    )
    assert response.status_code == 400
    assert response.error["param"] == "invoice_settings[default_payment_method]"
    assert Customer.objects.count() == 0
    assert PaymentMethod.objects.count() == 0


def test_create_customer_with_foreign_payment_method_is_400_and_creates_nothing(client, other_acct):
    other = StripeTestClient(key=other_acct.sk)
    pm = other.post(
        "/v1/payment_methods",
        {
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 1, "exp_year": YEAR},
        },
    ).json()
    response = client.post("/v1/customers", {"payment_method": pm["id"]})
    assert response.status_code == 400
    assert response.error["param"] == "payment_method"
    assert Customer.objects.filter(account__name="Acme").count() == 0


def test_create_with_unknown_param_is_rejected(client):
    response = client.post("/v1/customers", {"email": "a@b.c", "balance": 10})
    assert response.status_code == 400
    assert response.error["code"] == "parameter_unknown"
    assert response.error["param"] == "balance"
    assert Customer.objects.count() == 0


def test_create_with_unknown_address_key_names_the_bracket_param(client):
    response = client.post("/v1/customers", {"address": {"planet": "Mars"}})
    assert response.status_code == 400
    assert response.error["param"] == "address[planet]"


def test_create_with_bad_metadata_is_rejected(client):
    response = client.post("/v1/customers", {"metadata": {"k" * 41: "v"}})
    assert response.status_code == 400
    assert response.error["code"].startswith("parameter_invalid")


def test_retrieve_customer(client):
    body = create_customer(client, email="x@example.com")
    response = client.get(f"/v1/customers/{body['id']}")
    assert response.status_code == 200
    assert response.json() == body


def test_retrieve_another_accounts_customer_is_404(client, other_acct):
    foreign = create_customer(StripeTestClient(key=other_acct.sk))
    response = client.get(f"/v1/customers/{foreign['id']}")
    assert response.status_code == 404
    assert response.error["code"] == "resource_missing"
    assert response.error["param"] == "id"


def test_retrieve_a_live_customer_with_a_test_key_is_404(client, acct):
    live = create_customer(StripeTestClient(key=acct.sk_live))
    assert live["livemode"] is True
    assert client.get(f"/v1/customers/{live['id']}").status_code == 404


def test_update_changes_fields_and_merges_metadata(client):
    body = create_customer(client, email="old@example.com", metadata={"a": "1", "b": "2"})
    response = client.post(
        f"/v1/customers/{body['id']}",
        {"email": "new@example.com", "metadata": {"a": "", "c": "3"}},
    )
    assert response.status_code == 200
    updated = response.json()
    assert updated["email"] == "new@example.com"
    assert updated["metadata"] == {"b": "2", "c": "3"}


def test_update_with_empty_metadata_clears_it(client):
    body = create_customer(client, metadata={"a": "1"})
    response = client.post(f"/v1/customers/{body['id']}", {"metadata": ""})
    assert response.json()["metadata"] == {}


def test_update_writes_customer_updated_event_with_previous_attributes(client):
    body = create_customer(client, email="old@example.com", name="Same")
    client.post(f"/v1/customers/{body['id']}", {"email": "new@example.com", "name": "Same"})
    event = Event.objects.get(type="customer.updated", object_id=body["id"])
    assert event.data["previous_attributes"] == {"email": "old@example.com"}
    assert event.data["object"]["email"] == "new@example.com"


def test_update_that_changes_nothing_writes_no_event(client):
    body = create_customer(client, email="same@example.com")
    client.post(f"/v1/customers/{body['id']}", {"email": "same@example.com"})
    assert not Event.objects.filter(type="customer.updated").exists()


def test_update_with_empty_string_unsets_a_field(client):
    body = create_customer(client, name="Jenny")
    response = client.post(f"/v1/customers/{body['id']}", {"name": ""})
    assert response.json()["name"] is None


def test_update_of_read_only_field_is_unknown_param(client):
    body = create_customer(client)
    response = client.post(f"/v1/customers/{body['id']}", {"livemode": "true"})
    assert response.status_code == 400
    assert response.error["code"] == "parameter_unknown"
    assert response.error["param"] == "livemode"


def test_default_payment_method_must_be_attached(client):
    body = create_customer(client)
    pm = client.post(
        "/v1/payment_methods",
        {
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 1, "exp_year": YEAR},
        },
    ).json()
    response = client.post(
        f"/v1/customers/{body['id']}", {"invoice_settings": {"default_payment_method": pm["id"]}}
    )
    assert response.status_code == 400
    assert response.error["param"] == "invoice_settings[default_payment_method]"


def test_update_another_accounts_customer_is_404(client, other_acct):
    foreign = create_customer(StripeTestClient(key=other_acct.sk), name="Theirs")
    response = client.post(f"/v1/customers/{foreign['id']}", {"name": "Mine"})
    assert response.status_code == 404
    assert Customer.objects.get(id=foreign["id"]).name == "Theirs"


def test_delete_answers_deleted_stub_and_writes_event(client):
    body = create_customer(client)
    response = client.delete(f"/v1/customers/{body['id']}")
    assert response.status_code == 200
    assert response.json() == {"id": body["id"], "object": "customer", "deleted": True}
    assert Event.objects.filter(type="customer.deleted", object_id=body["id"]).count() == 1


def test_deleted_customer_is_404_afterwards(client):
    body = create_customer(client)
    client.delete(f"/v1/customers/{body['id']}")
    assert client.get(f"/v1/customers/{body['id']}").status_code == 404
    assert client.delete(f"/v1/customers/{body['id']}").status_code == 404
    assert client.post(f"/v1/customers/{body['id']}", {"name": "x"}).status_code == 404


def test_delete_detaches_the_customers_payment_methods(client):
    body = create_customer(client, payment_method="pm_card_visa")
    client.delete(f"/v1/customers/{body['id']}")
    assert not PaymentMethod.objects.filter(customer_id=body["id"]).exists()


def test_delete_another_accounts_customer_is_404(client, other_acct):
    foreign = create_customer(StripeTestClient(key=other_acct.sk))
    assert client.delete(f"/v1/customers/{foreign['id']}").status_code == 404
    assert Customer.objects.get(id=foreign["id"]).deleted is False


def test_list_customers_newest_first_without_deleted(client):
    first = create_customer(client)
    second = create_customer(client)
    gone = create_customer(client)
    client.delete(f"/v1/customers/{gone['id']}")
    body = client.get("/v1/customers").json()
    assert body["object"] == "list"
    assert body["url"] == "/v1/customers"
    assert [c["id"] for c in body["data"]] == [second["id"], first["id"]]


def test_list_customers_filters_by_email(client):
    create_customer(client, email="a@example.com")
    wanted = create_customer(client, email="b@example.com")
    body = client.get("/v1/customers", {"email": "b@example.com"}).json()
    assert [c["id"] for c in body["data"]] == [wanted["id"]]


def test_list_customers_filters_by_created(client):
    customer = create_customer(client)
    created = customer["created"]
    assert len(client.get("/v1/customers", {"created": {"gt": created}}).json()["data"]) == 0
    assert len(client.get("/v1/customers", {"created": {"gte": created}}).json()["data"]) == 1


def test_list_customers_pagination(client):
    ids = [create_customer(client)["id"] for _ in range(3)]
    page = client.get("/v1/customers", {"limit": 1, "ending_before": ids[0]}).json()
    assert [c["id"] for c in page["data"]] == [ids[1]]
    assert page["has_more"] is True


def test_list_customers_never_shows_another_account(client, other_acct):
    create_customer(StripeTestClient(key=other_acct.sk))
    assert client.get("/v1/customers").json()["data"] == []


def test_list_customers_limit_out_of_range_is_rejected(client):
    response = client.get("/v1/customers", {"limit": 101})
    assert response.status_code == 400
    assert response.error["param"] == "limit"

"""What an empty value means in a request (api/openapi_description.md): JSON's `null` for a
metadata hash is the form's `metadata=` (every key removed), and a hash with no keys, `{}` in
JSON, is written `name=` in a form body, at any depth. And what a form's text is not: in JSON a
number is no string."""

import pytest

from routing.api.serializers import MetadataConditionField

pytestmark = pytest.mark.django_db


def test_json_null_metadata_removes_every_key(client):
    made = client.post("/v1/customers", {"metadata": {"order": "42"}}, json=True)
    assert made.json()["metadata"] == {"order": "42"}
    response = client.post(f"/v1/customers/{made.json()['id']}", {"metadata": None}, json=True)
    assert response.status_code == 200, response
    assert response.json()["metadata"] == {}


def test_json_null_metadata_on_a_create_is_no_metadata(client):
    response = client.post("/v1/customers", {"name": "Ann", "metadata": None}, json=True)
    assert response.status_code == 200, response
    assert response.json()["metadata"] == {}


def test_a_form_writes_a_hash_with_no_keys_as_an_empty_value(client):
    """`name=` in a form is `{}` in JSON: taken alike where a hash may be empty
    (`invoice_settings`), refused alike where one of its parts is required (a shipping
    address)."""
    form = client.raw("POST", "/v1/customers", b"name=Ann&invoice_settings=")
    as_json = client.post("/v1/customers", {"name": "Ann", "invoice_settings": {}}, json=True)
    assert form.status_code == as_json.status_code == 200, (form, as_json)
    assert form.json()["invoice_settings"] == as_json.json()["invoice_settings"]

    form = client.raw("POST", "/v1/customers", b"shipping[name]=Ann&shipping[address]=")
    as_json = client.post("/v1/customers", {"shipping": {"name": "Ann", "address": {}}}, json=True)
    assert form.status_code == as_json.status_code == 400, (form, as_json)
    assert form.json()["error"]["param"] == as_json.json()["error"]["param"] == "shipping[address]"


def test_a_routing_rule_with_no_metadata_conditions_may_be_written_empty():
    assert MetadataConditionField().to_internal_value("") == {}


def test_a_routing_rule_with_null_metadata_conditions_has_none():
    field = MetadataConditionField()
    assert field.validate_empty_values(None) == (True, {})


def test_a_json_number_is_no_string(client):
    """The schema says string; only a form, which carries text, makes `5` one."""
    for body in ({"description": 5}, {"metadata": {"order": 42}}, {"name": 1.5}):
        response = client.post("/v1/customers", body, json=True)
        assert response.status_code == 400, (body, response)
    form = client.post("/v1/customers", {"description": 5, "metadata": {"order": 42}})
    assert form.status_code == 200, form
    assert form.json()["metadata"] == {"order": "42"}


@pytest.mark.parametrize("empty", ["", None])
def test_a_required_string_given_empty_is_missing_and_changes_nothing(client, empty):
    """A required string (an attach's `payment_method`) given `""` or null is a missing
    parameter, as the document says (not `nullable`): nothing is acted on."""
    intent = client.post("/v1/payment_intents", {"amount": 2000, "currency": "usd"}).json()
    response = client.post(
        f"/v1/payment_intents/{intent['id']}/attach", {"payment_method": empty}, json=True
    )
    assert response.status_code == 400, response.content
    assert (response.error["code"], response.error["param"]) == (
        "parameter_missing",
        "payment_method",
    )
    after = client.get(f"/v1/payment_intents/{intent['id']}").json()
    assert after["status"] == intent["status"] and after["payment_method"] is None

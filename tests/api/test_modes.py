"""The key's mode decides livemode: test and live objects never see each other."""

import pytest

from tests.helpers import StripeTestClient

pytestmark = pytest.mark.django_db


def test_live_key_cannot_see_a_test_object(acct):
    created = StripeTestClient(acct.sk).post("/v1/customers", {"email": "a@example.com"})
    assert created.status_code == 200, created
    assert created.json()["livemode"] is False
    response = StripeTestClient(acct.sk_live).get(f"/v1/customers/{created.json()['id']}")
    assert response.status_code == 404
    assert response.error["code"] == "resource_missing"
    assert response.error["param"] == "id"


def test_objects_created_with_a_live_key_are_live_and_invisible_to_test_keys(acct):
    created = StripeTestClient(acct.sk_live).post("/v1/customers", {"email": "b@example.com"})
    assert created.json()["livemode"] is True
    listed = StripeTestClient(acct.sk).get("/v1/customers")
    assert created.json()["id"] not in [c["id"] for c in listed.json()["data"]]

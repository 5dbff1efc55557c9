"""A product's name is required and never empty: `name=""` (or a JSON null) is a 400 naming
`name` and makes nothing, on create, on an inline `product_data`, and on update (found by
schemathesis as a 500: the empty name reached the database's NOT NULL)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from checkout_pages.models import Product
from tests.helpers import StripeTestClient


@pytest.mark.parametrize("name", ["", None])
def test_a_product_without_a_name_is_a_400(acct, name):
    answer = Client().post(
        "/v1/products",
        json.dumps({"name": name}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {acct.sk}",
    )
    assert answer.status_code == 400, answer.content
    assert answer.json()["error"]["param"] == "name"
    assert not Product.objects.filter(account_id=acct.id).exists()


def test_renaming_a_product_to_nothing_is_a_400(acct):
    client = StripeTestClient(key=acct.sk)
    product = client.post("/v1/products", {"name": "Tee"}).json()
    answer = client.post(f"/v1/products/{product['id']}", {"name": ""})
    assert answer.status_code == 400, answer
    assert Product.objects.get(id=product["id"]).name == "Tee"

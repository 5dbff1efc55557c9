"""The object named in the URL is found in the caller's scope before anything else about the
request is judged: another account's or the other mode's id answers 404 resource_missing on
every id route, whatever body, query or payment method comes with it. Routes are discovered from
the URLconf, so a route added later is covered without editing this file."""

from __future__ import annotations

import pytest

from tests.helpers import StripeTestClient
from tests.security.world import (
    module_worlds,
    snapshot,
    v1_routes,
)

# Two accounts' worlds, built once for the module (`module_worlds`).
worlds, acct, other_acct, world = module_worlds()

BAD_BODY = {
    "amount": "not-a-number",
    "payment_method": "pm_card_visa",
    "no_such_param": "x",
    "metadata": {"k" * 60: "v"},
}
BAD_QUERY = "?limit=abc&no_such_param=1&created=99999999999999"


def test_foreign_or_other_mode_id_with_a_bad_body_is_404_on_every_id_route(acct, other_acct, world):
    routes = [r for r in v1_routes() if r.has_id]
    assert routes
    ids = world.ids(per_kind=2)
    client = StripeTestClient()
    before = snapshot()
    wrong = []
    for route in routes:
        for method in route.methods:
            for object_id in ids:
                for key in (other_acct.sk, acct.sk_live):
                    if method == "POST":
                        response = client.post(route.url(object_id), BAD_BODY, key=key)
                    else:
                        response = client.raw(method, route.url(object_id) + BAD_QUERY, key=key)
                    if (
                        response.status_code != 404
                        or response.error.get("code") != "resource_missing"
                    ):
                        wrong.append(f"{method} {route.template} {object_id} -> {response!r}")
    assert wrong == []
    assert snapshot() == before


@pytest.mark.parametrize("action", ["confirm", "attach"])
def test_a_live_key_on_a_test_intent_with_a_test_card_is_404_not_a_decline(client, acct, action):
    pi = client.post("/v1/payment_intents", {"amount": 2000, "currency": "usd"}).json()
    live = StripeTestClient(key=acct.sk_live)
    response = live.post(
        f"/v1/payment_intents/{pi['id']}/{action}", {"payment_method": "pm_card_visa"}
    )
    assert response.status_code == 404, response
    assert response.error["code"] == "resource_missing"
    assert response.error["param"] == "id"
    assert client.get(f"/v1/payment_intents/{pi['id']}").json()["status"] == (
        "requires_payment_method"
    )


def test_an_id_of_another_kind_is_404_without_judging_the_body(client, acct):
    customer = client.post("/v1/customers", {"email": "a@example.com"}).json()
    response = client.post(f"/v1/payment_intents/{customer['id']}/confirm", BAD_BODY)
    assert response.status_code == 404, response
    assert response.error["code"] == "resource_missing"

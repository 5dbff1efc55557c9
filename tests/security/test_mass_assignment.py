"""Read-only fields sent as params are unknown params on every create, update and action route
(discovered from the URLconf), before anything else is looked at."""

from __future__ import annotations

import pytest

from tests.helpers import StripeTestClient
from tests.security.world import build_world, snapshot, v1_routes

READ_ONLY = [
    "status",
    "amount_received",
    "amount_capturable",
    "livemode",
    "client_secret",
    "latest_charge",
    "id",
    "object",
    "created",
]
# Routes where a field of the list is a genuine input (Stripe accepts it there).
GENUINE_INPUTS = {
    # the browser sends the intent's client secret to prove it may act on it
    "client_secret": ("/confirm", "/attach"),
    # a processor connection is enabled and disabled by its `status`
    "status": ("processors/<str:id>",),
}


def _accepts(template: str, field: str) -> bool:
    return any(template.endswith(suffix) for suffix in GENUINE_INPUTS.get(field, ()))


@pytest.mark.parametrize("field", READ_ONLY)
def test_read_only_field_is_an_unknown_param_on_every_post_route(acct, field):
    world = build_world(acct)
    client = StripeTestClient(key=acct.sk)
    post_routes = [
        r for r in v1_routes() if "POST" in r.methods and not _accepts(r.template, field)
    ]
    assert post_routes
    before = snapshot()
    wrong = []
    for route in post_routes:
        targets = world.ids() if route.has_id else [""]
        responses = [client.post(route.url(i), {field: "x"}) for i in targets]
        reached = [r for r in responses if r.status_code != 404]
        if not reached:
            wrong.append(f"{route.template}: no object reached")
            continue
        for response in reached:
            if (response.status_code, response.error.get("code"), response.error.get("param")) != (
                400,
                "parameter_unknown",
                field,
            ):
                wrong.append(f"{route.template}: {response!r}")
                break
    assert wrong == []
    assert snapshot() == before

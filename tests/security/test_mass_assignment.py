"""Read-only fields sent as params are unknown params on every create, update and action route
(discovered from the URLconf), before anything else is looked at."""

from __future__ import annotations

import pytest

from tests.helpers import StripeTestClient
from tests.security.world import build_world, snapshot, v1_routes

pytestmark = pytest.mark.long(25)

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


def test_read_only_fields_are_unknown_params_on_every_post_route(acct):
    """One world for every field (building it is most of the cost): the objects a route reaches
    are found with the first field (an id of another kind is 404 whatever the body), and every
    field is then sent to each of them."""
    world = build_world(acct)
    client = StripeTestClient(key=acct.sk)
    post_routes = [r for r in v1_routes() if "POST" in r.methods]
    assert post_routes
    before = snapshot()
    reached_ids: dict[str, list[str]] = {}
    wrong = []
    for field in READ_ONLY:
        for route in post_routes:
            if _accepts(route.template, field):
                continue
            if route.template not in reached_ids:
                targets = world.ids() if route.has_id else [""]
                responses = {i: client.post(route.url(i), {field: "x"}) for i in targets}
                reached_ids[route.template] = [
                    i for i, r in responses.items() if r.status_code != 404
                ]
                reached = [responses[i] for i in reached_ids[route.template]]
            else:
                reached = [
                    client.post(route.url(i), {field: "x"}) for i in reached_ids[route.template]
                ]
            if not reached:
                wrong.append(f"{field} {route.template}: no object reached")
                continue
            for response in reached:
                error = (
                    response.status_code,
                    response.error.get("code"),
                    response.error.get("param"),
                )
                if error != (400, "parameter_unknown", field):
                    wrong.append(f"{field} {route.template}: {response!r}")
                    break
    assert wrong == []
    assert snapshot() == before

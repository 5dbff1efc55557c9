"""Tenant isolation, discovered from the URLconf: every /v1 route with an id, every verb its view
implements, every kind of object of the first account, every way in that must be refused.

Attackers: another account's secret key; the first account's live secret key (its objects are in
test mode); the first account's publishable key without a client secret; the first account's
publishable key with the client secret of ANOTHER intent; another account's publishable key with
the target's own client secret. All are refused — 401, 403, 404 resource_missing, or a 400
parameter error identical to the one the same request gets on an id nobody owns (validation
that runs before the lookup reveals nothing) — and no row of any account changes.
A route added later is covered without editing this file; a route no object can reach fails.
"""

from __future__ import annotations

from urllib.parse import urlencode

from tests.helpers import StripeTestClient
from tests.security.world import (
    World,
    module_worlds,
    non_id_kwarg_routes,
    snapshot,
    stripe_views_outside_v1,
    v1_routes,
)

# Two accounts' worlds, built once for the module (`module_worlds`).
worlds, acct, other_acct, world = module_worlds()

PER_KIND = 3  # ids tried per kind (all payment intents: their states differ)
PI_LABEL = "intents.PaymentIntent"


def _attackers(acct, other_acct, world: World, target_id: str):
    secrets = world.client_secrets
    other_secret = next((s for pid, s in secrets.items() if pid != target_id), None)
    own_secret = secrets.get(target_id) or other_secret
    yield "other account's secret key", other_acct.sk, None
    yield "own live secret key", acct.sk_live, None
    yield "publishable key, no client secret", acct.pk, None
    yield "publishable key, another intent's secret", acct.pk, other_secret
    yield "other account's publishable key, the target's secret", other_acct.pk, own_secret


def _send(client, method: str, url: str, key: str, secret: str | None):
    params = {"client_secret": secret} if secret else {}
    if method == "POST":
        return client.post(url, params, key=key)
    query = f"?{urlencode(params)}" if params else ""
    return client.raw(method, url + query, b"", key=key)


def _shape(response) -> tuple:
    error = response.json().get("error") or {}
    return response.status_code, error.get("type"), error.get("code"), error.get("param")


def _refused(response, decoy) -> bool:
    """401/403, a 404 resource_missing, or a 400 parameter error that the same request on an id
    nobody owns gets too (validation before the lookup: it says nothing about the object)."""
    if response.status_code in (401, 403):
        return True
    if response.status_code == 404:
        return response.error.get("code") == "resource_missing"
    if response.status_code == 400:
        return _shape(response) == _shape(decoy())
    return False


def _kinds_each_route_reaches(acct, id_routes, world: World) -> dict[str, list[str]]:
    """The ids of the kinds each route serves, found by the owner's GET on the object's own
    route (`…/<str:id>`, which the route's actions share): an id of another kind is a 404 on
    every key before anything is looked up, so trying it as every attacker proves nothing and
    was most of this test's requests. A route whose object has no GET gets every id."""
    owner = StripeTestClient(key=acct.sk)
    ids = world.ids(per_kind=PER_KIND, all_of=(PI_LABEL,))
    gettable = {r.template for r in id_routes if "GET" in r.methods}
    out: dict[str, list[str]] = {}
    reached: dict[str, list[str]] = {}
    for route in id_routes:
        parent = route.template[: route.template.index("<str:id>") + len("<str:id>")]
        if parent not in gettable:
            continue
        if parent not in reached:
            parent_route = next(r for r in id_routes if r.template == parent)
            reached[parent] = [
                i for i in ids if owner.raw("GET", parent_route.url(i), b"").status_code != 404
            ]
        if reached[parent]:
            out[route.template] = reached[parent]
    return out


def test_every_v1_route_with_an_object_uses_the_id_kwarg(db):
    assert non_id_kwarg_routes() == []
    assert stripe_views_outside_v1() == []


def test_no_key_can_reach_another_tenants_object_on_any_route(acct, other_acct, world):
    id_routes = [r for r in v1_routes() if r.has_id]
    assert id_routes, "no /v1 route with <str:id>: the isolation test has nothing to check"
    ids = world.ids(per_kind=PER_KIND, all_of=(PI_LABEL,))
    client = StripeTestClient()
    before = snapshot()
    leaks = []
    decoys: dict = {}

    def decoy(method, route, name, key, secret, object_id):
        # An id nobody owns, of the same kind as the one tried: ids of the wrong kind for a
        # route are refused before anything else, so only a same-kind decoy is a fair oracle.
        prefix = object_id.rsplit("_", 1)[0]
        slot = (method, route.template, name, prefix)
        if slot not in decoys:
            decoys[slot] = _send(
                client, method, route.url(f"{prefix}_nobodyOwnsThis0000"), key, secret
            )
        return decoys[slot]

    kinds = _kinds_each_route_reaches(acct, id_routes, world)
    for route in id_routes:
        for method in route.methods:
            for object_id in kinds.get(route.template, ids):
                for name, key, secret in _attackers(acct, other_acct, world, object_id):
                    response = _send(client, method, route.url(object_id), key, secret)
                    if not _refused(
                        response,
                        lambda m=method, r=route, n=name, k=key, s=secret, o=object_id: decoy(
                            m, r, n, k, s, o
                        ),
                    ):
                        leaks.append(
                            f"{method} {route.template} {object_id} [{name}] -> {response!r}"
                        )
    assert leaks == []
    assert snapshot() == before


def test_every_id_route_is_reachable_by_the_owner(acct, world):
    """The control that makes the test above meaningful: each route and verb finds some object
    of the first account with its own key (a route nothing can reach was never exercised)."""
    client = StripeTestClient(key=acct.sk)
    unreachable = []
    pairs = [(r, m) for r in v1_routes() if r.has_id for m in r.methods]
    pairs.sort(key=lambda pair: pair[1] == "DELETE")  # deletes last: they remove the object
    for route, method in pairs:
        if not any(
            client.raw(method, route.url(object_id), b"").status_code != 404
            for object_id in world.ids()
        ):
            unreachable.append(f"{method} {route.template}")
    assert unreachable == [], (
        "routes no object of the first account reaches: create one of their kind in "
        "tests/security/world.py build_world()"
    )


def test_lists_show_nothing_of_another_tenant(acct, other_acct, world):
    list_routes = [r for r in v1_routes() if not r.has_id and "GET" in r.methods]
    client = StripeTestClient()
    own_ids = world.ids()
    assert list_routes and own_ids
    leaks = []
    for route in list_routes:
        for key in (other_acct.sk, acct.sk_live):
            response = client.get(route.url(), key=key)
            body = response.content.decode()
            leaks += [f"{route.template}: {i}" for i in own_ids if i in body]
    assert leaks == []

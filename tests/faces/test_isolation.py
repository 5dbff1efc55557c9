"""Every route of the faces, tried on every object of another tenant (and of the other mode)
with every kind of key: refused as a missing object, a refused key, or a parameter error the
same request on an id nobody owns gets too; and nothing changes. The same world and rules as
tests/security/test_isolation.py, in each face's own error shape."""

from __future__ import annotations

import pytest

from tests.helpers import StripeTestClient
from tests.security.world import (
    FACE_TEMPLATES,
    module_worlds,
    snapshot,
    v1_routes,
)

# Two accounts' worlds, built once for the module (`module_worlds`).
worlds, acct, other_acct, world = module_worlds()

pytestmark = pytest.mark.django_db


def _shape(response) -> tuple:
    body = response.json()
    if "errors" in body:  # PayMongo
        error = body["errors"][0]
        return response.status_code, error.get("code"), str(error.get("source"))
    return response.status_code, body.get("error_type"), str(body.get("details"))  # Payload


def _missing(response) -> bool:
    body = response.json()
    if "errors" in body:
        return body["errors"][0]["code"] == "resource_not_found"
    return body.get("error_type") == "NotFound"


def test_no_key_reaches_another_tenants_object_through_a_face(acct, other_acct, world):
    routes = [r for r in v1_routes(FACE_TEMPLATES) if r.has_id]
    assert {r.template.split("/")[0] for r in routes} == {"paymongo", "payload"}
    client = StripeTestClient()
    ids = world.ids(per_kind=2)
    before = snapshot()
    attackers = (("other account's secret key", other_acct.sk), ("own live key", acct.sk_live))
    attackers += (("publishable key", acct.pk),)
    leaks = []
    for route in routes:
        for method in route.methods:
            for object_id in ids:
                # a face's ids: Payload shows the checkout intent cint_… as int_…
                shown = "int_" + object_id[5:] if object_id.startswith("cint_") else object_id
                for name, key in attackers:
                    response = client.raw(method, route.url(shown), b"", key=key)
                    if response.status_code in (401, 403):
                        continue
                    if response.status_code == 404 and _missing(response):
                        continue
                    if response.status_code == 400:
                        # an id of the same kind that nobody owns gets the same answer
                        nobodys = shown.rsplit("_", 1)[0] + "_nobodyOwnsThis0000"
                        decoy = client.raw(method, route.url(nobodys), b"", key=key)
                        if _shape(response) == _shape(decoy):
                            continue
                    leaks.append(f"{method} {route.template} {shown} [{name}] -> {response!r}")
    assert leaks == []
    assert snapshot() == before


def test_every_face_route_with_an_id_reaches_the_owners_object(acct, world):
    client = StripeTestClient(key=acct.sk)
    unreachable = []
    pairs = [(r, m) for r in v1_routes(FACE_TEMPLATES) if r.has_id for m in r.methods]
    pairs.sort(key=lambda pair: pair[1] == "DELETE")  # deletes last: they remove the object
    for route, method in pairs:
        found = False
        for object_id in world.ids():
            shown = "int_" + object_id[5:] if object_id.startswith("cint_") else object_id
            if client.raw(method, route.url(shown), b"").status_code != 404:
                found = True
                break
        if not found:
            unreachable.append(f"{method} {route.template}")
    assert unreachable == [], unreachable

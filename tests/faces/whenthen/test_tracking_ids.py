"""WhenThen's face: a publishable key (a browser) cannot block or probe a merchant's tracking
ids. A tracking id `startIntent` gets with a publishable key names its intent but claims
nothing, so the merchant's server (secret key) can still start an intent with it, and the
browser's answer never tells whether the id is in use; the same for `updateIntent` with an
intent's client token. tests/edge/test_tracking_ids.py holds the `/v1/checkouts` version."""

from __future__ import annotations

import copy

from tests.faces.whenthen import seed_documents as seed
from tests.faces.whenthen.test_graphql import (
    _token_of,
    field_error,
    flow,  # noqa: F401 (fixture)
    graphql,
    ok,
    start_document,
)

TRACKING_ID = "order_1001"


def test_a_publishable_start_cannot_block_the_merchants_next_tracking_id(acct, flow):  # noqa: F811
    browser = ok(graphql(start_document(flow, trackingId=TRACKING_ID), acct.pk))["startIntent"]
    server = ok(graphql(start_document(flow, trackingId=TRACKING_ID), acct.sk))["startIntent"]
    assert server["id"] != browser["id"]
    assert server["trackingId"] == TRACKING_ID


def test_a_publishable_start_cannot_probe_a_tracking_id_in_use(acct, flow):  # noqa: F811
    server = ok(graphql(start_document(flow, trackingId=TRACKING_ID), acct.sk))["startIntent"]
    response = graphql(start_document(flow, trackingId=TRACKING_ID), acct.pk)
    browser = ok(response)["startIntent"]
    assert browser["id"] != server["id"]
    assert server["id"] not in response.content.decode()


def test_a_client_token_update_cannot_block_or_probe_either(acct, flow):  # noqa: F811
    own_id, token = _token_of(acct, flow, trackingId="page_1")
    held = ok(graphql(start_document(flow, trackingId=TRACKING_ID), acct.sk))["startIntent"]
    update = copy.deepcopy(seed.UPDATEINTENT)
    update["variables"].update(id=own_id, trackingId=TRACKING_ID)
    response = graphql(update, token)
    assert ok(response)["updateIntent"]["id"] == own_id
    assert held["id"] not in response.content.decode()
    # the merchant's id stays the merchant's: a second server start with it is still refused
    again = field_error(graphql(start_document(flow, trackingId=TRACKING_ID), acct.sk))
    assert again["extensions"]["reason"] == "resource_already_exists"

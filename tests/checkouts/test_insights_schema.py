"""A checkout with no country (or no payment flow) is its own bucket, `null`, and the published
schema says a bucket may be null (schemathesis found the answer violating it)."""

import json
from pathlib import Path

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_a_checkout_without_a_country_is_the_null_bucket(client):
    client.post("/v1/checkouts", {"tracking_id": "o1", "amount": 100, "currency": "eur"})
    client.post(
        "/v1/checkouts",
        {"tracking_id": "o2", "amount": 100, "currency": "eur", "location": {"country": "IRL"}},
    )
    response = client.get("/v1/checkout_insights", {"group_by": "country"})
    assert response.status_code == 200, response
    assert sorted(b["bucket"] or "" for b in response.json()["data"]) == ["", "IRL"]
    schema = json.loads(SCHEMA.read_text())["components"]["schemas"]
    buckets = [s for s in schema.values() if "bucket" in s.get("properties", {})]
    assert buckets and all(s["properties"]["bucket"].get("nullable") for s in buckets)

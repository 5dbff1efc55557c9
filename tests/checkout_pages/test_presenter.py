"""The checkout intent as presented has exactly the fields its OpenAPI description declares, and
the public subset only the public fields."""

from checkout_pages.api.serializers import CheckoutIntentSchema
from checkout_pages.presenters import PUBLIC_FIELDS
from tests.checkout_pages.conftest import create, page_path
from tests.test_presenters import mismatches


def test_presenter_matches_the_schema_with_attempts_and_expansions(client, browser_client):
    customer = client.post("/v1/customers", {"email": "j@example.com"}).json()
    ci = create(client, customer=customer["id"]).json()
    assert mismatches(CheckoutIntentSchema(), ci) == []
    browser_client.submit(page_path(ci["client_token"]), {"number": "4000000000000002"})
    body = client.get(f"/v1/checkout_intents/{ci['id']}").json()
    assert body["attempts"]
    assert mismatches(CheckoutIntentSchema(), body) == []


def test_public_subset_is_declared_fields_only(client, acct):
    ci = create(client).json()
    body = client.get(
        f"/v1/checkout_intents/{ci['id']}", {"client_token": ci["client_token"]}, key=acct.pk
    ).json()
    assert set(body) == set(PUBLIC_FIELDS)
    assert set(PUBLIC_FIELDS) <= set(CheckoutIntentSchema().fields)

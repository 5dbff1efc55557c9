"""The checkout presenter returns exactly the fields its OpenAPI description declares."""

from __future__ import annotations

from django.utils import timezone

from checkouts.api.serializers import CheckoutOutputSerializer
from checkouts.presenters import checkout_to_api
from tests.factories import CheckoutFactory
from tests.test_presenters import mismatches


def _full(db):
    now = timezone.now()
    return CheckoutFactory(
        customer={"id": "c1", "email": "e@example.com", "name": "N", "is_guest": True},
        country="DEU",
        cart={"id": "cart", "items": []},
        steps={"intent_started": {"status": "complete", "date": 1}},
        step_history=[{"step": "shipping", "status": "in_progress", "date": 2}],
        attempts=[
            {
                "payment_intent": "pi_1",
                "charge": "ch_1",
                "status": "failed",
                "date": 3,
                "decline_code": "insufficient_funds",
            }
        ],
        completed_at=now,
    )


def test_checkout_presenter_matches_its_schema(db):
    chk = _full(db)
    assert mismatches(CheckoutOutputSerializer(), checkout_to_api(chk)) == []
    assert mismatches(CheckoutOutputSerializer(), checkout_to_api(chk, publishable=True)) == []


def test_the_publishable_view_drops_exactly_the_private_fields(db):
    chk = _full(db)
    full, public = checkout_to_api(chk), checkout_to_api(chk, publishable=True)
    assert set(full) - set(public) == {"location", "metadata"}
    assert public["customer"] == {"id": "c1", "is_guest": True}

"""A month of checkouts with a believable funnel, for the console tests and its screenshot:
most drop at shipping, some at payment (after declines), a share recovered after going idle.
Each runs against one of two real payment flows of the account (`sample_flows`)."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from checkouts.models import Checkout
from routing.models import PaymentFlow
from tests.factories import PaymentFlowFactory

FLOWS = ("default", "express")
COUNTRIES = ("IRL", "USA", "DEU", "FRA", "GBR")
CODES = ("insufficient_funds", "card_declined", "expired_card", "do_not_honor")


def sample_flows(account) -> dict[str, str]:
    """The account's test-mode payment flows the sample runs against, by name (`FLOWS`): their
    `flow_…` ids, made the first time they are asked for."""
    flows = {}
    for name in FLOWS:
        flow = PaymentFlow.objects.filter(account=account, livemode=False, name=name).first()
        flows[name] = (flow or PaymentFlowFactory(account=account, livemode=False, name=name)).id
    return flows


def load_sample(account, *, n: int = 600, seed: int = 7) -> int:
    rng = random.Random(seed)
    flows = sample_flows(account)
    now = timezone.now()
    rows = []
    for i in range(n):
        created = now - timedelta(days=rng.uniform(0, 29.5))
        currency, amount = rng.choice((("eur", 4999), ("usd", 2599), ("gbp", 8900)))
        at = [created + timedelta(seconds=40 * (k + 1) + rng.randint(0, 60)) for k in range(6)]
        # how far it got: 0 landed … 6 completed
        depth = rng.choices(range(7), weights=(12, 28, 10, 6, 8, 10, 26))[0]
        declined = rng.random() < 0.5 if depth >= 5 else False
        fields = dict(
            active_at=at[0] if depth >= 1 else None,
            shipping_completed_at=at[1] if depth >= 2 else None,
            delivery_completed_at=at[2] if depth >= 3 else None,
            billing_completed_at=at[3] if depth >= 4 else None,
            payment_attempted_at=at[4] if depth >= 5 else None,
            completed_at=at[5] if depth == 6 else None,
        )
        recovered = depth == 6 and rng.random() < 0.2
        status = "complete" if depth == 6 else ("inactive" if rng.random() < 0.9 else "active")
        last = at[min(depth, 5)] if depth else created
        rows.append(
            Checkout(
                account=account,
                livemode=False,
                created=created,
                tracking_id=f"sample_{seed}_{i}",
                client_secret=f"chk_sample{seed}_{i}_secret",
                payment_flow=flows[rng.choice(FLOWS)],
                source="hosted" if rng.random() < 0.3 else "tracked",
                amount=amount,
                currency=currency,
                country=rng.choice(COUNTRIES),
                status=status,
                status_changed_at=last,
                last_activity_at=last,
                was_inactive=recovered or status == "inactive",
                declined_attempts=1 if declined else 0,
                last_decline_code=rng.choice(CODES) if declined else None,
                steps={},
                **fields,
            )
        )
    Checkout.objects.bulk_create(rows)
    return n

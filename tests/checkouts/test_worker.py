"""A real worker with beat on Redis: a checkout left alone goes inactive by the sweep, the event
reaches a webhook receiver on 127.0.0.1, an update brings it back, and completing it counts as
recovered."""

from __future__ import annotations

import pytest
import redis

from checkouts.models import Checkout
from tests.conftest import WorkerProcess, redis_url, wait_for
from tests.events.conftest import WORKER_ENV, Receiver, point_app_at
from tests.events.helpers import create_endpoint

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

INACTIVE_SECONDS = 3


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def beat_worker(transactional_db, settings):
    url = redis_url()
    redis.Redis.from_url(url).flushdb()
    point_app_at(url, settings)
    worker = WorkerProcess(
        broker_url=url,
        beat=True,
        extra_env={
            **WORKER_ENV,
            "CHECKOUT_INACTIVE_SECONDS": str(INACTIVE_SECONDS),
            "CHECKOUT_SWEEP_SECONDS": "1",
        },
    ).start()
    yield worker
    worker.stop()


def _types_for(receiver: Receiver, checkout_id: str) -> list[str]:
    return [e["type"] for e in receiver.events() if e["data"]["object"].get("id") == checkout_id]


def test_inactive_by_the_sweep_delivered_then_reactivated_and_recovered(
    client, settings, receiver, beat_worker
):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.CHECKOUT_INACTIVE_SECONDS = INACTIVE_SECONDS
    create_endpoint(
        client,
        receiver.url,
        events=("checkout.inactive", "checkout.reactivated", "checkout.completed"),
    )
    chk = client.post(
        "/v1/checkouts", {"tracking_id": "order_w1", "amount": 2599, "currency": "eur"}
    ).json()
    url = f"/v1/checkouts/{chk['id']}"
    assert client.post(url, {"shipping": {"status": "in_progress"}}).json()["status"] == "active"

    wait_for(
        lambda: Checkout.objects.filter(id=chk["id"], status="inactive").exists(),
        timeout=40,
        message="the beat sweep to write the checkout inactive",
    )
    wait_for(
        lambda: "checkout.inactive" in _types_for(receiver, chk["id"]),
        timeout=30,
        message="checkout.inactive delivered to the receiver",
    )
    inactive = next(e for e in receiver.events() if e["type"] == "checkout.inactive")["data"][
        "object"
    ]
    assert inactive["status"] == "inactive" and inactive["id"] == chk["id"]

    back = client.post(url, {"shipping": {"status": "complete"}}).json()
    assert back["status"] == "active"
    done = client.post(f"{url}/complete", {"payment_reference": "ext_9"}).json()
    assert done["status"] == "complete"
    total = client.get("/v1/checkout_insights").json()["total"]
    assert (total["started"], total["completed"], total["recovered"]) == (1, 1, 1)
    assert total["inactive"] == 0
    wait_for(
        lambda: sorted(_types_for(receiver, chk["id"]))
        == ["checkout.completed", "checkout.inactive", "checkout.reactivated"],
        timeout=30,
        message="reactivated and completed delivered (webhooks promise no order)",
    )

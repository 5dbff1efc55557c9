"""What the faces' library tests share: a webhook receiver, and the worker's part of a delivery
run in the test's process."""

from __future__ import annotations

import pytest


@pytest.fixture
def receiver(settings):
    """A local HTTP receiver (tests/events/conftest.py's), reachable as a webhook URL."""
    from tests.events.conftest import Receiver  # noqa: PLC0415 (a conftest's helper class)

    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    r = Receiver().start()
    yield r
    r.stop()


def deliver_everything() -> None:
    """What the worker does: relay the committed events, then make each delivery."""
    from events.models import Delivery  # noqa: PLC0415 (the worker's side, only here)
    from events.services import delivery_attempt, events_relay  # noqa: PLC0415 (as above)

    events_relay()
    for delivery_id in Delivery.objects.filter(delivered_at__isnull=True).values_list(
        "id", flat=True
    ):
        delivery_attempt(delivery_id=delivery_id)

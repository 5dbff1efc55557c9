from __future__ import annotations

from django.db import transaction

from core.scope import Scope
from events.services import event_emit


def record(account_id: str, type: str = "customer.created", *, livemode: bool = False, **obj):
    """An event written the way a service writes one: inside its transaction."""
    shown = {"id": obj.pop("id", "cus_test"), "object": type.split(".")[0], **obj}
    with transaction.atomic():
        [event] = event_emit(
            scope=Scope(account_id=account_id, livemode=livemode), changes=[(type, shown, None)]
        )
    return event


def create_endpoint(client, url: str, events=("*",), **extra) -> dict:
    response = client.post(
        "/v1/webhook_endpoints", {"url": url, "enabled_events": list(events), **extra}
    )
    assert response.status_code == 200, response
    return response.json()

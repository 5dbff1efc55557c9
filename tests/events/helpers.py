from __future__ import annotations

from django.db import transaction

from core.scope import Scope
from events.services import event_record


def record(account_id: str, type: str = "customer.created", *, livemode: bool = False, **obj):
    """An event written the way a service writes one: inside its transaction."""
    with transaction.atomic():
        return event_record(
            scope=Scope(account_id=account_id, livemode=livemode),
            type=type,
            data_object={"id": obj.pop("id", "cus_test"), "object": type.split(".")[0], **obj},
        )


def create_endpoint(client, url: str, events=("*",), **extra) -> dict:
    response = client.post(
        "/v1/webhook_endpoints", {"url": url, "enabled_events": list(events), **extra}
    )
    assert response.status_code == 200, response
    return response.json()

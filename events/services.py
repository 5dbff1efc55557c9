from __future__ import annotations

from django.conf import settings

from api import context

from .models import Event


def event_record(
    *,
    account_id: str,
    livemode: bool,
    type: str,
    data_object: dict,
    previous_attributes: dict | None = None,
) -> Event:
    """Write one event. Call it inside the transaction that makes the change it reports."""
    data: dict = {"object": data_object}
    if previous_attributes:
        data["previous_attributes"] = previous_attributes
    ctx = context.current()
    return Event.objects.create(
        account_id=account_id,
        livemode=livemode,
        type=type,
        api_version=settings.API_VERSION,
        data=data,
        object_id=str(data_object.get("id", "")),
        request_id=ctx.request_id,
        idempotency_key=ctx.idempotency_key,
    )


def previous_attributes(before: dict, after: dict) -> dict:
    """The fields of `before` whose values differ in `after` (Stripe's previous_attributes)."""
    return {key: value for key, value in before.items() if key in after and after[key] != value}

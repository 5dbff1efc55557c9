"""A checkout as the API shows it, used by views, events and the console alike. Pure functions
of the row. A publishable key (a browser holding the client secret) never sees the customer's
email or name, nor the location."""

from __future__ import annotations

from core.values import unix

from .models import TIMELINE_STEPS, Checkout, Status, StepStatus

ATTEMPT_TITLE = "Payment attempt #{n}"


def timeline_to_api(chk: Checkout) -> dict:
    """Each step's current status and date, every payment attempt, the completion, and every
    change of a step with its time (`history`)."""
    steps = chk.steps or {}
    timeline = {
        name: dict(steps.get(name) or {"status": StepStatus.NOT_STARTED.value, "date": None})
        for name in TIMELINE_STEPS
    }
    timeline["payment_attempts"] = [
        {
            "status": attempt["status"],
            "date": attempt["date"],
            "payment_intent": attempt["payment_intent"],
            "decline_code": attempt.get("decline_code"),
        }
        for attempt in chk.attempts or []
    ]
    complete = chk.status == Status.COMPLETE
    timeline["complete"] = {
        "status": StepStatus.COMPLETE.value if complete else StepStatus.NOT_STARTED.value,
        "date": unix(chk.completed_at) if complete else None,
    }
    timeline["history"] = [dict(change) for change in chk.step_history or []]
    return timeline


def linked_payments_to_api(chk: Checkout) -> list[dict]:
    """Every attempt of every linked intent, numbered in order ("Payment attempt #n")."""
    return [
        {
            "payment_intent": attempt["payment_intent"],
            "status": attempt["status"],
            "created": attempt["date"],
            "title": ATTEMPT_TITLE.format(n=index),
        }
        for index, attempt in enumerate(chk.attempts or [], start=1)
    ]


def checkout_to_api(chk: Checkout, *, publishable: bool = False) -> dict:
    customer = dict(chk.customer) if chk.customer else None
    data = {
        "id": chk.id,
        "object": "checkout",
        "amount": chk.amount,
        "cart": chk.cart,
        "client_secret": chk.client_secret,
        "created": unix(chk.created),
        "currency": chk.currency,
        "customer": (
            {
                "id": customer.get("id"),
                "email": customer.get("email"),
                "name": customer.get("name"),
                "is_guest": customer.get("is_guest"),
            }
            if customer is not None
            else None
        ),
        "linked_payments": linked_payments_to_api(chk),
        "livemode": chk.livemode,
        "location": {"country": chk.country} if chk.country else None,
        "metadata": chk.metadata or {},
        "payment_flow": chk.payment_flow,
        "payment_reference": chk.payment_reference,
        "source": chk.source,
        "status": chk.status,
        "status_changed_at": unix(chk.status_changed_at),
        "timeline": timeline_to_api(chk),
        "tracking_id": chk.tracking_id,
    }
    if publishable:
        del data["location"]
        del data["metadata"]
        if data["customer"] is not None:
            data["customer"] = {
                "id": data["customer"]["id"],
                "is_guest": data["customer"]["is_guest"],
            }
    return data

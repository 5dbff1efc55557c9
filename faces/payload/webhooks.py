"""Payload's webhooks: one `trigger` per webhook, the trigger's body and the
`X-Payload-Signature` header, as Payload documents them. A Payload webhook is a webhook
endpoint of the `payload` dialect (`events.dialects`, registered in
`settings.WEBHOOK_DIALECTS`): the outbox, the relay, the retries, the delivery log and the
console are the service's own; only what is sent is translated here.

The body, for every trigger:

    {"object": "webhook_trigger", "trigger": "processed",
     "triggered_on": {"id": "ch_…", "object": "transaction", "value": "processed"}}

`triggered_on.value` is the transaction's status as the face shows it. The signature is the
hex HMAC-SHA256 of the raw body keyed with the webhook's `sender_secret`.

The trigger is kept as the endpoint's `enabled_events`: each trigger listens to its own set of
the service's events (`TRIGGER_EVENTS`), so the set names the trigger back."""

from __future__ import annotations

import hashlib
import hmac
import json

from . import presenters

#: Payload's trigger → the service's events it is made from (each set its trigger's own).
TRIGGER_EVENTS: dict[str, tuple[str, ...]] = {
    # every payment attempted, whatever its outcome
    "payment": ("charge.succeeded", "charge.failed"),
    # captured: at once (automatic), by the merchant (manual), or by the service after its
    # authorisation (`automatic_async`, `charge.updated`)
    "processed": ("charge.succeeded", "charge.captured", "charge.updated"),
    # authorised and held for the merchant's capture
    "authorized": ("payment_intent.amount_capturable_updated",),
    "decline": ("charge.failed",),
    "refund": ("refund.created",),
    "void": ("payment_intent.canceled",),
}
TRIGGER_OF = {frozenset(events): trigger for trigger, events in TRIGGER_EVENTS.items()}
HEADER = "X-Payload-Signature"


def trigger_of(endpoint) -> str | None:
    """The endpoint's trigger (None when its events were changed to a set no trigger has)."""
    return TRIGGER_OF.get(frozenset(endpoint.enabled_events))


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _voided(event) -> bool:
    """A canceled intent whose authorisation was held: its payment is voided."""
    before = event.data.get("previous_attributes") or {}
    return before.get("status") == "requires_capture"


def _captured(event) -> bool:
    """The event says the charge is captured: a charge that succeeded captured, a capture,
    or the service's own capture after the authorisation (`captured` false before)."""
    obj = event.data["object"]
    if event.type == "charge.updated":
        before = event.data.get("previous_attributes") or {}
        return before.get("captured") is False and bool(obj.get("captured"))
    return bool(obj.get("captured"))


class PayloadDialect:
    def wants_for(self, endpoint, event) -> bool:
        trigger = trigger_of(endpoint)
        if trigger is None or event.type not in TRIGGER_EVENTS[trigger]:
            return False
        if trigger == "processed":
            return _captured(event)
        if trigger == "void":
            return _voided(event)
        return True

    def triggered_on(self, event) -> dict:
        obj = event.data["object"]
        if event.type == "refund.created":
            value = presenters.REFUND_STATUSES.get(obj["status"], obj["status"])
            return {"id": obj["id"], "object": "transaction", "value": value}
        if event.type.startswith("payment_intent."):
            value = "voided" if event.type == "payment_intent.canceled" else "authorized"
            return {"id": obj["latest_charge"], "object": "transaction", "value": value}
        # a charge: as it was when the event happened
        return {
            "id": obj["id"],
            "object": "transaction",
            "value": presenters.payment_status(obj, released=False),
        }

    def render(self, endpoint, event, timestamp: int) -> tuple[bytes, dict]:
        body = {
            "object": "webhook_trigger",
            "trigger": trigger_of(endpoint),
            "triggered_on": self.triggered_on(event),
        }
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        return raw, {HEADER: signature(endpoint.secret, raw)}


DIALECT = PayloadDialect()


def webhook_to_payload(endpoint, *, sender_secret: str | None = None) -> dict:
    """The webhook as Payload shows it; `sender_secret` only in the answer that made it (this
    service's addition, when the service chose it)."""
    out = {
        "id": endpoint.id,
        "object": "webhook",
        "attrs": dict(endpoint.metadata or {}),
        "created_at": presenters.timestamp(int(endpoint.created.timestamp())),
        "modified_at": presenters.timestamp(int(endpoint.created.timestamp())),
        "trigger": trigger_of(endpoint),
        "url": endpoint.url,
        "status": endpoint.status,
        "oauth_params": None,
        "payment_link_id": None,
        "reference_object": None,
    }
    if sender_secret is not None:
        out["sender_secret"] = sender_secret
    return out

"""PayMongo's webhooks: the events it sends (`payment.paid`, `payment.failed`,
`payment.refunded`, cards only), the event body and the `Paymongo-Signature` header, as
PayMongo documents them. A PayMongo webhook is a webhook endpoint of the `paymongo` dialect
(`events.dialects`, registered in `settings.WEBHOOK_DIALECTS`): the outbox, the relay, the
retries and the console are the service's own; only what is sent is translated here.

Signature: `t=<unix time>,te=<test mode signature>,li=<live mode signature>`, each signature
the hex HMAC-SHA256 of `"<t>.<raw body>"` keyed with the webhook's `secret_key`; the one of the
other mode is empty."""

from __future__ import annotations

import hashlib
import hmac
import json

from core.values import unix

from .presenters import payment_from_api, resource

#: PayMongo's event → the service's events it is made from.
ENGINE_EVENTS = {
    "payment.paid": ("charge.succeeded", "charge.captured"),
    "payment.failed": ("charge.failed",),
    "payment.refunded": ("charge.refunded",),
}
PAYMONGO_EVENT = {engine: name for name, engines in ENGINE_EVENTS.items() for engine in engines}


def engine_events(names: list[str]) -> list[str]:
    return [engine for name in names for engine in ENGINE_EVENTS[name]]


def paymongo_events(engine: list[str]) -> list[str]:
    return list(dict.fromkeys(PAYMONGO_EVENT[e] for e in engine if e in PAYMONGO_EVENT))


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


class PayMongoDialect:
    def wants(self, event) -> bool:
        """A payment is paid when captured: an authorisation alone (`charge.succeeded` of a
        manual capture) is not `payment.paid` until its `charge.captured`."""
        if event.type == "charge.succeeded":
            return bool(event.data["object"].get("captured"))
        return event.type in PAYMONGO_EVENT

    def render(self, endpoint, event, timestamp: int) -> tuple[bytes, dict]:
        at = unix(event.created)
        payment = payment_from_api(event.data["object"], updated_at=at)
        body = {
            "data": resource(
                event.id,
                "event",
                {
                    "type": PAYMONGO_EVENT[event.type],
                    "livemode": event.livemode,
                    "data": payment,
                    # the official Python client reads the event's object as `resource`
                    "resource": payment,
                    "previous_data": {},
                    "created_at": at,
                    "updated_at": at,
                },
            )
        }
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        signed = signature(endpoint.secret, timestamp, raw)
        test, live = ("", signed) if event.livemode else (signed, "")
        return raw, {"Paymongo-Signature": f"t={timestamp},te={test},li={live}"}


DIALECT = PayMongoDialect()


def webhook_to_paymongo(endpoint) -> dict:
    """The webhook, its `secret_key` included (PayMongo shows it on every read)."""
    return resource(
        endpoint.id,
        "webhook",
        {
            "livemode": endpoint.livemode,
            "secret_key": endpoint.secret,
            "events": paymongo_events(endpoint.enabled_events),
            "description": endpoint.description,
            "status": endpoint.status,
            "url": endpoint.url,
            "created_at": unix(endpoint.created),
            "updated_at": unix(endpoint.created),
        },
    )

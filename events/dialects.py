"""Webhooks in another provider's dialect (a face's: `faces/`), found through
`settings.WEBHOOK_DIALECTS` ({name: dotted path of an object}), as the payment core finds its
outcome listeners: explicit, in one place, and the events app imports no face.

A dialect object has:
- `wants(event) -> bool`: whether an event the endpoint subscribes to is one it sends (a
  PayMongo `payment.paid` is a captured charge, not every `charge.succeeded`); or, for a
  dialect whose answer depends on the endpoint (a Payload webhook has one trigger of its own),
  `wants_for(endpoint, event) -> bool` instead;
- `render(endpoint, event, timestamp) -> (body, headers)`: the bytes POSTed and their
  signature headers.
An endpoint of the service's own dialect (`stripe`) never comes here."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

STRIPE = "stripe"


@cache
def dialect(name: str) -> Any:
    return import_string(settings.WEBHOOK_DIALECTS[name])


def wants(endpoint, event) -> bool:
    if endpoint.dialect == STRIPE:
        return True
    face = dialect(endpoint.dialect)
    wants_for = getattr(face, "wants_for", None)
    return wants_for(endpoint, event) if wants_for is not None else face.wants(event)

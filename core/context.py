"""Per-request context that services read: the request id and idempotency key (for the events
they write) and the base URL the request came in on (for the links to the hosted pages)."""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str | None = None
    idempotency_key: str | None = None
    # `scheme://host[:port]` of the request when its host is an allowed host (not merely `*`)
    base_url: str | None = None


_EMPTY = RequestContext()
_current: ContextVar[RequestContext | None] = ContextVar("payintents_request", default=None)


def current() -> RequestContext:
    return _current.get() or _EMPTY


def set_current(ctx: RequestContext):
    return _current.set(ctx)


def reset(token) -> None:
    _current.reset(token)

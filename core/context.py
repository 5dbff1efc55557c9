"""Per-request context that services read: the request id and idempotency key (for the events
they write), the operator acting in the console, the attempt seed of a keyed request, and the
base URL the request came in on (for the links to the hosted pages)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class RequestContext:
    request_id: str | None = None
    idempotency_key: str | None = None
    # Set once the request holds its Idempotency-Key: what `core.ids.attempt_id` derives the
    # attempt ids of the request's processor calls from (the same for a retry of the request).
    attempt_seed: str | None = None
    # The request took over the key of an earlier run of it that died: what the ids derived
    # from the seed name (its attempts, the object it creates) may already exist.
    resumed: bool = False
    # Who acted by hand, e.g. "admin:alice" for an operator in the console; None for API calls.
    operator: str | None = None
    # `scheme://host[:port]` of the request when its host is an allowed host (not merely `*`),
    # worked out only when something asks for it (few requests link to a hosted page).
    base_url_of: Callable[[], str | None] | None = field(default=None, repr=False, compare=False)

    @property
    def base_url(self) -> str | None:
        return self.base_url_of() if self.base_url_of is not None else None


_EMPTY = RequestContext()
_current: ContextVar[RequestContext | None] = ContextVar("payintents_request", default=None)


def current() -> RequestContext:
    return _current.get() or _EMPTY


def set_current(ctx: RequestContext) -> Token[RequestContext | None]:
    return _current.set(ctx)


def set_attempt_seed(seed: str, *, resumed: bool = False) -> Token[RequestContext | None]:
    """Add the attempt seed (and whether an earlier run of the request held it) to the current
    context; returns the token for `reset`."""
    return _current.set(replace(current(), attempt_seed=seed, resumed=resumed))


def reset(token: Token[RequestContext | None]) -> None:
    _current.reset(token)


@contextmanager
def operating(operator: str) -> Iterator[RequestContext]:
    """The events written inside carry `operator` along with the current request's id."""
    token = set_current(replace(current(), operator=operator))
    try:
        yield current()
    finally:
        reset(token)

"""Idempotent POSTs (docs/security.md), applied by `api.views.StripeAPIView` to every POST it serves.

The scope of a key is (account, livemode, key). The life of one key:

1. `idempotency_claim` INSERTs the row with `locked_at=now`. The unique constraint decides
   the race: exactly one request inserts, every other one gets an IntegrityError and reads
   the row (there is no read-then-insert window).
2. A request that did not insert compares its fingerprint (method, path, canonical params):
   a difference is 400 `idempotency_error`. A finished row is replayed byte for byte. A row
   still locked is 409 `idempotency_key_in_use`, unless its lock is older than
   settings.INFLIGHT_TIMEOUT_SECONDS: then the request takes it over with a
   compare-and-set UPDATE on `locked_at` (only one request can win) and executes.
3. While it executes, the request's processor attempts and the object it creates (a
   PaymentIntent, a refund) get ids derived from the claim (`IdempotencyClaim.seed`, through
   `core.context`; `core.ids.attempt_id`, `core.ids.created_id`): a request that took over a
   dead one's stale lock (`IdempotencyClaim.resumed`) computes the same ids, so it finds the
   object the dead request made and its attempt on it, settles that attempt with the
   processor (applies what the processor did, or starts over if it never received it) and
   answers what the first request would have answered. A fresh claim is a new row, a new
   seed: nothing derived from it exists yet, so only a takeover looks.
4. When the owner finishes, `IdempotencyClaim.finish` either stores the response (and clears
   the lock) or releases the key (deletes the row) — see `should_store`. Both are conditional
   on the owner still holding its lock, so a request whose stale lock was taken over cannot
   overwrite the new owner's result. An answer marked `retryable` (another request's processor
   call on the same intent was under way: nothing happened) is never stored.
5. `api.tasks.idempotency_keys_purge` deletes rows older than settings.IDEMPOTENCY_KEY_TTL_SECONDS.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from core.errors import InvalidRequestError

from .errors import IdempotencyError, IdempotencyKeyInUse
from .models import IdempotencyKey

logger = logging.getLogger("payintents.api.idempotency")

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"
ORIGINAL_REQUEST_HEADER = "Original-Request"
# Response headers kept with the stored response and sent again on a replay.
_STORED_HEADERS = ("Content-Type",)

# 400s that describe the state of an object the request acted on (the request executed): stored.
# Every other 400 is a parameter problem found before anything happened: the key is released.
STORED_400_CODE_SUFFIXES = ("_unexpected_state",)
# Statuses that never describe an execution: auth, permission, missing object, method, conflict,
# body size, media type, throttling. The key is released so a corrected retry can use it.
# 503 is the database (or another dependency) being unavailable: whatever the request began was
# rolled back or is an attempt in flight that the reconciler settles, so a retry with the same key
# must run again (and find its own attempt), never replay the outage.
RELEASED_STATUSES = frozenset({401, 403, 404, 405, 409, 413, 415, 429, 503})


def _canonical(value):
    """Form bodies parse to strings, JSON bodies to typed values: make both the same."""
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def params_hash(params: dict) -> str:
    canonical = json.dumps(_canonical(params), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_key(raw: str) -> str:
    key = raw.strip()
    if not key:
        raise InvalidRequestError(
            "The Idempotency-Key header must not be empty.",
            code="idempotency_key_invalid",
            param="Idempotency-Key",
        )
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidRequestError(
            f"The Idempotency-Key header must be at most {MAX_KEY_LENGTH} characters "
            f"(got {len(key)}).",
            code="idempotency_key_invalid",
            param="Idempotency-Key",
        )
    return key


def should_store(status: int, body: dict | None) -> bool:
    """Store what an executing request answered; release what validation refused.

    Stored: every 2xx, 402 (a decline is an attempt that happened), every 5xx but 503 (the
    request may have done something before failing), and 400s whose code ends in `_unexpected_state`
    (unless the answer is `retryable`, see `IdempotencyClaim.finish`).
    Released: 401, 403, 404, 405, 409, 413, 415, 429, 503 and every other 400 (parameter errors).
    """
    if status in RELEASED_STATUSES:
        return False
    if status == 400:
        code = ((body or {}).get("error") or {}).get("code") or ""
        return code.endswith(STORED_400_CODE_SUFFIXES)
    return True


@dataclass
class IdempotencyClaim:
    """This request owns the key: it executes, then `finish` stores or releases."""

    row_id: int
    locked_at: object
    seed: str = ""  # what the request's attempt ids derive from: the same for a takeover
    resumed: bool = False  # a takeover: an earlier run of this request held the key and died

    def finish(self, response) -> None:
        body = getattr(response, "data", None)
        # A face whose error bodies are not the service's says what `should_store` would have
        # said of the error it translated (`idempotent_store`).
        store = getattr(response, "idempotent_store", None)
        if store is None:
            store = should_store(response.status_code, body if isinstance(body, dict) else None)
        if getattr(response, "retryable", False) or not store:
            released = IdempotencyKey.objects.filter(
                pk=self.row_id, locked_at=self.locked_at, response_status__isnull=True
            ).delete()[0]
            if not released:
                logger.warning("idempotency key row %s was taken over before release", self.row_id)
            return
        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
            response.render()
        headers = {name: response[name] for name in _STORED_HEADERS if name in response}
        stored = IdempotencyKey.objects.filter(
            pk=self.row_id, locked_at=self.locked_at, response_status__isnull=True
        ).update(
            response_status=response.status_code,
            response_body=bytes(response.content),
            response_headers=headers,
            locked_at=None,
            completed_at=timezone.now(),
        )
        if not stored:
            logger.warning("idempotency key row %s was taken over before storing", self.row_id)

    def abandon(self) -> None:
        """Give the key back (used when the response could not be produced at all)."""
        IdempotencyKey.objects.filter(
            pk=self.row_id, locked_at=self.locked_at, response_status__isnull=True
        ).delete()


def replay_response(row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(
        bytes(row.response_body or b""),
        status=row.response_status,
        content_type=row.response_headers.get("Content-Type", "application/json"),
    )
    response[REPLAYED_HEADER] = "true"
    if row.request_id:
        response[ORIGINAL_REQUEST_HEADER] = row.request_id
    return response


class Replay(Exception):
    """Raised from `StripeAPIView.initial` to answer with a stored response."""

    def __init__(self, response: HttpResponse):
        super().__init__("idempotent replay")
        self.response = response


def _mismatch(row: IdempotencyKey, key: str, method: str, path: str, digest: str):
    if row.request_method != method or row.request_path != path:
        return IdempotencyError(
            f"Keys for idempotent requests can only be used for the same endpoint they were "
            f"first used for ({row.request_method} {row.request_path}). Try using a key other "
            f"than '{key}' if you meant to make a request to {method} {path}."
        )
    if row.request_params_hash != digest:
        return IdempotencyError(
            "Keys for idempotent requests can only be used with the same parameters they were "
            f"first used with. Try using a key other than '{key}' if you meant to execute a "
            "different request."
        )
    return None


def _seed(scope: dict, row_id: int) -> str:
    """One claim's seed: a key released and claimed again is a new row, a new seed."""
    return f"{scope['account_id']}:{int(scope['livemode'])}:{scope['key']}:{row_id}"


def idempotency_claim(
    *,
    account_id: str,
    livemode: bool,
    key: str,
    method: str,
    path: str,
    params: dict,
    request_id: str = "",
) -> IdempotencyClaim:
    """Claim `key` for this request, or raise: `Replay` (a stored answer), `IdempotencyError`
    (400, other request), `IdempotencyKeyInUse` (409, still executing)."""
    digest = params_hash(params)
    scope = {"account_id": account_id, "livemode": livemode, "key": key}
    for _ in range(5):
        now = timezone.now()
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    **scope,
                    request_method=method,
                    request_path=path,
                    request_params_hash=digest,
                    request_id=request_id,
                    locked_at=now,
                )
            return IdempotencyClaim(row_id=row.pk, locked_at=now, seed=_seed(scope, row.pk))
        except IntegrityError:
            pass
        row = IdempotencyKey.objects.filter(**scope).first()
        if row is None:
            continue  # released between our INSERT and our read: try to claim again
        error = _mismatch(row, key, method, path, digest)
        if error is not None:
            raise error
        if row.response_status is not None:
            raise Replay(replay_response(row))
        timeout = timedelta(seconds=settings.INFLIGHT_TIMEOUT_SECONDS)
        if row.locked_at is not None and row.locked_at <= now - timeout:
            taken = IdempotencyKey.objects.filter(
                pk=row.pk, locked_at=row.locked_at, response_status__isnull=True
            ).update(locked_at=now, request_id=request_id)
            if taken:
                logger.warning(
                    "idempotency key of %s taken over after a stale lock (since %s)",
                    account_id,
                    row.locked_at.isoformat(),
                )
                return IdempotencyClaim(
                    row_id=row.pk, locked_at=now, seed=_seed(scope, row.pk), resumed=True
                )
        raise IdempotencyKeyInUse(
            "There is currently another in-progress request using this Idempotent Key. "
            "That probably means you submitted twice, and the other request is still going "
            "through. Please retry your request later.",
        )
    raise IdempotencyKeyInUse(
        "This Idempotency-Key is being claimed and released concurrently. Please retry later."
    )


def idempotency_keys_purge(*, older_than_seconds: int | None = None, batch: int = 1000) -> int:
    """Delete keys past their retention. Returns how many were deleted."""
    seconds = (
        settings.IDEMPOTENCY_KEY_TTL_SECONDS if older_than_seconds is None else older_than_seconds
    )
    cutoff = timezone.now() - timedelta(seconds=seconds)
    total = 0
    while True:
        ids = list(
            IdempotencyKey.objects.filter(created__lt=cutoff).values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return total
        total += IdempotencyKey.objects.filter(pk__in=ids).delete()[0]

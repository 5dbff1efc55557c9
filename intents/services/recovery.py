"""Crash recovery: the attempts a dead process left in flight on an intent.

Every movement records its attempt before the processor call: the intent's in-flight marker
(`inflight`, `inflight_since`) and the attempt's id (`last_attempt_id`), which the call hands
to the processor as its idempotency key. If the process dies before phase 2, the attempt stays
in flight. It is settled by asking the processor what it did with that id
(`payments.attempts.recover` / `settle`): what it did is applied through the movement's own
phase 2, an attempt it never received is aborted (marker cleared, nothing happened). Two paths:

- `payment_intents_reconcile`, the reconciler (a worker task every few seconds): claims the
  intents whose marker is older than settings.INFLIGHT_TIMEOUT_SECONDS with
  `select_for_update(skip_locked=True)` (renewing `inflight_since` is the claim) and settles
  each; then makes the releases (`Charge.release_owed_at`) a crash left owed.
- `first()`, at the top of every phase 1: a retry of the same request (same Idempotency-Key,
  so the same attempt id) that finds its own attempt in flight settles it at once and answers
  with its outcome; one that finds its own attempt already applied answers with it; any
  request that finds another's stale attempt settles it before going on.

Each kind of movement registers how to rebuild its attempt from the intent (`load`), its
phase 2 (`apply`), how to abort it, and what it answered (`answer`), in `KINDS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import Q
from django.utils import timezone

from payments import attempts
from payments.attempts import LOOKUP_FAILED, GuardedProcessor, Recover, Settled
from payments.models import Charge

from ..exceptions import IntentUnexpectedState
from ..models import PaymentIntent, inflight_stale_before


@dataclass(frozen=True)
class Kind:
    """How to recover one kind of in-flight movement (`InFlight` value)."""

    load: Callable[[PaymentIntent, bool], Any]  # (locked intent, own) → the attempt
    apply: Callable[[Any, Any], Any]  # its phase 2
    abort: Callable[[Any], Any]  # the processor never received it
    answer: Callable[[PaymentIntent], Settled]  # what the movement answered, once applied


KINDS: dict[str, Kind] = {}


def register(operation: str, kind: Kind) -> None:
    KINDS[operation] = kind


def first(
    pi: PaymentIntent,
    operation: str,
    *,
    attempt_id: str,
    verb: str,
    allowed: Iterable,
    own_apply: Callable[[Any, Any], Any] | None = None,
) -> Recover | Settled | None:
    """Phase 1's first look at the locked intent, before its state check. `attempt_id` is the
    id this request's `operation` would record (the same as its earlier run's for a retry with
    the same Idempotency-Key). Returns `Recover` for an attempt to settle first (this request's
    own still in flight; another's gone stale), `Settled` with the answer of this request's own
    attempt already applied, or None: go on."""
    own = pi.last_attempt_id == attempt_id
    if own and not pi.inflight:
        return KINDS[operation].answer(pi)
    if not pi.inflight or (not own and pi.inflight_active()):
        return None  # nothing in flight, or another request's call still under way (check())
    kind = KINDS[pi.inflight]
    return Recover(
        kind.load(pi, own),
        apply=own_apply if own and own_apply is not None else kind.apply,
        abort=kind.abort,
        unresolved=IntentUnexpectedState.in_progress(pi, verb, allowed),
        own=own,
    )


def end(pi: PaymentIntent) -> None:
    """Abort a movement the processor never received: clear the marker and forget the attempt
    (a retry of the same request starts it afresh)."""
    pi.end()
    pi.last_attempt_id = None
    pi.save(update_fields=["inflight", "inflight_since", "last_attempt_id", "updated"])


# --- the reconciler ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stale:
    """An attempt the reconciler claimed, with its kind."""

    kind: Kind
    attempt: Any

    @property
    def livemode(self) -> bool:
        return self.attempt.livemode

    @property
    def attempt_id(self) -> str:
        return self.attempt.attempt_id


def _claim(batch_size: int) -> list[_Stale]:
    now = timezone.now()
    rows = list(
        PaymentIntent.objects.select_for_update(skip_locked=True)
        .filter(inflight__isnull=False, inflight_since__lte=inflight_stale_before(now))
        .order_by("inflight_since")[:batch_size]
    )
    claimed = []
    for pi in rows:
        kind = KINDS.get(pi.inflight)
        if kind is None:
            continue
        # A marker from before attempt ids has none: the processor knows no such attempt, and
        # it is aborted (its charge, if any, failed) rather than left blocking the intent.
        pi.inflight_since = now  # the claim: another reconciler skips it until it goes stale
        pi.save(update_fields=["inflight_since", "updated"])
        claimed.append(_Stale(kind, kind.load(pi, False)))
    return claimed


def _apply(stale: _Stale, received: Any) -> Any:
    outcome = attempts.settle(
        stale.attempt, received, apply=stale.kind.apply, abort=stale.kind.abort
    )
    if isinstance(outcome, Settled) and outcome.error is not None:
        # A refusal the phase recorded is the answer of the request that made the attempt
        # (its retry answers it); for the reconciler it is a settled attempt, not a failure.
        return replace(outcome, error=None)
    return outcome


def _reconcile_attempts(batch_size: int) -> list:
    return attempts.sweep(claim=lambda: _claim(batch_size), call=attempts.lookup, apply=_apply)


@dataclass(frozen=True)
class _OwedRelease:
    livemode: bool
    charge_id: str

    @property
    def attempt_id(self) -> str:
        return attempts.release_attempt_id(self.charge_id)


def _claim_releases(batch_size: int) -> list[_OwedRelease]:
    now = timezone.now()
    rows = list(
        Charge.objects.select_for_update(skip_locked=True)
        .filter(Q(release_owed_at__lte=inflight_stale_before(now)))
        .order_by("release_owed_at")
        .only("id", "livemode")[:batch_size]
    )
    Charge.objects.filter(id__in=[c.id for c in rows]).update(release_owed_at=now, updated=now)
    return [_OwedRelease(c.livemode, c.id) for c in rows]


def _release(_: GuardedProcessor, owed: _OwedRelease) -> None:
    attempts.release(owed.livemode, owed.charge_id)


def payment_intents_reconcile(*, batch_size: int = 50) -> int:
    """The reconciler: settle every attempt left in flight past the timeout, and make every
    release a crash left owed. Returns the attempts settled (applied or aborted)."""
    outcomes = _reconcile_attempts(batch_size)
    attempts.sweep(claim=lambda: _claim_releases(batch_size), call=_release)
    return sum(1 for outcome in outcomes if outcome is not None and outcome is not LOOKUP_FAILED)

"""What the intent services share: the row locks, the state check, the one event writer, the
payment method a call names, the outcome of an attempt told to the features that listen, and
the charge bookkeeping more than one movement does."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from core.errors import DomainError, InvalidRequestError, ResourceMissing
from core.prepared import PreparedQuery
from core.scope import Scope
from events.services import event_emit
from payments import attempts
from payments import presenters as payment_presenters
from payments.attempts import Release
from payments.models import Attempt, Charge, PaymentMethod
from payments.processors.base import Decline
from payments.services import payment_method_create_from_data, payment_method_resolve
from routing.selectors import connection_from_driver_row, driver_row, routing_document

from .. import presenters
from ..exceptions import IntentUnexpectedState
from ..models import PaymentIntent

# --- payment method options ---------------------------------------------------------------

#: `payment_method_options[card][request_three_d_secure]`: `automatic` follows the card (a card
#: that asks for 3-D Secure gets the challenge); `any` and `challenge` (Stripe's name) ask for
#: the challenge whenever the card supports it, which every card here does.
THREE_D_SECURE_REQUESTS = ("automatic", "any", "challenge")
THREE_D_SECURE_FORCED = ("any", "challenge")


def check_payment_method_options(options: dict | None) -> None:
    """Refuse what an intent could not honour: options or a `card` entry that are not a hash, or a
    `request_three_d_secure` that is none of the values above. `None` is no options; anything
    else that is not a hash is refused, whether it is falsy (`""`, `[]`, `0`, `false`) or not: a
    face that has an empty spelling of its own (the Stripe dialect's form writes `{}` as `""`)
    reads it as `{}` before calling."""
    if options is None:
        return
    if not isinstance(options, dict):
        raise InvalidRequestError(
            "Invalid object: payment_method_options must be a hash.",
            code="parameter_invalid_hash",
            param="payment_method_options",
        )
    card = options.get("card")
    if card is None:
        return
    if not isinstance(card, dict):
        raise InvalidRequestError(
            "Invalid object: payment_method_options[card] must be a hash.",
            code="parameter_invalid_string",
            param="payment_method_options[card]",
        )
    request = card.get("request_three_d_secure")
    if request is not None and request not in THREE_D_SECURE_REQUESTS:
        raise InvalidRequestError(
            f"Invalid payment_method_options[card][request_three_d_secure]: must be one of "
            f"{', '.join(THREE_D_SECURE_REQUESTS)}.",
            code="parameter_invalid_string",
            param="payment_method_options[card][request_three_d_secure]",
        )


def three_d_secure_forced(pi: PaymentIntent) -> bool:
    """The intent asks for the challenge whatever the card would do (`any`)."""
    card = (pi.payment_method_options or {}).get("card") or {}
    return card.get("request_three_d_secure") in THREE_D_SECURE_FORCED


# --- locks and the state check ---------------------------------------------------------------


def _intent_lock_query(variant: tuple, payment_intent_id: str, account_id: str | None = None):
    """The lock of `lock_intent`: by id (and, with a scope, by account and mode), the attempt
    recorded on it read along (`attempts.with_recorded`); with `with_charge`, its latest charge
    locked too (and that charge's method read along); `related` rows read along, unlocked.
    Primary-key lookups: no ORDER BY, no LIMIT."""
    related, livemode, with_charge, routed = variant
    filters = {"id": payment_intent_id}
    if account_id is not None:
        filters.update(account_id=account_id, livemode=livemode)
    # FOR UPDATE OF the intent (and its charge) only; no bare select_related(), which would
    # follow every foreign key and lock the account's row too, serialising all of an
    # account's payments
    queryset: QuerySet[Any]
    if with_charge:
        queryset = (
            PaymentIntent.objects.select_for_update(of=("self", "latest_charge"))
            .select_related("latest_charge", "latest_charge__payment_method", *related)
            # of its connection, only what its driver is made of, for the call
            .annotate(charge_driver=driver_row(CHARGE_PROCESSOR))
            # the method's magic id is neither shown nor called with
            .defer("latest_charge__payment_method__magic_id")
            # a condition on the charge's own column makes the join an inner one (FOR UPDATE
            # cannot lock the nullable side of an outer join)
            .filter(latest_charge__payment_intent_id=payment_intent_id)
        )
    else:
        queryset = PaymentIntent.objects.select_for_update(of=("self",))
        if related:
            queryset = queryset.select_related(*related)
    if routed:  # a confirm: where it may go, read along (routing.selectors.routing_document)
        queryset = queryset.annotate(routing=routing_document(INTENT_TABLE))
    return attempts.with_recorded(queryset.filter(**filters))


INTENT_TABLE = f'"{PaymentIntent._meta.db_table}"'
_CHARGE = Charge._meta.db_table
CHARGE_PROCESSOR = f'"{_CHARGE}"."processor_id"'

# compiled once per connection: these run two or three times in every money movement
_INTENT_LOCK = PreparedQuery(_intent_lock_query)


@dataclass
class Held:
    """What a movement on an intent locks: the intent and, when it has one, the charge the
    movement is about (the latest; with its payment method)."""

    pi: PaymentIntent
    charge: Charge | None = None


def lock_intent(
    payment_intent_id: str,
    *,
    scope: Scope | None = None,
    related: tuple[str, ...] = (),
    with_charge: bool = False,
    routed: bool = False,
) -> Held:
    """`select_for_update()` the intent within the caller's `scope` (without a scope only for
    the id of an attempt already checked against one, or a worker's own row), with the attempt
    recorded on it read along. With `with_charge`, its latest charge is locked with it in the
    same statement. `related` rows are read along, unlocked. With `routed`, the intent's
    routing document too (`pi.routing`: its scope's connections and its flow)."""
    variant = (tuple(related), scope.livemode if scope else None, with_charge, routed)
    strings = (payment_intent_id,) if scope is None else (payment_intent_id, scope.account_id)
    rows = _INTENT_LOCK.rows(variant, *strings)
    if not rows and with_charge:  # no charge yet: the intent alone
        rows = _INTENT_LOCK.rows((tuple(related), variant[1], False, routed), *strings)
    if not rows:
        raise ResourceMissing("payment_intent", payment_intent_id)
    pi = rows[0]
    charge = pi.latest_charge if with_charge and pi.latest_charge_id else None
    if charge is not None:
        charge.payment_intent = pi  # the locked intent: charge_to_api reads it without a query
        if charge.processor_id is not None and pi.charge_driver is not None:
            # its connection, cached on the charge as select_related would (no query)
            Charge.processor.field.set_cached_value(
                charge, connection_from_driver_row(charge.processor_id, pi.charge_driver)
            )
    return Held(pi, charge)


def relock(attempt: Attempt) -> Held:
    """Phase 2's lock for an attempt on an intent: the intent and the attempt's charge (one
    statement while that charge is still the intent's latest)."""
    assert attempt.payment_intent_id is not None  # an attempt on an intent names it
    held = lock_intent(attempt.payment_intent_id, with_charge=attempt.charge_id is not None)
    if attempt.charge_id and (held.charge is None or held.charge.id != attempt.charge_id):
        held.charge = lock_charge(attempt.charge_id, held.pi)
    return held


def lock_charge(charge_id: str, pi: PaymentIntent | None = None) -> Charge:
    """`select_for_update()` a charge (its method and intent read along, unlocked)."""
    related: tuple[str, ...] = ("payment_method", "processor")
    if pi is None:
        related += ("payment_intent",)
    charge = (
        Charge.objects.select_for_update(of=("self",)).select_related(*related).get(id=charge_id)
    )
    if pi is not None:
        charge.payment_intent = pi  # the locked intent: charge_to_api reads it without a query
    return charge


def check(pi: PaymentIntent, allowed: Iterable, verb: str) -> None:
    """The locked intent may be `verb`ed: its status is allowed."""
    if pi.status not in allowed:
        raise IntentUnexpectedState.status(pi, verb, allowed)


class IntentMovement(attempts.Movement[Held]):
    """A movement on a PaymentIntent: its target is the intent, phase 2 relocks it with the
    attempt's charge, and a movement refused while another attempt is under way on the intent
    says so (400 `payment_intent_unexpected_state`, marked retryable)."""

    verb: str = ""
    allowed: tuple = ()

    def target(self, locked: Held) -> PaymentIntent:
        return locked.pi

    def in_progress(self, locked: Held) -> DomainError | attempts.Settled[Any]:
        return IntentUnexpectedState.in_progress(locked.pi, self.verb, list(self.allowed))

    def relock(self, attempt: Attempt) -> Held:
        return relock(attempt)


# --- events ----------------------------------------------------------------------------------

# each model's presenter takes an instance of it
_PRESENTERS: dict[type[PaymentIntent | Charge], tuple[str, Callable[[Any], dict[str, Any]]]] = {
    PaymentIntent: ("payment_intent", presenters.payment_intent_to_api),
    Charge: ("charge", payment_presenters.charge_to_api),
}


def snapshot(obj: PaymentIntent | Charge) -> dict:
    """The object as the API shows it now: the `before` of an event's previous_attributes."""
    return _PRESENTERS[type(obj)][1](obj)


def emit(*changes: tuple[PaymentIntent | Charge, str, dict | None]) -> None:
    """The `payment_intent.<event>` / `charge.<event>` events of one transaction's changes,
    each `(obj, event, before)`, written by the one event writer (one INSERT)."""
    events = []
    for obj, event, before in changes:
        name, present = _PRESENTERS[type(obj)]
        events.append((f"{name}.{event}", present(obj), before))
    event_emit(scope=Scope.of(changes[0][0]), changes=events)


# --- what the features learn of an attempt ----------------------------------------------------


@dataclass(frozen=True)
class PaymentOutcome:
    """The outcome of a payment attempt (`charge`) on an intent: `requires_action`,
    `processing`, `succeeded` or `failed` (with its decline code)."""

    pi: PaymentIntent
    charge: Charge
    status: str
    decline_code: str | None = None


@cache
def _listeners() -> tuple[Callable[[PaymentOutcome], None], ...]:
    return tuple(import_string(path) for path in settings.PAYMENT_OUTCOME_LISTENERS)


def announce(
    pi: PaymentIntent, charge: Charge, status: str, decline_code: str | None = None
) -> None:
    """Tell the features built on payments (settings.PAYMENT_OUTCOME_LISTENERS: the tracked
    checkout, the checkout intent) the outcome of attempt `charge`, in the caller's phase 2
    transaction, so what they record commits or rolls back with the outcome itself. An intent
    linked to neither costs no query: each listener looks at its own link first."""
    outcome = PaymentOutcome(pi, charge, status, decline_code)
    for listener in _listeners():
        listener(outcome)


# --- payment methods -------------------------------------------------------------------------


def resolve_payment_method(
    *,
    scope: Scope,
    payment_method_id: str | None = None,
    payment_method_data: dict | None = None,
    connections: list | None = None,
) -> PaymentMethod | None:
    """A method id (magic ids create a fresh row, tokenized at `connections`, the scope's
    active ones when not given) or inline `payment_method_data`."""
    if payment_method_id:
        return payment_method_resolve(
            scope=scope,
            payment_method_id=payment_method_id,
            param="payment_method",
            connections=connections,
        )
    if payment_method_data:
        return payment_method_create_from_data(
            scope=scope,
            data=dict(payment_method_data),
            param="payment_method_data",
            connections=connections,
        )
    return None


# --- charges ---------------------------------------------------------------------------------


def payment_error(
    *, charge: Charge | None, pm: PaymentMethod | None, decline: Decline, type: str = "card_error"
) -> dict:
    """An intent's `last_payment_error` for a failed attempt."""
    return {
        "charge": charge.id if charge else None,
        "code": decline.code,
        "decline_code": decline.decline_code,
        "doc_url": f"https://stripe.com/docs/error-codes/{decline.code.replace('_', '-')}",
        "message": decline.message,
        "payment_method": payment_presenters.payment_method_to_api(pm) if pm is not None else None,
        "type": type,
    }


def fail_pending_charge(pi: PaymentIntent, message: str) -> None:
    """The intent's latest attempt will never complete (canceled during 3-D Secure or while
    processing, replaced by a new one, abandoned): a pending charge is failed."""
    if pi.latest_charge_id:
        Charge.objects.filter(id=pi.latest_charge_id, status=Charge.Status.PENDING).update(
            status=Charge.Status.FAILED, failure_message=message, updated=timezone.now()
        )


def release_charge(pi: PaymentIntent, *, owed: bool = True) -> tuple[Release, ...]:
    """The intent's authorisation holds no money any more (canceled, expired): its charge is
    marked released, in the caller's locked transaction, and, unless the caller's processor
    call made the release already (`owed=False`), a `release` attempt is recorded with it:
    `Settled.release` makes it once the transaction commits (the reconciler, if a crash comes
    first)."""
    if not pi.latest_charge_id:
        return ()
    now = timezone.now()
    Charge.objects.filter(id=pi.latest_charge_id).update(
        authorized=False, released=True, updated=now
    )
    if not owed:
        return ()
    charge = Charge(id=pi.latest_charge_id, account_id=pi.account_id, livemode=pi.livemode)
    charge.payment_intent_id = pi.id
    return (attempts.release_recorded(charge),)


def expire(pi: PaymentIntent) -> tuple[Release, ...]:
    """Cancel a locked authorisation past its expiry (reason `expired`, as `as_shown()` showed
    it) and release its charge; returns the processor release to make after commit."""
    before = snapshot(pi)
    pi.expire(at=pi.expires_at)
    pi.save()
    released = release_charge(pi)
    emit((pi, "canceled", before))
    return released

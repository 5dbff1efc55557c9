"""The one interface every processor implements. The intent services call only this; they never
know which processor is behind it (`payments.processors.drivers.driver_for(connection)`).

Calls here may be network calls: services make them outside any transaction that holds a row lock
(`payments.attempts.two_phase`).

Every call that moves money (`authorize`, `capture`, `void`, `increment`, `resolve_async`) is
given an `attempt_id` (`att_…`) recorded on our side before the call: the processor's
idempotency key. Asked again with the same id, a processor answers what it answered the first
time without doing anything twice, and `lookup(attempt_id=…)` tells what it did with an attempt
(or None if it never received it): after a crash, the reconciler learns the outcome of a call
whose answer was lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class RawCard:
    """Card data as it arrives in a request. Lives only in memory; never stored or logged."""

    number: str
    exp_month: int
    exp_year: int
    cvc: str | None = None

    def __repr__(self) -> str:  # keep the number and CVC out of tracebacks and logs
        return f"RawCard(last4={self.number[-4:]!r}, exp={self.exp_month}/{self.exp_year})"


@dataclass(frozen=True)
class TokenizedCard:
    """What may be stored about a card: no number, no CVC."""

    brand: str
    last4: str
    exp_month: int
    exp_year: int
    funding: str
    country: str
    fingerprint: str
    token: str  # the processor's reference to the card (a vault token)


@dataclass(frozen=True)
class Decline:
    code: str  # card_declined, expired_card, incorrect_cvc, processing_error, authentication_required, ...
    decline_code: str | None
    message: str


@dataclass(frozen=True)
class AuthorizationResult:
    """The outcome of an authorisation (with capture when `capture=True`)."""

    status: Literal["succeeded", "requires_action", "processing", "declined"]
    reference: str = ""  # the processor's id for this attempt
    captured: bool = False
    decline: Decline | None = None
    network_status: str = "approved_by_network"
    risk_level: str = "normal"
    extra: dict = field(default_factory=dict)
    # The call failed at the processor (outage, timeout, 5xx, no connection), not at the
    # issuer: counted by the connection's circuit, retried on `processor_error`.
    processor_error: bool = False


@dataclass(frozen=True)
class CaptureResult:
    succeeded: bool
    amount_captured: int
    decline: Decline | None = None
    # the call failed at the processor (see AuthorizationResult.processor_error)
    processor_error: bool = False


@dataclass(frozen=True)
class Received:
    """`lookup`'s answer for an attempt the processor received: what it answered."""

    operation: str  # authorize, verify, capture, void, increment, resolve_async, refund
    outcome: Outcome


@dataclass(frozen=True)
class RefundResult:
    """The processor's answer about a refund: `succeeded`, `failed` (with Stripe's
    `failure_reason`) or `pending` (the outcome comes later: ask `resolve_refund`)."""

    status: Literal["succeeded", "pending", "failed"]
    reference: str = ""  # the processor's id for the refund
    failure_reason: str | None = None


Outcome = AuthorizationResult | CaptureResult | RefundResult | None


def answer_to_json(answer: Outcome | bool) -> dict[str, Any]:
    """A processor's answer as JSON: what the attempt ledger stores as an attempt's answer, and
    what the simulated processor remembers of an attempt. (Flat dataclasses: their fields are
    copied as they are, the decline as a dict of its own; no `asdict`, which deep-copies.)"""
    if isinstance(answer, bool):
        return {"kind": "bool", "value": answer}
    if answer is None:
        return {"kind": "none"}
    kind = _KINDS[type(answer)]
    data: dict[str, Any] = {"kind": kind, **vars(answer)}
    decline = data.get("decline")
    if decline is not None:
        data["decline"] = dict(vars(decline))
    if "extra" in data:
        data["extra"] = dict(data["extra"])
    return data


_KINDS: dict[type, str] = {
    AuthorizationResult: "authorization",
    CaptureResult: "capture",
    RefundResult: "refund",
}


def answer_from_json(stored: dict[str, Any] | None) -> Outcome | bool:
    """The answer `answer_to_json` wrote."""
    if not stored:
        return None
    data = dict(stored)
    kind = data.pop("kind")
    if kind == "none":
        return None
    if kind == "bool":
        return bool(data["value"])
    if kind == "refund":
        return RefundResult(**data)
    decline = Decline(**data.pop("decline")) if data.get("decline") else None
    data.pop("decline", None)
    if kind == "authorization":
        return AuthorizationResult(decline=decline, **data)
    return CaptureResult(decline=decline, **data)


class ProcessorError(Exception):
    """A call the processor did not answer (outage, timeout, 5xx, a connection error). A driver
    raises it (or any exception); the attempt ledger turns it into a failed answer marked
    `processor_error` (payments.attempts.GuardedProcessor)."""


class Processor(Protocol):
    """One driver per processor connection (`routing.ProcessorConnection`).

    `reference` is always our own id (the charge's, or the refund's); `processor_reference` is
    what the processor answered for it earlier (its payment's id, its refund's id), empty when
    it answered none. `in_process`: its records live in this database (the simulator), so a
    movement may run as one transaction. `replays_by_key`: asked again with the same
    idempotency key, it answers the first answer (or makes the call if it never received it),
    so a recorded attempt is settled by asking again rather than by `lookup`."""

    name: str

    @property
    def in_process(self) -> bool: ...

    replays_by_key: bool

    def tokenize(self, *, card: RawCard, livemode: bool) -> TokenizedCard:
        """Validate and vault a card. Raises `payments.exceptions.CardError`-style errors on a bad card."""

    def authorize(
        self,
        *,
        attempt_id: str,
        reference: str,
        token: str,
        amount: int,
        currency: str,
        capture: bool,
        off_session: bool,
        three_d_secure_passed: bool,
        livemode: bool,
        processor_reference: str = "",
        return_url: str = "",
        request_three_d_secure: bool = False,
    ) -> AuthorizationResult:
        """Authorise (and capture, if `capture`) `amount`. `request_three_d_secure`: the
        merchant asks for the challenge even where the card would go without (answered
        `requires_action` unless already passed or off session). `attempt_id` is the processor's
        idempotency key for this call, `reference` our charge id. After a passed 3-D Secure
        challenge (`three_d_secure_passed`), `processor_reference` is the payment the
        processor answered `requires_action` for: its outcome is the answer. A `requires_action`
        answer may carry `extra["redirect_url"]`: the processor's own challenge page, which
        sends the customer back to `return_url` (our hosted 3-D Secure page) once done."""

    def verify(
        self,
        *,
        attempt_id: str,
        reference: str,
        token: str,
        usage: str,
        three_d_secure_passed: bool,
        livemode: bool,
        processor_reference: str = "",
        return_url: str = "",
    ) -> AuthorizationResult:
        """Check a card with its issuer for later payments (a SetupIntent's confirm), charging
        nothing: `succeeded`, `requires_action` (the customer's 3-D Secure challenge first; its
        `extra["redirect_url"]` as for `authorize`) or `declined`. `reference` is our
        SetupIntent's id, `attempt_id` the idempotency key; after a passed challenge
        (`three_d_secure_passed`), `processor_reference` is what the processor answered
        `requires_action` for."""

    def authenticate(
        self, *, reference: str, token: str, succeeded: bool, processor_reference: str = ""
    ) -> bool:
        """Record the 3-D Secure challenge outcome; True when the customer passed."""

    def capture(
        self, *, attempt_id: str, reference: str, amount: int, processor_reference: str = ""
    ) -> CaptureResult:
        """Capture `amount` (≤ the authorised amount) of an authorisation; the rest is released."""

    def void(self, *, attempt_id: str, reference: str, processor_reference: str = "") -> None:
        """Release an uncaptured authorisation."""

    def increment(
        self,
        *,
        attempt_id: str,
        reference: str,
        token: str,
        new_amount: int,
        processor_reference: str = "",
    ) -> AuthorizationResult:
        """Raise an authorisation to `new_amount` (echoed in the answer's `extra["amount"]`)."""

    def resolve_async(
        self,
        *,
        attempt_id: str,
        reference: str,
        token: str,
        capture: bool,
        processor_reference: str = "",
    ) -> AuthorizationResult:
        """The final outcome of an attempt that answered `processing`."""

    def lookup(self, *, attempt_id: str) -> Received | None:
        """What the processor did with attempt `attempt_id`; None if it never received it."""

    def refund(
        self,
        *,
        reference: str,
        charge_reference: str,
        token: str,
        amount: int,
        currency: str,
        processor_reference: str = "",
    ) -> RefundResult:
        """Give `amount` of a captured charge back. `reference` is our refund id: the
        processor's idempotency key, so asking again after a crash is the same refund;
        `processor_reference` is the charge's payment at the processor."""

    def resolve_refund(
        self, *, reference: str, token: str, processor_reference: str = ""
    ) -> RefundResult:
        """The outcome of a refund that answered `pending` (still `pending` if not known yet);
        `processor_reference` is the refund's id at the processor."""

    def cancel_refund(self, *, reference: str, processor_reference: str = "") -> bool:
        """Stop a refund that has not completed; True when it is stopped."""

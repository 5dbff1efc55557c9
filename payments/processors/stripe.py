"""The `stripe` driver: a processor connection to any server speaking Stripe's v1 API (Stripe
itself, or another instance of this service), through the official `stripe` library.

What the upstream holds for one of our charges is one PaymentIntent, created and confirmed in
one call keyed by our attempt id (`Idempotency-Key`), its metadata naming our charge and attempt.
Captures, voids and increments are keyed by their own attempt ids, a refund by our refund id, so
asked again with the same id the upstream answers its first answer and does nothing twice
(`replays_by_key`). A card is vaulted upstream: our token is the upstream PaymentMethod's `pm_…`.

Errors: a card problem at tokenisation raises the `payments.exceptions` card error it names; a
decline (402) is a `declined` answer; anything else the upstream answers or fails to answer
(no connection, timeout, 5xx, 429, a 400 that is no card problem, a refused key) raises
`ProcessorError`, whose message never carries the API key. The library's own retries are off
(`max_network_retries=0`): retrying is the attempt ledger's decision, not the driver's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import stripe
from django.conf import settings

from ..exceptions import (
    MESSAGES,
    CardDeclined,
    IncorrectNumber,
    InvalidCard,
    InvalidCvc,
    InvalidExpiryMonth,
    InvalidExpiryYear,
)
from .base import (
    AuthorizationResult,
    CaptureResult,
    Decline,
    ProcessorError,
    RawCard,
    Received,
    RefundResult,
    TokenizedCard,
)

# Metadata keys of the upstream PaymentIntent: our charge and the attempt that made it.
CHARGE_KEY = "payintents_charge"
ATTEMPT_KEY = "payintents_attempt"
REFUND_KEY = "payintents_refund"
SETUP_KEY = "payintents_setup_intent"

_CARD_PROBLEMS = (stripe.CardError, stripe.InvalidRequestError)
# A card error at tokenisation, by the upstream's code: the same error here.
_CARD_ERRORS: dict[str, Callable[[], InvalidCard]] = {
    "incorrect_number": IncorrectNumber,
    "invalid_number": IncorrectNumber,
    "invalid_expiry_month": InvalidExpiryMonth,
    "invalid_expiry_year": InvalidExpiryYear,
    "invalid_cvc": InvalidCvc,
}


class _NoRequestBodies(logging.Filter):
    """The library logs each request's body at DEBUG ("Post details"): a tokenisation's body
    is the card number and CVC. Those lines never leave the `stripe` logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno <= logging.DEBUG and "Post details" in record.getMessage())


_stripe_logger = logging.getLogger("stripe")
if not any(isinstance(f, _NoRequestBodies) for f in _stripe_logger.filters):
    _stripe_logger.addFilter(_NoRequestBodies())


class StripeProcessor:
    """One connection's driver: an API key (a secret or restricted key of the upstream account)
    and the upstream's base URL (empty: Stripe's own, https://api.stripe.com)."""

    name = "stripe"
    in_process = False
    replays_by_key = True

    def __init__(
        self,
        *,
        api_key: str,
        api_base: str = "",
        timeout: float | None = None,
        return_url: str = "",
    ) -> None:
        if not api_key:
            raise ProcessorError("The stripe connection has no API key.")
        self._api_key = api_key
        self.api_base = api_base.rstrip("/")
        # `timeout` defaults to PROCESSOR_CALL_TIMEOUT_SECONDS as it is when the driver is made
        self.timeout = (
            float(timeout)
            if timeout is not None
            else float(settings.PROCESSOR_CALL_TIMEOUT_SECONDS)
        )
        # Where the upstream's 3-D Secure page sends the customer back to (an upstream asks for
        # one on every on-session confirm); empty: this service's public address.
        self._return_url = return_url
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": self.api_base} if self.api_base else {},
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=self.timeout),
        )

    def __repr__(self) -> str:  # never the key
        return f"StripeProcessor(api_base={self.api_base or 'https://api.stripe.com'!r})"

    @property
    def return_url(self) -> str:
        return self._return_url or settings.PUBLIC_BASE_URL.rstrip("/") + "/"

    # --- vault ---------------------------------------------------------------------------

    def tokenize(self, *, card: RawCard, livemode: bool) -> TokenizedCard:
        self._check_mode(livemode)
        details: dict[str, Any] = {
            "number": card.number,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
        }
        if card.cvc not in (None, ""):
            details["cvc"] = card.cvc
        params: Any = {"type": "card", "card": details}
        try:
            with self._upstream("create a payment method", let_through=_CARD_PROBLEMS):
                method = self._client.v1.payment_methods.create(params=params)
        except (stripe.CardError, stripe.InvalidRequestError) as error:
            raise self._card_error(error) from None
        upstream_card = method.get("card") or {}
        return TokenizedCard(
            brand=upstream_card.get("brand") or "unknown",
            last4=upstream_card.get("last4") or "",
            exp_month=int(upstream_card.get("exp_month") or card.exp_month),
            exp_year=int(upstream_card.get("exp_year") or card.exp_year),
            funding=upstream_card.get("funding") or "unknown",
            country=upstream_card.get("country") or "",
            fingerprint=upstream_card.get("fingerprint") or "",
            token=method.id,
        )

    def _card_error(self, error: stripe.StripeError) -> Exception:
        """A card problem the upstream found at tokenisation, as our own error (any other
        400 is a ProcessorError)."""
        code = error.code or ""
        known = _CARD_ERRORS.get(code)
        if known is not None:
            return known()
        if isinstance(error, stripe.CardError):
            detail = error.error
            return CardDeclined(
                error.user_message or "Your card was declined.",
                code=code or "card_declined",
                decline_code=(detail.get("decline_code") if detail else None) or code or None,
            )
        return self._processor_error("create a payment method", error)

    # --- payments ------------------------------------------------------------------------

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
        self._check_mode(livemode)
        if three_d_secure_passed and processor_reference:
            # the challenge happened upstream: the payment's outcome is what it says now
            return self._after_challenge(self._retrieve(processor_reference))
        params: Any = {
            "amount": amount,
            "currency": currency,
            "payment_method": token,
            "payment_method_types": ["card"],
            "confirm": True,
            "capture_method": "automatic" if capture else "manual",
            "metadata": {CHARGE_KEY: reference, ATTEMPT_KEY: attempt_id},
            "expand": ["latest_charge"],
        }
        card_options: dict[str, str] = {}
        if not capture:
            # Stripe increments only an authorisation that asked for it when it was made
            card_options["request_incremental_authorization"] = "if_available"
        if request_three_d_secure:
            card_options["request_three_d_secure"] = "any"
        if card_options:
            params["payment_method_options"] = {"card": card_options}
        if off_session:
            params["off_session"] = True
        else:
            params["return_url"] = return_url or self.return_url
        try:
            with self._upstream("create and confirm a payment"):
                intent = self._client.v1.payment_intents.create(
                    params=params,
                    options={"idempotency_key": attempt_id},
                )
        except stripe.CardError as error:
            return _declined_by(error)
        return _authorization(intent)

    def _after_challenge(self, intent: stripe.PaymentIntent) -> AuthorizationResult:
        status = intent.get("status")
        if status == "requires_action":  # the customer did not complete the challenge upstream
            return _declined(intent.id, "authentication_required", "authentication_required")
        return _authorization(intent)

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
        """An upstream SetupIntent, created and confirmed in one call keyed by the attempt id."""
        self._check_mode(livemode)
        if three_d_secure_passed and processor_reference:
            with self._upstream("retrieve a setup"):
                upstream = self._client.v1.setup_intents.retrieve(processor_reference)
            if upstream.get("status") == "requires_action":  # the challenge was not completed
                return _declined(upstream.id, "authentication_required", "authentication_required")
            return _verification(upstream)
        params: Any = {
            "payment_method": token,
            "payment_method_types": ["card"],
            "confirm": True,
            "usage": usage,
            "metadata": {SETUP_KEY: reference, ATTEMPT_KEY: attempt_id},
            "return_url": return_url or self.return_url,
        }
        try:
            with self._upstream("create and confirm a setup"):
                upstream = self._client.v1.setup_intents.create(
                    params=params, options={"idempotency_key": attempt_id}
                )
        except stripe.CardError as error:
            detail = error.error
            setup = getattr(detail, "setup_intent", None) if detail else None
            decline = _decline_of(error)
            return _declined(
                (setup.get("id") if setup else None) or "",
                decline.code,
                decline.decline_code,
                decline.message,
            )
        return _verification(upstream)

    def authenticate(
        self, *, reference: str, token: str, succeeded: bool, processor_reference: str = ""
    ) -> bool:
        # The challenge is the upstream's own page (`extra["redirect_url"]`): what the customer
        # did there is read back by `authorize(three_d_secure_passed=True)`.
        return bool(succeeded)

    def capture(
        self, *, attempt_id: str, reference: str, amount: int, processor_reference: str = ""
    ) -> CaptureResult:
        intent_id = _required(processor_reference, "capture")
        try:
            with self._upstream("capture a payment"):
                intent = self._client.v1.payment_intents.capture(
                    intent_id,
                    params={"amount_to_capture": amount},
                    options={"idempotency_key": attempt_id},
                )
        except stripe.CardError as error:
            return CaptureResult(succeeded=False, amount_captured=0, decline=_decline_of(error))
        if intent.get("status") != "succeeded":
            raise ProcessorError(
                f"The upstream answered a capture of {intent_id} with status "
                f"{intent.get('status')!r}."
            )
        return CaptureResult(succeeded=True, amount_captured=int(intent.get("amount_received", 0)))

    def void(self, *, attempt_id: str, reference: str, processor_reference: str = "") -> None:
        intent_id = _required(processor_reference, "void")
        try:
            with self._upstream("cancel a payment", let_through=(stripe.InvalidRequestError,)):
                self._client.v1.payment_intents.cancel(
                    intent_id, options={"idempotency_key": attempt_id}
                )
        except stripe.InvalidRequestError as error:
            if not _canceled_already(error):
                raise self._processor_error("cancel a payment", error) from None
            # released already (by the upstream's expiry, or an earlier void): nothing to do

    def increment(
        self,
        *,
        attempt_id: str,
        reference: str,
        token: str,
        new_amount: int,
        processor_reference: str = "",
    ) -> AuthorizationResult:
        intent_id = _required(processor_reference, "increment")
        try:
            with self._upstream("increment an authorisation"):
                intent = self._client.v1.payment_intents.increment_authorization(
                    intent_id,
                    params={"amount": new_amount},
                    options={"idempotency_key": attempt_id},
                )
        except stripe.CardError as error:
            return _declined_by(error, reference=intent_id)
        return AuthorizationResult(
            status="succeeded",
            reference=intent.id,
            captured=False,
            extra={"amount": int(intent.get("amount", new_amount))},
        )

    def resolve_async(
        self,
        *,
        attempt_id: str,
        reference: str,
        token: str,
        capture: bool,
        processor_reference: str = "",
    ) -> AuthorizationResult:
        return _authorization(self._retrieve(_required(processor_reference, "resolve")))

    def lookup(self, *, attempt_id: str) -> Received | None:
        """Only authorisations carry their attempt id upstream (in metadata); search is
        eventually consistent upstream, so "not found" is not "never received": it raises."""
        query = f"metadata['{ATTEMPT_KEY}']:'{_quoted(attempt_id)}'"
        with self._upstream("search payments"):
            found = self._client.v1.payment_intents.search(
                params={"query": query, "limit": 1, "expand": ["data.latest_charge"]}
            )
        if not found.data:
            raise ProcessorError(
                f"The upstream has no payment for attempt {attempt_id} (yet): its outcome is "
                "unknown."
            )
        return Received(operation="authorize", outcome=_authorization(found.data[0]))

    # --- refunds -------------------------------------------------------------------------

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
        intent_id = _required(processor_reference, "refund")
        with self._upstream("create a refund"):
            refund = self._client.v1.refunds.create(
                params={
                    "payment_intent": intent_id,
                    "amount": amount,
                    "metadata": {REFUND_KEY: reference, CHARGE_KEY: charge_reference},
                },
                options={"idempotency_key": reference},
            )
        return _refund_result(refund)

    def resolve_refund(
        self, *, reference: str, token: str, processor_reference: str = ""
    ) -> RefundResult:
        refund_id = _required(processor_reference, "resolve a refund")
        with self._upstream("retrieve a refund"):
            refund = self._client.v1.refunds.retrieve(refund_id)
        return _refund_result(refund)

    def cancel_refund(self, *, reference: str, processor_reference: str = "") -> bool:
        refund_id = _required(processor_reference, "cancel a refund")
        try:
            with self._upstream("cancel a refund", let_through=(stripe.InvalidRequestError,)):
                refund = self._client.v1.refunds.cancel(refund_id)
        except stripe.InvalidRequestError:
            # not cancelable (any more): it is stopped only if it was canceled already
            with self._upstream("retrieve a refund"):
                refund = self._client.v1.refunds.retrieve(refund_id)
        return refund.get("status") == "canceled"

    # --- helpers -------------------------------------------------------------------------

    def _retrieve(self, intent_id: str) -> stripe.PaymentIntent:
        with self._upstream("retrieve a payment"):
            return self._client.v1.payment_intents.retrieve(
                intent_id, params={"expand": ["latest_charge"]}
            )

    def _check_mode(self, livemode: bool) -> None:
        """A test key never serves live payments, nor a live key test ones (real cards would be
        charged for test payments)."""
        key_mode = _key_mode(self._api_key)
        if key_mode is not None and key_mode != ("live" if livemode else "test"):
            raise ProcessorError(
                f"This connection's API key is a {key_mode}-mode key: it cannot serve "
                f"{'live' if livemode else 'test'}-mode payments."
            )

    @contextmanager
    def _upstream(
        self, doing: str, *, let_through: tuple[type[stripe.StripeError], ...] = ()
    ) -> Iterator[None]:
        """Every library error as a ProcessorError but a card error (402) and `let_through`,
        which the caller reads itself. Never chained: the message says what the library's
        said, with nothing of the key."""
        try:
            yield
        except stripe.CardError:
            raise
        except let_through:
            raise
        except stripe.StripeError as error:
            raise self._processor_error(doing, error) from None

    def _processor_error(self, doing: str, error: stripe.StripeError) -> ProcessorError:
        if isinstance(error, stripe.APIConnectionError):
            what = "could not be reached"
        elif isinstance(error, (stripe.AuthenticationError, stripe.PermissionError)):
            what = "refused this connection's API key"
        elif isinstance(error, stripe.RateLimitError):
            what = "is rate limiting this connection"
        else:
            what = "answered an error"
        parts = [f"{type(error).__name__}"]
        if error.http_status:
            parts.append(f"HTTP {error.http_status}")
        if error.code:
            parts.append(f"code {error.code}")
        if error.request_id:
            parts.append(f"request {error.request_id}")
        message = " ".join(self._redacted(error.user_message or "").split())
        return ProcessorError(
            f"Could not {doing}: the upstream {self.api_base or 'api.stripe.com'} {what} "
            f"({', '.join(parts)}){': ' + message if message else ''}"
        )

    def _redacted(self, text: str) -> str:
        return text.replace(self._api_key, "[api key]") if self._api_key else text


def _canceled_already(error: stripe.InvalidRequestError) -> bool:
    detail = error.error
    intent = detail.get("payment_intent") if detail else None
    return intent is not None and intent.get("status") == "canceled"


def _key_mode(api_key: str) -> str | None:
    for prefix in ("sk_", "rk_"):
        for mode in ("test", "live"):
            if api_key.startswith(f"{prefix}{mode}_"):
                return mode
    return None


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _required(processor_reference: str, doing: str) -> str:
    if not processor_reference:
        raise ProcessorError(f"Cannot {doing}: no upstream payment is known for it.")
    return processor_reference


# --- the upstream's answers as ours ----------------------------------------------------------


def _authorization(intent: stripe.PaymentIntent) -> AuthorizationResult:
    """An upstream PaymentIntent's status as an authorisation's outcome."""
    status = intent.get("status")
    network_status, risk_level = _outcome(intent)
    if status in ("succeeded", "requires_capture"):
        return AuthorizationResult(
            status="succeeded",
            reference=intent.id,
            captured=status == "succeeded",
            network_status=network_status or "approved_by_network",
            risk_level=risk_level or "normal",
        )
    if status == "requires_action":
        action = intent.get("next_action") or {}
        redirect = (action.get("redirect_to_url") or {}).get("url")
        return AuthorizationResult(
            status="requires_action",
            reference=intent.id,
            extra={"redirect_url": redirect} if redirect else {},
        )
    if status == "processing":
        return AuthorizationResult(status="processing", reference=intent.id)
    if status == "requires_payment_method":
        error = intent.get("last_payment_error")
        if error:
            code = error.get("code") or "card_declined"
            return _declined(
                intent.id, code, error.get("decline_code") or code, error.get("message")
            )
        return _declined(intent.id, "authentication_required", "authentication_required")
    if status == "canceled":
        return _declined(intent.id, "processing_error", "processing_error")
    raise ProcessorError(f"The upstream payment {intent.id} is in an unexpected state {status!r}.")


def _verification(setup: stripe.SetupIntent) -> AuthorizationResult:
    """An upstream SetupIntent's status as a verification's outcome."""
    status = setup.get("status")
    if status == "succeeded":
        return AuthorizationResult(status="succeeded", reference=setup.id)
    if status == "requires_action":
        action = setup.get("next_action") or {}
        redirect = (action.get("redirect_to_url") or {}).get("url")
        return AuthorizationResult(
            status="requires_action",
            reference=setup.id,
            extra={"redirect_url": redirect} if redirect else {},
        )
    if status == "requires_payment_method":
        error = setup.get("last_setup_error") or {}
        code = error.get("code") or "card_declined"
        return _declined(setup.id, code, error.get("decline_code") or code, error.get("message"))
    if status == "processing":  # not settled yet upstream: the ledger asks again later
        raise ProcessorError(f"The upstream setup {setup.id} is still processing.")
    raise ProcessorError(f"The upstream setup {setup.id} is in an unexpected state {status!r}.")


def _outcome(intent: stripe.PaymentIntent) -> tuple[str | None, str | None]:
    charge = intent.get("latest_charge")
    outcome = charge.get("outcome") if isinstance(charge, dict) else None
    if not outcome:
        return None, None
    return outcome.get("network_status"), outcome.get("risk_level")


def _decline_of(error: stripe.CardError) -> Decline:
    detail = error.error
    code = error.code or "card_declined"
    decline_code = (detail.get("decline_code") if detail else None) or code
    return Decline(
        code=code,
        decline_code=decline_code,
        message=error.user_message or _message(code, decline_code),
    )


def _declined_by(error: stripe.CardError, *, reference: str = "") -> AuthorizationResult:
    """A 402: the decline, on the upstream payment the error names."""
    detail = error.error
    intent = detail.get("payment_intent") if detail else None
    decline = _decline_of(error)
    return _declined(
        (intent.get("id") if intent else None) or reference,
        decline.code,
        decline.decline_code,
        decline.message,
    )


# Declines that never reached the issuer.
_NOT_SENT_TO_NETWORK = frozenset(
    {"processing_error", "authentication_required", "payment_intent_authentication_failure"}
)


def _declined(
    reference: str, code: str, decline_code: str | None, message: str | None = None
) -> AuthorizationResult:
    network_status = (
        "not_sent_to_network" if code in _NOT_SENT_TO_NETWORK else "declined_by_network"
    )
    risk_level = (
        "highest" if decline_code in ("lost_card", "stolen_card", "fraudulent") else "normal"
    )
    return AuthorizationResult(
        status="declined",
        reference=reference,
        decline=Decline(
            code=code, decline_code=decline_code, message=message or _message(code, decline_code)
        ),
        network_status=network_status,
        risk_level=risk_level,
    )


def _message(code: str, decline_code: str | None) -> str:
    """Stripe's wording for a decline the upstream gave no message for."""
    return MESSAGES.get(decline_code or "") or MESSAGES.get(code) or MESSAGES["generic_decline"]


def _refund_result(refund: stripe.Refund) -> RefundResult:
    status = refund.get("status")
    if status == "succeeded":
        return RefundResult(status="succeeded", reference=refund.id)
    if status in ("pending", "requires_action"):
        return RefundResult(status="pending", reference=refund.id)
    if status in ("failed", "canceled"):
        return RefundResult(
            status="failed",
            reference=refund.id,
            failure_reason=refund.get("failure_reason") or "unknown",
        )
    raise ProcessorError(f"The upstream refund {refund.id} is in an unexpected state {status!r}.")

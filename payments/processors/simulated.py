"""The simulated processor: the test cards, and a processor's memory of attempts.

Several processes (web, workers) use it at once, so it keeps nothing in memory: the behaviour of
a card is decided at tokenisation from its number and carried in the opaque token
(`simtok_<behaviour>_<random>`), never the number itself. Every later call reads the behaviour back
from the token.

What it did with each attempt it is remembered by attempt id, as a real processor remembers
requests by idempotency key: `payments.models.SimulatedProcessorRecord`, a table standing in for
the processor's own storage (a remote system's, which a crash of ours cannot touch; so not this
process's memory, which a kill -9 would lose). Asked again with the same attempt id, a call
answers what it answered the first time and does nothing twice; `lookup` tells what it did.
A call given no attempt id is answered and not remembered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection

from core.ids import random_base62

from ..exceptions import (
    MESSAGES,
    IncorrectNumber,
    InvalidCvc,
    InvalidExpiryMonth,
    InvalidExpiryYear,
    TestCardInLiveMode,
)
from ..models import SimulatedProcessorRecord
from .base import (
    AuthorizationResult,
    CaptureResult,
    Decline,
    Outcome,
    ProcessorError,
    RawCard,
    Received,
    RefundResult,
    TokenizedCard,
    answer_from_json,
    answer_to_json,
)

TOKEN_PREFIX = "simtok_"

# Behaviours (they go into tokens, so: lowercase letters and digits only, no underscores).
SUCCEED = "succeed"
GENERIC_DECLINE = "genericdecline"
INSUFFICIENT_FUNDS = "insufficientfunds"
LOST_CARD = "lostcard"
STOLEN_CARD = "stolencard"
FRAUDULENT = "fraudulent"
EXPIRED_CARD = "expiredcard"
INCORRECT_CVC = "incorrectcvc"
PROCESSING_ERROR = "processingerror"
VELOCITY_LIMIT = "velocitylimit"
AUTH_REQUIRED = "threedsecure"
AUTH_REQUIRED_DECLINE = "threedsecuredecline"
PROCESSING = "processing"
PROCESSING_DECLINED = "processingdeclined"
REFUND_FAIL = "refundfail"  # pays normally; every refund is pending, then fails

BEHAVIOURS = frozenset(
    {
        SUCCEED,
        GENERIC_DECLINE,
        INSUFFICIENT_FUNDS,
        LOST_CARD,
        STOLEN_CARD,
        FRAUDULENT,
        EXPIRED_CARD,
        INCORRECT_CVC,
        PROCESSING_ERROR,
        VELOCITY_LIMIT,
        AUTH_REQUIRED,
        AUTH_REQUIRED_DECLINE,
        PROCESSING,
        PROCESSING_DECLINED,
        REFUND_FAIL,
    }
)

# The decline each declining behaviour answers with: (error code, decline_code).
_DECLINES = {
    GENERIC_DECLINE: ("card_declined", "generic_decline"),
    INSUFFICIENT_FUNDS: ("card_declined", "insufficient_funds"),
    LOST_CARD: ("card_declined", "lost_card"),
    STOLEN_CARD: ("card_declined", "stolen_card"),
    FRAUDULENT: ("card_declined", "fraudulent"),
    EXPIRED_CARD: ("expired_card", "expired_card"),
    INCORRECT_CVC: ("incorrect_cvc", "incorrect_cvc"),
    PROCESSING_ERROR: ("processing_error", "processing_error"),
    VELOCITY_LIMIT: ("card_declined", "card_velocity_exceeded"),
    # after a passed 3-D Secure challenge
    AUTH_REQUIRED_DECLINE: ("card_declined", "insufficient_funds"),
    # once the worker resolves it
    PROCESSING_DECLINED: ("card_declined", "generic_decline"),
}


# The simulator's answer to every live-mode authorisation.
LIVE_REFUSED = Decline(
    "processing_error",
    "processing_error",
    "The simulated processor takes no live payments: connect a processor for live mode.",
)


def decline_for(code: str, decline_code: str | None) -> Decline:
    message = MESSAGES.get(decline_code or "") or MESSAGES.get(code) or MESSAGES["generic_decline"]
    return Decline(code=code, decline_code=decline_code, message=message)


@dataclass(frozen=True)
class TestCard:
    """A known test number: how it behaves and what the vault says about it."""

    __test__ = False

    number: str
    behaviour: str
    magic_id: str | None = None
    funding: str = "credit"
    country: str = "US"
    aliases: tuple[str, ...] = ()  # other magic ids Stripe gives the same card


TEST_CARDS: tuple[TestCard, ...] = (
    # succeed
    TestCard("4242424242424242", SUCCEED, "pm_card_visa"),
    TestCard("4000056655665556", SUCCEED, "pm_card_visa_debit", funding="debit"),
    TestCard("5555555555554444", SUCCEED, "pm_card_mastercard"),
    TestCard("2223003122003222", SUCCEED),
    TestCard("5200828282828210", SUCCEED, "pm_card_mastercard_debit", funding="debit"),
    TestCard("5105105105105100", SUCCEED, "pm_card_mastercard_prepaid", funding="prepaid"),
    TestCard("378282246310005", SUCCEED, "pm_card_amex"),
    TestCard("371449635398431", SUCCEED),
    TestCard("6011111111111117", SUCCEED, "pm_card_discover"),
    TestCard("3056930009020004", SUCCEED, "pm_card_diners"),
    TestCard("3566002020360505", SUCCEED, "pm_card_jcb", country="JP"),
    TestCard("6200000000000005", SUCCEED, "pm_card_unionpay", country="CN"),
    # declines
    TestCard(
        "4000000000000002",
        GENERIC_DECLINE,
        "pm_card_chargeDeclined",
        aliases=("pm_card_visa_chargeDeclined",),
    ),
    TestCard(
        "4000000000009995",
        INSUFFICIENT_FUNDS,
        "pm_card_chargeDeclinedInsufficientFunds",
        aliases=("pm_card_visa_chargeDeclinedInsufficientFunds",),
    ),
    TestCard(
        "4000000000009987",
        LOST_CARD,
        "pm_card_chargeDeclinedLostCard",
        aliases=("pm_card_visa_chargeDeclinedLostCard",),
    ),
    TestCard(
        "4000000000009979",
        STOLEN_CARD,
        "pm_card_chargeDeclinedStolenCard",
        aliases=("pm_card_visa_chargeDeclinedStolenCard",),
    ),
    TestCard(
        "4100000000000019",
        FRAUDULENT,
        "pm_card_chargeDeclinedFraudulent",
        aliases=("pm_card_visa_chargeDeclinedFraudulent", "pm_card_radarBlock"),
    ),
    TestCard(
        "4000000000000069",
        EXPIRED_CARD,
        "pm_card_chargeDeclinedExpiredCard",
        aliases=("pm_card_visa_chargeDeclinedExpiredCard",),
    ),
    TestCard(
        "4000000000000127",
        INCORRECT_CVC,
        "pm_card_chargeDeclinedIncorrectCvc",
        aliases=("pm_card_visa_chargeDeclinedIncorrectCvc",),
    ),
    TestCard(
        "4000000000000119",
        PROCESSING_ERROR,
        "pm_card_chargeDeclinedProcessingError",
        aliases=("pm_card_visa_chargeDeclinedProcessingError",),
    ),
    TestCard(
        "4000000000006975", VELOCITY_LIMIT, "pm_card_visa_chargeDeclinedVelocityLimitExceeded"
    ),
    # 3-D Secure
    TestCard("4000002760003184", AUTH_REQUIRED, "pm_card_authenticationRequired", country="DE"),
    TestCard("4000000000003220", AUTH_REQUIRED, "pm_card_threeDSecure2Required"),
    TestCard("4000000000003063", AUTH_REQUIRED, "pm_card_threeDSecureRequired"),
    TestCard(
        "4000008260003178",
        AUTH_REQUIRED_DECLINE,
        "pm_card_authenticationRequiredChargeDeclinedInsufficientFunds",
        country="GB",
    ),
    # asynchronous outcome
    TestCard("4000000000000077", PROCESSING, "pm_card_processing"),
    TestCard("4000000000000259", PROCESSING_DECLINED, "pm_card_processingDeclined"),
    # refunds
    TestCard("4000000000005126", REFUND_FAIL, "pm_card_refundFail"),
)

CARDS_BY_NUMBER = {card.number: card for card in TEST_CARDS}
CARDS_BY_MAGIC_ID = {
    magic_id: card
    for card in TEST_CARDS
    for magic_id in ((card.magic_id,) if card.magic_id else ()) + card.aliases
}
# Stripe's test tokens name the same cards: `tok_visa` is `pm_card_visa`'s card,
# `tok_chargeDeclinedInsufficientFunds` is `pm_card_chargeDeclinedInsufficientFunds`'s.
MAGIC_ID_PREFIX = "pm_card_"
TOKEN_ID_PREFIX = "tok_"
CARDS_BY_TOKEN = {
    TOKEN_ID_PREFIX + magic_id.removeprefix(MAGIC_ID_PREFIX): card
    for magic_id, card in CARDS_BY_MAGIC_ID.items()
}


def luhn_valid(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


# The card networks by the number's leading digits (IIN ranges), first match wins: (brand, low,
# high), the number's first len(low) digits between the two. The hosted page reads the same
# table to show the brand as the shopper types (`checkout_pages.views`, `page.js`).
BRAND_RANGES: tuple[tuple[str, str, str], ...] = (
    ("visa", "4", "4"),
    ("mastercard", "51", "55"),
    ("mastercard", "2221", "2720"),
    ("amex", "34", "34"),
    ("amex", "37", "37"),
    ("discover", "6011", "6011"),
    ("discover", "65", "65"),
    ("discover", "644", "649"),
    ("discover", "622126", "622925"),
    ("diners", "36", "36"),
    ("diners", "38", "39"),
    ("diners", "300", "305"),
    ("jcb", "3528", "3589"),
    ("unionpay", "62", "62"),
    ("unionpay", "81", "81"),
)


def brand_for(number: str) -> str:
    """The card network from the number's leading digits (IIN ranges, `BRAND_RANGES`)."""
    for brand, low, high in BRAND_RANGES:
        head = number[: len(low)]
        if len(head) == len(low) and low <= head <= high:
            return brand
    return "unknown"


def _digits(text: str) -> bool:
    """ASCII digits only: `str.isdigit` also takes "²" and full-width "４", which `int()`
    refuses or reads as other digits."""
    return text.isascii() and text.isdigit()


def normalize_number(raw: str) -> str:
    """Digits only; spaces and dashes (as people type them) are dropped."""
    return "".join(ch for ch in str(raw) if ch not in " -")


def fingerprint_for(number: str) -> str:
    key = settings.CARD_FINGERPRINT_KEY
    if isinstance(key, str):
        key = key.encode()
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


def behaviour_of(token: str) -> str | None:
    """`simtok_<behaviour>_<random>` → behaviour; None for a token this processor did not issue."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    behaviour, _, _ = token[len(TOKEN_PREFIX) :].partition("_")
    return behaviour if behaviour in BEHAVIOURS else None


def _now() -> datetime:
    return datetime.now(UTC)


class SimulatedProcessor:
    """The simulator, with a connection's fault behaviour: `normal` (the test cards decide),
    `decline` (every authorisation declined with `decline_code`), `outage` (every call fails
    as a processor error), `timeout` (every call waits PROCESSOR_CALL_TIMEOUT_SECONDS, then
    fails as one); `latency_ms` is added to every call. Tokenising is the simulator's vault,
    which no behaviour touches. A call that fails this way is never remembered: the processor
    never received it."""

    name = "simulated"
    replays_by_key = False

    def __init__(
        self,
        *,
        behavior: str = "normal",
        decline_code: str = "try_again_later",
        latency_ms: int = 0,
    ):
        self.behavior = behavior
        self.decline_code = decline_code
        self.latency_ms = latency_ms

    def _arrive(self) -> None:
        """What the connection's behaviour does to a call before it is answered."""
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        if self.behavior == "outage":
            raise ProcessorError("the simulated processor is in an outage")
        if self.behavior == "timeout":
            time.sleep(settings.PROCESSOR_CALL_TIMEOUT_SECONDS)
            raise ProcessorError("the simulated processor did not answer in time")

    @property
    def in_process(self) -> bool:
        """Its records live in this database and are written on Django's connection, so a
        money movement may run as one transaction (`payments.attempts.two_phase`).
        `SIMULATED_PROCESSOR_IN_PROCESS=0` makes it act as a remote processor would: two
        phases around the call, each in its own transaction."""
        return settings.SIMULATED_PROCESSOR_IN_PROCESS

    # --- vault ---------------------------------------------------------------------------

    def tokenize(self, *, card: RawCard, livemode: bool) -> TokenizedCard:
        number = normalize_number(card.number)
        if not _digits(number) or not 12 <= len(number) <= 19 or not luhn_valid(number):
            raise IncorrectNumber()
        exp_month, exp_year = self._check_expiry(card.exp_month, card.exp_year)
        if card.cvc not in (None, "") and not (
            _digits(str(card.cvc)) and 3 <= len(str(card.cvc)) <= 4
        ):
            raise InvalidCvc()
        known = CARDS_BY_NUMBER.get(number)
        if livemode and known is not None:
            raise TestCardInLiveMode(param="number")
        behaviour = known.behaviour if known else SUCCEED
        return TokenizedCard(
            brand=brand_for(number),
            last4=number[-4:],
            exp_month=exp_month,
            exp_year=exp_year,
            funding=known.funding if known else "credit",
            country=known.country if known else "US",
            fingerprint=fingerprint_for(number),
            token=f"{TOKEN_PREFIX}{behaviour}_{random_base62(24)}",
        )

    @staticmethod
    def _check_expiry(exp_month: int, exp_year: int) -> tuple[int, int]:
        if not isinstance(exp_month, int) or not 1 <= exp_month <= 12:
            raise InvalidExpiryMonth()
        if not isinstance(exp_year, int) or exp_year < 0:
            raise InvalidExpiryYear()
        if exp_year < 100:  # two-digit years, as cards print them
            exp_year += 2000
        now = _now()
        if exp_year < now.year or exp_year > now.year + 50:
            raise InvalidExpiryYear()
        if exp_year == now.year and exp_month < now.month:
            raise InvalidExpiryMonth()
        return exp_month, exp_year

    # --- payments ------------------------------------------------------------------------

    def authorize(
        self,
        *,
        reference: str,
        token: str,
        amount: int,
        currency: str,
        capture: bool,
        off_session: bool,
        three_d_secure_passed: bool,
        livemode: bool,
        attempt_id: str | None = None,
        processor_reference: str = "",
        return_url: str = "",
        request_three_d_secure: bool = False,
    ) -> AuthorizationResult:
        self._arrive()
        if livemode and not settings.SIMULATED_LIVE_PAYMENTS:
            # it moves no real money: a live payment goes to a real processor (a `stripe`
            # connection); here it fails as a processing error, which a flow retries there
            return remembered(
                attempt_id,
                "authorize",
                reference,
                lambda: self._declined(f"sim_{reference}", LIVE_REFUSED),
            )
        if self.behavior == "decline":
            code = self.decline_code
            return remembered(
                attempt_id,
                "authorize",
                reference,
                lambda: self._declined(f"sim_{reference}", decline_for("card_declined", code)),
            )
        return remembered(
            attempt_id,
            "authorize",
            reference,
            lambda: self._authorize(
                reference,
                token,
                capture,
                off_session,
                three_d_secure_passed,
                request_three_d_secure,
            ),
        )

    def _authorize(
        self,
        reference: str,
        token: str,
        capture: bool,
        off_session: bool,
        three_d_secure_passed: bool,
        request_three_d_secure: bool = False,
    ) -> AuthorizationResult:
        behaviour = behaviour_of(token)
        ref = f"sim_{reference}"
        if behaviour is None:
            return self._declined(ref, decline_for("processing_error", "processing_error"))
        wants_challenge = request_three_d_secure or behaviour in (
            AUTH_REQUIRED,
            AUTH_REQUIRED_DECLINE,
        )
        if wants_challenge and not three_d_secure_passed:
            if off_session:
                return self._declined(
                    ref, decline_for("authentication_required", "authentication_required")
                )
            return AuthorizationResult(status="requires_action", reference=ref)
        if behaviour in (PROCESSING, PROCESSING_DECLINED):
            return AuthorizationResult(status="processing", reference=ref)
        return self._final(behaviour, ref, capture)

    def verify(
        self,
        *,
        reference: str,
        token: str,
        usage: str,
        three_d_secure_passed: bool,
        livemode: bool,
        attempt_id: str | None = None,
        processor_reference: str = "",
        return_url: str = "",
    ) -> AuthorizationResult:
        self._arrive()
        if livemode and not settings.SIMULATED_LIVE_PAYMENTS:
            return remembered(
                attempt_id,
                "verify",
                reference,
                lambda: self._declined(f"sim_{reference}", LIVE_REFUSED),
            )
        if self.behavior == "decline":
            code = self.decline_code
            return remembered(
                attempt_id,
                "verify",
                reference,
                lambda: self._declined(f"sim_{reference}", decline_for("card_declined", code)),
            )
        return remembered(
            attempt_id,
            "verify",
            reference,
            lambda: self._verify(reference, token, three_d_secure_passed),
        )

    def _verify(
        self, reference: str, token: str, three_d_secure_passed: bool
    ) -> AuthorizationResult:
        """The issuer's check of a card for later use: the declining cards decline it, the
        3-D Secure cards ask for the challenge first; nothing is charged, so the cards whose
        decline comes with a charge (after the challenge, or later for `processing` ones) pass."""
        behaviour = behaviour_of(token)
        ref = f"sim_{reference}"
        if behaviour is None:
            return self._declined(ref, decline_for("processing_error", "processing_error"))
        if behaviour in (AUTH_REQUIRED, AUTH_REQUIRED_DECLINE) and not three_d_secure_passed:
            return AuthorizationResult(status="requires_action", reference=ref)
        if behaviour in _DECLINES and behaviour not in (AUTH_REQUIRED_DECLINE, PROCESSING_DECLINED):
            code, decline_code = _DECLINES[behaviour]
            return self._declined(ref, decline_for(code, decline_code))
        return AuthorizationResult(status="succeeded", reference=ref, captured=False)

    def authenticate(
        self, *, reference: str, token: str, succeeded: bool, processor_reference: str = ""
    ) -> bool:
        return bool(succeeded) and behaviour_of(token) is not None

    def capture(
        self,
        *,
        reference: str,
        amount: int,
        attempt_id: str | None = None,
        processor_reference: str = "",
    ) -> CaptureResult:
        self._arrive()
        return remembered(attempt_id, "capture", reference, lambda: self._capture(amount))

    @staticmethod
    def _capture(amount: int) -> CaptureResult:
        if amount < 0:
            return CaptureResult(
                succeeded=False,
                amount_captured=0,
                decline=decline_for("processing_error", "processing_error"),
            )
        return CaptureResult(succeeded=True, amount_captured=amount)

    def void(
        self, *, reference: str, attempt_id: str | None = None, processor_reference: str = ""
    ) -> None:
        self._arrive()
        return remembered(attempt_id, "void", reference, lambda: None)

    def increment(
        self,
        *,
        reference: str,
        token: str,
        new_amount: int,
        attempt_id: str | None = None,
        processor_reference: str = "",
    ) -> AuthorizationResult:
        self._arrive()
        return remembered(
            attempt_id,
            "increment",
            reference,
            lambda: self._increment(reference, token, new_amount),
        )

    def _increment(self, reference: str, token: str, new_amount: int) -> AuthorizationResult:
        behaviour = behaviour_of(token)
        ref = f"sim_{reference}"
        if behaviour in (SUCCEED, AUTH_REQUIRED, PROCESSING, REFUND_FAIL):
            return AuthorizationResult(
                status="succeeded", reference=ref, captured=False, extra={"amount": new_amount}
            )
        if behaviour is None:
            return self._declined(ref, decline_for("processing_error", "processing_error"))
        code, decline_code = _DECLINES.get(behaviour, ("card_declined", "generic_decline"))
        return self._declined(ref, decline_for(code, decline_code))

    def resolve_async(
        self,
        *,
        reference: str,
        token: str,
        capture: bool,
        attempt_id: str | None = None,
        processor_reference: str = "",
    ) -> AuthorizationResult:
        self._arrive()
        return remembered(
            attempt_id, "resolve_async", reference, lambda: self._resolve(reference, token, capture)
        )

    def _resolve(self, reference: str, token: str, capture: bool) -> AuthorizationResult:
        behaviour = behaviour_of(token)
        ref = f"sim_{reference}"
        if behaviour is None:
            return self._declined(ref, decline_for("processing_error", "processing_error"))
        if behaviour == PROCESSING:
            return self._final(SUCCEED, ref, capture)
        return self._final(behaviour, ref, capture)

    def lookup(self, *, attempt_id: str) -> Received | None:
        record = SimulatedProcessorRecord.objects.filter(attempt_id=attempt_id).first()
        if record is None:
            return None
        return Received(operation=record.operation, outcome=decode(record.outcome))

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
        self._arrive()
        # Our refund id is the idempotency key: asked again, the same refund, made once.
        return remembered(
            reference, "refund", charge_reference, lambda: self._refund(reference, token, amount)
        )

    @staticmethod
    def _refund(reference: str, token: str, amount: int) -> RefundResult:
        ref = f"sim_{reference}"
        if amount < 1:
            return RefundResult(status="failed", reference=ref, failure_reason="unknown")
        if behaviour_of(token) == REFUND_FAIL:
            return RefundResult(status="pending", reference=ref)
        return RefundResult(status="succeeded", reference=ref)

    def resolve_refund(
        self, *, reference: str, token: str, processor_reference: str = ""
    ) -> RefundResult:
        self._arrive()
        ref = f"sim_{reference}"
        if behaviour_of(token) == REFUND_FAIL:
            return RefundResult(
                status="failed", reference=ref, failure_reason="expired_or_canceled_card"
            )
        return RefundResult(status="succeeded", reference=ref)

    def cancel_refund(self, *, reference: str, processor_reference: str = "") -> bool:
        self._arrive()
        return True

    # --- helpers -------------------------------------------------------------------------

    @staticmethod
    def _final(behaviour: str, ref: str, capture: bool) -> AuthorizationResult:
        """The issuer's answer once nothing (3-D Secure, async) stands in the way."""
        if behaviour in _DECLINES:
            code, decline_code = _DECLINES[behaviour]
            return SimulatedProcessor._declined(ref, decline_for(code, decline_code))
        return AuthorizationResult(
            status="succeeded",
            reference=ref,
            captured=capture,
            network_status="approved_by_network",
            risk_level="normal",
        )

    @staticmethod
    def _declined(ref: str, decline: Decline) -> AuthorizationResult:
        network_status = (
            "not_sent_to_network"
            if decline.code in ("processing_error", "authentication_required")
            else "declined_by_network"
        )
        risk_level = (
            "highest"
            if decline.decline_code in ("lost_card", "stolen_card", "fraudulent")
            else "normal"
        )
        return AuthorizationResult(
            status="declined",
            reference=ref,
            decline=decline,
            network_status=network_status,
            risk_level=risk_level,
        )


# --- the processor's memory of attempts ----------------------------------------------------------


def encode(outcome: Outcome) -> str:
    return json.dumps(answer_to_json(outcome))


def decode(raw: str) -> Outcome:
    answer = answer_from_json(json.loads(raw))
    assert not isinstance(answer, bool)  # a remembered outcome is never a bare yes/no
    return answer


_TABLE = SimulatedProcessorRecord._meta.db_table


def remembered(
    attempt_id: str | None, operation: str, reference: str, answer: Callable[[], Outcome]
) -> Outcome:
    """The answer to attempt `attempt_id`: the one remembered if it was asked before, else
    `answer()`, remembered. One statement when the attempt is new: the INSERT of its record,
    whose primary key (the attempt id) lets exactly one of two concurrent calls in; the other
    reads the winner's answer."""
    outcome = answer()
    if attempt_id is None:
        return outcome
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{_TABLE}" (attempt_id, operation, reference, outcome, created) '
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (attempt_id) DO NOTHING RETURNING attempt_id",
            [
                attempt_id,
                operation,
                reference,
                encode(outcome),
                connection.ops.adapt_datetimefield_value(datetime.now(UTC)),
            ],
        )
        if cursor.fetchone() is not None:
            return outcome
    return decode(SimulatedProcessorRecord.objects.get(attempt_id=attempt_id).outcome)

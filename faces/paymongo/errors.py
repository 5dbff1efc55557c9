"""Every failure of the face as PayMongo answers it: `{"errors": [{"code", "detail",
"source": {"pointer", "attribute"}}]}` with PayMongo's codes. The error is first what the
service's one translation (`api.errors.translate`) makes of it, so each failure has the same
status on every face; only its wording changes here."""

from __future__ import annotations

import logging
import re

from rest_framework.response import Response

from api.errors import StripeError, internal_error, translate
from core.errors import FOR_OBJECT

from .presenters import CHARGE_PREFIX, PAYMENT_PREFIX

logger = logging.getLogger("payintents.api")

#: The service's error codes as PayMongo names them; any other code of a 400 is
#: `parameter_invalid`.
CODES = {
    "parameter_missing": "parameter_required",
    "parameter_invalid_empty": "parameter_blank",
    "parameter_unknown": "parameter_invalid",
    "parameter_invalid_integer": "parameter_format_invalid",
    "amount_too_small": "parameter_below_minimum",
    "amount_too_large": "parameter_above_maximum",
    "resource_missing": "resource_not_found",
    "payment_intent_unexpected_state": "resource_failed_state",
    "secret_key_required": "secret_key_required",
    "idempotency_key_in_use": "idempotency_key_in_use",
    "rate_limit": "rate_limit_exceeded",
}
BY_STATUS = {401: "api_key_invalid", 403: "forbidden", 404: "resource_not_found"}
#: The header that tells a refusal depending on the stored object's values (the service's
#: `_for_object` codes, which PayMongo's codes cannot carry) from one for the request alone:
#: a capture of more than `amount_capturable` answers `parameter_above_maximum` as PayMongo does,
#: with `Payintents-Refused-For: object` beside it.
REFUSED_FOR = "Payintents-Refused-For"
#: The service's parameter names as this face's attributes call them.
ATTRIBUTES = {
    "charge": "payment_id",
    "amount_to_capture": "amount",  # a capture's `amount`
    "starting_after": "after",
    "ending_before": "before",
    "customer": "setup_future_usage[customer_id]",
    "setup_future_usage": "setup_future_usage[session_type]",
    "payment_method_types": "payment_method_allowed",
    "capture_method": "capture_type",
    "invoice_settings[default_payment_method]": "default_payment_method_id",
}
#: The service's objects as this face names them in an error's words: a charge is a payment.
MISSING_CHARGE = re.compile(r"No such (?:charge|payment): '" + CHARGE_PREFIX + r"([^']*)'")


def attribute_of(param: str | None) -> str | None:
    """`payment_method_options[card][request_three_d_secure]` →
    `payment_method_options.card.request_three_d_secure` (a service's name for it translated)."""
    if not param:
        return None
    param = ATTRIBUTES.get(param, param)
    return param.replace("][", ".").replace("[", ".").rstrip("]")


def detail_of(message: str) -> str:
    """The error's words with the service's charge named as this face's payment."""
    return MISSING_CHARGE.sub(lambda m: f"No such payment: '{PAYMENT_PREFIX}{m[1]}'", message)


def paymongo_error(error: StripeError) -> tuple[dict, int]:
    # (a refusal for the stored object's values is PayMongo's same code: `_for_object` is /v1/'s)
    code = CODES.get((error.code or "").removesuffix(FOR_OBJECT)) or BY_STATUS.get(
        error.http_status
    )
    if code is None:
        code = "parameter_invalid" if error.http_status < 500 else "internal_server_error"
    status = error.http_status
    if status == 402:  # PayMongo answers a refused card on the intent, never as an error
        status = 400
    if status == 404 and error.param not in (None, "id"):
        # 404 is for the object the URL names; a missing object an attribute names
        # (`payment_method`, `payment_id`) is a bad request naming that attribute
        status = 400
    item: dict = {"code": code, "detail": detail_of(error.message)}
    attribute = attribute_of(error.param)
    if attribute and not (error.http_status == 404 and error.param == "id"):  # not the URL's
        item["source"] = {"pointer": f"attributes.{attribute}", "attribute": attribute}
    return {"errors": [item]}, status


def exception_handler(exc: Exception, context: dict) -> Response:
    error = translate(exc)
    if error is None:
        logger.exception("unhandled error in %s", context.get("view").__class__.__name__)
        error = internal_error()
    body, status = paymongo_error(error)
    response = Response(body, status=status)
    response.retryable = error.retryable  # api.idempotency never stores such an answer
    for name, value in error.headers.items():
        response[name] = value
    if (error.code or "").endswith(FOR_OBJECT):
        response[REFUSED_FOR] = "object"
    return response

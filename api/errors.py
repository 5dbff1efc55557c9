"""Stripe-shaped errors and the one exception handler that maps every failure to the envelope.

Domain code raises `core.errors` classes, which carry no HTTP status; `from_domain` maps them.
DRF and Django exceptions are translated here too, so no layer can answer with anything but
the error envelope.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from core.errors import (
    CardError,
    DomainError,
    InvalidRequestError,
    NotPermitted,
    ParameterMissing,
    ResourceMissing,
)

logger = logging.getLogger("payintents.api")


class StripeError(DomainError):
    """An error as the API answers it: a domain error's fields plus an HTTP status, Stripe's
    error `type` and response headers.

    Domain errors (`core.errors`) carry no status; `from_domain` gives each its status here.
    The HTTP layer's own failures (authentication, idempotency, rate limits, unknown URLs,
    unreadable bodies) are raised as `StripeError`s directly."""

    http_status = 400
    type = "invalid_request_error"

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        type: str | None = None,
        headers: dict | None = None,
        **fields,
    ):
        super().__init__(message, **fields)
        if http_status is not None:
            self.http_status = http_status
        if type is not None:
            self.type = type
        self.headers = headers or {}

    def envelope(self) -> dict[str, Any]:
        return error_envelope(
            type=self.type,
            message=self.message,
            code=self.code,
            param=self.param,
            decline_code=self.decline_code,
            payment_intent=self.payment_intent,
            setup_intent=self.setup_intent,
        )


class AuthenticationError(StripeError):
    http_status = 401
    type = "invalid_request_error"


class SecretKeyRequired(StripeError):
    http_status = 403
    code = "secret_key_required"


class IdempotencyError(StripeError):
    type = "idempotency_error"


class IdempotencyKeyInUse(IdempotencyError):
    http_status = 409
    code = "idempotency_key_in_use"


class RateLimited(StripeError):
    http_status = 429
    type = "rate_limit_error"
    code = "rate_limit"


class APIError(StripeError):
    http_status = 500
    type = "api_error"


class ServiceUnavailable(APIError):
    http_status = 503


#: Seconds a client is asked to wait when the database cannot be reached.
DATABASE_RETRY_AFTER_SECONDS = 5


def database_unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "The service is temporarily unable to reach its database. Retry the request later "
        "(with the same Idempotency-Key for a POST).",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


def from_domain(exc: DomainError) -> StripeError:
    """The one place a domain error gets its HTTP status and Stripe error type."""
    if isinstance(exc, CardError):
        status, type = 402, "card_error"
    elif isinstance(exc, ResourceMissing):
        status, type = 404, "invalid_request_error"
    elif isinstance(exc, NotPermitted):
        status, type = 403, "invalid_request_error"
    else:
        status, type = 400, "invalid_request_error"
    error = StripeError(
        exc.message,
        code=exc.code,
        param=exc.param,
        decline_code=exc.decline_code,
        payment_intent=exc.payment_intent,
        setup_intent=exc.setup_intent,
        http_status=status,
        type=type,
    )
    error.retryable = exc.retryable
    return error


def error_envelope(
    *,
    type: str,
    message: str,
    code: str | None = None,
    param: str | None = None,
    decline_code: str | None = None,
    payment_intent: dict | None = None,
    setup_intent: dict | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {
        "type": type,
        "message": message,
        "request_log_url": None,
        "decline_code": decline_code,
        "payment_intent": payment_intent,
        "param": param,
    }
    if setup_intent is not None:  # a SetupIntent's decline embeds it, as Stripe's does
        error["setup_intent"] = setup_intent
    if code is not None:
        error["code"] = code
    return {"error": error}


def error_json_response(exc: StripeError) -> JsonResponse:
    """For code outside DRF (middleware, URL resolver, WSGI handlers)."""
    response = JsonResponse(
        exc.envelope(), status=exc.http_status, json_dumps_params={"separators": (",", ":")}
    )
    for name, value in exc.headers.items():
        response[name] = value
    return response


# --- DRF translation ---------------------------------------------------------------------------

_VALIDATION_CODES = {
    "required": "parameter_missing",
    "null": "parameter_missing",
    "blank": "parameter_invalid_empty",
    "invalid": None,  # decided by the field
    "does_not_exist": "resource_missing",
}


def _first_validation_error(detail: Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...], Any]:
    """Depth-first to the first ErrorDetail, remembering the bracket path to it."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key == "non_field_errors":
                return _first_validation_error(value, path)
            return _first_validation_error(value, path + (str(key),))
    if isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                return _first_validation_error(value, path + (str(index),))
            return path, value
    return path, detail


def bracket_param(path: tuple[str, ...]) -> str | None:
    if not path:
        return None
    head, *rest = path
    return head + "".join(f"[{part}]" for part in rest)


def from_validation_error(exc: drf_exceptions.ValidationError) -> DomainError:
    path, detail = _first_validation_error(exc.detail)
    param = bracket_param(path)
    raw_code = getattr(detail, "code", None) or "invalid"
    message = str(detail)
    if raw_code in ("required", "null"):
        return ParameterMissing(param or "unknown", f"Missing required param: {param}.")
    code = _VALIDATION_CODES.get(raw_code, raw_code)
    if code is None:
        code = "parameter_invalid_string"
    if code == "resource_missing":
        return ResourceMissing("object", "", param=param, message=message)
    if param and message and not message.endswith("."):
        message = message + "."
    return InvalidRequestError(message, code=code, param=param)


def translate(exc: Exception) -> StripeError | None:
    if isinstance(exc, StripeError):
        return exc
    if isinstance(exc, DomainError):
        return from_domain(exc)
    if isinstance(exc, drf_exceptions.ValidationError):
        return from_domain(from_validation_error(exc))
    if isinstance(exc, drf_exceptions.ParseError):
        return StripeError(f"Invalid request body: {exc.detail}", code="parameter_invalid_body")
    if isinstance(exc, drf_exceptions.UnsupportedMediaType):
        return StripeError(
            f"Unsupported content type: {exc.detail}. Send application/x-www-form-urlencoded or application/json.",
            code="unsupported_media_type",
            http_status=415,
        )
    if isinstance(exc, drf_exceptions.NotAuthenticated | drf_exceptions.AuthenticationFailed):
        return AuthenticationError(
            "You did not provide an API key. Provide it in the Authorization header, "
            "using Bearer auth (Authorization: Bearer sk_test_…)."
        )
    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        return StripeError(
            f"Unrecognized request method: {exc.detail}", code="method_not_allowed", http_status=405
        )
    if isinstance(exc, drf_exceptions.NotFound | Http404):
        return StripeError("Unrecognized request URL.", code="resource_missing", http_status=404)
    if isinstance(exc, drf_exceptions.Throttled):
        wait = int(exc.wait or 1)
        return RateLimited(
            "Too many requests hit the API too quickly.", headers={"Retry-After": str(wait)}
        )
    if isinstance(exc, drf_exceptions.PermissionDenied | PermissionDenied):
        return SecretKeyRequired(
            "This API call cannot be made with a publishable API key. Please use a secret API key."
        )
    if isinstance(exc, RequestDataTooBig):
        return StripeError(
            "The request body is too large.", code="request_too_large", http_status=413
        )
    if isinstance(exc, drf_exceptions.APIException):
        return StripeError(str(exc.detail), http_status=exc.status_code)
    if isinstance(exc, OperationalError | InterfaceError):
        # The database is down, restarting or refusing connections (or a lock/serialisation
        # failure): nothing was written, and the same request can be retried.
        logger.warning("database unavailable: %s", exc.__class__.__name__)
        return database_unavailable()
    if isinstance(exc, DatabaseError) and "connection" in str(exc).lower():
        logger.warning("database connection lost: %s", exc.__class__.__name__)
        return database_unavailable()
    return None


def internal_error() -> APIError:
    return APIError("An unexpected error occurred on our side. It has been logged.")


def exception_handler(exc: Exception, context: dict) -> Response:
    stripe_error = translate(exc)
    if stripe_error is None:
        logger.exception("unhandled error in %s", context.get("view").__class__.__name__)
        stripe_error = internal_error()
    if stripe_error.http_status == 404 and stripe_error.param not in (None, "id"):
        # 404 is for the object the URL names; in this dialect an object a parameter names
        # (`customer`, `starting_after`, a line item's `price`) that does not exist is a bad
        # request, as Stripe answers it. (The faces keep their APIs' own 404.)
        stripe_error.http_status = 400
    response = Response(stripe_error.envelope(), status=stripe_error.http_status)
    response.retryable = stripe_error.retryable  # api.idempotency never stores such an answer
    for name, value in stripe_error.headers.items():
        response[name] = value
    return response

"""Every failure of the face as Payload answers it: `{"object": "error", "error_type",
"error_description", "details"}`, the type chosen with the status as Payload's client reads
them (`InvalidAttributes` 400, `Unauthorized` 401, `Forbidden` 403, `NotFound` 404,
`TooManyRequests` 429, `InternalServerError` 500, `ServiceUnavailable` 503). The failure is
first what the service's one translation (`api.errors.translate`) makes of it."""

from __future__ import annotations

import logging

from rest_framework.response import Response

from api.errors import StripeError, internal_error, translate
from api.idempotency import should_store

logger = logging.getLogger("payintents.api")

ERROR_TYPES = {
    400: "InvalidAttributes",
    401: "Unauthorized",
    402: "TransactionDeclined",
    403: "Forbidden",
    404: "NotFound",
    405: "BadRequest",
    409: "BadRequest",
    413: "BadRequest",
    415: "BadRequest",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


def details_of(param: str | None, message: str, paths: dict | None = None) -> dict:
    """`redirects[completed_url]` → `{"checkout_page": {"redirects": {"completed_url": …}}}`:
    the attribute at fault, nested as the request sent it (`paths` renames the service's
    parameters to the face's)."""
    if not param:
        return {}
    path = (paths or {}).get(param) or param.replace("]", "").split("[")
    details: dict = {}
    node = details
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = message
    return details


def payload_error(error: StripeError, paths: dict | None = None) -> tuple[dict, int]:
    status = 400 if error.http_status == 402 else error.http_status
    error_type = ERROR_TYPES.get(status, "BadRequest" if status < 500 else "InternalServerError")
    body = {
        "object": "error",
        "error_type": error_type,
        "error_description": error.message,
        "description": error.message,
        "details": details_of(error.param, error.message, paths),
    }
    # Payload's types are coarse (every refusal of a request is InvalidAttributes): the
    # service's own code says which, as `/v1/` would (`payment_method_unexpected_state`: the
    # object's state does not allow it, whatever the request). Payload's client ignores it.
    if error.code:
        body["code"] = error.code
    return body, status


def declined(message: str, transaction: dict) -> Response:
    """A declined payment as Payload answers it: `TransactionDeclined` (400) with the declined
    transaction in `details` (the client builds it into a `Payment`). A decline happened: an
    Idempotency-Key keeps this answer (as `/v1/` keeps its 402)."""
    response = Response(
        {
            "object": "error",
            "error_type": "TransactionDeclined",
            "error_description": message,
            "description": message,
            "details": transaction,
        },
        status=400,
    )
    response.idempotent_store = True
    return response


def exception_handler(exc: Exception, context: dict) -> Response:
    error = translate(exc)
    if error is None:
        logger.exception("unhandled error in %s", context.get("view").__class__.__name__)
        error = internal_error()
    view = context.get("view")
    body, status = payload_error(error, getattr(view, "error_paths", None))
    response = Response(body, status=status)
    response.retryable = error.retryable
    # Payload's body has no `error.code`: the Idempotency-Key's rule is judged on the service's
    response.idempotent_store = should_store(error.http_status, {"error": {"code": error.code}})
    for name, value in error.headers.items():
        response[name] = value
    return response

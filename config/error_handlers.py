"""Django's 400/403/404/500 handlers (config.urls), each answer in the dialect of where the
request went: the JSON envelope on `/v1/`, each face's own JSON under its prefix (PayMongo's
`errors` list, Payload's `error_type` object, GraphQL's `errors` for WhenThen), and plain text
everywhere else (the console, the hosted pages, `/docs/`), as docs/operations.md says. Here in
config, the one place besides the URLconf that knows the faces."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from api.errors import StripeError, error_json_response, internal_error
from faces.payload.errors import payload_error
from faces.paymongo.errors import paymongo_error

_WHENTHEN_CODES = {
    400: "BAD_REQUEST",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    500: "INTERNAL_SERVER_ERROR",
}


def _answer(request, error: StripeError, plain: str) -> HttpResponse:
    path = request.path_info
    if path.startswith("/v1/"):
        return error_json_response(error)
    if path.startswith("/paymongo/"):
        body, status = paymongo_error(error)
        return JsonResponse(body, status=status)
    if path.startswith("/payload/"):
        body, status = payload_error(error)
        return JsonResponse(body, status=status)
    if path.startswith("/whenthen/"):
        code = _WHENTHEN_CODES.get(error.http_status, "BAD_REQUEST")
        return JsonResponse(
            {"errors": [{"message": error.message, "extensions": {"code": code}}]},
            status=error.http_status,
        )
    return HttpResponse(
        plain + "\n", status=error.http_status, content_type="text/plain; charset=utf-8"
    )


def handler400(request, exception=None):
    error = StripeError("The request could not be read.", code="parameter_invalid_body")
    return _answer(request, error, "Bad request: the request could not be read.")


def handler403(request, exception=None):
    return _answer(request, StripeError("Forbidden.", http_status=403), "Forbidden.")


@csrf_exempt  # also the catch-all route: a POST anywhere gets this 404, not the CSRF page
def handler404(request, exception=None):
    error = StripeError(
        f"Unrecognized request URL ({request.path}). Please see the API reference at /docs/.",
        code="resource_missing",
        http_status=404,
    )
    return _answer(request, error, f"Not found: {request.path}")


def handler500(request):
    return _answer(
        request, internal_error(), "Server error: the request id identifies it in the logs."
    )

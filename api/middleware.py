"""Request ids and a Content-Length on every response, the request context for events, a JSON answer for any
exception that escapes the views (so not even DEBUG shows HTML or a traceback), and no body on
a HEAD answer (a body there would be read as the start of the next response on a kept-alive
connection), and the CORS headers that let a page on another origin call /v1/ with a key; for
the site's pages (not /v1/), Django's middleware made to skip the API and the one
Content-Security-Policy (`SITE_CSP`)."""

import io
import logging
from functools import partial

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import DisallowedHost
from django.http import HttpResponse
from django.http.request import split_domain_port, validate_host
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.deprecation import MiddlewareMixin
from whitenoise.middleware import WhiteNoiseMiddleware

from core import context
from core.ids import generate_id

from .errors import StripeError, error_json_response, internal_error, translate

logger = logging.getLogger("payintents.api")


def request_base_url(request) -> str | None:
    """`scheme://host[:port]` as the client reached this service (through a proxy: the Host it
    forwarded), when that host is named in ALLOWED_HOSTS; a bare `*` does not count, so a forged
    Host header never ends up in a link."""
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    domain, _ = split_domain_port(host)
    named = [pattern for pattern in settings.ALLOWED_HOSTS if pattern != "*"]
    if not domain or not validate_host(domain, named):
        return None
    return f"{request.scheme}://{host}"


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = generate_id("req", 14)
        # (from META: `request.headers` would first copy every header of the request)
        idempotency_key = request.META.get("HTTP_IDEMPOTENCY_KEY")
        request.request_id = request_id
        token = context.set_current(
            context.RequestContext(
                request_id=request_id,
                idempotency_key=idempotency_key,
                base_url_of=partial(request_base_url, request),
            )
        )
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["Request-Id"] = request_id
        if idempotency_key is not None and "Idempotency-Key" not in response:
            response["Idempotency-Key"] = idempotency_key
        if not response.streaming and "Content-Length" not in response:
            # (CommonMiddleware does this for the site's pages; an API answer skips it)
            response["Content-Length"] = str(len(response.content))
        if request.method == "HEAD" and not response.streaming:
            # The headers GET would send, Content-Length included, and no body.
            response.content = b""
        return response

    def process_exception(self, request, exception):
        error = translate(exception)
        if error is None:
            logger.exception("unhandled error on %s %s", request.method, request.path)
            error = internal_error()
        return error_json_response(error)


# The API's own paths: the Stripe dialect and each foreign face (`faces/`), which authenticate
# by key the same way and serve no page; str.startswith takes the tuple.
API_PREFIX = ("/v1/", "/paymongo/v1/", "/payload/", "/whenthen/")
CORS_ALLOW_METHODS = "GET, POST, DELETE, HEAD, OPTIONS"
CORS_ALLOW_HEADERS = (
    "Authorization, Content-Type, Idempotency-Key, Stripe-Version, Stripe-Account, "
    "X-Stripe-Client-User-Agent"
)
CORS_EXPOSE_HEADERS = (
    "Request-Id, Idempotency-Key, Idempotent-Replayed, Original-Request, Retry-After"
)
CORS_MAX_AGE_SECONDS = 600


class CorsMiddleware:
    """A browser page on the merchant's own origin calls /v1/ with a publishable key (tracking a
    checkout, confirming an intent with its client secret), as it does api.stripe.com. The API
    authenticates by the key in the `Authorization` header, never by a cookie, so any origin may
    call it (`Access-Control-Allow-Origin: *`, no credentials): a page still needs a key, and a
    publishable key reaches only what it reaches from anywhere else. A preflight (an `OPTIONS`
    with `Access-Control-Request-Method`) carries no key, so it is answered here, before the
    authentication it would fail. Paths outside /v1/ (the console, the hosted pages) get no
    CORS headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response = HttpResponse(status=200)
            response["Access-Control-Allow-Methods"] = CORS_ALLOW_METHODS
            response["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
            response["Access-Control-Max-Age"] = str(CORS_MAX_AGE_SECONDS)
        else:
            response = self.get_response(request)
            response["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
        response["Access-Control-Allow-Origin"] = "*"
        return response


# --- the site's middleware, skipped on the API ------------------------------------------------


class SiteOnly:
    """A middleware of the site (the console, the hosted pages, /docs/) that an API request
    goes straight past: the API authenticates by key, never by a cookie, so sessions, CSRF
    tokens, the console's user and messages, static files and frame options have nothing to do
    for /v1/ (the CORS and request-context middleware above answer for it). Subclasses keep
    the class they wrap as a base, so Django's checks still find it."""

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        return super().__call__(request)


class SiteSessionMiddleware(SiteOnly, SessionMiddleware):
    pass


class SiteCommonMiddleware(SiteOnly, CommonMiddleware):
    pass


class SiteCsrfViewMiddleware(SiteOnly, CsrfViewMiddleware):
    def process_view(self, request, callback, callback_args, callback_kwargs):
        if request.path_info.startswith(API_PREFIX):
            return None
        return super().process_view(request, callback, callback_args, callback_kwargs)


class SiteAuthenticationMiddleware(SiteOnly, AuthenticationMiddleware):
    pass


class SiteMessageMiddleware(SiteOnly, MessageMiddleware):
    pass


class SiteXFrameOptionsMiddleware(SiteOnly, XFrameOptionsMiddleware):
    pass


class SiteWhiteNoiseMiddleware(SiteOnly, WhiteNoiseMiddleware):
    pass


# The policy of every page of the site (the console, the hosted 3-D Secure page, /docs/): only
# this site's own scripts, styles (no inline `<style>`, `style=` or `<script>`), images and
# fonts, no plugin, no `<base>` elsewhere, forms posted only here, never framed.
SITE_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def content_security_policy(**directives: str | None) -> str:
    """`SITE_CSP` as a header value, with `directives` (`form_action="…"`) in place of the
    site's own; a directive given as None is left out."""
    policy = {**SITE_CSP, **{name.replace("_", "-"): v for name, v in directives.items()}}
    return "; ".join(f"{name} {value}" for name, value in policy.items() if value is not None)


class SiteContentSecurityPolicyMiddleware(SiteOnly, MiddlewareMixin):
    """Every HTML page of the site gets `SITE_CSP`, unless its view set its own
    `Content-Security-Policy` (the hosted checkout pages: frame-ancestors from the checkout's
    allowed origins). A view may instead change a directive of the site's policy, or drop it
    with None, through a response attribute, `csp_directives` (keywords as
    `content_security_policy` takes them), as Django's `xframe_options_exempt` does for frame
    options: the 3-D Secure page drops `form-action` (intents.views). An API answer (/v1/)
    carries none: it is JSON, never a page."""

    def process_response(self, request, response):
        if "Content-Security-Policy" in response:
            return response
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        directives = getattr(response, "csp_directives", None) or {}
        response["Content-Security-Policy"] = content_security_policy(**directives)
        return response


# --- whole bodies only ------------------------------------------------------------------------


class IncompleteBody(Exception):
    """The body did not arrive whole: shorter than its Content-Length, cut off mid-chunk, or
    chunked through a server that cannot de-chunk it."""

    def __init__(self, message: str, *, status: int = 400, code: str = "request_body_incomplete"):
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


def read_whole_body(request) -> None:
    """Read the request's body now, all of it, or raise `IncompleteBody`.

    Django reads as many bytes as `Content-Length` says and takes fewer without a word when the
    client stops early, and reads a chunked body (which has no `Content-Length`) as empty: a
    capture sent chunked would capture the full amount. Here a chunked body is read to its
    end from the server's de-chunked stream (gunicorn says it is one with
    `wsgi.input_terminated`), a length-delimited one is checked against its length, and only
    a whole body is left for the parsers (`request.body`)."""
    meta = request.META
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
        if not request.environ.get("wsgi.input_terminated"):
            raise IncompleteBody(
                "A chunked request body is not accepted here: send a Content-Length.",
                status=411,
                code="length_required",
            )
        stream = request.environ["wsgi.input"]
        chunks, size = [], 0
        try:
            while True:
                chunk = stream.read(64 * 1024)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if limit is not None and size > limit:
                    raise IncompleteBody(
                        "The request body is too large.", status=413, code="request_too_large"
                    )
        except (OSError, ValueError) as exc:  # gunicorn's NoMoreData, InvalidChunkSize, …
            raise IncompleteBody(
                "The chunked request body was cut off or malformed; nothing was done."
            ) from exc
        body = b"".join(chunks)
        request.META["CONTENT_LENGTH"] = str(len(body))
        request._body = body
        request._stream = io.BytesIO(body)
        request._read_started = True
        return
    try:
        expected = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise IncompleteBody("The Content-Length header is not a number.") from None
    if expected <= 0 or (limit is not None and expected > limit):
        return  # nothing to read, or too large: Django refuses it with 413 when it is read
    try:
        body = request.body
    except OSError as exc:
        raise IncompleteBody("The request body was cut off; nothing was done.") from exc
    if len(body) != expected:
        raise IncompleteBody(
            f"The request body was cut off: {len(body)} of the {expected} bytes its "
            "Content-Length announced arrived; nothing was done."
        )


class WholeBodyMiddleware:
    """A request is acted on only when its whole body arrived (`read_whole_body`); otherwise
    the JSON envelope on /v1/, plain text elsewhere, and no view runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            read_whole_body(request)
        except IncompleteBody as exc:
            if request.path_info.startswith(API_PREFIX):
                return error_json_response(
                    StripeError(exc.message, code=exc.code, http_status=exc.status)
                )
            return HttpResponse(
                exc.message + "\n", status=exc.status, content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)


class AllowedHostMiddleware:
    """Every request names a host of ALLOWED_HOSTS in its `Host` header (Django checks it only
    when something asks for the host, which most of the API never does): otherwise 400, the
    envelope on /v1/ and plain text elsewhere, before anything runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            request.get_host()
        except DisallowedHost:
            message = "The Host header names a host this service does not answer for."
            if request.path_info.startswith(API_PREFIX):
                return error_json_response(StripeError(message, code="host_invalid"))
            return HttpResponse(
                message + "\n", status=400, content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)

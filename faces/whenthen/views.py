"""`/whenthen/graphql`: GraphQL over HTTP for WhenThen's clients.

`POST` with a JSON body `{"query", "variables", "operationName"}` (any operation), or `GET`
with those as query parameters (queries only). `Authorization: Bearer <secret key | publishable
key | an intent's client token>` on every request. Answers are JSON: `{"data": …}` and, when
something went wrong, `"errors": [{"message", "locations", "path", "extensions": {"code"}}]`.
HTTP 200 when the document ran (a field's error is in `errors`, its field null); 400 when it
could not run at all (unreadable body, a document that does not parse or validate, or over the
depth, cost or size limits); 401 without valid credentials; 429 over the key's rate limit.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from api.auth import KeyAuthentication, raw_key_from_header
from api.errors import StripeError, translate
from api.geolocation import request_country
from api.idempotency import IdempotencyClaim, Replay, idempotency_claim, validate_key
from api.ratelimit import hit
from checkouts.selectors import checkout_for_client_secret
from core import context
from core.errors import DomainError, ResourceMissing
from core.scope import Scope

# An intent's client token (`chk_…_secret_…`); anything else goes through the API key check.
CLIENT_TOKEN_PREFIX = "chk_"
# What each kind of credential may run (the secret key: everything).
PUBLISHABLE_OPERATIONS = frozenset({"startIntent"})
CLIENT_TOKEN_OPERATIONS = frozenset({"getIntent", "updateIntent", "completeIntent"})


@dataclass
class Caller:
    """Who is calling (`info.context` in every resolver): the scope the call is confined to,
    the kind of credential, the intent a client token is for, and the request (for its
    client address)."""

    request: HttpRequest
    scope: Scope
    kind: str  # "secret", "publishable" or "client_token"
    rate_name: str
    token_intent: str | None = None

    @property
    def is_secret(self) -> bool:
        return self.kind == "secret"

    def may(self, operation: str) -> bool:
        if self.kind == "secret":
            return True
        if self.kind == "publishable":
            return operation in PUBLISHABLE_OPERATIONS
        return operation in CLIENT_TOKEN_OPERATIONS

    def refusal(self, operation: str) -> str:
        if self.kind == "publishable":
            return (
                f"A public key can only start an intent; {operation} needs the intent's client "
                "token (its clientToken) or a secret key."
            )
        return f"A client token reaches its own intent only; {operation} needs a secret key."

    def check_intent(self, intent_id: str) -> None:
        """A client token reaches its own intent; any other is not found (as a foreign one)."""
        if self.token_intent is not None and intent_id != self.token_intent:
            raise ResourceMissing("checkout", intent_id)

    def country(self) -> str | None:
        return request_country(self.request)


def _errors(message: str, code: str, status: int, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status=status
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _refusal(error: StripeError) -> JsonResponse:
    """A request error of the service (`api.errors`) as a GraphQL request error: no `data`,
    the service's own code as `reason`."""
    code = {409: "CONFLICT"}.get(error.http_status, "BAD_REQUEST")
    response = JsonResponse(
        {
            "errors": [
                {
                    "message": error.message,
                    "extensions": {"code": code, "reason": error.code or error.type},
                }
            ]
        },
        status=error.http_status,
    )
    for name, value in error.headers.items():
        response[name] = value
    return response


class _Refused(Exception):
    def __init__(self, response: HttpResponse):
        self.response = response


def authenticate(request: HttpRequest) -> Caller:
    """The caller from `Authorization: Bearer …`: an API key (through the same check as `/v1/`)
    or an intent's client token."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    unauthenticated = {"WWW-Authenticate": 'Bearer realm="whenthen"'}
    try:
        raw = raw_key_from_header(header) if header.strip() else ""
        if raw.startswith(CLIENT_TOKEN_PREFIX):
            chk = checkout_for_client_secret(client_secret=raw)
            if chk is None:
                raise _Refused(
                    _errors(
                        "Invalid client token.", "UNAUTHENTICATED", 401, headers=unauthenticated
                    )
                )
            return Caller(
                request=request,
                scope=Scope.of(chk),
                kind="client_token",
                rate_name=f"{chk.id}:token",
                token_intent=chk.id,
            )
        caller, key = KeyAuthentication().authenticate(request)
    except StripeError as exc:
        raise _Refused(_errors(exc.message, "UNAUTHENTICATED", 401, headers=unauthenticated))
    return Caller(
        request=request,
        scope=caller.scope,
        kind="secret" if key.is_secret else "publishable",
        rate_name=str(key.pk),
    )


def _rate_limit(caller: Caller, write: bool) -> None:
    """The same per-key limit as `/v1/` (`api.ratelimit`): reads and writes counted apart."""
    if not settings.RATE_LIMIT_ENABLED:
        return
    limit = (
        settings.RATE_LIMIT_SECRET_PER_WINDOW
        if caller.is_secret
        else settings.RATE_LIMIT_PUBLISHABLE_PER_WINDOW
    )
    bucket = "write" if write else "read"
    wait = hit(f"{caller.rate_name}:{bucket}", limit, settings.RATE_LIMIT_WINDOW_SECONDS)
    if wait is not None:
        raise _Refused(
            _errors(
                "Too many requests hit the API too quickly.",
                "RATE_LIMITED",
                429,
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        )


@dataclass
class _Request:
    query: str
    variables: dict | None
    operation_name: str | None


def _read(request: HttpRequest) -> _Request:
    """The GraphQL request in the body (POST, JSON) or the query string (GET)."""
    if request.method == "GET":
        payload: object = {
            "query": request.GET.get("query"),
            "variables": request.GET.get("variables"),
            "operationName": request.GET.get("operationName"),
        }
        if isinstance(payload["variables"], str):  # type: ignore[index]
            try:
                payload["variables"] = json.loads(payload["variables"])  # type: ignore[index]
            except ValueError:
                raise _Refused(_errors("variables is not JSON.", "BAD_REQUEST", 400))
    else:
        content_type = request.content_type or ""
        if content_type not in ("application/json", "application/graphql-response+json"):
            raise _Refused(
                _errors(
                    "Send the request as JSON (Content-Type: application/json).",
                    "BAD_REQUEST",
                    415,
                )
            )
        try:
            payload = json.loads(request.body)
        except RequestDataTooBig:
            raise _Refused(_errors("The request body is too large.", "BAD_REQUEST", 413))
        except (ValueError, UnicodeDecodeError):
            raise _Refused(_errors("The request body is not valid JSON.", "BAD_REQUEST", 400))
    if not isinstance(payload, dict):
        raise _Refused(_errors("The request body must be a JSON object.", "BAD_REQUEST", 400))
    query, variables, operation_name = (
        payload.get("query"),
        payload.get("variables"),
        payload.get("operationName"),
    )
    if not isinstance(query, str) or not query.strip():
        raise _Refused(_errors("No GraphQL document in `query`.", "BAD_REQUEST", 400))
    if variables is not None and not isinstance(variables, dict):
        raise _Refused(_errors("`variables` must be a JSON object.", "BAD_REQUEST", 400))
    if operation_name is not None and not isinstance(operation_name, str):
        raise _Refused(_errors("`operationName` must be a string.", "BAD_REQUEST", 400))
    return _Request(query=query, variables=variables, operation_name=operation_name)


@method_decorator(csrf_exempt, name="dispatch")
class WhenThenGraphQLView(View):
    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._answer(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        return self._answer(request)

    def _answer(self, request: HttpRequest) -> HttpResponse:
        try:
            caller = authenticate(request)
            graphql_request = _read(request)
            _rate_limit(caller, write=request.method == "POST" and _is_mutation(graphql_request))
            claim = _claim(request, caller, graphql_request)
        except _Refused as refused:
            return refused.response
        if claim is None:
            return self._run(request, caller, graphql_request)
        token = context.set_attempt_seed(claim.seed, resumed=claim.resumed)
        try:
            response = self._run(request, caller, graphql_request)
        except BaseException:
            claim.abandon()
            raise
        finally:
            context.reset(token)
        claim.finish(response)
        return response

    def _run(self, request: HttpRequest, caller: Caller, graphql_request) -> HttpResponse:
        # The GraphQL schema and its library load on the first request, not with the URLs:
        # strawberry is a third of a second of every process's start (each manage.py command,
        # worker and web node), and only this face uses it.
        from .schema import NotAllowed, run  # noqa: PLC0415 (on first use)
        from .translate import kept_under_key  # noqa: PLC0415 (loaded with the schema)

        try:
            result = run(
                query=graphql_request.query,
                variables=graphql_request.variables,
                operation_name=graphql_request.operation_name,
                caller=caller,
                mutations_allowed=request.method == "POST",
            )
        except NotAllowed:
            return _errors("Mutations are sent with POST.", "BAD_REQUEST", 405)
        body: dict = {}
        if result.errors:
            body["errors"] = [error.formatted for error in result.errors]
        if result.data is not None:
            body["data"] = result.data
        # A document that could not run (parse, validation, limits, variables) has no data.
        status = 400 if result.data is None else 200
        response = JsonResponse(body, status=status)
        if result.errors and result.data is not None:  # what ran and failed: kept, or not
            response.idempotent_store = kept_under_key(result.errors)
        return response


def _claim(
    request: HttpRequest, caller: Caller, graphql_request: _Request
) -> IdempotencyClaim | None:
    """A mutation POSTed with an `Idempotency-Key` claims the key as a `/v1/` POST does
    (`api.idempotency`): the same key with the same document, variables and credential is
    answered once, its answer replayed; with anything else it is a request error. The
    credential's kind (and a client token's intent) is part of what must match, so no caller
    is ever replayed an answer made for another."""
    raw_key = request.META.get("HTTP_IDEMPOTENCY_KEY")
    if raw_key is None or request.method != "POST":
        return None
    from .schema import is_mutation  # noqa: PLC0415 (on first use, as in _run)

    if not is_mutation(graphql_request.query, graphql_request.operation_name):
        return None
    try:
        return idempotency_claim(
            account_id=caller.scope.account_id,
            livemode=caller.scope.livemode,
            key=validate_key(raw_key),
            method="POST",
            path=request.path,
            params={
                "query": graphql_request.query,
                "variables": graphql_request.variables or {},
                "operationName": graphql_request.operation_name,
                "credential": caller.kind,
                "intent": caller.token_intent,
            },
            request_id=getattr(request, "request_id", "") or "",
        )
    except Replay as replay:
        raise _Refused(replay.response)
    except (StripeError, DomainError) as exc:
        error = translate(exc)
        assert error is not None
        raise _Refused(_refusal(error))


def _is_mutation(graphql_request: _Request) -> bool:
    """Whether the operation is a mutation, for the rate limit's bucket only (a cheap look at
    the document; the executor decides what runs)."""
    return "mutation" in graphql_request.query


@require_GET
def schema_sdl(request: HttpRequest) -> HttpResponse:
    """The schema in GraphQL's SDL, to download (no key needed: it is the documentation)."""
    response = HttpResponse(sdl(), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="whenthen.graphql"'
    return response


@functools.cache
def sdl() -> str:
    from .schema import schema  # noqa: PLC0415 (on first use)

    return schema.as_str() + "\n"

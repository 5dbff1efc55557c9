"""The base view every resource uses, the catch-all 404, the JSON handlers Django falls back to,
and the health check."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from kombu import Connection
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config import lifecycle
from core import context
from core.enqueue import publish_transport_options
from core.errors import ResourceMissing
from core.ids import factory_prefix

from .auth import Caller
from .errors import StripeError, error_json_response, internal_error
from .idempotency import Replay, idempotency_claim, validate_key
from .pagination import paginate
from .parsers import parse_query_string
from .ratelimit import KeyRateLimit

# What an object id in a URL may look like: a lowercase prefix, an underscore, then letters,
# digits and underscores. Anything else (a NUL, a card number, a key) is refused with 404 before
# any query is made.
ID_PATTERN = re.compile(r"^[a-z][a-z0-9]{0,15}_[A-Za-z0-9_]{1,200}$", re.ASCII)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@cache
def scoped_models() -> tuple[dict[str, type], dict[str, str]]:
    """`({"pi": PaymentIntent, …}, {"payment_intent": "pi", …})`: every model with an
    `account` and a `livemode` whose primary key is made by `core.ids.id_factory(prefix)`, by
    prefix, and each one's prefix by its resource name (found once, from the app registry)."""
    by_prefix, prefix_of = {}, {}
    for model in apps.get_models():
        names = {f.name for f in model._meta.get_fields()}
        prefix = factory_prefix(getattr(model._meta.pk, "default", None))
        if {"account", "livemode"} <= names and prefix:
            by_prefix[prefix] = model
            prefix_of[_snake(model.__name__)] = prefix
    return by_prefix, prefix_of


def resource_name(path: str, object_id: str) -> str:
    """`/v1/payment_intents/pi_1/confirm` → "payment_intent" (the segment before the id)."""
    segments = path.strip("/").split("/")
    for before, segment in zip(segments, segments[1:], strict=False):
        if segment == object_id:
            return before[:-1] if before.endswith("s") else before
    return "object"


def validated(serializer_class, params: dict) -> dict:
    """Validate `params` with a StrictSerializer; errors leave through the Stripe envelope."""
    serializer = serializer_class(data=params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class StripeAPIView(APIView):
    """Base for every /v1 view: `self.caller` and `self.params` (body or query, one dict).

    Every view gets, with no code of its own: per-key rate limiting (`api.ratelimit`, a DRF
    throttle, after authentication) and idempotent POSTs (`api.idempotency`): the key is
    claimed at the end of `initial` (after authentication, permissions, throttling and body
    parsing, so none of those failures touch it), and the answer is stored or the key released
    in `finalize_response`. No Idempotency-Key header: no query at all.
    """

    allow_publishable = False
    throttle_classes = [KeyRateLimit]

    @property
    def caller(self) -> Caller:
        return self.request.user

    def get_params(self, request: Request) -> dict:
        if request.method in ("GET", "DELETE", "HEAD"):
            return parse_query_string(request.META.get("QUERY_STRING", ""))
        data = request.data
        query = request.META.get("QUERY_STRING", "")
        if query:
            merged = parse_query_string(query)
            merged.update(data)
            return merged
        return dict(data)

    def initial(self, request, *args, **kwargs):
        self._idempotency_claim = None
        self._attempt_seed_token = None
        self._scope_check = None
        super().initial(request, *args, **kwargs)
        if "id" in kwargs and request.method != "OPTIONS":
            self.check_object_in_scope(request, kwargs["id"])
        self.params = self.get_params(request)
        if request.method == "POST":
            raw_key = request.META.get("HTTP_IDEMPOTENCY_KEY")
            if raw_key is not None:
                caller = self.caller
                self._idempotency_claim = idempotency_claim(
                    account_id=caller.account_id,
                    livemode=caller.livemode,
                    key=validate_key(raw_key),
                    method=request.method,
                    path=request.path,
                    params=self.params,
                    request_id=getattr(request._request, "request_id", "") or "",
                )
                self._attempt_seed_token = context.set_attempt_seed(
                    self._idempotency_claim.seed, resumed=self._idempotency_claim.resumed
                )

    def check_object_in_scope(self, request, object_id: str) -> None:
        """The object named in the URL must exist in the caller's account and mode before
        anything else about the request is judged (its body, its payment method, its key):
        another tenant's or mode's id answers 404 whatever comes with it.

        An id not shaped like one, or with the prefix of another kind of object than the route
        names, is refused here without a query. Whether the object exists in the caller's scope
        is asked only if the request fails for another reason (`handle_exception`): a request
        that succeeds found its object in scope through its selector or service, so the common
        path pays no extra query, and a service that would write before finding its object
        (a confirm with a magic payment method) checks first itself. An id whose prefix no model
        claims is left to the view. A publishable key is left to the view too: it must first
        show the object's client secret, so that what it is told never depends on whether the
        id exists."""
        name = resource_name(request.path, object_id)
        if not ID_PATTERN.match(object_id):
            raise ResourceMissing(
                name, "", message=f"No such {name}: the id in the URL is not a valid id."
            )
        by_prefix, prefix_of = scoped_models()
        prefix = object_id.partition("_")[0]
        if name in prefix_of and prefix_of[name] != prefix:
            raise ResourceMissing(name, object_id)
        model = by_prefix.get(prefix)
        if model is None or not self.caller.is_secret or self.url_id_names_no_row(object_id):
            return
        self._scope_check = (model, name, object_id)

    def _missing_from_scope(self) -> ResourceMissing | None:
        """The 404 owed instead of another error when the URL's object is not the caller's."""
        check, self._scope_check = getattr(self, "_scope_check", None), None
        if check is None:
            return None
        model, name, object_id = check
        if model._default_manager.filter(pk=object_id, **self.caller.scope.filters).exists():
            return None
        return ResourceMissing(name, object_id)

    def url_id_names_no_row(self, object_id: str) -> bool:
        """True for an id this route takes although no row has it (a test-mode magic id such
        as `pm_card_visa` on attach): the existence check then leaves it to the view."""
        return False

    def handle_exception(self, exc):
        if isinstance(exc, Replay):
            return exc.response
        if not isinstance(exc, ResourceMissing):
            exc = self._missing_from_scope() or exc
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        # The caller as authentication left it: asking `request.user` after a refused key
        # would authenticate (and raise) again, outside the view's exception handler.
        caller = getattr(self.request, "_user", None)
        if isinstance(caller, Caller) and not caller.is_secret and isinstance(response, Response):
            hide_from_publishable(response.data)
        response = super().finalize_response(request, response, *args, **kwargs)
        claim = getattr(self, "_idempotency_claim", None)
        if claim is not None:
            self._idempotency_claim = None
            claim.finish(response)
        token = getattr(self, "_attempt_seed_token", None)
        if token is not None:
            self._attempt_seed_token = None
            context.reset(token)
        return response

    def paginated(
        self, queryset, *, params: dict, url: str, present: Callable, object_name: str
    ) -> Response:
        """One keyset page of `queryset` in the list envelope, each row shown by `present`."""
        return Response(
            paginate(
                queryset,
                params=params,
                url=url,
                serialize=lambda rows: [present(row) for row in rows],
                object_name=object_name,
            )
        )

    def get_exception_handler_context(self):
        context = super().get_exception_handler_context()
        context["params"] = getattr(self, "params", None)
        return context


def _not_found_error(path: str) -> StripeError:
    return StripeError(
        f"Unrecognized request URL ({path}). Please see the API reference at /docs/.",
        code="resource_missing",
        http_status=404,
    )


# What a publishable key never reads, wherever it appears in an answer: a card's
# `fingerprint` (null instead; the field is nullable), which would tell a page whether two cards
# are the same.
_HIDDEN_FROM_PUBLISHABLE = ("fingerprint",)


def hide_from_publishable(data) -> None:
    """Blank, in place, every field of `_HIDDEN_FROM_PUBLISHABLE` in an answer's data."""
    if isinstance(data, dict):
        for name in _HIDDEN_FROM_PUBLISHABLE:
            if data.get(name) is not None:
                data[name] = None
        for value in data.values():
            hide_from_publishable(value)
    elif isinstance(data, list):
        for value in data:
            hide_from_publishable(value)


@csrf_exempt  # the API's own 404: a POST anywhere gets the envelope, not the CSRF page
def not_found(request, *args, **kwargs):
    return error_json_response(_not_found_error(request.path))


def handler404(request, exception=None):
    return error_json_response(_not_found_error(request.path))


def handler500(request):
    return error_json_response(internal_error())


def handler400(request, exception=None):
    return error_json_response(
        StripeError("The request could not be read.", code="parameter_invalid_body")
    )


def handler403(request, exception=None):
    return error_json_response(StripeError("Forbidden.", http_status=403))


def _broker_ok() -> tuple[bool, str]:
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            connect_timeout=2,
            transport_options=publish_transport_options(),  # with a deadline on every call
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True, "ok"
    except Exception as exc:  # any failure to reach the broker is "down"
        return False, exc.__class__.__name__


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, "ok"
    except Exception as exc:
        return False, exc.__class__.__name__


_LIVE = inline_serializer("Liveness", {"status": serializers.ChoiceField(choices=["ok"])})

_READY = inline_serializer(
    "Readiness",
    {
        "status": serializers.ChoiceField(choices=["ok", "degraded", "draining"]),
        "database": serializers.CharField(help_text="`ok`, or the error met reaching it."),
        "broker": serializers.CharField(help_text="`ok`, or the error met reaching it."),
    },
)


class HealthView(APIView):
    """Liveness: the process answers. A load balancer or an orchestrator restarts a node that
    stops answering here; a dependency that is down is /readyz's business, not a reason to
    restart every node at once."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="healthz",
        summary="Liveness",
        description='200 with `"status": "ok"` while the process answers, whatever the state '
        "of its database and broker (see `/readyz`). Needs no API key.",
        responses={(200, "application/json"): _LIVE},
    )
    def get(self, request):
        return Response({"status": "ok"})


class ReadyView(APIView):
    """Readiness: whether this node should be sent requests."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="readyz",
        summary="Readiness",
        description='Whether this node should be sent requests: 200 with `"status": "ok"` '
        'when it reaches its database and its broker; 503 with `"status": "degraded"` and '
        'which one failed, or with `"status": "draining"` from the moment the node was asked '
        "to stop (SIGTERM) until it stops. Needs no API key.",
        responses={
            (200, "application/json"): _READY,
            (503, "application/json"): OpenApiResponse(
                _READY,
                description="The database or the broker cannot be reached, or the node is "
                "draining.",
            ),
        },
    )
    def get(self, request):
        db_ok, db_state = _database_ok()
        broker_ok, broker_state = _broker_ok()
        healthy = db_ok and broker_ok
        draining = lifecycle.draining()
        body = {
            "status": "draining" if draining else "ok" if healthy else "degraded",
            "database": db_state,
            "broker": broker_state,
        }
        return Response(body, status=200 if healthy and not draining else 503)

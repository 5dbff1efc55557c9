"""Discovery helpers for the security tests: every /v1 route from the URLconf, and a "world" of
real objects of the first account, made through the API, plus every scoped row in the database.

Nothing here lists routes: a route added later is found by `v1_routes()`; an object kind added
later is found by `scoped_models()`. A new kind that no request below creates must be added to
`build_world` (the isolation test fails loudly until then).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver

from api.views import StripeAPIView
from tests.conftest import committed_for_module, make_account
from tests.helpers import StripeTestClient

ID_KWARG = "<str:id>"
#: The faces of other providers' dialects (faces/): their routes are checked by
#: tests/faces/test_isolation.py, in their own error shapes.
FACE_TEMPLATES = ("paymongo/v1/", "payload/")
EXCLUDED_MODELS = {"api.IdempotencyKey", "accounts.ApiKey"}


@dataclass(frozen=True)
class Route:
    template: str  # "v1/payment_intents/<str:id>/confirm"
    view_class: type
    methods: tuple[str, ...]

    @property
    def has_id(self) -> bool:
        return ID_KWARG in self.template

    def url(self, object_id: str = "") -> str:
        return "/" + self.template.replace(ID_KWARG, object_id)


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def v1_routes(prefixes: tuple[str, ...] = ("v1/",)) -> list[Route]:
    routes = []
    for template, pattern in _walk(get_resolver().url_patterns):
        view_class = getattr(pattern.callback, "view_class", None)
        if not template.startswith(prefixes) or view_class is None:
            continue
        methods = tuple(
            m.upper()
            for m in view_class.http_method_names
            if m not in ("options", "head", "trace") and hasattr(view_class, m)
        )
        routes.append(Route(template=template, view_class=view_class, methods=methods))
    return routes


def non_id_kwarg_routes() -> list[str]:
    """/v1 routes with a URL kwarg other than <str:id> (the tests could not fill them)."""
    out = []
    for route in v1_routes():
        rest = route.template.replace(ID_KWARG, "")
        if "<" in rest:
            out.append(route.template)
    return out


def stripe_views_outside_v1() -> list[str]:
    return [
        template
        for template, pattern in _walk(get_resolver().url_patterns)
        if not template.startswith(("v1/", *FACE_TEMPLATES))
        and isinstance(getattr(pattern.callback, "view_class", None), type)
        and issubclass(pattern.callback.view_class, StripeAPIView)
    ]


def scoped_models() -> list:
    """Every model whose rows belong to an account and a mode (API objects, events, …)."""
    out = []
    for model in apps.get_models():
        names = {f.name for f in model._meta.get_fields()}
        if {"account", "livemode"} <= names and model._meta.label not in EXCLUDED_MODELS:
            out.append(model)
    return out


def snapshot() -> dict:
    """Every scoped row of every account, as plain values, for before/after comparisons."""
    return {
        model._meta.label: sorted(
            (repr(sorted(row.items())) for row in model.objects.values()),
        )
        for model in scoped_models()
    }


@dataclass
class World:
    objects: dict[str, list[str]] = field(default_factory=dict)  # model label -> ids
    client_secrets: dict[str, str] = field(default_factory=dict)  # pi id -> client secret

    def ids(self, per_kind: int | None = None, all_of: tuple[str, ...] = ()) -> list[str]:
        out = []
        for label, ids in sorted(self.objects.items()):
            out.extend(ids if label in all_of or per_kind is None else ids[:per_kind])
        return out


CARD = {"number": "4242424242424242", "exp_month": "12", "exp_year": "2040", "cvc": "123"}


def _route_exists(path: str) -> bool:
    return any(r.url() == path for r in v1_routes())


def build_world(acct) -> World:
    """One object of every kind of the first account (test mode), through the API."""
    client = StripeTestClient(key=acct.sk)

    def post(path, data):
        if not _route_exists(path):
            return None
        response = client.post(path, data)
        assert response.status_code in (200, 402), (path, data, response)
        return response.json()

    customer = post("/v1/customers", {"email": "a@example.com", "name": "A"})
    # a second one: PayMongo's and Payload's faces each delete a customer
    post("/v1/customers", {"email": "b@example.com", "name": "B"})
    pm = post("/v1/payment_methods", {"type": "card", "card": CARD})
    if pm and customer:
        post(f"/v1/payment_methods/{pm['id']}/attach", {"customer": customer["id"]})
    base = {"amount": 2000, "currency": "usd"}
    post("/v1/payment_intents", base)  # requires_payment_method
    post("/v1/payment_intents", {**base, "payment_method": "pm_card_visa"})  # requires_confirmation
    succeeded = post(
        "/v1/payment_intents", {**base, "payment_method": "pm_card_visa", "confirm": "true"}
    )
    manual = post(
        "/v1/payment_intents",
        {**base, "payment_method": "pm_card_visa", "confirm": "true", "capture_method": "manual"},
    )
    post(
        "/v1/payment_intents",
        {
            **base,
            "payment_method": "pm_card_authenticationRequired",
            "confirm": "true",
            "return_url": "https://example.com/return",
        },
    )
    post(
        "/v1/payment_intents",
        {**base, "payment_method": "pm_card_chargeDeclined", "confirm": "true"},
    )
    canceled = post("/v1/payment_intents", base)
    if canceled:
        post(f"/v1/payment_intents/{canceled['id']}/cancel", {})
    if manual and customer:
        post(f"/v1/payment_intents/{manual['id']}", {"metadata": {"order": "1"}})
    if _route_exists("/v1/webhook_endpoints"):
        response = client.post(
            "/v1/webhook_endpoints", {"url": "https://93.184.215.14/hook", "enabled_events": ["*"]}
        )
        assert response.status_code == 200, response
    if any(r.url() == "/paymongo/v1/webhooks" for r in v1_routes(FACE_TEMPLATES)):
        body = {
            "data": {"attributes": {"url": "https://93.184.215.14/pm", "events": ["payment.paid"]}}
        }
        response = client.post("/paymongo/v1/webhooks", body, json=True)
        assert response.status_code == 200, response
    if any(r.url() == "/payload/webhooks" for r in v1_routes(FACE_TEMPLATES)):
        body = {"trigger": "processed", "url": "https://93.184.215.14/pl"}
        response = client.post("/payload/webhooks", body, json=True)
        assert response.status_code == 200, response
    if succeeded:
        post("/v1/refunds", {"payment_intent": succeeded["id"], "amount": 100})
    if _route_exists("/v1/processors"):
        backup = post("/v1/processors", {"kind": "simulated", "name": "Backup"})
        processors = [p["id"] for p in client.get("/v1/processors").json()["data"]]
        flow = post(
            "/v1/payment_flows",
            {
                "name": "World",
                "routing": {"type": "priority", "processors": processors},
                "retry": {"max_attempts": 2},
            },
        )
        if flow and backup:
            post(
                "/v1/payment_intents",
                {**base, "payment_method": "pm_card_visa", "payment_flow": flow["id"]},
            )
    if customer:
        post(
            "/v1/checkout_intents",
            {"type": "payment_method_form", "customer": customer["id"]},
        )
    post(
        "/v1/checkout_intents",
        {
            "type": "checkout_page",
            **base,
            "redirects": {"completed_url": "https://example.com/done"},
        },
    )
    checkout = post(
        "/v1/checkouts",
        {
            "tracking_id": "world_1",
            "amount": 2000,
            "currency": "usd",
            "customer": {"email": "a@example.com", "name": "A"},
            "location": {"country": "USA"},
        },
    )
    if checkout:
        post(f"/v1/checkouts/{checkout['id']}", {"shipping": {"status": "complete"}})
        post("/v1/payment_intents", {**base, "checkout": checkout["id"]})
        done = post("/v1/checkouts", {"tracking_id": "world_2", "amount": 500, "currency": "usd"})
        post(f"/v1/checkouts/{done['id']}/complete", {"payment_reference": "ext_1"})

    # Stripe Checkout: a product and its price, an open session, a payment link; SetupIntents.
    product = post("/v1/products", {"name": "Apron"})
    if product:
        price = post(
            "/v1/prices", {"product": product["id"], "unit_amount": 900, "currency": "usd"}
        )
        items = [{"price": price["id"], "quantity": 1}]
        post(
            "/v1/checkout/sessions",
            {"mode": "payment", "line_items": items, "success_url": "https://example.com/ok"},
        )
        post("/v1/payment_links", {"line_items": items})
    post("/v1/setup_intents", {})
    if customer:
        post(
            "/v1/setup_intents",
            {"customer": customer["id"], "payment_method": "pm_card_visa", "confirm": "true"},
        )

    world = World()
    for model in scoped_models():
        ids = list(
            model.objects.filter(account=acct.account, livemode=False)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if ids:
            world.objects[model._meta.label] = [str(i) for i in ids]
    pi_model = apps.get_model("intents", "PaymentIntent")
    world.client_secrets = dict(
        pi_model.objects.filter(account=acct.account).values_list("id", "client_secret")
    )
    if apps.is_installed("checkouts"):
        checkout_model = apps.get_model("checkouts", "Checkout")
        world.client_secrets.update(
            checkout_model.objects.filter(account=acct.account).values_list("id", "client_secret")
        )
    return world


def module_worlds():
    """The fixtures of a module whose tests all read two accounts' worlds (`build_world`), made
    once for the module and committed (`committed_for_module`): `worlds`, and `acct`,
    `other_acct` and `world` standing in there for conftest's. A module takes them with
    `worlds, acct, other_acct, world = module_worlds()` (pytest finds fixtures by name)."""

    @pytest.fixture(scope="module")
    def worlds(django_db_setup, django_db_blocker):
        def build():
            acct, other_acct = make_account("Acme"), make_account("Other Corp")
            built = build_world(acct)
            # The other account owns objects too, so a leak in either direction changes rows.
            build_world(other_acct)
            return acct, other_acct, built

        yield from committed_for_module(django_db_blocker, build)

    @pytest.fixture
    def acct(worlds, db):
        return worlds[0]

    @pytest.fixture
    def other_acct(worlds, db):
        return worlds[1]

    @pytest.fixture
    def world(worlds, db):
        return worlds[2]

    return worlds, acct, other_acct, world

"""Every page of the site carries a Content-Security-Policy (api.middleware.SITE_CSP, set by
`SiteContentSecurityPolicyMiddleware`) and needs nothing it refuses: the console's pages, every
one an operator reaches (each registered model's list, object, add and history pages, each
action's form, the insights pages, Django's own login and password pages), /docs/ and the hosted
3-D Secure page. The hosted checkout pages keep the policy of their own; the API sends none.
(In a real browser, with the admin's own scripts running: tests/browser/test_csp.py.)"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from api.middleware import SITE_CSP, content_security_policy
from checkout_pages.models import CheckoutIntent, CheckoutSession, PaymentLink, Price, Product
from intents.models import PaymentIntent, SetupIntent
from tests.admin.test_pages import build_world
from tests.checkout_pages.conftest import create as create_checkout_intent
from tests.factories import CheckoutFactory, PaymentFlowFactory, ProcessorConnectionFactory

SITE = content_security_policy()
# What a policy of `script-src 'self'; style-src 'self'` refuses, as it appears in a page.
INLINE = {
    "inline style element": re.compile(r"<style[\s>]", re.I),
    "style attribute": re.compile(r"<[^>]+\sstyle=", re.I),
    "inline script": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I),
    "event handler attribute": re.compile(r"<[^>]+\son[a-z]+=", re.I),
    "javascript: link": re.compile(r"""href=["']javascript:""", re.I),
}


def test_the_site_policy_is_the_one_documented():
    assert SITE == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
    assert "'unsafe-inline'" not in SITE and "'unsafe-eval'" not in SITE
    assert content_security_policy(form_action=None) == SITE.replace(" form-action 'self';", "")
    assert set(SITE_CSP) >= {"default-src", "script-src", "style-src", "frame-ancestors"}


def _check_page(url: str, response) -> None:
    assert response["Content-Type"].startswith("text/html"), url
    assert response.get("Content-Security-Policy") == SITE, url
    html = response.content.decode()
    for what, pattern in INLINE.items():
        found = pattern.search(html)
        assert found is None, f"{url}: {what}: {found and found.group(0)[:120]}"


@pytest.fixture
def operator(db) -> Client:
    user = get_user_model().objects.create_superuser("alice", "alice@example.com", "pw-alice-1")
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def every_kind(db, client, operator) -> dict:
    """One object of every kind the console shows (and Django's own users and groups)."""
    world = build_world()
    account = world["accounts.account"]
    connection = ProcessorConnectionFactory(account=account, name="Sim A")
    world["routing.processorconnection"] = connection
    world["routing.paymentflow"] = PaymentFlowFactory(
        account=account, routing={"type": "priority", "processors": [connection.id]}
    )
    world["checkouts.checkout"] = CheckoutFactory(account=account)
    ci = create_checkout_intent(client).json()
    world["checkout_pages.checkoutintent"] = CheckoutIntent.objects.get(id=ci["id"])
    # Stripe Checkout: a product, its price, a session and a payment link; a SetupIntent.
    product = client.post("/v1/products", {"name": "Apron"}).json()
    price = client.post(
        "/v1/prices", {"product": product["id"], "unit_amount": 900, "currency": "usd"}
    ).json()
    line_items = [{"price": price["id"], "quantity": 1}]
    session = client.post(
        "/v1/checkout/sessions",
        {"mode": "payment", "line_items": line_items, "success_url": "https://shop.example/ok"},
    ).json()
    link = client.post("/v1/payment_links", {"line_items": line_items}).json()
    setup = client.post("/v1/setup_intents", {}).json()
    for label, model, object_id in (
        ("checkout_pages.product", Product, product["id"]),
        ("checkout_pages.price", Price, price["id"]),
        ("checkout_pages.checkoutsession", CheckoutSession, session["id"]),
        ("checkout_pages.paymentlink", PaymentLink, link["id"]),
        ("intents.setupintent", SetupIntent, setup["id"]),
    ):
        world[label] = model.objects.get(id=object_id)
    world["auth.user"] = get_user_model().objects.get(username="alice")
    world["auth.group"] = Group.objects.create(name="operators")
    return world


def test_every_console_page_an_operator_reaches_carries_the_csp(operator, every_kind):
    visited: list[str] = []

    def visit(url: str, expect: tuple[int, ...] = (200,)) -> None:
        response = operator.get(url)
        assert response.status_code in expect, (url, response.status_code)
        if response.status_code == 200:
            _check_page(url, response)
            visited.append(url)

    visit("/admin/")
    visit("/admin/password_change/")
    visit(reverse("admin:payments_processor_insights"))
    account = every_kind["accounts.account"]
    visit(f"{reverse('admin:payments_processor_insights')}?account={account.id}&period=90")
    visit(f"{reverse('admin:routing_paymentflow_add')}?account={account.id}&mode=test")
    actions = []
    for model in admin.site._registry:
        label, opts = model._meta.label_lower, model._meta
        base = f"/admin/{opts.app_label}/{opts.model_name}/"
        visit(f"/admin/{opts.app_label}/")
        visit(base)
        visit(f"{base}add/", (200, 403))  # (most kinds are added through the API only)
        changelist = operator.get(base)
        if label not in every_kind:
            assert label == "checkouts.checkoutinsights", f"no {label} to visit the page of"
            continue
        obj = every_kind[label]
        visit(f"{base}{quote(obj.pk)}/change/")
        visit(f"{base}{quote(obj.pk)}/history/")
        action_form = changelist.context.get("action_form")
        for name, _ in action_form.fields["action"].choices if action_form else ():
            if name and name != "delete_selected":
                actions.append((base, name, obj.pk))
    # each action's own page (its form) when it has one; the others act at once
    for base, name, pk in actions:
        response = operator.post(base, {"action": name, "_selected_action": [pk]})
        assert response.status_code in (200, 302), (base, name)
        if response.status_code == 200:
            _check_page(f"{base} {name}", response)
            visited.append(f"{base} {name}")
    assert len(visited) > 50
    for added in ("/admin/auth/user/add/", "/admin/auth/group/add/", "/admin/routing/paymentflow"):
        assert any(v.startswith(added) for v in visited), added
    assert any(v.endswith(" set_behavior") for v in visited)
    assert any(v.endswith(" edit_flow") for v in visited)


@pytest.mark.django_db
def test_the_login_and_logout_pages_carry_the_csp():
    anonymous = Client()
    _check_page("/admin/login/", anonymous.get("/admin/login/"))
    redirect = anonymous.get("/admin/")
    assert redirect.status_code == 302 and redirect["Location"].startswith("/admin/login/")
    get_user_model().objects.create_superuser("bob", "bob@example.com", "pw-bob-1")
    anonymous.login(username="bob", password="pw-bob-1")
    _check_page("/admin/logout/", anonymous.post("/admin/logout/"))


def test_docs_carry_the_csp_and_load_their_script_from_the_site():
    page = Client().get("/docs/")
    assert page.status_code == 200
    _check_page("/docs/", page)
    html = page.content.decode()
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert "/docs/?script=" in scripts  # the start-up script, which used to be inline
    script = Client().get("/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()


def test_the_3d_secure_page_may_send_its_form_on_to_the_merchant(client):
    pi = client.post(
        "/v1/payment_intents",
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_authenticationRequired",
            "confirm": "true",
            "return_url": "https://shop.test/done",
        },
    ).json()
    assert pi["status"] == "requires_action", pi
    url = urlsplit(pi["next_action"]["redirect_to_url"]["url"])
    page = client.django.get(f"{url.path}?{url.query}")
    assert page.status_code == 200
    # the site's policy but for form-action: the answer to its POST redirects to return_url,
    # and from there wherever the merchant sends the customer (Chromium checks form-action
    # against every URL of the redirect chain)
    assert page["Content-Security-Policy"] == content_security_policy(form_action=None)
    for what, pattern in INLINE.items():
        assert pattern.search(page.content.decode()) is None, what
    token = re.search(r'name="token" value="([^"]+)"', page.content.decode()).group(1)
    done = client.django.post(url.path, {"token": token, "outcome": "complete"})
    assert done.status_code == 302
    assert done["Location"].startswith("https://shop.test/done?")


def test_the_3d_secure_done_page_carries_the_site_policy(client):
    pi = client.post(
        "/v1/payment_intents",
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_authenticationRequired",
            "confirm": "true",
            "return_url": "https://shop.test/done",
        },
    ).json()
    PaymentIntent.objects.filter(id=pi["id"]).update(return_url="")
    url = urlsplit(pi["next_action"]["redirect_to_url"]["url"])
    token = dict(p.split("=", 1) for p in url.query.split("&"))["token"]
    done = client.django.post(url.path, {"token": token, "outcome": "complete"})
    assert done.status_code == 200
    _check_page("3-D Secure done", done)


def test_a_hosted_checkout_page_keeps_its_own_policy(client):
    ci = create_checkout_intent(client).json()
    url = urlsplit(ci["url"])
    page = client.django.get(f"{url.path}?{url.query}" if url.query else url.path)
    assert page.status_code == 200
    policy = page["Content-Security-Policy"]
    assert policy != SITE
    assert "frame-ancestors 'none'" in policy and "base-uri 'none'" in policy


def test_the_api_sends_no_policy(client):
    assert "Content-Security-Policy" not in client.get("/v1/payment_intents").headers
    assert "Content-Security-Policy" not in client.django.get("/v1/nothing-here").headers

"""Every page of the console answers, shows its rows, searches and filters without a 500, and
reads a constant number of queries however many rows a list shows (no N+1). What must never be
shown (card details beyond brand and last4, key hashes, endpoint secrets) is not."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiKey
from accounts.services import account_create
from events.models import Delivery
from intents.models import SetupIntent
from payments.models import Refund
from tests.factories import (
    ChargeFactory,
    CustomerFactory,
    DeliveryAttemptFactory,
    EventFactory,
    PaymentIntentFactory,
    PaymentMethodFactory,
    WebhookEndpointFactory,
)

PROJECT_APPS = {"accounts", "intents", "payments", "events"}
CONSOLE_MODELS = [model for model in admin.site._registry if model._meta.app_label in PROJECT_APPS]


def url(model, suffix: str = "") -> str:
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/{suffix}"


def build_world(name: str = "Acme") -> dict:
    """One of every object kind the console shows, all in one account, related as in life."""
    account, _ = account_create(name=name, live=True)
    customer = CustomerFactory(account=account, email=f"{name.lower()}@example.com")
    pm = PaymentMethodFactory(account=account, customer=customer, card_exp_year=2041)
    pi = PaymentIntentFactory(account=account, customer=customer, payment_method=pm)
    charge = ChargeFactory(
        account=account,
        payment_intent=pi,
        payment_method=pm,
        customer=customer,
        captured=True,
        amount_captured=2000,
        amount_refunded=500,
    )
    refund = Refund.objects.create(
        account=account,
        livemode=False,
        charge=charge,
        payment_intent=pi,
        amount=500,
        currency="usd",
        reason="duplicate",
    )
    endpoint = WebhookEndpointFactory(account=account)
    event = EventFactory(
        account=account,
        type="payment_intent.succeeded",
        object_id=pi.id,
        data={"object": {"id": pi.id, "object": "payment_intent"}},
        request_id="req_console0000001",
        operator="admin:alice",
    )
    attempt = DeliveryAttemptFactory(account=account, event=event, endpoint=endpoint)
    setup = SetupIntent(account=account, livemode=False, customer=customer)
    setup.client_secret = f"{setup.id}_secret_console"
    setup.attach_method(pm)
    setup.save()
    return {
        "intents.setupintent": setup,
        "accounts.account": account,
        "accounts.apikey": ApiKey.objects.filter(account=account).first(),
        "payments.customer": customer,
        "payments.paymentmethod": pm,
        "intents.paymentintent": pi,
        "payments.charge": charge,
        "payments.refund": refund,
        "events.webhookendpoint": endpoint,
        "events.event": event,
        "events.delivery": Delivery.objects.get(id=attempt.delivery_id),
        "events.deliveryattempt": attempt,
    }


def shown_id(obj) -> str:
    """What identifies the row on its pages (a key shows its prefix, never more)."""
    return obj.lookup if isinstance(obj, ApiKey) else str(obj.pk)


@pytest.fixture
def world(db) -> dict:
    return build_world()


def test_every_object_kind_has_a_console_page():
    labels = {model._meta.label_lower for model in CONSOLE_MODELS}
    assert labels == {
        "accounts.account",
        "accounts.apikey",
        "payments.customer",
        "payments.paymentmethod",
        "payments.charge",
        "payments.refund",
        "intents.paymentintent",
        "intents.setupintent",
        "events.event",
        "events.webhookendpoint",
        "events.delivery",
        "events.deliveryattempt",
    }


@pytest.mark.parametrize("model", CONSOLE_MODELS, ids=lambda m: m._meta.label_lower)
def test_list_and_object_pages_answer_with_the_data(operator, world, model):
    obj = world[model._meta.label_lower]
    listing = operator.get(url(model))
    assert listing.status_code == 200
    assert shown_id(obj) in listing.content.decode()
    page = operator.get(url(model, f"{quote(obj.pk)}/change/"))
    assert page.status_code == 200
    assert shown_id(obj) in page.content.decode()


@pytest.mark.parametrize("model", CONSOLE_MODELS, ids=lambda m: m._meta.label_lower)
def test_search_finds_a_row_and_nonsense_finds_none(operator, world, model):
    obj = world[model._meta.label_lower]
    found = operator.get(url(model), {"q": shown_id(obj)})
    assert found.status_code == 200
    assert found.context["cl"].result_count == 1
    nothing = operator.get(url(model), {"q": "no-such-thing-%'\"<"})
    assert nothing.status_code == 200
    assert nothing.context["cl"].result_count == 0


@pytest.mark.parametrize("model", CONSOLE_MODELS, ids=lambda m: m._meta.label_lower)
def test_every_filter_choice_answers(operator, world, model):
    listing = operator.get(url(model))
    changelist = listing.context["cl"]
    query_strings = {
        choice["query_string"]
        for spec in changelist.filter_specs
        for choice in spec.choices(changelist)
    }
    assert query_strings, "every list has filters"
    for query in query_strings:
        assert operator.get(url(model) + query).status_code == 200, query


@pytest.mark.parametrize("model", CONSOLE_MODELS, ids=lambda m: m._meta.label_lower)
def test_a_list_reads_as_many_queries_for_five_rows_as_for_one(operator, world, model):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = operator.get(url(model))
        assert response.status_code == 200
        return len(queries)

    one = count()
    for n in range(4):
        build_world(f"Merchant {n}")
    assert operator.get(url(model)).context["cl"].result_count >= 5
    assert count() == one


def test_a_card_shows_only_its_brand_and_last4(operator, world):
    pm = world["payments.paymentmethod"]
    pages = [
        operator.get(url(pm.__class__)).content.decode(),
        operator.get(url(pm.__class__, f"{quote(pm.pk)}/change/")).content.decode(),
        operator.get(url(world["payments.charge"].__class__)).content.decode(),
    ]
    for body in pages:
        assert "4242" in body
        for secret in (pm.card_fingerprint, pm.processor_token, "2041"):
            assert secret not in body


def test_a_key_shows_only_its_prefix(operator, world):
    key = world["accounts.apikey"]
    for page in (url(ApiKey), url(ApiKey, f"{quote(key.pk)}/change/")):
        body = operator.get(page).content.decode()
        assert key.lookup in body
        assert key.hashed not in body


def test_money_is_shown_as_money_and_times_in_utc(operator, world):
    pi = world["intents.paymentintent"]
    body = operator.get(url(pi.__class__)).content.decode()
    assert "$20.00" in body
    assert pi.created.strftime("%Y-%m-%d %H:%M:%S UTC") in body
    refund = world["payments.refund"]
    assert "$5.00" in operator.get(url(refund.__class__)).content.decode()


def test_zero_decimal_amounts_are_shown_right(operator, db):
    PaymentIntentFactory(amount=2500, currency="jpy")
    assert "¥2,500" in operator.get("/admin/intents/paymentintent/").content.decode()


def test_nothing_can_be_added_edited_or_deleted_by_hand(operator, world):
    for model in CONSOLE_MODELS:
        obj = world[model._meta.label_lower]
        assert operator.get(url(model, "add/")).status_code == 403
        assert operator.get(url(model, f"{quote(obj.pk)}/delete/")).status_code == 403
        page = operator.get(url(model, f"{quote(obj.pk)}/change/")).content.decode()
        assert 'name="_save"' not in page


def test_the_console_needs_a_staff_login(world):
    response = Client().get("/admin/intents/paymentintent/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_every_registered_list_answers(operator, world):
    for model in admin.site._registry:
        assert operator.get(url(model)).status_code == 200, model._meta.label


def test_a_link_to_an_id_the_admin_could_read_as_an_escape_opens_its_page(operator, client):
    """The admin unquotes the id in a change page's URL ("_3A" is its escape of ":"), so our
    links quote it as its own do: an id with "_" and one of its twenty escapes (one in two
    hundred of ours) had a link to a page that was "not found"."""
    import re

    from console.base import admin_link
    from intents.models import PaymentIntent

    pi = client.post("/v1/payment_intents", {"amount": 1000, "currency": "usd"}).json()
    tricky = "pi_3A" + pi["id"][5:]
    PaymentIntent.objects.filter(id=pi["id"]).update(id=tricky)
    href = re.search(r'href="([^"]+)"', admin_link(PaymentIntent, tricky)).group(1)
    page = operator.get(href)
    assert page.status_code == 200
    assert tricky in page.content.decode()

"""The console: checkout intents listed with their money, cancel and expire actions in each
intent's own scope (a refusal is a message, never a 500), the attempts on the change page."""

from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.test import Client

from checkout_pages.models import CheckoutIntent
from events.models import Event
from tests.checkout_pages.conftest import create, page_path

CHANGELIST = "/admin/checkout_pages/checkoutintent/"


def _operator() -> Client:
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-ops-123")
    browser = Client()
    browser.force_login(user)
    return browser


def test_changelist_shows_money_and_filters(client):
    ci = create(client, amount=123456).json()
    ops = _operator()
    body = ops.get(CHANGELIST).content.decode()
    assert ci["id"] in body and "$1,234.56" in body
    assert ops.get(CHANGELIST, {"status__exact": "finished"}).content.decode().count(ci["id"]) == 0
    assert ci["id"] in ops.get(CHANGELIST, {"q": ci["id"]}).content.decode()


def test_an_intents_page_is_to_view_with_no_save_button(client):
    ci = create(client).json()
    ops = _operator()
    page = ops.get(f"{CHANGELIST}{quote(ci['id'])}/change/")
    assert page.status_code == 200 and ci["id"] in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    assert ops.post(f"{CHANGELIST}{quote(ci['id'])}/change/", {"_save": "Save"}).status_code == 403


def test_cancel_and_expire_actions(client):
    first, second = create(client).json(), create(client).json()
    ops = _operator()
    response = ops.post(
        CHANGELIST,
        {"action": "cancel_checkout_intents", "_selected_action": [first["id"]]},
        follow=True,
    )
    assert "Canceled 1 checkout intent(s)." in response.content.decode()
    response = ops.post(
        CHANGELIST,
        {"action": "expire_checkout_intents", "_selected_action": [second["id"]]},
        follow=True,
    )
    assert "Expired 1 checkout intent(s)." in response.content.decode()
    assert CheckoutIntent.objects.get(id=first["id"]).status == "canceled"
    assert CheckoutIntent.objects.get(id=second["id"]).status == "expired"
    assert Event.objects.filter(object_id=first["id"], type="checkout_intent.canceled").exists()
    assert Event.objects.filter(object_id=second["id"], type="checkout_intent.expired").exists()


def test_an_action_the_intent_refuses_is_a_message(client, browser_client):
    ci = create(client).json()
    browser_client.submit(page_path(ci["client_token"]))
    response = _operator().post(
        CHANGELIST,
        {"action": "cancel_checkout_intents", "_selected_action": [ci["id"]]},
        follow=True,
    )
    assert response.status_code == 200
    assert "because it has a status of finished" in response.content.decode()
    assert CheckoutIntent.objects.get(id=ci["id"]).status == "finished"


def test_change_page_shows_the_attempts(client, browser_client):
    ci = create(client).json()
    browser_client.submit(page_path(ci["client_token"]), {"number": "4000000000000002"})
    browser_client.submit(page_path(ci["client_token"]))
    response = _operator().get(f"{CHANGELIST}{quote(ci['id'])}/change/")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<tr><td>") == 2
    assert "Your card was declined." in body and "succeeded" in body
    assert "client_token_hash" not in body

"""The operator's cancel action: through the admin changelist, in each intent's own scope."""

from django.contrib.auth import get_user_model
from django.test import Client

from events.models import Event
from tests.intents.conftest import db_intent


def _operator() -> Client:
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-ops-123")
    browser = Client()
    browser.force_login(user)
    return browser


def test_admin_cancel_action_cancels_the_selected_intents(create_intent, confirmed):
    waiting = create_intent()
    authorised = confirmed().json()
    response = _operator().post(
        "/admin/intents/paymentintent/",
        {"action": "cancel_intents", "_selected_action": [waiting["id"], authorised["id"]]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Canceled 2 payment intent(s)." in response.content.decode()
    for pi in (waiting, authorised):
        intent = db_intent(pi["id"])
        assert intent.status == "canceled"
        assert intent.cancellation_reason == "requested_by_customer"
        assert Event.objects.filter(object_id=pi["id"], type="payment_intent.canceled").exists()


def test_admin_cancel_action_reports_an_intent_it_may_not_cancel(create_intent):
    done = create_intent(payment_method="pm_card_visa", capture_method="automatic", confirm=True)
    response = _operator().post(
        "/admin/intents/paymentintent/",
        {"action": "cancel_intents", "_selected_action": [done["id"]]},
        follow=True,
    )
    body = response.content.decode()
    assert "because it has a status of succeeded" in body
    assert "Canceled 0 payment intent(s)." in body
    assert db_intent(done["id"]).status == "succeeded"

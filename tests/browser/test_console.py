"""The console in a real browser: an operator logs in, captures part of an authorised payment
and refunds part of it from the intent's own page, and sees the story on that page."""

from __future__ import annotations

import pytest
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import Select, WebDriverWait

from intents.models import PaymentIntent
from payments.models import Refund
from tests.conftest import csp_violations, make_account, save_screenshot
from tests.helpers import StripeTestClient


def _wait_for(driver, element_id: str):
    return WebDriverWait(driver, 20).until(ready.presence_of_element_located((By.ID, element_id)))


def _action(driver, name: str, fields: dict[str, str]) -> None:
    """Press the action's button on the object's page, fill its form, confirm."""
    driver.find_element(By.ID, f"console-{name}").click()
    _wait_for(driver, "console-action-form")
    for field, value in fields.items():
        element = driver.find_element(By.NAME, field)
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        else:
            element.clear()
            element.send_keys(value)
    driver.find_element(By.ID, "console-action-submit").click()
    WebDriverWait(driver, 20).until(ready.presence_of_element_located((By.ID, "timeline")))


@pytest.mark.django_db(transaction=True)
def test_an_operator_captures_and_refunds_part_of_a_payment(browser, live_server):
    get_user_model().objects.create_superuser("alice", "alice@example.com", "pw-alice-1")
    merchant = StripeTestClient(key=make_account("Acme").sk)
    pi = merchant.post(
        "/v1/payment_intents",
        {
            "amount": 2500,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": "true",
            "capture_method": "manual",
            "description": "Order #1042",
        },
    ).json()
    assert pi["status"] == "requires_capture"
    page = f"/admin/intents/paymentintent/{quote(pi['id'])}/change/"

    browser.get(f"{live_server.url}/admin/login/?next={page}")
    browser.find_element(By.NAME, "username").send_keys("alice")
    browser.find_element(By.NAME, "password").send_keys("pw-alice-1")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    _wait_for(browser, "timeline")

    _action(browser, "capture", {"amount_to_capture": "1500"})
    assert "Captured $15.00." in browser.find_element(By.CLASS_NAME, "messagelist").text
    _action(browser, "refund", {"amount": "400", "reason": "requested_by_customer"})
    assert "Refunded $4.00" in browser.find_element(By.CLASS_NAME, "messagelist").text

    captured = PaymentIntent.objects.get(id=pi["id"])
    assert (captured.status, captured.amount_received) == ("succeeded", 1500)
    refund = Refund.objects.get(payment_intent_id=pi["id"])
    assert (refund.amount, refund.reason, refund.status) == (
        400,
        "requested_by_customer",
        "succeeded",
    )
    timeline = browser.find_element(By.ID, "timeline").text
    assert "captured $15.00" in timeline
    assert "by admin:alice" in timeline
    assert csp_violations(browser) == []  # the console's pages, its actions: all under its CSP

    browser.set_window_size(1280, 1500)
    save_screenshot(browser, "console-intent")

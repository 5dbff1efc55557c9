"""The console in a real browser: an operator logs in, captures part of an authorised payment
and refunds part of it from the intent's own page, typing amounts as people write them (major
units, the currency's own decimals), and sees the story and the refunded figure on that page."""

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


def _action(driver, name: str, fields: dict[str, str], *, lands_on: str = "timeline") -> None:
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
    WebDriverWait(driver, 20).until(ready.presence_of_element_located((By.ID, lands_on)))


def _login(driver, live_server, page: str) -> None:
    driver.get(f"{live_server.url}/admin/login/?next={page}")
    driver.find_element(By.NAME, "username").send_keys("alice")
    driver.find_element(By.NAME, "password").send_keys("pw-alice-1")
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    _wait_for(driver, "timeline")


def _messages(driver) -> str:
    return driver.find_element(By.CLASS_NAME, "messagelist").text


def _field(driver, name: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, f".field-{name} .readonly").text


@pytest.mark.django_db(transaction=True)
def test_an_operator_captures_and_refunds_part_of_a_payment(browser, live_server):
    get_user_model().objects.create_superuser("alice", "alice@example.com", "pw-alice-1")
    merchant = StripeTestClient(key=make_account("Acme").sk)
    pi = merchant.post(
        "/v1/payment_intents",
        {
            "amount": 8800,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": "true",
            "capture_method": "manual",
            "description": "Order #1042",
        },
    ).json()
    assert pi["status"] == "requires_capture"
    page = f"/admin/intents/paymentintent/{quote(pi['id'])}/change/"
    _login(browser, live_server, page)
    assert _field(browser, "refunded_display") == "$0.00"

    # dollars, as the page shows them: 50.00 is fifty dollars, not fifty cents
    _action(browser, "capture", {"amount_to_capture": "50.00"})
    assert _messages(browser) == f"Payment intent {pi['id']}: Captured $50.00."
    _action(browser, "refund", {"amount": "10", "reason": "requested_by_customer"})
    assert _messages(browser).startswith(f"Payment intent {pi['id']}: Refunded $10.00 (re_")
    assert _field(browser, "refunded_display") == "$10.00"
    # a cent's fraction is no amount in dollars: the form says so, and nothing is refunded
    _action(browser, "refund", {"amount": "1.005"}, lands_on="console-action-form")
    errors = browser.find_element(By.CSS_SELECTOR, ".errorlist").text
    assert errors == "Enter an amount in USD with at most 2 decimals, such as 15.00."
    browser.get(f"{live_server.url}{page}")
    _wait_for(browser, "timeline")
    # more than is left: the service's refusal, in money
    _action(browser, "refund", {"amount": "100"})
    assert _messages(browser) == (
        f"Payment intent {pi['id']}: Refund amount ($100.00) is greater than unrefunded amount "
        "on charge ($40.00)."
    )
    browser.get(f"{live_server.url}{page}")
    _wait_for(browser, "timeline")

    captured = PaymentIntent.objects.get(id=pi["id"])
    assert (captured.status, captured.amount_received) == ("succeeded", 5000)
    refund = Refund.objects.get(payment_intent_id=pi["id"])
    assert (refund.amount, refund.reason, refund.status) == (
        1000,
        "requested_by_customer",
        "succeeded",
    )
    assert _field(browser, "refunded_display") == "$10.00"
    timeline = browser.find_element(By.ID, "timeline").text
    assert "captured $50.00" in timeline
    assert "by admin:alice" in timeline
    assert csp_violations(browser) == []  # the console's pages, its actions: all under its CSP

    browser.set_window_size(1280, 1500)
    save_screenshot(browser, "console-intent")


@pytest.mark.django_db(transaction=True)
def test_an_operator_types_yen_and_dinars_in_their_own_decimals(browser, live_server):
    get_user_model().objects.create_superuser("alice", "alice@example.com", "pw-alice-1")
    merchant = StripeTestClient(key=make_account("Acme").sk)
    made = {
        currency: merchant.post(
            "/v1/payment_intents",
            {
                "amount": amount,
                "currency": currency,
                "payment_method": "pm_card_visa",
                "confirm": "true",
                "capture_method": "manual",
            },
        ).json()
        for currency, amount in (("jpy", 8800), ("kwd", 8800))
    }
    jpy = f"/admin/intents/paymentintent/{quote(made['jpy']['id'])}/change/"
    _login(browser, live_server, jpy)
    _action(browser, "capture", {"amount_to_capture": "25.5"}, lands_on="console-action-form")
    assert browser.find_element(By.CSS_SELECTOR, ".errorlist").text == (
        "Enter an amount in JPY with no decimals, such as 15."
    )
    browser.get(f"{live_server.url}{jpy}")
    _wait_for(browser, "timeline")
    _action(browser, "capture", {"amount_to_capture": "2500"})
    assert _messages(browser) == f"Payment intent {made['jpy']['id']}: Captured ¥2,500."

    kwd = f"/admin/intents/paymentintent/{quote(made['kwd']['id'])}/change/"
    browser.get(f"{live_server.url}{kwd}")
    _wait_for(browser, "timeline")
    _action(browser, "capture", {"amount_to_capture": "1.250"})
    assert _messages(browser) == f"Payment intent {made['kwd']['id']}: Captured 1.250 KWD."
    received = dict(
        PaymentIntent.objects.filter(id__in=[m["id"] for m in made.values()]).values_list(
            "currency", "amount_received"
        )
    )
    assert received == {"jpy": 2500, "kwd": 1250}

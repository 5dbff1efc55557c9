"""The routing console in a real browser: an operator switches a simulated processor to decline,
makes a payment flow through the console's form, and — once payments have run through that flow
(the first processor declining, the second taking the retries) — reads the same figures on the
processor insights page. Screenshots for docs/flows.md."""

from __future__ import annotations

from urllib.request import Request, urlopen

import pytest
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.test import Client
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import Select, WebDriverWait

from api.middleware import content_security_policy
from payments.models import Attempt, Charge
from routing.models import PaymentFlow, ProcessorConnection
from tests.conftest import csp_violations, make_account, save_screenshot
from tests.helpers import StripeTestClient

PROCESSORS = "/admin/routing/processorconnection/"
FLOWS = "/admin/routing/paymentflow/"
INSIGHTS = "/admin/payments/charge/processor_insights/"
VISA, INSUFFICIENT = "pm_card_visa", "pm_card_chargeDeclinedInsufficientFunds"
# (amount, card) of each payment: the first processor soft-declines them all, the flow retries
# each on the second, which authorises the Visas and hard-declines the two without funds
PAYMENTS = [
    (1200, VISA),
    (2500, VISA),
    (990, INSUFFICIENT),
    (4000, VISA),
    (1575, VISA),
    (3000, VISA),
    (800, VISA),
    (6250, INSUFFICIENT),
    (2100, VISA),
    (1800, VISA),
]


def _wait_for(driver, element_id: str):
    return WebDriverWait(driver, 20).until(ready.presence_of_element_located((By.ID, element_id)))


def _fit(driver, width: int = 1440) -> None:
    """The whole page in the screenshot: the console's app list (the nav sidebar) folded away,
    the viewport wide enough for the page's widest table (up to 1920 pixels) and as tall as
    the page."""
    toggle = driver.find_elements(By.ID, "toggle-nav-sidebar")
    if toggle and driver.find_element(By.ID, "nav-sidebar").is_displayed():
        toggle[0].click()

    def viewport(width: int, height: int) -> None:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    driver.execute_cdp_cmd("Emulation.setScrollbarsHidden", {"hidden": True})
    viewport(width, 800)
    overflow = driver.execute_script(
        "return Math.max(0, ...[...document.querySelectorAll('.results, table')]"
        ".map(e => e.scrollWidth - e.clientWidth))"
    )
    width = min(width + overflow, 1920)
    viewport(width, 800)
    height = driver.execute_script(
        "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)"
    )
    viewport(width, min(height, 3000))
    driver.execute_script("window.scrollTo(0, 0)")  # (a field typed in may have scrolled it)


def _unfit(driver) -> None:
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.execute_cdp_cmd("Emulation.setScrollbarsHidden", {"hidden": False})


def _fill(driver, fields: dict[str, str]) -> None:
    for field, value in fields.items():
        element = driver.find_element(By.NAME, field)
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        else:
            element.clear()
            element.send_keys(value)


def _assert_no_inline_script(driver) -> None:
    """The page as the browser has it runs no inline script and has no inline style (its CSP,
    `script-src 'self'; style-src 'self'`, leaves it working), and the browser refused nothing
    under that CSP."""
    inline = driver.find_elements(By.CSS_SELECTOR, "script:not([src])")
    assert inline == [], [s.get_attribute("outerHTML")[:200] for s in inline]
    handlers = driver.execute_script(
        "return [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]"
        ".filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name))"
    )
    assert handlers == []
    links = driver.find_elements(By.CSS_SELECTOR, "a[href^='javascript:']")
    assert links == []
    assert csp_violations(driver) == []


def _assert_headers(driver, url: str) -> None:
    """The page's response headers as the live server sends them to this browser's session
    (selenium does not see headers): never framed, no content sniffing, no Referer abroad, the
    site's Content-Security-Policy; and no inline style in the page that policy would refuse."""
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    with urlopen(Request(url, headers={"Cookie": cookies}), timeout=20) as response:
        assert response.status == 200
        assert response.url == url  # still logged in: not sent to the login page
        headers = response.headers
        html = response.read().decode()
    assert "<style" not in html and " style=" not in html
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Content-Security-Policy"] == content_security_policy()


def _cell(row, column: int) -> str:
    return row.find_elements(By.TAG_NAME, "td")[column].text


@pytest.mark.django_db(transaction=True)
def test_an_operator_routes_payments_and_reads_the_insights(browser, live_server):
    get_user_model().objects.create_superuser("olga", "olga@example.com", "pw-olga-1")
    acme = make_account("Acme")
    merchant = StripeTestClient(key=acme.sk)

    def connect(name: str) -> str:
        response = merchant.post(
            "/v1/processors",
            {"kind": "simulated", "name": name, "simulated": {"behavior": "normal"}},
        )
        assert response.status_code == 200, response
        return response.json()["id"]

    first, second = connect("Sim Alpha"), connect("Sim Beta")
    everyday = merchant.post(
        "/v1/payment_flows",
        {"name": "Everyday", "routing": {"type": "priority", "processors": [second]}},
    )
    assert everyday.status_code == 200, everyday
    everyday = everyday.json()["id"]

    # --- the Processors page: Sim Alpha declines every authorisation from now on -----------
    alpha_page = f"{PROCESSORS}{quote(first)}/change/"
    browser.get(f"{live_server.url}/admin/login/?next={alpha_page}")
    browser.find_element(By.NAME, "username").send_keys("olga")
    browser.find_element(By.NAME, "password").send_keys("pw-olga-1")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    _wait_for(browser, "console-set_behavior").click()
    _wait_for(browser, "console-action-form")
    assert "Sim Alpha" in browser.find_element(By.ID, "content-main").text
    _assert_no_inline_script(browser)
    _fill(browser, {"behavior": "decline", "decline_code": "try_again_later"})
    browser.find_element(By.ID, "console-action-submit").click()
    _wait_for(browser, "console-set_behavior")
    assert browser.current_url == f"{live_server.url}{alpha_page}"
    # (a message starts with a word: the admin capitalises its first letter, "Proc_…" once)
    message = browser.find_element(By.CLASS_NAME, "messagelist").text
    assert message == (
        f"Processor connection {first}: Behaviour set to decline (try_again_later), latency 0 ms."
    )
    alpha = ProcessorConnection.objects.get(id=first)
    assert (alpha.behavior, alpha.decline_code) == ("decline", "try_again_later")

    browser.get(f"{live_server.url}{PROCESSORS}")
    _wait_for(browser, "result_list")
    rows = {
        row.find_element(By.CSS_SELECTOR, "th, td.field-name").text: row
        for row in browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    }
    assert {"Sim Alpha", "Sim Beta"} <= set(rows)
    assert "decline (try_again_later)" in rows["Sim Alpha"].text
    assert "normal" in rows["Sim Beta"].text and "active" in rows["Sim Beta"].text
    _fit(browser)
    save_screenshot(browser, "console-processors")
    _unfit(browser)
    _assert_no_inline_script(browser)
    _assert_headers(browser, f"{live_server.url}{PROCESSORS}")

    # --- the Payment flows form: Alpha, then Beta, two attempts ---------------------------
    add = f"{FLOWS}add/?account={acme.id}&mode=test"
    browser.get(f"{live_server.url}{add}")
    _wait_for(browser, "flow-form")
    _fill(
        browser,
        {
            "name": "Alpha then Beta",
            "routing_type": "priority",
            "processor_1": first,
            "processor_2": second,
            "retry_max_attempts": "2",
        },
    )
    retry_on = browser.find_elements(By.CSS_SELECTOR, "input[name=retry_on]")
    assert {box.get_attribute("value") for box in retry_on if box.is_selected()} == {
        "soft_decline",
        "processor_error",
    }
    _fit(browser)
    save_screenshot(browser, "console-flow-form")
    _unfit(browser)
    _assert_no_inline_script(browser)
    _assert_headers(browser, f"{live_server.url}{add}")
    browser.find_element(By.ID, "flow-form-submit").click()
    _wait_for(browser, "console-edit_flow")

    flow = PaymentFlow.objects.get(account=acme.account, livemode=False, name="Alpha then Beta")
    assert browser.current_url == f"{live_server.url}{FLOWS}{quote(flow.id)}/change/"
    # the flow's page names its processors beside their ids
    named = browser.find_element(By.CSS_SELECTOR, ".field-processors_named .readonly").text
    assert named == f"Sim Alpha ({first}) → Sim Beta ({second})"
    _assert_no_inline_script(browser)
    message = browser.find_element(By.CLASS_NAME, "messagelist").text
    assert message == f"Payment flow {flow.id}: Created (priority)."
    assert flow.routing == {"type": "priority", "processors": [first, second]}
    assert flow.retry == {"max_attempts": 2, "on": ["soft_decline", "processor_error"]}
    assert not flow.is_default and flow.version == 1
    assert merchant.get(f"/v1/payment_flows/{flow.id}").json()["retry"]["max_attempts"] == 2

    # --- payments through that flow, by the API ------------------------------------------
    for amount, card in PAYMENTS:
        response = merchant.post(
            "/v1/payment_intents",
            {
                "amount": amount,
                "currency": "usd",
                "payment_method": card,
                "confirm": "true",
                "payment_flow": flow.id,
            },
        )
        if card == VISA:
            assert response.status_code == 200, response
            assert response.json()["status"] == "succeeded"
        else:
            assert response.status_code == 402, response
            assert response.error["decline_code"] == "insufficient_funds"
        pi = (response.json() if card == VISA else response.error["payment_intent"])["id"]
        made = Charge.objects.filter(payment_intent_id=pi).order_by("attempt_number")
        assert [(c.processor_id, c.attempt_number) for c in made] == [(first, 1), (second, 2)]

    succeeded = [amount for amount, card in PAYMENTS if card == VISA]
    declined = len(PAYMENTS) - len(succeeded)
    recovered = f"${sum(succeeded) / 100:,.2f}"
    assert Attempt.objects.filter(processor=first, outcome="soft_decline").count() == len(PAYMENTS)

    # --- the processor insights page ------------------------------------------------------
    insights = f"{INSIGHTS}?account={acme.id}&mode=test&period=7"
    browser.get(f"{live_server.url}{insights}")
    _wait_for(browser, "processors")

    def kpi(name: str) -> str:
        return browser.find_element(By.ID, f"kpi-{name}").text

    assert kpi("attempts") == str(2 * len(PAYMENTS))
    assert kpi("succeeded") == str(len(succeeded))
    assert kpi("rate") == f"{len(succeeded) / (2 * len(PAYMENTS)):.1%}"
    assert kpi("recovered") == str(len(succeeded))
    assert kpi("recovered-amount") == recovered

    table = {
        _cell(row, 0): row for row in browser.find_elements(By.CSS_SELECTOR, "#processors tbody tr")
    }
    assert list(table) == ["Sim Alpha", "Sim Beta"]  # by name; the built-in one made no attempt
    alpha_row, beta_row = table["Sim Alpha"], table["Sim Beta"]
    # Attempts, Succeeded, Authorisation rate, Soft, Hard, Processor errors, Requires action
    assert [_cell(alpha_row, i) for i in range(1, 8)] == [
        str(len(PAYMENTS)), "0", "0.0%", str(len(PAYMENTS)), "0", "0", "0",
    ]  # fmt: skip
    assert [_cell(beta_row, i) for i in range(1, 8)] == [
        str(len(PAYMENTS)),
        str(len(succeeded)),
        f"{len(succeeded) / len(PAYMENTS):.1%}",
        "0",
        str(declined),
        "0",
        "0",
    ]
    assert _cell(alpha_row, 10) == "—" and _cell(beta_row, 10) == recovered  # volume
    assert (
        alpha_row.find_element(By.TAG_NAME, "a").get_attribute("href")
        == f"{live_server.url}{PROCESSORS}{quote(first)}/change/"
    )

    # the charts: a line per processor, and today's bar stacked from both processors' attempts
    rates = browser.find_element(By.CSS_SELECTOR, "svg.processor-rates")
    bars = browser.find_element(By.CSS_SELECTOR, "svg.processor-attempts")
    assert rates.size["width"] > 600 and bars.size["width"] > 600
    assert len(rates.find_elements(By.TAG_NAME, "path")) == 2
    tips = [
        t.get_attribute("textContent") for t in bars.find_elements(By.CSS_SELECTOR, "rect title")
    ]
    assert sorted(t.split(",")[0] for t in tips) == ["Sim Alpha", "Sim Beta"]
    assert all(t.endswith(f": {len(PAYMENTS)}") for t in tips)
    # every payment ran today: each processor's rate is one point, marked and written beside it
    # (in the legend's order, by name)
    labels = [t.text for t in rates.find_elements(By.CSS_SELECTOR, "text[font-weight=bold]")]
    assert sorted(labels) == ["0.0%", f"{len(succeeded) / len(PAYMENTS):.1%}"]
    legend = rates.find_element(By.CSS_SELECTOR, "text:last-of-type").text
    assert legend == "■ Sim Alpha ■ Sim Beta"
    # and every label is drawn whole, inside its chart (the last day's was cut: "Dec 0")
    for chart in (rates, bars):
        outside = browser.execute_script(
            "const svg = arguments[0], width = svg.width.baseVal.value;"
            "return [...svg.querySelectorAll('text')].filter(t => {"
            "  const box = t.getBBox(); return box.x < 0 || box.x + box.width > width;"
            "}).map(t => t.textContent)",
            chart,
        )
        assert outside == []

    # narrowed to the flow, the same figures; narrowed to the other flow, none
    Select(browser.find_element(By.ID, "f-flow")).select_by_value(flow.id)
    browser.find_element(By.CSS_SELECTOR, ".insights-filters input[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: f"flow={flow.id}" in d.current_url)
    assert kpi("attempts") == str(2 * len(PAYMENTS)) and kpi("recovered") == str(len(succeeded))
    _fit(browser)
    save_screenshot(browser, "console-processor-insights")
    _unfit(browser)
    _assert_no_inline_script(browser)
    _assert_headers(browser, browser.current_url)

    browser.get(f"{live_server.url}{insights}&flow={everyday}")
    _wait_for(browser, "processors")
    assert kpi("attempts") == "0" and kpi("recovered") == "0"
    assert (
        "No authorisation attempts in this period."
        in browser.find_element(By.ID, "processors").text
    )


@pytest.mark.django_db
def test_the_routing_console_pages_are_served_with_a_csp(acct):
    operator = Client()
    operator.force_login(
        get_user_model().objects.create_superuser("olga", "olga@example.com", "pw-olga-1")
    )
    for url in (PROCESSORS, f"{FLOWS}add/?account={acct.id}&mode=test", INSIGHTS):
        response = operator.get(url)
        assert response.status_code == 200
        csp = response.headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in csp or "script-src 'self'" in csp, url
        assert "'unsafe-inline'" not in csp.split("script-src")[-1].split(";")[0], url

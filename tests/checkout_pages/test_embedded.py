"""The checkout form embedded in a merchant's page (checkout.js), in headless Chromium: 3-D
Secure runs in a window the frame opens and the merchant's page hears `success` or `declined`;
a frame refused by frame-ancestors is reported to the merchant's page (`error`, with a reason)
and in its console."""

from __future__ import annotations

import json

import pytest
import stripe
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from checkout_pages.models import CheckoutIntent
from tests.checkout_pages import test_browser
from tests.checkout_pages.test_browser import completed, fill, make, wait_url
from tests.conftest import make_account, save_screenshot

pytestmark = pytest.mark.django_db(transaction=True)

SHOP_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>The Shop</h1><p id="ready">ready</p>
<script src="%(live)s/static/checkout/checkout.js"></script>
<script>
  function log(e) {
    var seen = JSON.parse(sessionStorage.getItem("events") || "[]");
    seen.push(e.type === "error" ? "error:" + e.reason : (e.type || "closed"));
    sessionStorage.setItem("events", JSON.stringify(seen));
  }
  sessionStorage.setItem("events", "[]");
  var checkout = PayIntents.checkout({ clientToken: "%(token)s", loadTimeout: 1500 });
  ["loaded", "processing", "declined", "success", "closed", "error"].forEach(function (type) {
    checkout.on(type, function (e) { e.type = type; log(e); });
  });
</script></body></html>"""


@pytest.fixture
def merchant(live_server, settings, monkeypatch):
    monkeypatch.setattr(test_browser, "SHOP_PAGE", SHOP_PAGE)
    settings.PUBLIC_BASE_URL = live_server.url
    shop = test_browser.Merchant()
    shop.live = live_server.url
    shop.thread.start()
    yield shop
    shop.server.shutdown()


@pytest.fixture
def api(acct):
    return test_browser.StripeTestClient(key=acct.sk)


def events(browser) -> list[str]:
    return json.loads(browser.execute_script("return sessionStorage.getItem('events')"))


def open_framed(browser, merchant, ci) -> None:
    browser.get(f"{merchant.origin}/shop?token={ci['client_token']}")
    frame = WebDriverWait(browser, 20).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "[data-payintents-modal] iframe"))
    )
    browser.switch_to.frame(frame)
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "checkout-form")))


def challenge_in_its_window(browser, button: str) -> None:
    """Click "Confirm with my bank" in the frame, answer in the window it opens, come back."""
    main = browser.current_window_handle
    WebDriverWait(browser, 20).until(EC.element_to_be_clickable((By.ID, "authenticate"))).click()
    WebDriverWait(browser, 20).until(lambda d: len(d.window_handles) == 2)
    popup = next(h for h in browser.window_handles if h != main)
    browser.switch_to.window(popup)
    WebDriverWait(browser, 20).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, f"button.{button}"))
    )
    browser.find_element(By.CSS_SELECTOR, f"button.{button}").click()
    WebDriverWait(browser, 20).until(
        lambda d: popup not in d.window_handles or d.find_elements(By.ID, "challenge-done")
    )
    browser.switch_to.window(main)


def test_3d_secure_in_a_window_the_frame_opens_ends_in_success_on_the_merchant_page(
    browser, api, merchant
):
    ci = make(api, merchant, type="checkout_plugin", allowed_origins=[merchant.origin])
    open_framed(browser, merchant, ci)
    fill(browser, "4000 0027 6000 3184")
    browser.find_element(By.ID, "pay").click()
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "challenge")))
    browser.switch_to.default_content()
    save_screenshot(browser, "embedded-3ds")
    assert browser.current_url.startswith(f"{merchant.origin}/shop")  # the window stayed
    browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, "[data-payintents-modal] iframe"))
    challenge_in_its_window(browser, "complete")
    assert wait_url(browser, f"{merchant.origin}/done") == completed(merchant, ci)
    assert CheckoutIntent.objects.get(id=ci["id"]).status == "finished"


def test_a_failed_3d_secure_step_is_declined_on_the_merchant_page(browser, api, merchant):
    ci = make(api, merchant, type="checkout_plugin", allowed_origins=[merchant.origin])
    open_framed(browser, merchant, ci)
    fill(browser, "4000 0027 6000 3184")
    browser.find_element(By.ID, "pay").click()
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "challenge")))
    challenge_in_its_window(browser, "fail")
    frame = browser.find_element(By.CSS_SELECTOR, "[data-payintents-modal] iframe")
    browser.switch_to.frame(frame)
    decline = WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "decline")))
    assert "Your bank could not confirm this payment" in decline.text
    browser.switch_to.default_content()
    WebDriverWait(browser, 20).until(lambda d: "declined" in events(d))
    assert events(browser)[:2] == ["loaded", "processing"]
    assert CheckoutIntent.objects.get(id=ci["id"]).status == "pending"


def test_a_frame_refused_by_frame_ancestors_is_reported_to_the_merchant_page(
    browser, api, merchant
):
    ci = make(api, merchant, type="checkout_plugin", allowed_origins=["https://shop.example.com"])
    browser.get(f"{merchant.origin}/shop?token={ci['client_token']}")
    WebDriverWait(browser, 20).until(lambda d: events(d) == ["error:frame_refused"])
    logs = [entry["message"] for entry in browser.get_log("browser")]
    assert any("refused to load in this frame" in line for line in logs), logs
    assert any(merchant.origin in line and "allowed_origins" in line for line in logs), logs


def test_a_frame_that_loads_reports_no_error(browser, api, merchant):
    ci = make(api, merchant, type="checkout_plugin", allowed_origins=[merchant.origin])
    open_framed(browser, merchant, ci)
    browser.switch_to.default_content()
    WebDriverWait(browser, 5).until(lambda d: "loaded" in events(d))
    browser.execute_script("return new Promise(r => setTimeout(r, 2000))")
    assert events(browser) == ["loaded"]


def test_an_embedded_checkout_session_pays_in_the_merchant_page(browser, merchant, live_server):
    """stripe-python makes a ui_mode=embedded session; its client_secret mounts the form with
    checkout.js in the page at return_url's origin; paying ends on return_url."""
    keys = make_account("Embedded Co")
    client = stripe.StripeClient(
        keys.sk, base_addresses={"api": live_server.url}, max_network_retries=0
    )
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "ui_mode": "embedded",
            "line_items": [
                {
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 1800,
                        "product_data": {"name": "Tote"},
                    },
                    "quantity": 1,
                }
            ],
            "return_url": f"{merchant.origin}/done?session_id={{CHECKOUT_SESSION_ID}}",
        }
    )
    assert session.url is None and session.client_secret
    browser.get(f"{merchant.origin}/shop?token={session.client_secret}")
    frame = WebDriverWait(browser, 20).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "[data-payintents-modal] iframe"))
    )
    browser.switch_to.frame(frame)
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "checkout-form")))
    assert "Tote" in browser.find_element(By.ID, "line-items").text
    fill(browser)
    browser.find_element(By.ID, "pay").click()
    browser.switch_to.default_content()
    assert wait_url(browser, f"{merchant.origin}/done") == (
        f"{merchant.origin}/done?session_id={session.id}"
    )
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status, done.client_secret) == ("complete", "paid", None)
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.checkout.sessions.create(
            params={"mode": "setup", "ui_mode": "embedded", "success_url": merchant.origin}
        )
    assert error.value.param == "success_url"

"""The site's Content-Security-Policy (api.middleware.SITE_CSP) in a real browser: the pages work
under it, with their scripts running, and the browser refuses nothing. Django's own admin pages
(the login form, a change list with its actions, a change form whose widgets its scripts
build), /docs/ (Swagger UI, trying an operation), and the hosted 3-D Secure page, whose form's
answer sends the customer to the merchant's return_url on another origin, which sends them on."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.conftest import ROOT, csp_violations, make_account
from tests.helpers import StripeTestClient

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_for(driver, selector: str):
    return WebDriverWait(driver, 20).until(
        ready.presence_of_element_located((By.CSS_SELECTOR, selector))
    )


def _log_in(driver, base: str, username: str, password: str, then: str = "/admin/") -> None:
    driver.get(f"{base}/admin/login/?next={then}")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()


def test_the_admins_own_pages_and_scripts_work_under_the_csp(browser, live_server):
    get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-1")
    Group.objects.create(name="operators")
    _log_in(browser, live_server.url, "root", "pw-root-1", then="/admin/auth/user/add/")
    assert csp_violations(browser) == []

    # a change form: add a user, then its page, where the admin's scripts build the widgets
    _wait_for(browser, "#user_form")
    browser.find_element(By.NAME, "username").send_keys("olga")
    for name in ("password1", "password2"):
        browser.find_element(By.NAME, name).send_keys("pw-olga-1-long")
    browser.find_element(By.NAME, "_continue").click()
    _wait_for(browser, "#id_groups_from")  # SelectFilter2 made the two-list selector
    assert browser.find_elements(By.CSS_SELECTOR, ".datetimeshortcuts")  # DateTimeShortcuts
    Select(browser.find_element(By.ID, "id_groups_from")).select_by_visible_text("operators")
    browser.find_element(By.ID, "id_groups_add").click()
    chosen = [o.text for o in Select(browser.find_element(By.ID, "id_groups_to")).options]
    assert chosen == ["operators"]
    browser.find_element(By.NAME, "_save").click()
    _wait_for(browser, "#result_list")
    olga = get_user_model().objects.get(username="olga")
    assert list(olga.groups.values_list("name", flat=True)) == ["operators"]
    assert csp_violations(browser) == []

    # a change list and an action: the counter its script keeps, the confirmation, the deletion
    box = browser.find_element(By.CSS_SELECTOR, f"input.action-select[value='{olga.pk}']")
    box.click()
    assert "1 of 2 selected" in browser.find_element(By.CSS_SELECTOR, ".action-counter").text
    Select(browser.find_element(By.NAME, "action")).select_by_value("delete_selected")
    browser.find_element(By.CSS_SELECTOR, "button[name=index]").click()
    _wait_for(browser, ".delete-confirmation").find_element(
        By.CSS_SELECTOR, "input[type=submit]"
    ).click()
    _wait_for(browser, ".messagelist")
    assert not get_user_model().objects.filter(username="olga").exists()

    # the nav sidebar's filter and toggle
    browser.get(f"{live_server.url}/admin/auth/group/")
    search = _wait_for(browser, "#nav-filter")
    search.send_keys("grou")
    shown = [
        a.text
        for a in browser.find_elements(By.CSS_SELECTOR, "#nav-sidebar th a")
        if a.is_displayed()
    ]
    assert shown == ["Groups"]
    assert csp_violations(browser) == []


def _next_frames(browser) -> None:
    browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "requestAnimationFrame(() => requestAnimationFrame(() => done(true)));"
    )


def _laid_out(browser) -> tuple[set[str], set[str]]:
    """Every operation (its block's id) and tag section Swagger UI lays out, read while
    scrolling down the page: from 150 rows (tags and operations) on, Swagger UI renders only
    the rows near the viewport (a virtualised list), so the page never holds them all at once."""
    operations: set[str] = set()
    tags: set[str] = set()
    y = 0
    while True:
        browser.execute_script("window.scrollTo(0, arguments[0])", y)
        rows: set[str] = set()
        for _ in range(20):  # the rows scrolled to are rendered within a few frames
            _next_frames(browser)
            now = {
                block.get_attribute("id")
                for block in browser.find_elements(By.CSS_SELECTOR, ".opblock")
            }
            if now == rows:
                break
            rows = now
        operations |= rows
        tags |= {
            tag.text.split("\n")[0]
            for tag in browser.find_elements(By.CSS_SELECTOR, ".opblock-tag")
        }
        if y >= browser.execute_script("return document.documentElement.scrollHeight"):
            break
        y += browser.execute_script("return window.innerHeight") // 2
    browser.execute_script("window.scrollTo(0, 0)")
    _next_frames(browser)
    return operations, tags


def test_docs_run_swagger_ui_under_the_csp(browser, live_server):
    browser.get(f"{live_server.url}/docs/")
    title = _wait_for(browser, ".swagger-ui .info .title")
    assert "payintents" in title.text
    # every operation of the schema, under its tag (a section each): a schema Swagger UI
    # could not lay out would stop the list at the operation it could not render
    schema = json.loads((ROOT / "docs" / "openapi.json").read_text())
    operations = {
        f"operations-{tag.replace(' ', '_')}-{operation['operationId']}"
        for item in schema["paths"].values()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
        for tag in operation.get("tags", ["default"])
    }
    tags = {
        tag
        for item in schema["paths"].values()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
        for tag in operation.get("tags", ["default"])
    }
    _wait_for(browser, ".opblock")
    shown_operations, shown_tags = _laid_out(browser)
    assert shown_operations == operations
    assert shown_tags == tags
    # the page's own stylesheet (its inline style, moved) and Swagger UI's apply
    assert browser.find_element(By.TAG_NAME, "body").value_of_css_property("margin") == "0px"
    # try an operation: it answers in the page
    browser.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    _wait_for(browser, ".try-out__btn").click()
    _wait_for(browser, ".execute").click()
    code = _wait_for(browser, ".live-responses-table tbody .response-col_status")
    assert code.text.strip().startswith("200")
    assert csp_violations(browser) == []


class _Merchant:
    """The merchant's site on another origin (127.0.0.1, the live server being localhost):
    `/return` sends the customer on to `/thanks`, as a checkout's return page may."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if urlsplit(self.path).path == "/return":
                    self.send_response(302)
                    self.send_header("Location", "/thanks")
                    self.end_headers()
                    return
                body = b"<!doctype html><title>Thanks</title><h1 id='thanks'>Thanks</h1>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def merchant():
    shop = _Merchant()
    yield shop
    shop.server.shutdown()


def test_the_3d_secure_page_sends_the_customer_back_to_the_merchant(
    browser, live_server, merchant, settings
):
    settings.PUBLIC_BASE_URL = live_server.url  # the page's link points at the live server
    settings.PUBLIC_BASE_URL_SET = True
    api = StripeTestClient(key=make_account("Acme").sk)
    pi = api.post(
        "/v1/payment_intents",
        {
            "amount": 2500,
            "currency": "usd",
            "payment_method": "pm_card_authenticationRequired",
            "confirm": "true",
            "return_url": f"{merchant.origin}/return",
        },
    ).json()
    assert pi["status"] == "requires_action", pi
    browser.get(pi["next_action"]["redirect_to_url"]["url"])
    complete = _wait_for(browser, "button.complete")
    # its stylesheet applies (the style it had inline): the button in the brand's colour
    assert complete.value_of_css_property("background-color") == "rgba(99, 91, 255, 1)"
    assert "$25.00" in browser.find_element(By.CLASS_NAME, "amount").text
    complete.click()
    WebDriverWait(browser, 20).until(lambda d: d.current_url.startswith(merchant.origin))
    assert browser.current_url == f"{merchant.origin}/thanks"
    assert csp_violations(browser) == []

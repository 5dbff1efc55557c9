"""The console: the checkout-insights page (linked from the admin index, its charts drawn as
SVG on the server) and each checkout's page with its timeline and linked payments."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.test import Client
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from checkouts.insights import checkout_insights
from checkouts.models import Checkout
from core.scope import Scope
from tests.checkouts.sample import load_sample, sample_flows
from tests.conftest import save_screenshot

INSIGHTS = "/admin/checkouts/checkoutinsights/"


def _operator() -> Client:
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-ops-123")
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_index_links_to_the_insights_page(acct):
    page = _operator().get("/admin/").content.decode()
    assert f'href="{INSIGHTS}"' in page
    assert "Checkout insights" in page


def test_the_insights_page_draws_the_funnel_and_the_daily_line_without_script(acct):
    load_sample(acct.account, n=200)
    response = _operator().get(INSIGHTS, {"account": acct.id})
    assert response.status_code == 200
    html = response.content.decode()
    figures = checkout_insights(scope=Scope(acct.id, False), group_by="day")["total"]
    assert f'<strong id="kpi-started">{figures["started"]}</strong>' in html
    assert f'<strong id="kpi-completed">{figures["completed"]}</strong>' in html
    assert 'class="funnel"' in html and 'class="daily"' in html
    daily = html[html.index('class="daily"') :]
    assert daily[: daily.index("</svg>")].count("<path") == 2  # started, completed
    assert len(re.findall(r'<rect x="150"', html)) == 7  # one bar per step
    assert "<script" not in html.split('id="content-main"')[1]
    for currency in ("EUR", "USD", "GBP"):
        assert f"<td>{currency}</td>" in html
    assert "Dropped here" in html and "Lost (inactive carts)" in html


def test_the_filters_narrow_the_figures(acct):
    load_sample(acct.account, n=200)
    operator = _operator()
    everything = checkout_insights(scope=Scope(acct.id, False))["total"]["started"]
    hosted = checkout_insights(scope=Scope(acct.id, False), source="hosted")["total"]["started"]
    assert 0 < hosted < everything
    page = operator.get(INSIGHTS, {"account": acct.id, "source": "hosted"}).content.decode()
    assert f'<strong id="kpi-started">{hosted}</strong>' in page
    flows = sample_flows(acct.account)
    express = flows["express"]
    irish = checkout_insights(scope=Scope(acct.id, False), country="IRL", payment_flow=express)
    page = operator.get(
        INSIGHTS, {"account": acct.id, "country": "IRL", "flow": express, "period": "7"}
    ).content.decode()
    assert irish["total"]["started"] >= int(re.search(r'id="kpi-started">(\d+)<', page).group(1))
    assert "Ireland (IRL)" in page
    # the flow filter offers the account's flows by id, the chosen one selected
    assert f'<option value="{express}" selected>' in page
    assert f'<option value="{flows["default"]}">' in page


def test_a_checkouts_page_shows_its_timeline_and_linked_payments(client):
    chk = client.post(
        "/v1/checkouts", {"tracking_id": "o1", "amount": 4200, "currency": "eur"}
    ).json()
    client.post(f"/v1/checkouts/{chk['id']}", {"shipping": {"status": "complete"}})
    pi = client.post(
        "/v1/payment_intents", {"amount": 4200, "currency": "eur", "checkout": chk["id"]}
    ).json()
    client.post(
        f"/v1/payment_intents/{pi['id']}/confirm", {"payment_method": "pm_card_chargeDeclined"}
    )
    client.post(f"/v1/payment_intents/{pi['id']}/confirm", {"payment_method": "pm_card_visa"})
    ops = _operator()
    page = ops.get(f"/admin/checkouts/checkout/{quote(chk['id'])}/change/").content.decode()
    assert "Payment attempt #1" in page and "Payment attempt #2" in page
    assert "generic_decline" in page
    assert "shipping → complete" in page
    assert "€42.00" in page
    # a page to view, like every console page: no Save button (every field is read-only)
    assert 'name="_save"' not in page
    before = Checkout.objects.get(id=chk["id"]).last_activity_at
    refused = ops.post(f"/admin/checkouts/checkout/{quote(chk['id'])}/change/", {"_save": "Save"})
    assert refused.status_code == 403
    assert Checkout.objects.get(id=chk["id"]).last_activity_at == before


@pytest.mark.django_db(transaction=True)
def test_the_insights_page_in_a_real_browser(browser, live_server, acct):
    load_sample(acct.account, n=600)
    get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-ops-123")
    browser.set_window_size(1280, 1750)
    browser.get(f"{live_server.url}/admin/login/?next={INSIGHTS}")
    browser.find_element("id", "id_username").send_keys("ops")
    browser.find_element("id", "id_password").send_keys("pw-ops-123")
    browser.find_element("css selector", "input[type=submit]").click()
    # the login, then the insights over 600 checkouts: give a loaded machine time
    funnel = WebDriverWait(browser, 30).until(
        ready.presence_of_element_located((By.CSS_SELECTOR, "svg.funnel"))
    )
    assert funnel.size["width"] > 600
    daily = browser.find_element(By.CSS_SELECTOR, "svg.daily")
    assert len(daily.find_elements(By.TAG_NAME, "path")) == 2
    # every date label drawn whole inside the chart (the last day's was cut off)
    outside = browser.execute_script(
        "const svg = arguments[0], width = svg.width.baseVal.value;"
        "return [...svg.querySelectorAll('text')].filter(t => {"
        "  const box = t.getBBox(); return box.x < 0 || box.x + box.width > width;"
        "}).map(t => t.textContent)",
        daily,
    )
    assert outside == []
    assert browser.find_element("id", "kpi-started").text == "600"
    save_screenshot(browser, "checkout-insights")

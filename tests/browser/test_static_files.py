"""Static files are served by the app itself (whitenoise): the console and /docs/ render styled."""

import re

import pytest
from django.test import Client

from tests.conftest import save_screenshot


def test_docs_page_and_every_asset_it_references_answer_200():
    client = Client()
    page = client.get("/docs/")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.content.decode())
    assert assets, "the docs page references its scripts and styles under /static/"
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset


@pytest.mark.django_db
def test_admin_login_stylesheet_is_served():
    client = Client()
    page = client.get("/admin/login/")
    assert page.status_code == 200
    css = re.findall(r'href="(/static/admin/css/[^"]+)"', page.content.decode())
    assert css
    for asset in css:
        response = client.get(asset)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/css")


@pytest.mark.django_db(transaction=True)
def test_admin_login_renders_styled_in_a_real_browser(browser, live_server):
    browser.get(f"{live_server.url}/admin/login/")
    header = browser.find_element("id", "header")
    # Django's admin stylesheet paints the header; unstyled HTML leaves it transparent.
    assert header.value_of_css_property("background-color") not in ("rgba(0, 0, 0, 0)", "")
    save_screenshot(browser, "admin-login")

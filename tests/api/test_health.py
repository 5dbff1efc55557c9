import pytest

from config import lifecycle
from tests.helpers import StripeTestClient

pytestmark = pytest.mark.django_db


def test_healthz_is_200_while_the_process_answers_even_with_its_broker_down(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = StripeTestClient("").get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_database_and_broker():
    response = StripeTestClient("").get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_readyz_is_503_when_the_broker_is_down(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = StripeTestClient("").get("/readyz")
    assert response.status_code == 503
    assert response.json()["broker"] != "ok"
    assert response.json()["database"] == "ok"


def test_readyz_is_503_when_the_database_is_down(monkeypatch):
    from django.db import OperationalError

    from api import views

    def broken_cursor():
        raise OperationalError("connection refused")

    monkeypatch.setattr(views.connection, "cursor", broken_cursor)
    response = StripeTestClient("").get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "OperationalError"


def test_readyz_is_503_while_the_node_drains_and_healthz_stays_200(monkeypatch):
    monkeypatch.setattr(lifecycle, "_FLAG", bytearray(1))
    lifecycle.start_draining()
    ready = StripeTestClient("").get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "draining", "database": "ok", "broker": "ok"}
    assert StripeTestClient("").get("/healthz").status_code == 200

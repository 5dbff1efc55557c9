import pytest

from tests.helpers import StripeTestClient

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker():
    response = StripeTestClient("").get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_is_503_when_the_broker_is_down(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = StripeTestClient("").get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] != "ok"
    assert response.json()["database"] == "ok"


def test_healthz_is_503_when_the_database_is_down(monkeypatch):
    from django.db import OperationalError

    from api import views

    def broken_cursor():
        raise OperationalError("connection refused")

    monkeypatch.setattr(views.connection, "cursor", broken_cursor)
    response = StripeTestClient("").get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "OperationalError"

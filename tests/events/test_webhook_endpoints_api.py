import pytest

from events.models import WebhookEndpoint
from tests.events.helpers import create_endpoint
from tests.helpers import StripeTestClient

URL = "http://127.0.0.1:9/hooks"


def test_create_shows_the_secret_once(client):
    created = create_endpoint(client, URL, events=["payment_intent.succeeded"], description="d")
    assert created["secret"].startswith("whsec_")
    assert created["object"] == "webhook_endpoint"
    assert created["status"] == "enabled"
    assert created["enabled_events"] == ["payment_intent.succeeded"]
    retrieved = client.get(f"/v1/webhook_endpoints/{created['id']}").json()
    assert "secret" not in retrieved
    listed = client.get("/v1/webhook_endpoints").json()
    assert [e["id"] for e in listed["data"]] == [created["id"]]
    assert "secret" not in listed["data"][0]


def test_unknown_event_type_is_rejected_naming_its_index(client):
    response = client.post(
        "/v1/webhook_endpoints", {"url": URL, "enabled_events": ["*", "payment_intent.nope"]}
    )
    assert response.status_code == 400
    assert response.error["param"] == "enabled_events[1]"
    assert WebhookEndpoint.objects.count() == 0


def test_enabled_events_are_required(client):
    response = client.post("/v1/webhook_endpoints", {"url": URL})
    assert response.status_code == 400
    assert response.error["code"] == "parameter_missing"
    assert response.error["param"] == "enabled_events"


def test_unknown_param_is_rejected(client):
    response = client.post(
        "/v1/webhook_endpoints", {"url": URL, "enabled_events": ["*"], "secret": "x"}
    )
    assert response.status_code == 400
    assert response.error["code"] == "parameter_unknown"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hooks",
        "http://10.1.2.3/hooks",
        "http://192.168.0.10/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/hooks",
        "http://[::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://[64:ff9b::a00:1]/hooks",
        "http://0.0.0.0/hooks",
        "http://224.0.0.1/hooks",
        "ftp://example.com/hooks",
        "http:///nohost",
    ],
)
def test_private_or_non_http_url_is_refused_without_the_allow_list(client, settings, url):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    response = client.post("/v1/webhook_endpoints", {"url": url, "enabled_events": ["*"]})
    assert response.status_code == 400, url
    assert response.error["param"] == "url"
    assert response.error["code"] == "url_invalid"
    assert WebhookEndpoint.objects.count() == 0


def test_update_url_to_a_private_address_is_refused(client, settings):
    created = create_endpoint(client, URL)
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    response = client.post(f"/v1/webhook_endpoints/{created['id']}", {"url": "http://10.0.0.1/"})
    assert response.status_code == 400
    assert response.error["param"] == "url"
    assert WebhookEndpoint.objects.get(id=created["id"]).url == URL


def test_update_changes_fields_and_disabled_sets_status(client):
    created = create_endpoint(client, URL, metadata={"a": "1", "b": "2"})
    response = client.post(
        f"/v1/webhook_endpoints/{created['id']}",
        {
            "enabled_events": ["charge.succeeded", "charge.failed"],
            "description": "new",
            "metadata": {"a": ""},
            "disabled": "true",
        },
    )
    assert response.status_code == 200, response
    body = response.json()
    assert body["enabled_events"] == ["charge.succeeded", "charge.failed"]
    assert body["description"] == "new"
    assert body["metadata"] == {"b": "2"}
    assert body["status"] == "disabled"
    again = client.post(f"/v1/webhook_endpoints/{created['id']}", {"disabled": "false"}).json()
    assert again["status"] == "enabled"


def test_delete_removes_the_endpoint(client):
    created = create_endpoint(client, URL)
    response = client.delete(f"/v1/webhook_endpoints/{created['id']}")
    assert response.json() == {"id": created["id"], "object": "webhook_endpoint", "deleted": True}
    assert client.get(f"/v1/webhook_endpoints/{created['id']}").status_code == 404


def test_roll_secret_shows_a_new_secret_and_keeps_the_old_one_for_the_overlap(client):
    created = create_endpoint(client, URL)
    rolled = client.post(f"/v1/webhook_endpoints/{created['id']}/roll_secret").json()
    assert rolled["secret"].startswith("whsec_")
    assert rolled["secret"] != created["secret"]
    endpoint = WebhookEndpoint.objects.get(id=created["id"])
    assert endpoint.signing_secrets() == [rolled["secret"], created["secret"]]


def test_other_accounts_endpoint_is_missing(client, other_acct):
    created = create_endpoint(StripeTestClient(key=other_acct.sk), URL)
    for response in (
        client.get(f"/v1/webhook_endpoints/{created['id']}"),
        client.post(f"/v1/webhook_endpoints/{created['id']}", {"description": "x"}),
        client.delete(f"/v1/webhook_endpoints/{created['id']}"),
        client.get(f"/v1/webhook_endpoints/{created['id']}/deliveries"),
    ):
        assert response.status_code == 404
        assert response.error["code"] == "resource_missing"
    assert client.get("/v1/webhook_endpoints").json()["data"] == []


def test_live_key_does_not_see_test_endpoints(client, acct):
    create_endpoint(client, URL)
    assert StripeTestClient(key=acct.sk_live).get("/v1/webhook_endpoints").json()["data"] == []


def test_publishable_key_cannot_manage_endpoints(acct):
    response = StripeTestClient(key=acct.pk).get("/v1/webhook_endpoints")
    assert response.status_code == 403

"""The Payload face on the wire: the seed's intent example (Payload's API reference) asked for
as a request, answered with the seed's attributes; Payload's errors and lists."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from checkout_pages.models import CheckoutIntent
from tests.helpers import StripeTestClient

pytestmark = pytest.mark.django_db

# The seed's example intent: its top-level attributes and its checkout_page settings.
SEED_KEYS = {
    "id",
    "object",
    "attrs",
    "client_token_id",
    "created_at",
    "modified_at",
    "status",
    "type",
    "checkout_page",
    "checkout_plugin",
    "payment_form",
    "payment_method_form",
}
SEED_CHECKOUT_PAGE_KEYS = {
    "amount",
    "bank_account_payments",
    "billing_address",
    "card_payments",
    "customer_id",
    "description",
    "enable_mobile_wallets",
    "invoice_id",
    "payment",
    "processing_id",
    "show_disclosure",
    "status",
    "redirects",
}


def auth(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def post(body: dict, key: str):
    return Client().post(
        "/payload/intents", json.dumps(body), content_type="application/json", **auth(key)
    )


def test_the_seed_checkout_page_is_answered_in_the_seed_shape(acct):
    answer = post(
        {
            "type": "checkout_page",
            "attrs": {},
            "checkout_page": {
                "amount": 561.31,
                "bank_account_payments": False,
                "billing_address": False,
                "card_payments": True,
                "description": "string",
                "enable_mobile_wallets": False,
                "payment": {},
                "show_disclosure": False,
                "status": "authorized",
                "redirects": {
                    "completed_url": "https://shop.example/done",
                    "return_url": "https://shop.example/back",
                },
            },
        },
        acct.sk,
    )
    assert answer.status_code == 200, answer.content
    intent = answer.json()
    assert SEED_KEYS <= set(intent)
    assert SEED_CHECKOUT_PAGE_KEYS <= set(intent["checkout_page"])
    assert intent["object"] == "intent" and intent["status"] == "pending"
    assert intent["checkout_page"]["amount"] == 561.31
    assert intent["checkout_page"]["status"] == "authorized"
    stored = CheckoutIntent.objects.get()
    assert (stored.amount, stored.capture) == (56131, "manual")


def test_a_missing_settings_object_is_named(acct):
    answer = post({"type": "checkout_page"}, acct.sk)
    assert answer.status_code == 400
    body = answer.json()
    assert body["object"] == "error" and body["error_type"] == "InvalidAttributes"
    assert "checkout_page" in body["details"]


def test_a_missing_completed_url_is_named_where_payload_has_it(acct):
    answer = post(
        {
            "type": "checkout_page",
            "checkout_page": {
                "amount": 10,
                "redirects": {"return_url": "https://shop.example/back"},
            },
        },
        acct.sk,
    )
    assert answer.status_code == 400
    assert "completed_url" in answer.json()["details"]["checkout_page"]["redirects"]
    assert not CheckoutIntent.objects.exists()


def test_another_accounts_intent_is_not_found(acct, other_acct):
    made = post(
        {"type": "payment_form", "payment_form": {"payment": {"amount": 5}}}, other_acct.sk
    ).json()
    answer = Client().get(f"/payload/intents/{made['id']}", **auth(acct.sk))
    assert answer.status_code == 404
    assert answer.json()["error_type"] == "NotFound"


def test_the_publishable_key_is_refused(acct):
    answer = Client().get("/payload/intents", **auth(acct.pk))
    assert answer.status_code == 403
    assert answer.json()["error_type"] == "Forbidden"


def send(path: str, body: dict, key: str, method: str = "post", **headers):
    return getattr(Client(), method)(
        path, json.dumps(body), content_type="application/json", **auth(key), **headers
    )


def test_the_documented_webhook_registration_is_answered_as_payload_shows_a_webhook(acct):
    """Payload's reference registers a webhook with curl's `-d trigger=… -d url=…` (a form);
    its placeholder host is an address here, since the service resolves a webhook's host."""
    answer = Client().post(
        "/payload/webhooks",
        "trigger=payment&url=https%3A%2F%2F93.184.215.14%2Fpath%2Fto%2Fwebhook%2Fhandler",
        content_type="application/x-www-form-urlencoded",
        **auth(acct.sk),
    )
    assert answer.status_code == 200, answer.content
    hook = answer.json()
    assert {"id", "object", "attrs", "created_at", "modified_at", "trigger", "url"} <= set(hook)
    assert (hook["object"], hook["trigger"]) == ("webhook", "payment")
    assert hook["url"] == "https://93.184.215.14/path/to/webhook/handler"


CARD_PAYMENT = {
    "type": "payment",
    "amount": 10,
    "payment_method": {
        "type": "card",
        "card": {"card_number": "4242424242424242", "expiry": "12/35"},
    },
}


def test_a_payment_retried_with_its_idempotency_key_is_charged_once(acct):
    from payments.models import Charge  # noqa: PLC0415 (the test's own look at the rows)

    answers = [
        send("/payload/transactions", CARD_PAYMENT, acct.sk, HTTP_IDEMPOTENCY_KEY="order-77")
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].content == answers[1].content
    assert Charge.objects.count() == 1


def test_a_declined_payment_retried_with_its_key_is_not_tried_again(acct):
    from payments.models import Charge  # noqa: PLC0415 (the test's own look at the rows)

    body = {
        **CARD_PAYMENT,
        "payment_method": {
            "type": "card",
            "card": {"card_number": "4000000000000002", "expiry": "12/35"},
        },
    }
    answers = [
        send("/payload/transactions", body, acct.sk, HTTP_IDEMPOTENCY_KEY="order-78")
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [400, 400]
    assert [a.json()["error_type"] for a in answers] == ["TransactionDeclined"] * 2
    assert answers[0].json()["details"]["status"] == "declined"
    assert answers[1]["Idempotent-Replayed"] == "true"
    assert Charge.objects.count() == 1


def test_an_invalid_card_number_is_named_where_payload_has_it(acct):
    from payments.models import PaymentMethod  # noqa: PLC0415 (the test's own look at the rows)

    answer = send(
        "/payload/payment_methods",
        {"type": "card", "card": {"card_number": "4242424242424241", "expiry": "12/35"}},
        acct.sk,
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["error_type"] == "InvalidAttributes"
    assert "card_number" in body["details"]["card"]
    inline = send(
        "/payload/transactions",
        {
            **CARD_PAYMENT,
            "payment_method": {
                "type": "card",
                "card": {"card_number": "4242424242424242", "expiry": "13/35"},
            },
        },
        acct.sk,
    )
    assert inline.status_code == 400
    assert "expiry" in inline.json()["details"]["payment_method"]["card"]
    assert not PaymentMethod.objects.exists()


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"type": "payment", "amount": 1.005, "payment_method_id": "pm_card_visa"}, "amount"),
        # amounts as text: digits and a decimal part, nothing Python's Decimal would also take
        ({"type": "payment", "amount": " 10.00 ", "payment_method_id": "pm_card_visa"}, "amount"),
        ({"type": "payment", "amount": "1_000", "payment_method_id": "pm_card_visa"}, "amount"),
        ({"type": "payment", "amount": "1e3", "payment_method_id": "pm_card_visa"}, "amount"),
        ({"type": "payment", "amount": "+10", "payment_method_id": "pm_card_visa"}, "amount"),
        ({"type": "payment", "amount": 1}, "payment_method_id"),
        ({"type": "payment", "amount": 1, "payment_method_id": "pm_x", "ledger": []}, "ledger"),
        ({"type": "refund", "amount": 1}, "ledger"),
        (
            {"type": "refund", "amount": 1, "ledger": [{"assoc_transaction_id": "ch_nope"}]},
            "ledger",
        ),
        ({"type": "refund", "amount": 1, "status": "processed"}, "status"),
        ({"type": "payment", "amount": 1, "payment_method_id": "pm_nope"}, "payment_method_id"),
        (
            {
                "type": "payment",
                "amount": 1,
                "payment_method_id": "pm_card_visa",
                "customer_id": "cus_nope",
            },
            "customer_id",
        ),
        (
            {
                "type": "payment",
                "amount": 1,
                "payment_method": {"type": "card", "card": {"card_number": "", "expiry": ""}},
            },
            "payment_method",
        ),
        ({"type": "refund", "amount": 1, "ledger": [{"assoc_transaction_id": ""}]}, "ledger"),
    ],
)
def test_a_bad_transaction_is_refused_naming_its_attribute_and_makes_nothing(acct, body, named):
    from payments.models import Charge, Refund  # noqa: PLC0415 (the test's own look at the rows)

    answer = send("/payload/transactions", body, acct.sk)
    assert answer.status_code in (400, 404), answer.content
    assert answer.json()["object"] == "error"
    assert named in answer.json()["details"], answer.json()
    assert not Charge.objects.exists() and not Refund.objects.exists()


def test_a_refund_cannot_be_captured_and_a_void_takes_no_amount(acct):
    paid = send(
        "/payload/transactions",
        {
            "type": "payment",
            "amount": 4,
            "payment_method_id": "pm_card_visa",
            "status": "authorized",
        },
        acct.sk,
    ).json()
    assert paid["status"] == "authorized"
    void = send(
        f"/payload/transactions/{paid['id']}", {"status": "voided", "amount": 1}, acct.sk, "put"
    )
    assert void.status_code == 400 and "amount" in void.json()["details"]
    over = send(
        f"/payload/transactions/{paid['id']}", {"status": "processed", "amount": 5}, acct.sk, "put"
    )
    assert over.status_code == 400 and "amount" in over.json()["details"]
    assert (
        Client().get(f"/payload/transactions/{paid['id']}", **auth(acct.sk)).json()["status"]
        == "authorized"
    )
    captured = send(f"/payload/transactions/{paid['id']}", {"status": "processed"}, acct.sk, "put")
    assert captured.json()["status"] == "processed"
    refund = send(
        "/payload/transactions",
        {"type": "refund", "amount": 4, "ledger": [{"assoc_transaction_id": paid["id"]}]},
        acct.sk,
    ).json()
    again = send(f"/payload/transactions/{refund['id']}", {"status": "voided"}, acct.sk, "put")
    assert again.status_code == 400 and again.json()["error_type"] == "InvalidAttributes"


def test_a_webhook_is_only_payloads_and_its_secret_never_changes(acct):
    hook = send(
        "/payload/webhooks", {"trigger": "refund", "url": "https://93.184.215.14/h"}, acct.sk
    ).json()
    assert len(hook["sender_secret"]) >= 16
    change = send(f"/payload/webhooks/{hook['id']}", {"sender_secret": "x" * 20}, acct.sk, "put")
    assert change.status_code == 400 and "sender_secret" in change.json()["details"]
    stripe_hook = (
        StripeTestClient(key=acct.sk)
        .post(
            "/v1/webhook_endpoints",
            {"url": "https://93.184.215.14/s", "enabled_events": ["charge.succeeded"]},
        )
        .json()
    )
    assert (
        Client().get(f"/payload/webhooks/{stripe_hook['id']}", **auth(acct.sk)).status_code == 404
    )
    assert [
        h["id"] for h in Client().get("/payload/webhooks", **auth(acct.sk)).json()["values"]
    ] == [hook["id"]]


def test_a_webhook_without_a_url_is_refused_naming_it(acct):
    answer = send("/payload/webhooks", {"trigger": "payment", "url": ""}, acct.sk)
    assert answer.status_code == 400 and "url" in answer.json()["details"]
    assert Client().get("/payload/webhooks", **auth(acct.sk)).json()["values"] == []


def test_a_payment_takes_the_statements_of_the_same_payment_through_v1(acct):
    """The face answers from the charge the confirm made: no statement of its own."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    v1 = StripeTestClient(key=acct.sk)
    body = {"type": "payment", "amount": 20.00, "payment_method_id": "pm_card_visa"}
    for _ in range(2):  # the second of each counted: caches warm alike
        with CaptureQueriesContext(connection) as through_v1:
            response = v1.post(
                "/v1/payment_intents",
                {
                    "amount": 2000,
                    "currency": "usd",
                    "confirm": "true",
                    "payment_method": "pm_card_visa",
                },
            )
        assert response.status_code == 200
        with CaptureQueriesContext(connection) as through_face:
            answer = Client().post(
                "/payload/transactions",
                json.dumps(body),
                content_type="application/json",
                **auth(acct.sk),
            )
        assert answer.status_code == 200 and answer.json()["status"] == "processed"
    assert len(through_face) == len(through_v1), [q["sql"][:60] for q in through_face]


def test_a_refusal_for_the_objects_state_carries_the_services_code(acct):
    """Payload's error types are coarse (InvalidAttributes for every refused request): a refusal
    for the object's state, whatever the request, says so with the service's own code."""
    card = send(
        "/payload/payment_methods",
        {"type": "card", "card": {"card_number": "4242424242424242", "expiry": "12/40"}},
        acct.sk,
    ).json()
    answer = send(f"/payload/payment_methods/{card['id']}", {}, acct.sk, method="delete")
    assert answer.status_code == 400
    assert answer.json()["error_type"] == "InvalidAttributes"
    assert answer.json()["code"] == "payment_method_unexpected_state"


@pytest.mark.parametrize("options", [{}, None])
def test_a_webhook_takes_no_oauth_params_but_none(acct, options):
    body = {"trigger": "payment", "url": "https://93.184.215.14/hook", "oauth_params": options}
    assert send("/payload/webhooks", body, acct.sk).status_code == 200


@pytest.mark.parametrize("options", [{"client_id": "x"}, [], "x", 0])
def test_oauth_params_are_refused_by_name(acct, options):
    body = {"trigger": "payment", "url": "https://93.184.215.14/hook", "oauth_params": options}
    answer = send("/payload/webhooks", body, acct.sk)
    assert answer.status_code == 400
    assert "oauth_params" in answer.json()["details"]


def test_the_attributes_fields_may_name_are_those_each_object_shows(acct):
    """`fields` names attributes from the lists the document states (presenters.*_ATTRIBUTES):
    each object shown here has exactly those attributes."""
    from faces.payload import presenters  # noqa: PLC0415 (the lists under test)

    card = {"card_number": "4242424242424242", "expiry": "12/40"}
    paid = send("/payload/transactions", CARD_PAYMENT, acct.sk).json()
    refund = {"type": "refund", "amount": 1, "ledger": [{"assoc_transaction_id": paid["id"]}]}
    customer = send("/payload/customers", {"email": "a@example.com", "name": "A"}, acct.sk)
    hook = {"trigger": "payment", "url": "https://93.184.215.14/hook"}
    shown = {
        presenters.PAYMENT_ATTRIBUTES: paid,
        presenters.REFUND_ATTRIBUTES: send("/payload/transactions", refund, acct.sk).json(),
        presenters.CUSTOMER_ATTRIBUTES: customer.json(),
        presenters.PAYMENT_METHOD_ATTRIBUTES: send(
            "/payload/payment_methods", {"type": "card", "card": card}, acct.sk
        ).json(),
        presenters.WEBHOOK_ATTRIBUTES: Client()
        .get(
            f"/payload/webhooks/{send('/payload/webhooks', hook, acct.sk).json()['id']}",
            **auth(acct.sk),
        )
        .json(),
    }
    intent = post(
        {
            "type": "checkout_page",
            "checkout_page": {
                "amount": 5,
                "redirects": {
                    "completed_url": "https://shop.example/done",
                    "return_url": "https://shop.example/back",
                },
            },
        },
        acct.sk,
    ).json()
    shown[presenters.INTENT_ATTRIBUTES] = (
        Client().get(f"/payload/intents/{intent['id']}", **auth(acct.sk)).json()
    )
    for names, obj in shown.items():
        assert set(obj) == set(names), obj["object"]
    assert set(presenters.TRANSACTION_ATTRIBUTES) == {
        *presenters.PAYMENT_ATTRIBUTES,
        *presenters.REFUND_ATTRIBUTES,
    }


def test_a_transaction_names_either_kinds_attributes_null_where_it_has_none(acct):
    paid = send("/payload/transactions", CARD_PAYMENT, acct.sk).json()
    answer = Client().get(
        f"/payload/transactions/{paid['id']}?fields[0]=ledger&fields[1]=status", **auth(acct.sk)
    )
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"object": "transaction", "ledger": None, "status": "processed"}


# --- what the document states of Payload's requests (docs/openapi.json) ----------------------


@pytest.mark.parametrize(
    "expiry",
    [
        "١٢/٣٥",  # Arabic-Indic digits, which `str.isdigit` takes
        "１２/３５",  # full-width digits
        "²/35",  # a superscript: `isdigit` yes, `int()` no
        " 12/35",
        "12 / 35",
        "13/35",
        "00/35",
        "12/345",
    ],
)
def test_an_expiry_is_ascii_digits_in_payloads_shape_only(acct, expiry):
    """`card-expiry`: `MM/YY` or `MM/YYYY` in ASCII digits, nothing around them."""
    from payments.models import PaymentMethod  # noqa: PLC0415 (the test's own look at the rows)

    answer = send(
        "/payload/payment_methods",
        {"type": "card", "card": {"card_number": "4242424242424242", "expiry": expiry}},
        acct.sk,
    )
    assert answer.status_code == 400
    assert "expiry" in answer.json()["details"]["card"]
    assert not PaymentMethod.objects.exists()


@pytest.mark.parametrize(("expiry", "shown"), [("1/35", "01/2035"), ("12/2040", "12/2040")])
def test_an_expiry_takes_the_month_without_its_zero_and_a_four_digit_year(acct, expiry, shown):
    answer = send(
        "/payload/payment_methods",
        {"type": "card", "card": {"card_number": "4242424242424242", "expiry": expiry}},
        acct.sk,
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["card"]["expiry"] == shown


def test_an_empty_preset_written_in_a_form_is_taken(acct):
    """`{}` has no bracket notation: a form writes `checkout_plugin[payment_method_defaults]=`."""
    answer = Client().post(
        "/payload/intents",
        "type=checkout_plugin&checkout_plugin[amount]=10&checkout_plugin[payment_method_defaults]="
        "&checkout_plugin[attrs]=",
        content_type="application/x-www-form-urlencoded",
        **auth(acct.sk),
    )
    assert answer.status_code == 200, answer.content


def test_an_update_for_another_type_is_refused_for_the_intents_type(acct):
    """What an update of an intent may hold depends on its type, fixed at create: another
    type, another type's settings, or origins for a checkout page are refused with a code that
    says so (`checkout_intent_unexpected_type`), not as a malformed request."""
    page = post(
        {
            "type": "checkout_page",
            "checkout_page": {
                "amount": 10,
                "redirects": {
                    "completed_url": "https://shop.example/done",
                    "return_url": "https://shop.example/back",
                },
            },
        },
        acct.sk,
    ).json()
    for body in (
        {"type": "payment_form"},
        {"payment_form": {"payment": {"amount": 5}}},
        {"allowed_origins": ["https://shop.example"]},
    ):
        answer = send(f"/payload/intents/{page['id']}", body, acct.sk, "put")
        assert answer.status_code == 400, body
        assert answer.json()["code"] == "checkout_intent_unexpected_type", body
    same = send(f"/payload/intents/{page['id']}", {"type": "checkout_page"}, acct.sk, "put")
    assert same.status_code == 200


def test_a_transactions_update_without_a_body_names_the_missing_status(acct):
    paid = send("/payload/transactions", CARD_PAYMENT, acct.sk).json()
    answer = Client().put(f"/payload/transactions/{paid['id']}", **auth(acct.sk))
    assert answer.status_code == 400
    assert answer.json()["code"] == "parameter_missing"


def test_an_amount_to_type_made_fixed_needs_an_amount_only_where_the_intent_has_none(acct):
    """An update keeps what it does not give: `amount_editable: false` alone is enough for an
    intent with an amount, and refused for its state (no amount kept) for one without."""
    editable = post(
        {"type": "checkout_plugin", "checkout_plugin": {"amount_editable": True}}, acct.sk
    ).json()
    fixed = {"checkout_plugin": {"amount_editable": False}}
    answer = send(f"/payload/intents/{editable['id']}", fixed, acct.sk, "put")
    assert answer.status_code == 400
    assert answer.json()["code"] == "checkout_intent_unexpected_state"
    priced = post(
        {"type": "checkout_plugin", "checkout_plugin": {"amount": 10, "amount_editable": True}},
        acct.sk,
    ).json()
    assert send(f"/payload/intents/{priced['id']}", fixed, acct.sk, "put").status_code == 200


def test_a_page_of_both_kinds_of_transaction_far_past_the_end_is_empty(acct):
    """Payments and refunds together are paged by the database: an offset past bigint's reach
    once added to the limit (each table's first offset + limit rows were read) is no 500."""
    send("/payload/transactions", CARD_PAYMENT, acct.sk)
    for offset in (2**63 - 1, 10**12):
        answer = Client().get(f"/payload/transactions?offset={offset}", **auth(acct.sk))
        assert answer.status_code == 200, answer.content
        assert answer.json()["values"] == []


def test_both_kinds_of_transaction_are_paged_newest_first(acct):
    paid = [send("/payload/transactions", CARD_PAYMENT, acct.sk).json() for _ in range(2)]
    refund = send(
        "/payload/transactions",
        {"type": "refund", "amount": 1, "ledger": [{"assoc_transaction_id": paid[0]["id"]}]},
        acct.sk,
    ).json()
    pages = [
        Client().get(f"/payload/transactions?limit=2&offset={offset}", **auth(acct.sk)).json()
        for offset in (0, 2)
    ]
    assert [t["id"] for page in pages for t in page["values"]] == [
        refund["id"],
        paid[1]["id"],
        paid[0]["id"],
    ]


@pytest.mark.parametrize("query", ["fields[]=nope", "fields[0]=id&fields[1]=nope", "fields=nope"])
def test_fields_naming_no_attribute_are_refused_even_on_an_empty_page(acct, query):
    answer = Client().get(f"/payload/transactions?offset=1000&{query}", **auth(acct.sk))
    assert answer.status_code == 400
    assert "fields" in answer.json()["details"]

"""The committed schema (docs/openapi.json) is what the code serves; regenerate with `make openapi`."""

import json
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator

ROOT = Path(__file__).resolve().parent.parent


def generated() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_committed_openapi_schema_matches_the_code():
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert json.loads(json.dumps(generated())) == committed, (
        "docs/openapi.json drifted: run `make openapi`"
    )


def test_every_v1_operation_documents_the_error_envelope():
    schema = generated()
    operations = [
        (path, method, op)
        for path, methods in schema["paths"].items()
        if path.startswith("/v1/")
        for method, op in methods.items()
    ]
    for path, method, op in operations:
        for status in ("400", "401", "404", "500"):
            assert status in op["responses"], f"{method.upper()} {path} lacks {status}"


@pytest.mark.django_db
def test_openapi_json_is_served():
    from tests.helpers import StripeTestClient

    response = StripeTestClient("").get("/openapi.json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_parameters_that_exclude_one_another_are_stated():
    """A list's two cursors, and the events list's `type` and `types[]`: OpenAPI 3.0 has no
    schema for "at most one of", so each operation says so in words and for tools."""
    schema = generated()
    stated = {}
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            names = {p["name"] for p in operation.get("parameters", [])}
            groups = operation.get("x-mutually-exclusive-parameters", [])
            if {"starting_after", "ending_before"} <= names:
                assert ["starting_after", "ending_before"] in groups, (method, path)
                assert (
                    "Give at most one of `starting_after` or `ending_before`"
                    in (operation["description"])
                )
            for group in groups:
                assert set(group) <= names, (method, path, group)
            stated[(method, path)] = groups
    assert ["type", "types[]"] in stated[("get", "/v1/events")]
    assert sum(bool(groups) for groups in stated.values()) >= 20


def _body_schema(schema: dict, path: str, method: str = "post") -> dict:
    body = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]


def _component(schema: dict, parent: dict, name: str) -> dict:
    prop = parent["properties"][name]
    ref = (prop.get("items") or prop.get("allOf", [prop])[0]).get("$ref") or prop["$ref"]
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def _strict_serializers():
    from api.serializers import StrictSerializer

    found, todo = [], [StrictSerializer]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_declared_rule_between_parameters_is_on_its_component():
    """A serializer's declared rules (`required_one_of`, `mutually_exclusive`, `required_with`,
    `excluded_with`, `currency_parameters`) are its component's extensions, and name its own
    parameters."""
    from api.serializers import parameter_rule_extensions

    schema = generated()
    components = schema["components"]["schemas"]
    declaring = [cls for cls in _strict_serializers() if parameter_rule_extensions(cls)]
    assert len(declaring) >= 8
    for cls in declaring:
        fields = cls().fields
        extensions = parameter_rule_extensions(cls)
        names = {
            key.partition("=")[0].split("[")[0]
            for rule in extensions.values()
            for item in (rule.items() if isinstance(rule, dict) else [(None, g) for g in rule])
            for key in ([item[0]] if item[0] else [])
            + ([item[1]] if isinstance(item[1], str) else list(item[1]))
        }
        assert names <= set(fields), (cls, names - set(fields))
        stated = [
            c for c in components.values() if all(c.get(k) == v for k, v in extensions.items())
        ]
        assert stated, f"{cls.__name__}'s rules are in no component"


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/v1/refunds", ["- one of `payment_intent` or `charge` is required."]),
        (
            "/v1/payment_methods",
            [
                "- in `card`, when given: one of `number` or `token` is required; once `number` "
                "is given, `exp_month` and `exp_year` are required; once `token` is given, "
                "`number`, `exp_month`, `exp_year` or `cvc` may not be given."
            ],
        ),
        ("/v1/payment_intents", ["- in `payment_method_data[card]`, when given: one of `number`"]),
        (
            "/v1/checkout/sessions",
            [
                "- once `mode` is `payment`, `line_items` is required.",
                "- at most one of `customer` or `customer_email` may be given.",
                "- once `ui_mode` is `embedded`, `success_url` or `cancel_url` may not be given.",
            ],
        ),
        (
            "/v1/checkout_intents",
            [
                "- one of these holds: `amount` is given, `amount_editable` is `true` or `type` "
                "is `payment_method_form`.",
                "- once `type` is `checkout_page`, `redirects[completed_url]` is required.",
            ],
        ),
        (
            "/v1/processors",
            [
                "- once `kind` is `stripe`, `stripe[api_key]` is required.",
                "- once `kind` is `simulated`, `stripe` may not be given.",
            ],
        ),
        (
            "/v1/payment_flows",
            ["once `type` is `rules`, `rules` and `default` are required"],
        ),
        ("/v1/setup_intents", ["- once `confirm` is `true`, `payment_method` is required."]),
        (
            "/v1/payment_links",
            ["- in `after_completion`, when given: once `type` is `redirect`, `redirect` is"],
        ),
    ],
)
def test_rules_between_body_parameters_are_stated_in_words(path, words):
    """What OpenAPI 3.0 has no schema for (one of two required, two that exclude one another,
    one required or refused once another is given or has a value) is in the operation's
    description, for a reader."""
    description = generated()["paths"][path]["post"]["description"]
    assert "Parameters that depend on one another" in description
    for word in words:
        assert word in description, word


def test_rules_between_body_parameters_are_stated_for_tools():
    schema = generated()
    refund = _body_schema(schema, "/v1/refunds")
    assert refund["x-required-one-of"] == [["payment_intent", "charge"]]
    assert schema["paths"]["/v1/refunds"]["post"]["requestBody"]["required"] is True
    card = _component(schema, _body_schema(schema, "/v1/payment_methods"), "card")
    assert card["x-required-one-of"] == [["number", "token"]]
    assert card["x-required-with"] == {"number": ["exp_month", "exp_year"]}
    assert card["x-excluded-with"] == {"token": ["number", "exp_month", "exp_year", "cvc"]}
    session = _body_schema(schema, "/v1/checkout/sessions")
    assert session["x-mutually-exclusive-parameters"] == [["customer", "customer_email"]]
    assert session["x-required-with"]["mode=payment"] == ["line_items"]
    routing = _component(schema, _body_schema(schema, "/v1/payment_flows"), "routing")
    assert routing["x-required-with"]["type=rules"] == ["rules", "default"]
    assert "processors" in routing["x-excluded-with"]["type=rules"]
    processor = _body_schema(schema, "/v1/processors")
    assert processor["x-required-with"] == {"kind=stripe": ["stripe[api_key]"]}


def test_a_body_whose_schema_requires_a_field_is_required():
    """An attach without its one required parameter is refused: the body is required (the
    fuzzer would otherwise send none)."""
    paths = generated()["paths"]
    for path in ("/v1/payment_methods/{id}/attach", "/v1/payment_intents/{id}/attach"):
        assert paths[path]["post"]["requestBody"]["required"] is True, path


def test_the_document_states_what_plain_keywords_can():
    """minItems, minimum/maximum, enum and pattern where the API checks them with its own
    message (the fields document them without validating twice)."""
    import re

    from events.types import EVENT_TYPES

    schema = generated()
    session = _body_schema(schema, "/v1/checkout/sessions")
    assert "mode" in session["required"]
    assert session["properties"]["mode"]["enum"] == ["payment", "setup"]
    assert session["properties"]["line_items"]["minItems"] == 1
    link = _body_schema(schema, "/v1/payment_links")
    assert link["properties"]["line_items"]["minItems"] == 1
    item = _component(schema, link, "line_items")
    assert (
        item["properties"]["quantity"]["minimum"],
        item["properties"]["quantity"]["maximum"],
    ) == (
        1,
        999_999,
    )
    assert "nullable" not in item["properties"]["price"]
    refund = _body_schema(schema, "/v1/refunds")
    assert refund["properties"]["amount"]["minimum"] == 1
    assert refund["properties"]["amount"]["maximum"] == 2**63 - 1
    events = _body_schema(schema, "/v1/webhook_endpoints")["properties"]["enabled_events"]
    assert events["minItems"] == 1
    pattern = re.compile(events["items"]["pattern"])
    assert all(pattern.search(name) for name in ("*", *EVENT_TYPES))
    assert not any(pattern.search(name) for name in ("payment_intent.*", "nope", "*x", ""))
    types = _body_schema(schema, "/v1/payment_intents")["properties"]["payment_method_types"]
    assert re.search(types["items"]["pattern"], "card")
    assert not re.search(types["items"]["pattern"], "sepa_debit")
    stripe = _component(schema, _body_schema(schema, "/v1/processors"), "stripe")
    key = re.compile(stripe["properties"]["api_key"]["pattern"])
    assert key.search("sk_test_12345678") and key.search("rk_live_abcdefgh")
    assert not any(key.search(k) for k in ("pk_test_12345678", "short", "sk_test with space"))


def test_amounts_and_their_currency_are_stated_for_tools(settings):
    """The amounts whose rules depend on their currency name the parameter that gives it, and
    the document lists each currency's rules as this deployment is configured."""
    from core.money import MAX_AMOUNT, minimum_amount

    settings.MINIMUM_AMOUNTS = {"usd": 75}
    schema = generated()
    rules = schema["info"]["x-currency-amounts"]
    assert rules["maximum"] == MAX_AMOUNT
    assert rules["minimums"]["usd"] == 75 and rules["minimums"]["php"] == minimum_amount("php")
    assert "eur" not in rules["minimums"] and rules["default_minimum"] == minimum_amount("eur")
    assert rules["three_decimal"] == ["bhd", "jod", "kwd", "omr", "tnd"]
    intent = _body_schema(schema, "/v1/payment_intents")
    assert intent["x-currency-parameters"] == {"amount": "currency"}
    checkout = _body_schema(schema, "/v1/checkout_intents")
    assert set(checkout["x-currency-parameters"]) == {"amount", "amount_min", "amount_max"}
    for component in schema["components"]["schemas"].values():
        for amount, currency in component.get("x-currency-parameters", {}).items():
            assert {amount, currency} <= set(component["properties"])


def test_a_minimum_that_holds_once_a_parameter_has_a_value_is_stated_for_tools():
    """A Payload payment's amount is at least the usd minimum; a refund's is not bound so."""
    transaction = _body_schema(generated(), "/payload/transactions")
    assert transaction["x-minimum-when"] == {"type=payment": {"amount": 0.5}}


def _request_strings(schema: dict):
    """Every string property of a request body's component, with whether it is required."""
    for name, component in schema["components"]["schemas"].items():
        if not name.endswith("Request"):
            continue
        required = set(component.get("required", []))
        for prop_name, prop in component.get("properties", {}).items():
            if prop.get("type") == "string":
                yield f"{name}.{prop_name}", prop, prop_name in required


def test_an_optional_string_takes_the_empty_value_it_reads_as_unset():
    """An optional string reads `""` as unset (the Stripe dialect's null), so its schema takes
    `""`, its `pattern` included (an optional URL: `^$|^http(s)://`); a required one, for which
    `""` is missing, does not."""
    import re

    schema = generated()
    optional_patterns = 0
    for where, prop, required in _request_strings(schema):
        if "pattern" not in prop:
            continue
        if prop.get("nullable"):
            optional_patterns += 1
            assert re.search(prop["pattern"], ""), where
            assert "minLength" not in prop, where
        elif required:
            assert not re.search(prop["pattern"], "") or prop.get("minLength"), where
    assert optional_patterns >= 14  # the optional URLs and PayMongo's cvc at least
    confirm = _body_schema(schema, "/v1/payment_intents/{id}/confirm")["properties"]
    pattern = confirm["return_url"]["pattern"]
    assert re.search(pattern, "") and re.search(pattern, "https://shop.example/back")
    assert not any(re.search(pattern, url) for url in ("javascript:alert(1)//", "//host/x"))
    webhook = _body_schema(schema, "/v1/webhook_endpoints")
    assert "url" in webhook["required"] and not re.search(
        webhook["properties"]["url"]["pattern"], ""
    )


@pytest.mark.django_db
def test_an_empty_optional_url_is_unset_and_an_empty_required_one_is_missing(client):
    """What the document says of `""`, the API does: unset where optional, missing where
    required."""
    made = client.post("/v1/payment_intents", {"amount": 1000, "currency": "usd", "return_url": ""})
    assert made.status_code == 200, made.content
    wrong = client.post(
        "/v1/payment_intents", {"amount": 1000, "currency": "usd", "return_url": "javascript:x"}
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "return_url"
    refused = client.post("/v1/webhook_endpoints", {"url": "", "enabled_events[]": "*"})
    assert refused.status_code == 400, refused.content
    assert refused.json()["error"]["param"] == "url"

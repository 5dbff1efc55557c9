"""The committed schema (docs/openapi.json) documents what a client needs: each operation its own
words, every parameter, every status it can answer, enums, bounds, links, the test cards."""

import json
from pathlib import Path

import pytest

from api.schema import each_object
from api.serializers import PLAIN_METADATA, REQUEST_METADATA
from api.views import StripeAPIView
from payments.processors.simulated import TEST_CARDS

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "openapi.json").read_text())
COMPONENTS = SCHEMA["components"]["schemas"]
METHODS = ("get", "post", "delete", "put", "patch")
OPERATIONS = [
    (path, method, op)
    for path, methods in SCHEMA["paths"].items()
    for method, op in methods.items()
    if method in METHODS
]
BY_ID = {op["operationId"]: op for _, _, op in OPERATIONS}


def resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = COMPONENTS[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_no_operation_carries_the_base_views_docstring():
    base = " ".join(StripeAPIView.__doc__.split())
    first_line = StripeAPIView.__doc__.strip().splitlines()[0]
    for path, method, op in OPERATIONS:
        description = " ".join(op.get("description", "").split())
        assert description != base, f"{method.upper()} {path}"
        assert first_line not in op.get("description", ""), f"{method.upper()} {path}"


def test_every_operation_has_its_own_summary_and_description():
    summaries = []
    for path, method, op in OPERATIONS:
        assert op.get("summary"), f"{method.upper()} {path} has no summary"
        assert len(op.get("description", "")) >= 20, f"{method.upper()} {path}: no description"
        summaries.append(op["summary"])
    assert len(set(summaries)) == len(summaries), "two operations share a summary"


def test_every_parameter_is_described():
    for path, method, op in OPERATIONS:
        for parameter in op.get("parameters", []):
            assert parameter.get("description"), (
                f"{method.upper()} {path}: {parameter['in']} parameter {parameter['name']}"
            )


def _undescribed_fields(schema: dict, where: str, seen: set) -> list[str]:
    schema = resolve(schema)
    missing = []
    for name, prop in schema.get("properties", {}).items():
        if not prop.get("description") and not resolve(prop).get("description"):
            missing.append(f"{where}.{name}")
        for nested in [prop, *prop.get("allOf", []), *prop.get("anyOf", [])]:
            ref = nested.get("$ref")
            if ref and ref not in seen:
                seen.add(ref)
                missing += _undescribed_fields(nested, f"{where}.{name}", seen)
    return missing


def test_every_request_body_field_is_described_nested_ones_too():
    missing = []
    for path, method, op in OPERATIONS:
        body = op.get("requestBody")
        if body:
            schema = body["content"]["application/json"]["schema"]
            missing += _undescribed_fields(schema, f"{method.upper()} {path}", set())
    assert not missing, "fields without a description:\n" + "\n".join(missing)


def test_every_post_takes_form_first_and_json_as_a_distinct_schema():
    for path, method, op in OPERATIONS:
        if not path.startswith("/v1/"):  # a foreign face (GraphQL) speaks JSON only
            continue
        body = op.get("requestBody")
        if not body:
            continue
        content = body["content"]
        assert list(content)[:2] == ["application/x-www-form-urlencoded", "application/json"]
        assert (
            content["application/x-www-form-urlencoded"]["schema"]
            != (content["application/json"]["schema"])
        ), (
            f"{method.upper()} {path}: one schema for both, a generated client cannot tell them apart"
        )


def test_metadata_is_form_encoded_with_brackets():
    form = BY_ID["PostPaymentIntents"]["requestBody"]["content"][
        "application/x-www-form-urlencoded"
    ]
    assert form["encoding"]["metadata"] == {"style": "deepObject", "explode": True}


@pytest.mark.parametrize(
    "operation_id",
    [
        "PostPaymentIntents",
        "PostPaymentIntentsIntentConfirm",
        "PostPaymentIntentsIntentAttach",
        "PostPaymentIntentsIntentCapture",
        "PostPaymentIntentsIntentIncrementAuthorization",
        "PostPaymentMethods",
    ],
)
def test_operations_that_can_decline_a_card_document_402(operation_id):
    response = BY_ID[operation_id]["responses"]["402"]
    assert response["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert "declined" in response["description"]


def test_reads_do_not_claim_a_402():
    assert "402" not in BY_ID["GetPaymentIntentsIntent"]["responses"]
    assert "402" not in BY_ID["PostPaymentIntentsIntentCancel"]["responses"]


def test_every_v1_operation_lists_the_statuses_the_http_layer_answers():
    for path, method, op in OPERATIONS:
        if not path.startswith("/v1/"):
            continue
        statuses = set(op["responses"])
        assert {"200", "400", "401", "403", "404", "429", "500"} <= statuses, f"{path} {statuses}"
        if method == "post":
            assert {"409", "413", "415"} <= statuses
            header = [p for p in op["parameters"] if p["name"] == "Idempotency-Key"]
            assert header and header[0]["in"] == "header" and not header[0]["required"]
        else:
            assert "409" not in statuses
        assert "405" not in statuses  # an operation called with its own method is never 405


def test_currency_and_metadata_are_described_as_stripe_does():
    """A currency is a string (Stripe's `format: currency`), not an enum of every code; metadata
    is string values under any key, with no `type` (a plain dict in a generated client): in an
    answer just that, in a request with the API's rules (`serializers.REQUEST_METADATA`)."""
    create = COMPONENTS["PaymentIntentCreateRequest"]["properties"]
    currency = resolve(create["currency"])
    assert currency["type"] == "string" and currency["format"] == "currency"
    assert "enum" not in currency
    shapes = []

    for node in each_object(SCHEMA):
        if isinstance(node.get("properties"), dict) and "metadata" in node["properties"]:
            meta = node["properties"]["metadata"]
            shapes.append({k: v for k, v in meta.items() if k not in ("description", "nullable")})
    assert len(shapes) > 20
    assert not any("type" in shape for shape in shapes)
    # (a routing rule's metadata conditions: a request's metadata whose values are never empty,
    # a hash of at least one key, `""` not taken)
    assert all(
        shape == PLAIN_METADATA
        or shape == REQUEST_METADATA
        or (
            shape["x-property-names"] == REQUEST_METADATA["x-property-names"]
            and shape["minProperties"] == 1
            and {"type": "string"} in shape["not"]["anyOf"]
        )
        for shape in shapes
    )
    assert create["metadata"]["maxProperties"] == 50
    assert create["metadata"]["x-property-names"]["maxLength"] == 40
    answer = COMPONENTS["PaymentIntentOutput"]["properties"]["metadata"]
    assert {k: v for k, v in answer.items() if k != "description"} == PLAIN_METADATA


def test_enums_state_the_accepted_values():
    create = COMPONENTS["PaymentIntentCreateRequest"]["properties"]
    assert set(create["capture_method"]["enum"]) == {"automatic", "automatic_async", "manual"}
    assert set(create["confirmation_method"]["enum"]) == {"automatic", "manual"}
    cancel = COMPONENTS["PaymentIntentCancelRequest"]["properties"]
    assert set(cancel["cancellation_reason"]["enum"]) == {
        "duplicate",
        "fraudulent",
        "requested_by_customer",
        "abandoned",
    }
    output = COMPONENTS["PaymentIntentOutput"]["properties"]
    assert set(output["status"]["enum"]) == {
        "requires_payment_method",
        "requires_confirmation",
        "requires_action",
        "processing",
        "requires_capture",
        "succeeded",
        "canceled",
    }
    assert "expired" in output["cancellation_reason"]["enum"]


def test_processor_and_payment_flow_enums_and_bounds_are_stated():
    create = COMPONENTS["ProcessorCreateRequest"]["properties"]
    assert set(create["kind"]["enum"]) == {"simulated", "stripe"}
    simulated = COMPONENTS["ProcessorSimulatedRequest"]["properties"]
    assert set(simulated["behavior"]["enum"]) == {"normal", "decline", "outage", "timeout"}
    assert (simulated["latency_ms"]["minimum"], simulated["latency_ms"]["maximum"]) == (0, 10000)
    output = COMPONENTS["ProcessorSchema"]["properties"]
    assert set(output["circuit"]["enum"]) == {"closed", "open"}
    assert set(output["status"]["enum"]) == {"active", "disabled"}
    routing = COMPONENTS["RoutingRequest"]["properties"]
    assert set(routing["type"]["enum"]) == {"priority", "volume_split", "rules", "success_rate"}
    assert (routing["window"]["minimum"], routing["window"]["maximum"]) == (10, 1000)
    assert routing["exploration_percent"]["maximum"] == 50
    assert set(COMPONENTS["RoutingRuleRequest"]["properties"]) == {"if", "then"}
    condition = COMPONENTS["RoutingConditionRequest"]["properties"]
    assert set(condition["card_brand"]["items"]["enum"]) == {
        "visa",
        "mastercard",
        "amex",
        "discover",
        "diners",
        "jcb",
        "unionpay",
    }
    retry = COMPONENTS["PaymentFlowRetryRequest"]["properties"]
    assert (retry["max_attempts"]["minimum"], retry["max_attempts"]["maximum"]) == (1, 5)
    assert set(retry["on"]["items"]["enum"]) == {"soft_decline", "processor_error"}
    stripe = COMPONENTS["ProcessorStripeRequest"]["properties"]
    assert "Write-only" in stripe["api_key"]["description"]
    assert "api_key" not in COMPONENTS["ProcessorStripeSchema"]["properties"]


def test_processor_and_flow_operations_carry_examples():
    for operation_id in ("PostProcessors", "PostPaymentFlows", "PostPaymentFlowsFlowEvaluate"):
        op = BY_ID[operation_id]
        assert op["requestBody"]["content"]["application/json"]["examples"], operation_id
        assert op["responses"]["200"]["content"]["application/json"]["examples"], operation_id


def test_amounts_have_bounds():
    from core.money import MAX_AMOUNT

    for component, field in [
        ("PaymentIntentCreateRequest", "amount"),
        ("PatchedPaymentIntentUpdateRequest", "amount"),
        ("PaymentIntentCaptureRequest", "amount_to_capture"),
        ("PaymentIntentIncrementRequest", "amount"),
    ]:
        if component not in COMPONENTS:
            component = component.replace("Patched", "")
        prop = COMPONENTS[component]["properties"][field]
        assert prop["type"] == "integer"
        assert prop["minimum"] == 1 and prop["maximum"] == MAX_AMOUNT, component


def test_create_links_to_the_operations_on_the_new_intent():
    links = BY_ID["PostPaymentIntents"]["responses"]["200"]["links"]
    targets = {link["operationId"] for link in links.values()}
    assert {
        "PostPaymentIntentsIntentConfirm",
        "PostPaymentIntentsIntentCapture",
        "PostPaymentIntentsIntentCancel",
        "GetPaymentIntentsIntent",
    } <= targets
    for link in links.values():
        assert link["parameters"] == {"id": "$response.body#/id"}
        assert link["operationId"] in BY_ID


def test_every_create_with_routes_on_its_object_links_to_them():
    for collection in (
        "/v1/customers",
        "/v1/payment_methods",
        "/v1/webhook_endpoints",
        "/v1/processors",
        "/v1/payment_flows",
    ):
        links = SCHEMA["paths"][collection]["post"]["responses"]["200"]["links"]
        retrieve = SCHEMA["paths"][f"{collection}/{{id}}"]["get"]["operationId"]
        assert retrieve in {link["operationId"] for link in links.values()}


def test_main_operations_carry_examples():
    create = BY_ID["PostPaymentIntents"]
    assert create["requestBody"]["content"]["application/json"]["examples"]
    assert create["responses"]["200"]["content"]["application/json"]["examples"]
    for operation_id in ("PostPaymentIntentsIntentConfirm", "PostPaymentIntentsIntentCapture"):
        op = BY_ID[operation_id]
        assert op["requestBody"]["content"]["application/json"]["examples"]


@pytest.mark.parametrize(
    "text",
    [SCHEMA["info"]["description"], (ROOT / "docs" / "testing.md").read_text()],
    ids=["schema description", "docs/testing.md"],
)
def test_every_test_card_and_magic_id_is_documented(text):
    for card in TEST_CARDS:
        assert f"`{card.number}`" in text, card.number
        if card.magic_id:
            assert f"`{card.magic_id}`" in text, card.magic_id

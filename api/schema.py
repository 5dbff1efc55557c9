"""drf-spectacular hooks: every operation documents the error envelope for each error status a
client can receive from it."""

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "type": {
                    "type": "string",
                    "enum": [
                        "api_error",
                        "card_error",
                        "idempotency_error",
                        "invalid_request_error",
                        "rate_limit_error",
                    ],
                },
                "code": {"type": "string"},
                "message": {"type": "string"},
                "param": {"type": "string", "nullable": True},
                "decline_code": {"type": "string", "nullable": True},
                "request_log_url": {"type": "string", "nullable": True},
                "payment_intent": {
                    "type": "object",
                    "nullable": True,
                    "additionalProperties": True,
                },
            },
            "required": ["type", "message"],
        }
    },
    "required": ["error"],
}

_DESCRIPTIONS = {
    "400": "Invalid request: missing, invalid or unknown parameter, wrong state, idempotency mismatch.",
    "401": "No API key, a malformed key, or an unknown or revoked key.",
    "402": "The card was declined; the intent is embedded in error.payment_intent.",
    "403": "A publishable key on a secret-key-only operation.",
    "404": "No such object (or it belongs to another account or mode).",
    "405": "Method not allowed on this URL.",
    "409": "The same Idempotency-Key is still being executed.",
    "413": "The request body is too large.",
    "415": "Unsupported content type.",
    "429": "Too many requests; retry after the Retry-After header's seconds.",
    "500": "Something went wrong on our side.",
}

# Operations that can decline a card answer 402 too.
_CARD_OPERATIONS = ("confirm", "attach", "create", "capture", "increment")
# Creates outside /v1/payment_intents that tokenise a card (raw or magic id) and can decline.
_CARD_PATHS = ("/v1/payment_methods", "/v1/customers")


def add_error_responses(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path, methods in result.get("paths", {}).items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in methods.items():
            if method not in ("get", "post", "delete", "put", "patch"):
                continue
            statuses = ["400", "401", "403", "404", "405", "413", "415", "429", "500"]
            if method == "post":
                statuses.append("409")
                op_id = operation.get("operationId", "").lower()
                is_create = "{" not in path  # a POST to a collection creates
                if ("payment_intent" in path or path in _CARD_PATHS) and (
                    is_create or any(word in op_id for word in _CARD_OPERATIONS)
                ):
                    statuses.append("402")
            # Bearer OR Basic (drf-spectacular lists a multi-scheme extension as AND).
            operation["security"] = [
                {name: scopes}
                for requirement in operation.get("security", [])
                for name, scopes in requirement.items()
            ]
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                responses.setdefault(
                    status,
                    {
                        "description": _DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": ref}},
                    },
                )
            headers = {
                "Request-Id": {
                    "schema": {"type": "string"},
                    "description": "req_… for this request",
                }
            }
            for response in responses.values():
                response.setdefault("headers", {}).update(headers)
    return result


# --- authentication in the schema ----------------------------------------------------------
from drf_spectacular.extensions import OpenApiAuthenticationExtension  # noqa: E402


class KeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.KeyAuthentication"
    name = ["secretKey", "basicKey"]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "description": "Authorization: Bearer sk_test_… (or pk_test_… where a route allows it)",
            },
            {
                "type": "http",
                "scheme": "basic",
                "description": "HTTP Basic with the API key as the user name and an empty password",
            },
        ]

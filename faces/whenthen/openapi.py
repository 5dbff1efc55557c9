"""WhenThen's face in `/docs/`: a section of its own (tag `WhenThen GraphQL`) with the endpoint,
who may call what, the errors and limits, and the schema itself (SDL), also downloadable from
`/whenthen/schema.graphql`. A drf-spectacular postprocessing hook (settings), since the face is
not a DRF view."""

from __future__ import annotations

from .limits import LIST_FACTOR, MAX_COST, MAX_DEPTH, MUTATION_COST, QUERY_COST
from .schema import MAX_TOKENS, schema

TAG = "WhenThen GraphQL"
#: The format of a request's `query`: an executable GraphQL document of this face's schema that
#: parses, validates and stays within the limits (tests/test_fuzz.py generates such documents
#: from the published schema).
GRAPHQL_FORMAT = "graphql"
#: On a request body's property: its value, when a string, names an operation of the GraphQL
#: document in the property this names (what GraphQL over HTTP says of `operationName`, a rule
#: between two fields that OpenAPI 3.0 cannot state).
OPERATION_NAME_OF = "x-graphql-operation-name-of"

DESCRIPTION = f"""\
WhenThen's Intent API, spoken as WhenThen's own clients speak it: GraphQL at
`POST /whenthen/graphql` (and `GET` for queries). An intent is a tracked checkout: the same
`chk_…` object `/v1/checkouts` shows, with the same events, funnel and insights.

**Operations.** `startIntent(trackingId, paymentFlowId, amount, customer, location, cart)`,
`getIntent(id)`, `updateIntent(id, trackingId, customer, amount, location, cart, shipping,
delivery, billing)`, `completeIntent(id, paymentReference)`. `paymentFlowId` is required and
names a payment flow (`flow_…`) of the key's account and mode. Money is `Long`, in minor units.
With no `location`, the country of the caller's IP address is used (an offline table; a
private or unknown address leaves `location` null). Enums are upper case: `CheckoutStatus`
`INTENT | ACTIVE | INACTIVE | COMPLETE`, `FormStepStatus` `NOT_STARTED | IN_PROGRESS |
COMPLETE`.

**Authentication** (`Authorization: Bearer …`): a secret key runs everything; a publishable
key runs `startIntent` only; an intent's client token (its `clientToken` field) runs
`getIntent`, `updateIntent` and `completeIntent` on that intent only. The last two never see
`customer.email`, `customer.name` or `location`.

**Errors** follow the GraphQL specification: `{{"errors": [{{"message", "locations", "path",
"extensions": {{"code", "reason", "argument"}}}}], "data"}}`. HTTP 200 when the document ran (a
field that failed is null, `extensions.code` `BAD_USER_INPUT`, `NOT_FOUND`, `FORBIDDEN`…,
`reason` the code `/v1/` would give, `argument` the argument at fault); 400 when it could not
run (a body that is not JSON, a document that does not parse or validate, an `operationName`
that names none of its operations, variables that do not fit, or a limit): a request error,
answered with no `data`, as GraphQL over HTTP has it for such an answer and as GraphQL servers
commonly do; 401 without valid credentials (`UNAUTHENTICATED`); 429 over the key's rate limit.

**Limits.** At most {MAX_TOKENS} tokens; at most {MAX_DEPTH} levels deep (introspection
fields count); a cost of at most {MAX_COST}: each field 1, times {LIST_FACTOR} under a list,
each root query field {QUERY_COST} and each mutation {MUTATION_COST}
(`DEPTH_LIMIT_EXCEEDED`, `COST_LIMIT_EXCEEDED`). Introspection works.

**The schema** (also at [`/whenthen/schema.graphql`](/whenthen/schema.graphql)):

```graphql
{schema.as_str()}
```
"""

_ERROR = {
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "locations": {"type": "array", "items": {"type": "object"}},
        "path": {
            "type": "array",
            "items": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        },
        "extensions": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "reason": {"type": "string"},
                "argument": {"type": "string"},
            },
        },
    },
    "required": ["message"],
}
_ANSWER = {
    "type": "object",
    "properties": {
        "data": {"type": "object", "nullable": True},
        "errors": {"type": "array", "items": _ERROR},
    },
}
_REQUEST = {
    "type": "object",
    "required": ["query"],
    "properties": {
        "query": {
            "type": "string",
            "format": GRAPHQL_FORMAT,
            "minLength": 1,
            "description": (
                "The GraphQL document: an executable document of this face's schema (the "
                "section's introduction, and `/whenthen/schema.graphql`) that parses, validates "
                "against the schema and stays within the limits (format `graphql`). Anything else "
                "is a request error: 400, and nothing of it runs."
            ),
        },
        "variables": {
            "type": "object",
            "nullable": True,
            "description": (
                "The values of the variables the document declares: one for each non-null "
                "variable without a default, each of its variable's type (400 otherwise). "
                "Values for variables the document does not declare are ignored."
            ),
        },
        "operationName": {
            "type": "string",
            "nullable": True,
            "description": (
                "The name of the operation of the document to run: may be left out when the "
                "document has one operation, and must name one of its operations "
                f"(`{OPERATION_NAME_OF}: query`); naming none is a request error (400)."
            ),
            OPERATION_NAME_OF: "query",
        },
    },
    "example": {
        "query": "query getIntent($id: ID!) { getIntent(id: $id) { id status amount "
        "{ formattedAmount } } }",
        "variables": {"id": "chk_…"},
    },
}


def _json(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ANSWER}}}


def add_graphql_face(result, generator, request, public):
    """Adds the face's tag and its two paths to the OpenAPI document."""
    # a new list: the one in the result may be the TAGS setting itself, shared by every run
    result["tags"] = [*result.get("tags", []), {"name": TAG, "description": DESCRIPTION}]
    result.setdefault("paths", {})["/whenthen/graphql"] = {
        "post": {
            "operationId": "PostWhenThenGraphql",
            "summary": "Run a GraphQL document (WhenThen's Intent API)",
            "description": "Any operation of the schema; see the section's introduction.",
            "tags": [TAG],
            # the key (or client token) as a Bearer token, as WhenThen's clients send it; HTTP
            # Basic with the key as user name is taken too, as everywhere in the service
            "security": [{"secretKey": []}, {"basicKey": []}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _REQUEST}},
            },
            "responses": {
                "200": _json("The document ran; failed fields are null, with their errors."),
                "400": _json("The document could not run (unreadable, invalid, over a limit)."),
                "401": _json("No valid secret key, publishable key or client token."),
                "405": _json("A mutation sent with GET."),
                "413": _json("The body is too large."),
                "415": _json("The body is not JSON."),
                "429": _json("Over the key's rate limit."),
            },
        }
    }
    result["paths"]["/whenthen/schema.graphql"] = {
        "get": {
            "operationId": "GetWhenThenSchema",
            "summary": "The GraphQL schema (SDL)",
            "description": "The face's schema in GraphQL's schema definition language.",
            "tags": [TAG],
            "security": [],
            "responses": {
                "200": {
                    "description": "The SDL.",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    }
    return result

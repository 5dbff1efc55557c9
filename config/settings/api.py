"""The API in the Stripe v1 dialect: DRF, the OpenAPI schema, request limits, idempotency keys
and per-key rate limits."""

from .broker import REDIS_URL
from .environment import BASE_DIR, env, under_pytest

API_VERSION = "2024-06-20"
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_BODY_BYTES", default=256 * 1024)  # 413 beyond
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
API_KEY_LAST_USED_RESOLUTION_SECONDS = 60
# How long a web process trusts a key it verified without reading it again: a key revoked or
# rolled elsewhere stops working within this many seconds (0 reads the key on every request).
API_KEY_CACHE_SECONDS = env.int("API_KEY_CACHE_SECONDS", default=5)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.KeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.auth.SecretKeyRequired"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.StripeFormParser", "api.parsers.StripeJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["api.renderers.StripeJSONRenderer"],
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "api.renderers.AlwaysJSONNegotiation",
    "DEFAULT_METADATA_CLASS": "api.renderers.MinimalMetadata",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "payintents",
    # The introduction and the table of test cards (docs/testing.md says more).
    "DESCRIPTION": (BASE_DIR / "api" / "openapi_description.md").read_text(),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Enums stay inline: many objects share a one-value `object` enum, which would otherwise
    # collide into generated names like ObjectF31Enum.
    "POSTPROCESSING_HOOKS": [
        "api.schema.add_error_responses",
        # The PayMongo and Payload faces' own error bodies, on the same statuses.
        "faces.paymongo.openapi.add_error_responses",
        "faces.payload.openapi.add_error_responses",
        "api.schema.publish_request_bodies",
        "api.schema.name_query_arrays",
        "api.schema.close_query_hashes",
        "api.schema.state_exclusive_parameters",
        "api.schema.state_parameter_rules",
        "api.schema.state_currency_amounts",
        "api.schema.state_min_properties",
        "api.schema.bounds_say_the_width",
        "api.schema.add_links",
        "faces.paymongo.openapi.add_links",
        "api.schema.plain_metadata",
        "api.schema.empty_strings_are_null",
        "api.schema.state_form_hash_keys",
        # WhenThen's GraphQL face (not a DRF view): its own section and its SDL.
        "faces.whenthen.openapi.add_graphql_face",
    ],
    "ENUM_NAME_OVERRIDES": {},
    # An enum's values are in the schema; "`manual` - manual" descriptions say nothing more.
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    "SORT_OPERATIONS": False,
    # /docs/ groups the operations by tag: the service's own dialect, then each face's
    # (faces/), whose clients change only their base URL.
    "TAGS": [
        {"name": "healthz", "description": "Whether the service can work."},
        {"name": "v1", "description": "The service's own API, in the Stripe v1 dialect."},
        {
            "name": "PayMongo",
            "description": "PayMongo's dialect under `/paymongo/v1/` (its official clients: base "
            'URL `<this service>/paymongo`): JSON:API bodies `{"data": {"attributes": '
            "…}}`, HTTP Basic with the secret or public key, PayMongo's statuses, errors "
            '(`{"errors": [{"code", "detail", "source"}]}`), lists (`limit`, '
            "`before`, `after`, `has_more`) and webhooks (`Paymongo-Signature`). The objects "
            "are the ones the v1 API shows: a payment intent is the same `pi_…`, a payment "
            "is a charge (`ch_…`).",
        },
        {
            "name": "Payload",
            "description": "Payload's dialect under `/payload/` (its official clients: "
            "`api_url = <this service>/payload/`): the `intent` object (`int_…`, the "
            "`cint_…` checkout intent of the v1 API), decimal amounts in dollars, `attrs`, "
            'lists `{"object": "list", "values"}` with `limit`, `offset`, '
            "`attr=value` filters and `fields`, errors chosen by `error_type` and status.",
        },
    ],
}

# How long a request may be executing before it is presumed dead (a crashed or killed worker).
# One timeout for both of its marks: after it, the request's Idempotency-Key lock can be taken
# over by a retry (api/idempotency.py) and its processor attempt left in flight on an intent
# (`PaymentIntent.inflight`) is reconciled with the processor by the reconciler or by that
# retry. The default is gunicorn's own worker timeout: no request outlives it.
INFLIGHT_TIMEOUT_SECONDS = env.int("INFLIGHT_TIMEOUT_SECONDS", default=30)
# Keys are kept at least this long (24 h, as Stripe does), then purged (see schedule.py).
IDEMPOTENCY_KEY_TTL_SECONDS = env.int("IDEMPOTENCY_KEY_TTL_SECONDS", default=24 * 3600)

# Per-key rate limits (api/ratelimit.py), counted separately for reads and writes. Off by default
# under pytest (tests that create many objects in a loop); tests of the limiter turn it on.
RATE_LIMIT_ENABLED = env.bool("RATE_LIMIT_ENABLED", default=not under_pytest)
RATE_LIMIT_WINDOW_SECONDS = env.int("RATE_LIMIT_WINDOW_SECONDS", default=1)
RATE_LIMIT_SECRET_PER_WINDOW = env.int("RATE_LIMIT_SECRET_PER_WINDOW", default=100)
RATE_LIMIT_PUBLISHABLE_PER_WINDOW = env.int("RATE_LIMIT_PUBLISHABLE_PER_WINDOW", default=100)
# Redis for the shared counters; empty → an in-process counter (one process of `make run`).
RATE_LIMIT_REDIS_URL = env.str("RATE_LIMIT_REDIS_URL", default=REDIS_URL)

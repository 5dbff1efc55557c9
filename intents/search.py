"""The search query language of payment intents: `payments.search` with the PaymentIntent's
fields (this module keeps the names the intents' selectors and tests use)."""

from payments.search import (
    FIELDS,
    MAX_QUERY_LENGTH,
    NUMERIC_FIELDS,
    PAYMENT_INTENT_SEARCH,
    SearchQueryError,
    parse_search_query,
    search_query_to_q,
)

__all__ = [
    "FIELDS",
    "MAX_QUERY_LENGTH",
    "NUMERIC_FIELDS",
    "PAYMENT_INTENT_SEARCH",
    "SearchQueryError",
    "parse_search_query",
    "search_query_to_q",
]

"""What the document states beside the schema for Payload's face (faces/payload), honoured by
the fuzz tests (tests/test_fuzz.py imports this module for its hooks)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import schemathesis
from hypothesis import strategies as st

from api.schema import BODY_REQUIRED
from faces.payload.serializers import CARD_EXPIRY_FORMAT
from faces.payload.views import UNEXPECTED_TYPE


@st.composite
def card_expiries(draw) -> str:
    """Format `card-expiry` (api/openapi_description.md): a card's expiry as Payload writes it,
    `MM/YY` or `MM/YYYY` (the month's leading zero optional), a month a card can have: from
    next year to 49 years on (this year's past months are out; 50 years on is the limit)."""
    month = draw(st.integers(1, 12))
    year = datetime.now(UTC).year + draw(st.integers(1, 49))
    written_month = draw(st.sampled_from([f"{month:02d}", str(month)]))
    written_year = draw(st.sampled_from([f"{year % 100:02d}", str(year)]))
    return f"{written_month}/{written_year}"


schemathesis.openapi.format(CARD_EXPIRY_FORMAT, card_expiries())

#: A refusal of an update for the type of the object in the path (an intent's type is fixed at
#: create: `faces.payload.views.UNEXPECTED_TYPE`), which only an operation on an existing object
#: (`{id}` in its path) may answer valid data with; `valid_data_is_refused_only_for_state` takes
#: it there, as it takes a refusal for the object's state.
TYPE_CODE = re.compile(re.escape(UNEXPECTED_TYPE) + "$")


def refused_for_the_objects_type(case, code: str) -> bool:
    """Whether `code` is a refusal for the type of the object `case`'s path names."""
    return "{id}" in case.operation.path and TYPE_CODE.search(code) is not None


@schemathesis.hook
def before_load_schema(ctx, raw_schema):
    """What the document says beside `required` (`x-body-required`, api.schema.BODY_REQUIRED:
    a required body that a generated client would mishandle if `required` said so): the body is
    required, as a client following the document sends it."""
    for methods in raw_schema.get("paths", {}).values():
        for operation in methods.values():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if isinstance(body, dict) and body.get(BODY_REQUIRED):
                body["required"] = True

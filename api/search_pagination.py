"""Stripe's search pagination: an opaque `next_page` token naming the last row shown, over a
queryset ordered newest first on (created, id)."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime

from django.db.models import Q, QuerySet

from core.errors import InvalidRequestError

DEFAULT_LIMIT = 10
_PAGE_ID = re.compile(r"^[a-z]{1,16}_[A-Za-z0-9]{1,60}$")


def encode_page(row) -> str:
    raw = json.dumps({"c": row.created.isoformat(), "i": row.id}).encode()
    return "page_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page(token: str) -> tuple[datetime, str]:
    try:
        body = token.removeprefix("page_")
        body += "=" * (-len(body) % 4)
        data = json.loads(base64.urlsafe_b64decode(body.encode()))
        created, pk = datetime.fromisoformat(data["c"]), data["i"]
        if not isinstance(pk, str) or not _PAGE_ID.match(pk) or created.tzinfo is None:
            raise ValueError("bad page id")
        return created, pk
    except (ValueError, KeyError, TypeError):
        raise InvalidRequestError(
            "Invalid page: use the next_page value of a previous search result.",
            code="parameter_invalid_string",
            param="page",
        )


def search_page(
    queryset: QuerySet, *, limit: int | None = None, page: str | None = None
) -> tuple[list, bool, str | None]:
    """One page of `queryset` (newest first) after the row `page` names: (rows, has_more,
    next_page)."""
    if page:
        created, pk = decode_page(page)
        queryset = queryset.filter(Q(created__lt=created) | Q(created=created, id__lt=pk))
    limit = limit or DEFAULT_LIMIT
    rows = list(queryset.order_by("-created", "-id")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_page = encode_page(rows[-1]) if has_more and rows else None
    return rows, has_more, next_page

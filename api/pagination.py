"""Stripe list envelope over keyset pagination on (created, id), newest first.

The cost of a page does not depend on its depth: the cursor object is looked up by id (scoped to
the caller), then the page is one indexed range scan.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from django.db.models import Q, QuerySet

from core.errors import ResourceMissing

DEFAULT_LIMIT = 10


# The last second a datetime holds (9999-12-31T23:59:59Z): the filters' `seconds + 1` past it is
# the end of time, not a server error.
_LAST_SECOND = 253402300799


def _dt(seconds: int) -> datetime:
    if seconds > _LAST_SECOND:
        return datetime.max.replace(tzinfo=UTC)
    return datetime.fromtimestamp(seconds, tz=UTC)


def apply_created_filter(
    queryset: QuerySet, created: dict | None, field: str = "created"
) -> QuerySet:
    """`created` filter in unix seconds against a microsecond DateTimeField."""
    if not created:
        return queryset
    for op, seconds in created.items():
        if op == "eq":
            queryset = queryset.filter(
                **{f"{field}__gte": _dt(seconds), f"{field}__lt": _dt(seconds + 1)}
            )
        elif op == "gt":
            queryset = queryset.filter(**{f"{field}__gte": _dt(seconds + 1)})
        elif op == "gte":
            queryset = queryset.filter(**{f"{field}__gte": _dt(seconds)})
        elif op == "lt":
            queryset = queryset.filter(**{f"{field}__lt": _dt(seconds)})
        elif op == "lte":
            queryset = queryset.filter(**{f"{field}__lt": _dt(seconds + 1)})
    return queryset


def keyset_page(
    queryset: QuerySet,
    *,
    limit: int | None = None,
    starting_after: str | None = None,
    ending_before: str | None = None,
    object_name: str = "object",
) -> tuple[list, bool]:
    """One page of `queryset` (already scoped and filtered), newest first, and `has_more`."""
    limit = limit or DEFAULT_LIMIT
    cursor_id = starting_after or ending_before
    if cursor_id:
        cursor = queryset.filter(id=cursor_id).values("created", "id").first()
        if cursor is None:
            raise ResourceMissing(
                object_name,
                cursor_id,
                param="starting_after" if starting_after else "ending_before",
            )
        c, i = cursor["created"], cursor["id"]
        if starting_after:
            queryset = queryset.filter(Q(created__lt=c) | Q(created=c, id__lt=i))
        else:
            queryset = queryset.filter(Q(created__gt=c) | Q(created=c, id__gt=i))
    if ending_before:
        rows = list(queryset.order_by("created", "id")[: limit + 1])
        has_more = len(rows) > limit
        rows = rows[:limit]
        rows.reverse()
        return rows, has_more
    rows = list(queryset.order_by("-created", "-id")[: limit + 1])
    return rows[:limit], len(rows) > limit


def list_envelope(*, url: str, data: list, has_more: bool) -> dict:
    return {"object": "list", "url": url, "has_more": has_more, "data": data}


def paginate(
    queryset: QuerySet,
    *,
    params: dict,
    url: str,
    serialize: Callable[[list], list],
    object_name: str = "object",
) -> dict:
    queryset = apply_created_filter(queryset, params.get("created"))
    rows, has_more = keyset_page(
        queryset,
        limit=params.get("limit"),
        starting_after=params.get("starting_after"),
        ending_before=params.get("ending_before"),
        object_name=object_name,
    )
    return list_envelope(url=url, data=serialize(rows), has_more=has_more)

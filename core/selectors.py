"""What every selector shares."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

from .errors import ResourceMissing

_M = TypeVar("_M", bound=Model)


def first_or_missing(
    queryset: QuerySet[_M], *, object_id: str, object_name: str, param: str | None = "id"
) -> _M:
    """The row of an already scoped queryset with this id, or Stripe's 404 for `object_name`."""
    row = queryset.filter(id=object_id).first()
    if row is None:
        raise ResourceMissing(object_name, object_id, param=param)
    return row

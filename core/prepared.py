"""Querysets compiled once per process: the hot row locks skip the ORM's SQL compiler.

Compiling a `select_for_update().select_related(...)` of a wide row costs the ORM more than
PostgreSQL spends running it. A `PreparedQuery` compiles its queryset the first time each
database connection (so each thread) asks, with markers in place of the string parameters,
and afterwards runs that SQL with the new values and builds the rows exactly as the queryset
would have (the same converters, the same `from_db`, the rows read along by `select_related`).
What varies besides the string parameters (a mode, a shape) is the `variant`, one compilation
each.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from django.db import DEFAULT_DB_ALIAS, connections

# Django's own helper for the rows `select_related` reads along; django-stubs leaves it out.
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]
from django.db.transaction import TransactionManagementError

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import QuerySet


class _Marker(str):
    """A string parameter's stand-in while compiling (found again by identity)."""

    __slots__ = ()


class _Compiled:
    def __init__(self, queryset: QuerySet[Any], markers: list[_Marker]) -> None:
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        self.sql = sql
        # for each SQL parameter: the index of the caller's string, or the constant itself
        self.slots: list[tuple[bool, Any]] = []
        for value in params:
            index = next((i for i, marker in enumerate(markers) if value is marker), None)
            if index is None and isinstance(value, _Marker):
                raise ValueError("a marker was transformed while compiling")
            self.slots.append((index is not None, index if index is not None else value))
        used = {index for is_arg, index in self.slots if is_arg}
        if used != set(range(len(markers))):
            raise ValueError("a string parameter did not reach the SQL unchanged")
        self.compiler = compiler
        self.locks = bool(queryset.query.select_for_update)
        klass_info = compiler.klass_info
        select = compiler.select
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        self.populators = get_related_populators(klass_info, select, queryset.db)
        self.fields = [column[0] for column in select[0 : compiler.col_count]]
        self.converters = compiler.get_converters(self.fields)
        # annotations (`.annotate(...)`), set on each row as the queryset would
        self.annotations = list(compiler.annotation_col_map.items())
        self.db = queryset.db


class PreparedQuery:
    """`build(variant, *strings)` returns the queryset; `.rows(variant, *strings)` its rows."""

    def __init__(self, build: Callable[..., Any], *, using: str = DEFAULT_DB_ALIAS):
        self.build = build
        self.using = using
        self._compiled: WeakKeyDictionary[BaseDatabaseWrapper, dict[Hashable, _Compiled]] = (
            WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def rows(self, variant: Hashable, *strings: str) -> list[Any]:
        connection = connections[self.using]
        by_variant = self._compiled.get(connection)
        if by_variant is None:
            with self._lock:  # one entry per connection object (so per thread)
                by_variant = self._compiled.setdefault(connection, {})
        compiled = by_variant.get(variant)
        if compiled is None:
            markers = [_Marker(f"\x00prepared-{i}\x00") for i in range(len(strings))]
            compiled = by_variant[variant] = _Compiled(self.build(variant, *markers), markers)
        if compiled.locks and connection.features.has_select_for_update:
            if connection.get_autocommit():
                raise TransactionManagementError(
                    "select_for_update cannot be used outside of a transaction."
                )
        params = [strings[value] if is_arg else value for is_arg, value in compiled.slots]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        if not fetched:
            return []
        rows = fetched
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        objects = []
        for row in rows:
            obj = compiled.model.from_db(
                compiled.db, compiled.init_list, row[compiled.start : compiled.end]
            )
            for populator in compiled.populators:
                populator.populate(row, obj)
            for name, position in compiled.annotations:
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects

"""The abstract base of every API object, and the partial save every model written after it
is read has (`SavesChangedFields`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, ClassVar, Self

from django.db import DatabaseError, connections, models, router, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

_CONTAINERS = (dict, list)

# (model, attnames written, database alias) → (the UPDATE's SQL, its fields), or None when
# that UPDATE must go through the ORM (see `SavesChangedFields._update_columns`).
_UPDATES: dict[tuple[type, tuple[str, ...], str], tuple[str, list[Any]] | None] = {}


def _detached(value: Any) -> Any:
    """A copy of a JSON value that an in-place change of `value` does not reach."""
    if type(value) is dict:
        return {key: _detached(item) for key, item in value.items()}
    if type(value) is list:
        return [_detached(item) for item in value]
    return value


class SavesChangedFields(models.Model):
    """`save()` of a row read from the database writes only the columns whose values changed
    since it was read (or last saved), plus its `auto_now` columns: an UPDATE of a few columns
    instead of every one. Callers keep calling `save()`; `save(update_fields=…)` is honoured
    as given. JSON values are compared with a copy taken at read time, so a change made in
    place is seen. A row not read from the database (new, or its primary key changed) is
    saved whole, as Django does."""

    # Set on each concrete class by `_columns` (its own `__dict__`, not inherited).
    _columns_cache: ClassVar[tuple[tuple[str, ...], frozenset[str]]]

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        given = kwargs.get("update_fields")
        if not args and given is None and not kwargs.get("force_insert"):
            changed = self.changed_fields()
            if changed is not None:
                if not self._matters(changed):
                    return  # nothing but `auto_now` columns: a row that did not change keeps its time
                if not kwargs and self._update_columns(changed):
                    self._remember_saved_values()
                    return
                kwargs["update_fields"] = changed
        super().save(*args, **kwargs)
        saved = getattr(self, "_saved_values", None)
        if given is None or saved is None:
            self._remember_saved_values()
            return
        for name in given:  # only these were written; other unsaved changes stay changed
            # update_fields names concrete fields, which have an attname.
            attname = self._meta.get_field(name).attname  # type: ignore[union-attr]
            value = self.__dict__.get(attname)
            saved[attname] = _detached(value) if type(value) in _CONTAINERS else value

    def _update_columns(self, attnames: list[str]) -> bool:
        """`save(update_fields=attnames)` of a row read from the database, as one UPDATE whose
        SQL is built once per (model, columns, database) instead of by the ORM's query
        compiler on every save (most of the cost of a small UPDATE). The same statement, the
        same per-field `pre_save` (`auto_now`) and `get_db_prep_save`, the same error when no
        row matched. False (nothing done) where the ORM has more to do: a model with parents
        or save signal receivers, a field with its own placeholder, an expression value."""
        cls = type(self)
        meta = cls._meta
        using = self._state.db or router.db_for_write(cls, instance=self)
        key = (cls, tuple(attnames), using)
        if key in _UPDATES:
            compiled = _UPDATES[key]
        else:
            compiled = _UPDATES[key] = _compile_update(cls, attnames, using)
        if compiled is None or pre_save.has_listeners(cls) or post_save.has_listeners(cls):
            return False
        sql, fields = compiled
        # Django's own check of related objects before a save; django-stubs leaves it out.
        self._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
        connection = connections[using]
        params = []
        for field in fields:
            value = field.pre_save(self, False)
            if hasattr(value, "resolve_expression"):
                return False
            params.append(field.get_db_prep_save(value, connection=connection))
        params.append(meta.pk.get_db_prep_value(self.pk, connection))
        with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
            cursor.execute(sql, params)
            if cursor.rowcount == 0:
                raise DatabaseError("Save with update_fields did not affect any rows.")
        self._state.db = using
        self._state.adding = False
        return True

    @classmethod
    def from_db(cls, db: str | None, field_names: Collection[str], values: Collection[Any]) -> Self:
        instance = super().from_db(db, field_names, values)
        instance._remember_saved_values()
        return instance

    def _remember_saved_values(self) -> None:
        loaded = self.__dict__
        self._saved_values = {
            name: _detached(loaded[name]) if type(loaded[name]) in _CONTAINERS else loaded[name]
            for name in self._columns()[0]
            if name in loaded
        }

    @classmethod
    def _columns(cls) -> tuple[tuple[str, ...], frozenset[str]]:
        """(every column's attname, the `auto_now` ones), worked out once per class."""
        columns = cls.__dict__.get("_columns_cache")
        if columns is None:
            fields = cls._meta.concrete_fields
            columns = (
                tuple(f.attname for f in fields),
                frozenset(f.attname for f in fields if getattr(f, "auto_now", False)),
            )
            cls._columns_cache = columns
        return columns

    def changed_fields(self) -> list[str] | None:
        """The attnames to write, or None when the whole row must be (see the class)."""
        saved = getattr(self, "_saved_values", None)
        if saved is None or self._state.adding:
            return None
        pk = self._meta.pk.attname
        if saved.get(pk) != self.__dict__.get(pk):
            return None
        current = self.__dict__
        changed = []
        names, auto_now = self._columns()
        for name in names:
            if name == pk or name not in current:
                continue
            if name in auto_now or name not in saved:
                changed.append(name)
            elif current[name] != saved[name] or type(current[name]) is not type(saved[name]):
                changed.append(name)
        return changed

    def has_unsaved_changes(self) -> bool:
        """A column changed since the row was read or saved (`auto_now` ones aside), or the
        row has never been written: `save()` would write something that matters."""
        changed = self.changed_fields()
        return changed is None or self._matters(changed)

    def _matters(self, changed: list[str]) -> bool:
        auto_now = self._columns()[1]
        return any(name not in auto_now for name in changed)

    def refresh_from_db(
        self,
        using: str | None = None,
        fields: Iterable[str] | None = None,
        from_queryset: models.QuerySet[Self] | None = None,
    ) -> None:
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        saved = getattr(self, "_saved_values", None)
        if fields is None or saved is None:
            self._remember_saved_values()
            return
        for name in fields:  # only these were read again; other unsaved changes stay changed
            # refresh_from_db's fields are concrete fields, which have an attname.
            attname = self._meta.get_field(name).attname  # type: ignore[union-attr]
            if attname in self.__dict__:
                saved[attname] = _detached(self.__dict__[attname])


def _compile_update(
    cls: type[models.Model], attnames: list[str], using: str
) -> tuple[str, list[Any]] | None:
    meta = cls._meta
    if meta.parents or meta.proxy:
        return None
    by_attname = {field.attname: field for field in meta.local_concrete_fields}
    fields = [by_attname.get(name) for name in attnames]
    if any(
        field is None or field.primary_key or field.generated or hasattr(field, "get_placeholder")
        for field in fields
    ):
        return None
    quote = connections[using].ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(f"{quote(field.column)} = %s" for field in fields)  # type: ignore[union-attr]
    where = f"{table}.{quote(meta.pk.column)} = %s"
    return f"UPDATE {table} SET {columns} WHERE {where}", fields


class ScopedModel(SavesChangedFields):
    """Every API object belongs to one account and one mode; selectors always filter on both.
    Subclasses declare `id = models.CharField(primary_key=True, default=id_factory("xx"), …)`.
    Its `save()` of a row read from the database writes only the columns that changed
    (`SavesChangedFields`)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    livemode = models.BooleanField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    @property
    def created_unix(self) -> int:
        return int(self.created.timestamp())

"""The abstract base of every API object, and the partial save every model written after it
is read has (`SavesChangedFields`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, ClassVar, Self

from django.db import models
from django.utils import timezone

_CONTAINERS = (dict, list)


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
                if not changed:
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
        if changed is None:
            return True
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

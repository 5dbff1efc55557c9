"""Whose data a read or write may touch: one account, in one mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class _InScope(Protocol):
    """What `Scope.of` reads: any row of a `ScopedModel` (or anything shaped like one)."""

    @property
    def account_id(self) -> str: ...

    @property
    def livemode(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Scope:
    """Every selector filters on it and every service writes within it.

    An API caller's scope comes from its key; an operator acting in the console passes the scope
    of the object they act on (`Scope.of(obj)`), so no code path reads or writes unscoped.
    """

    account_id: str
    livemode: bool

    @classmethod
    def of(cls, obj: _InScope) -> Scope:
        """The scope an existing object lives in (for operator actions and workers)."""
        return cls(account_id=obj.account_id, livemode=obj.livemode)

    @property
    def filters(self) -> dict[str, Any]:
        """Keyword filters for a queryset of `ScopedModel` rows."""
        return {"account_id": self.account_id, "livemode": self.livemode}

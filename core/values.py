"""Two small values every layer shares."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar


class _Unset:
    """ "Not given" for keyword arguments where None is a meaningful value (unset a field)."""

    _instance: ClassVar[_Unset | None] = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()


def unix(dt: datetime | None) -> int | None:
    """A timestamp as Stripe shows it: whole seconds since the epoch, or None."""
    return int(dt.timestamp()) if dt is not None else None

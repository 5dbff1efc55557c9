from django.db.models.functions import Now

from .models import BEAT, BeatLease


def beat_lease_get(*, name: str = BEAT) -> tuple[BeatLease, bool] | None:
    """The lease's row and whether it is still held (by the database's clock), or None when no
    beat ever led."""
    lease = BeatLease.objects.filter(name=name).annotate(now=Now()).first()
    if lease is None:
        return None
    return lease, lease.expires_at > lease.now  # type: ignore[attr-defined]

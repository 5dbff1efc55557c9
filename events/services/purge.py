"""Retention: events older than EVENT_RETENTION_DAYS go, with their deliveries and attempts."""

from __future__ import annotations

from ..models import Event


def events_purge() -> int:
    """Delete events (and their deliveries and attempts) past the retention period, in batches
    of 1000. Returns how many events were deleted."""
    cutoff = Event.retention_cutoff()
    total = 0
    while True:
        ids = list(Event.objects.filter(created__lt=cutoff).values_list("id", flat=True)[:1000])
        if not ids:
            return total
        Event.objects.filter(id__in=ids).delete()
        total += len(ids)

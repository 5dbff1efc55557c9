"""Sending deliveries in batches, the backoff between attempts, and the sweep that re-issues
lost hints.

A batch is one endpoint's due deliveries (the relay and the sweep group them so), sent one
after the other over one kept-alive connection (`events.http.Sender`): claimed with one
statement, each signed and POSTed, the outcomes written in one short transaction. A delivery
in flight is marked with a lease (`lease_until`) instead of a lock held across the network
call, so a crashed worker only delays a delivery until its lease expires. The database is the
truth about what is left to send; the broker only carries "look at these rows now" hints.

An endpoint that does not answer at all (refused, timed out, reset) is paused: the rest of the
batch is not sent, and until `paused_until` (one retry interval) its deliveries wait in the
database instead of holding a worker for a timeout each; the sweep hands them out when the
pause ends, and the first one sent is the probe. An endpoint that answers, even 500, is not
paused: each of its deliveries is retried on its own schedule, until `WEBHOOK_CIRCUIT_FAILURES`
attempts in a row have failed; then its circuit opens, and it is paused the same way. A batch also stops at its time
budget (`WEBHOOK_BATCH_SECONDS`, and never so late that a send could outlive the lease) and
hands the rest back to the queue, so a slow endpoint shares the workers with the others. The
tasks run these in a worker process's sender threads (`senders`), so a send waiting on a slow
endpoint holds a thread, not the worker.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.ids import id_factory

from ..dialects import STRIPE, dialect
from ..http import Sender, SendResult
from ..models import Delivery, DeliveryAttempt, WebhookEndpoint
from ..presenters import event_body
from ..signing import signed_headers
from .dispatch import deliveries_dispatch_on_commit, delivery_batches
from .outbox import events_pending_webhooks_decrement
from .relay import endpoints_send_request, events_relay

logger = logging.getLogger("payintents.events")


# --- backoff ---------------------------------------------------------------------------------


def retry_delay_seconds(attempt_count: int) -> float:
    """Exponential backoff with jitter for the retry after the `attempt_count`-th failure."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS * (2 ** max(attempt_count - 1, 0))
    delay = min(base, settings.WEBHOOK_RETRY_MAX_SECONDS)
    return delay * (1 + random.random() * settings.WEBHOOK_RETRY_JITTER)


def _window_end(delivery: Delivery) -> datetime:
    return delivery.window_start + timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS)


def batch_budget_seconds() -> float:
    """How long a batch may go on starting sends: its budget, and never so late that a send
    (at most the timeout) could end after the lease."""
    safe = settings.WEBHOOK_LEASE_SECONDS - settings.WEBHOOK_TIMEOUT_SECONDS - 1
    return max(0.0, min(settings.WEBHOOK_BATCH_SECONDS, safe))


# --- claiming --------------------------------------------------------------------------------


def _bookkeeping() -> None:
    """The current transaction commits without waiting for its WAL to reach the disk
    (`SET LOCAL synchronous_commit = off`: this transaction only, so it holds through PgBouncer
    too). A lease or an outcome lost to a PostgreSQL crash within that last fraction of a
    second means a delivery sent again: at least once, as a killed worker's lease already
    allows. The flush was most of these short transactions' time."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")


def _claim(where: Q, now: datetime, limit: int | None = None) -> list[Delivery]:
    """Lease the due, pending deliveries `where` picks that nobody holds, with their endpoint
    and event; cancel those of a disabled endpoint, and put those of a paused endpoint off
    until its pause ends. Returns the leased ones, oldest first."""
    with transaction.atomic():
        _bookkeeping()
        queryset = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint", "event")
            .filter(where, status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .order_by("created", "id")
        )
        rows = list(queryset[:limit] if limit else queryset)
        leased, canceled, paused = [], [], []
        for delivery in rows:
            endpoint = delivery.endpoint
            if endpoint.status != WebhookEndpoint.Status.ENABLED:
                canceled.append(delivery)
            elif endpoint.paused_until is not None and endpoint.paused_until > now:
                paused.append(delivery)
            else:
                leased.append(delivery)
        if canceled:
            Delivery.objects.filter(id__in=[d.id for d in canceled]).update(
                status=Delivery.Status.CANCELED, next_attempt_at=None, dispatched_at=None
            )
            events_pending_webhooks_decrement(event_ids=[d.event_id for d in canceled])
        _put_off(paused, now=now)
        if leased:
            Delivery.objects.filter(id__in=[d.id for d in leased]).update(
                lease_until=now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
            )
        return leased


def _claim_endpoint(endpoint_id: str, now: datetime, limit: int) -> list[Delivery]:
    """`_claim` for one endpoint's sender: the ids picked first, walking the endpoint's pending
    deliveries oldest first (`delivery_endpoint_order_idx`) up to the batch, and only those
    rows then read with their events. One statement joining the events sorted the endpoint's
    whole backlog, payloads and all, on every claim: 0.3 s a claim at 10,000 pending. A
    disabled or paused endpoint's deliveries go through `_claim`, which cancels or puts them
    off."""
    endpoint = WebhookEndpoint.objects.filter(id=endpoint_id).first()
    if endpoint is None:
        return []
    if endpoint.status != WebhookEndpoint.Status.ENABLED or (
        endpoint.paused_until is not None and endpoint.paused_until > now
    ):
        return _claim(Q(endpoint_id=endpoint_id), now, limit=limit)
    with transaction.atomic():
        _bookkeeping()
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(
                endpoint_id=endpoint_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now
            )
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .order_by("created", "id")
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return []
        Delivery.objects.filter(id__in=ids).update(
            lease_until=now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
        )
        leased = list(
            Delivery.objects.select_related("event").filter(id__in=ids).order_by("created", "id")
        )
    for delivery in leased:
        delivery.endpoint = endpoint
    return leased


def _put_off(deliveries: list[Delivery], *, now: datetime, until: datetime | None = None) -> None:
    """Not sent because their endpoint is paused (no attempt counted): due again when the pause
    ends, or given up when that is past their retry window. Under the rows' locks."""
    if not deliveries:
        return
    given_up = []
    by_time: dict[datetime, list[str]] = {}
    for delivery in deliveries:
        when = until or delivery.endpoint.paused_until or now
        if when > _window_end(delivery):
            given_up.append(delivery)
        else:
            by_time.setdefault(when, []).append(delivery.id)
    for when, ids in by_time.items():
        Delivery.objects.filter(id__in=ids, status=Delivery.Status.PENDING).update(
            next_attempt_at=when, lease_until=None, dispatched_at=None
        )
    if given_up:
        Delivery.objects.filter(id__in=[d.id for d in given_up]).update(
            status=Delivery.Status.FAILED,
            next_attempt_at=None,
            lease_until=None,
            dispatched_at=None,
        )
        events_pending_webhooks_decrement(event_ids=[d.event_id for d in given_up])


# --- sending ---------------------------------------------------------------------------------


@dataclass
class _Batch:
    """One endpoint's leased deliveries and what became of them."""

    endpoint: WebhookEndpoint
    deliveries: list[Delivery]
    sent: list[tuple[Delivery, SendResult]] = field(default_factory=list)
    unsent: list[Delivery] = field(default_factory=list)
    # Stopped because the endpoint is to be paused: it did not answer, or its circuit opened
    # (WEBHOOK_CIRCUIT_FAILURES failed attempts in a row).
    pause: bool = False
    outcomes: dict[str, str] = field(default_factory=dict)


def _send(batch: _Batch, *, deadline: float) -> None:
    """POST each delivery in turn over one connection; stop when the endpoint does not answer,
    when its circuit opens (`WEBHOOK_CIRCUIT_FAILURES` failures in a row), or when the batch's
    time is up. No transaction and no lock is held meanwhile."""
    endpoint = batch.endpoint
    sender = Sender(endpoint.url)
    secrets = endpoint.signing_secrets()
    circuit = settings.WEBHOOK_CIRCUIT_FAILURES
    streak = endpoint.failures_in_row
    for index, delivery in enumerate(batch.deliveries):
        if index and time.monotonic() >= deadline:
            batch.unsent = batch.deliveries[index:]
            return
        timestamp = int(time.time())
        if endpoint.dialect == STRIPE:
            body = event_body(delivery.event)
            headers = signed_headers(
                secrets=secrets, event_id=delivery.event_id, timestamp=timestamp, body=body
            )
        else:
            body, headers = dialect(endpoint.dialect).render(endpoint, delivery.event, timestamp)
        result = sender.post(body=body, headers=headers)
        batch.sent.append((delivery, result))
        streak = 0 if result.succeeded else streak + 1
        if result.unreachable or (circuit and streak >= circuit):
            batch.pause = True
            batch.unsent = batch.deliveries[index + 1 :]
            return


def _record(batch: _Batch) -> None:
    """The outcomes of a batch, in one transaction under the deliveries' row locks: the
    attempts logged, the deliveries settled or rescheduled, the events' counters, the
    endpoint's failing streak and pause; the unsent handed back."""
    now = timezone.now()
    endpoint = batch.endpoint
    with transaction.atomic():
        _bookkeeping()
        ids = [d.id for d, _ in batch.sent] + [d.id for d in batch.unsent]
        locked = {
            row.id: row
            for row in Delivery.objects.select_for_update(of=("self",))
            .filter(id__in=ids)
            .only("id", "status", "attempt_count", "window_start", "event_id", "endpoint_id")
        }
        attempts: list[_Attempt] = []
        delivered: list[Delivery] = []
        given_up: list[Delivery] = []
        retries: list[Delivery] = []
        last_succeeded = None
        trailing_failures = 0  # the failed attempts after the batch's last success
        for delivery, result in batch.sent:
            row = locked.get(delivery.id)
            if row is None:
                batch.outcomes[delivery.id] = "gone"  # the endpoint was deleted meanwhile
                continue
            attempt = _Attempt(row.id, row.event_id, delivery.event.type, result)
            attempts.append(attempt)
            last_succeeded = result.succeeded
            trailing_failures = 0 if result.succeeded else trailing_failures + 1
            if row.status != Delivery.Status.PENDING:
                batch.outcomes[row.id] = "late"  # another attempt (after a lease expiry) settled it
                continue
            if result.succeeded:
                delivered.append(row)
                batch.outcomes[row.id] = "delivered"
                continue
            row.attempt_count += 1
            next_at = now + timedelta(seconds=retry_delay_seconds(row.attempt_count))
            if next_at > _window_end(row):
                given_up.append(row)
                batch.outcomes[row.id] = "failed"
            else:
                row.next_attempt_at = next_at
                row.lease_until = None
                row.dispatched_at = None
                attempt.next_attempt_at = next_at
                retries.append(row)
                batch.outcomes[row.id] = "retry"
        if delivered:
            Delivery.objects.filter(id__in=[d.id for d in delivered]).update(
                status=Delivery.Status.DELIVERED,
                delivered_at=now,
                next_attempt_at=None,
                lease_until=None,
                dispatched_at=None,
                attempt_count=F("attempt_count") + 1,
            )
        if given_up:
            Delivery.objects.filter(id__in=[d.id for d in given_up]).update(
                status=Delivery.Status.FAILED,
                next_attempt_at=None,
                lease_until=None,
                dispatched_at=None,
                attempt_count=F("attempt_count") + 1,
            )
        if retries:
            _reschedule(retries)
        settled = delivered + given_up
        if settled:
            events_pending_webhooks_decrement(event_ids=[d.event_id for d in settled])
        unsent = [
            locked[d.id]
            for d in batch.unsent
            if d.id in locked and locked[d.id].status == Delivery.Status.PENDING
        ]
        if batch.pause:
            pause_until = now + timedelta(seconds=retry_delay_seconds(1))
            WebhookEndpoint.objects.filter(id=endpoint.id).update(paused_until=pause_until)
            _put_off(unsent, now=now, until=pause_until)
        elif unsent:
            # The batch's time is up: the rest goes back to the queue at once.
            Delivery.objects.filter(id__in=[d.id for d in unsent]).update(
                lease_until=None, dispatched_at=now
            )
            endpoints_send_request([endpoint.id], now=now)
        for row in unsent:
            batch.outcomes.setdefault(row.id, "put off")
        if last_succeeded is True and (
            endpoint.failing_since is not None
            or endpoint.paused_until is not None
            or endpoint.failures_in_row
        ):
            # (an endpoint read with none of them, as it is while it answers, needs no statement)
            WebhookEndpoint.objects.filter(
                Q(failing_since__isnull=False)
                | Q(paused_until__isnull=False)
                | Q(failures_in_row__gt=0),
                id=endpoint.id,
            ).update(failing_since=None, paused_until=None, failures_in_row=0)
        elif last_succeeded is False:
            _endpoint_failed(
                endpoint_id=endpoint.id,
                now=now,
                failures=trailing_failures,
                since_success=any(result.succeeded for _, result in batch.sent),
            )
        _insert_attempts(attempts, endpoint=endpoint, now=now)


@dataclass
class _Attempt:
    """A `DeliveryAttempt` row to write, as `_insert_attempts` takes it."""

    delivery_id: str
    event_id: str
    event_type: str
    result: SendResult
    next_attempt_at: datetime | None = None


_new_attempt_id = id_factory("whatt")


def _insert_attempts(attempts: list[_Attempt], *, endpoint: WebhookEndpoint, now: datetime) -> None:
    """A batch's attempts in one INSERT … SELECT FROM unnest(…): one array per column, the
    endpoint's scope and the time once (`bulk_create` built a model and compiled a row of
    placeholders per attempt, the larger part of recording a batch)."""
    if not attempts:
        return
    table = DeliveryAttempt._meta.db_table
    results = [a.result for a in attempts]
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" ("id", "account_id", "livemode", "created", "delivery_id",'
            ' "event_id", "endpoint_id", "event_type", "http_status", "succeeded", "latency_ms",'
            ' "response_excerpt", "error", "next_attempt_at")'
            " SELECT v.id, %s, %s, %s, v.delivery_id, v.event_id, %s, v.event_type, v.status,"
            " v.succeeded, v.latency, v.excerpt, v.error, v.next_at"
            " FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[],"
            " %s::integer[], %s::boolean[], %s::integer[], %s::text[], %s::varchar[],"
            " %s::timestamptz[])"
            " AS v(id, delivery_id, event_id, event_type, status, succeeded, latency, excerpt,"
            " error, next_at)",
            [
                endpoint.account_id,
                endpoint.livemode,
                now,
                endpoint.id,
                [_new_attempt_id() for _ in attempts],
                [a.delivery_id for a in attempts],
                [a.event_id for a in attempts],
                [a.event_type for a in attempts],
                [r.http_status for r in results],
                [r.succeeded for r in results],
                [r.latency_ms for r in results],
                [r.excerpt.replace("\x00", "") for r in results],
                [r.error for r in results],
                [a.next_attempt_at for a in attempts],
            ],
        )


def _reschedule(rows: list[Delivery]) -> None:
    """Each row's new attempt count and next attempt time, in one UPDATE … FROM unnest(…)
    (bulk_update's CASE over every row cost more than the rest of the batch's recording)."""
    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" AS d SET "attempt_count" = v.attempts,'
            ' "next_attempt_at" = v.next_at, "lease_until" = NULL, "dispatched_at" = NULL'
            " FROM unnest(%s::varchar[], %s::integer[], %s::timestamptz[])"
            " AS v(id, attempts, next_at) WHERE d.id = v.id",
            [
                [row.id for row in rows],
                [row.attempt_count for row in rows],
                [row.next_attempt_at for row in rows],
            ],
        )


def deliveries_send(*, delivery_ids: list[str]) -> dict[str, str]:
    """Send the listed deliveries that are due and that nobody else is sending, each endpoint's
    over one connection. Idempotent: a delivered (or failed, or leased) delivery is left alone.
    Returns each listed delivery's outcome: delivered, retry, failed, late, gone, put off or
    skipped."""
    outcomes = {delivery_id: "skipped" for delivery_id in delivery_ids}
    leased = _claim(Q(id__in=delivery_ids), timezone.now())
    deadline = time.monotonic() + batch_budget_seconds()
    by_endpoint: dict[str, _Batch] = {}
    for delivery in leased:
        batch = by_endpoint.get(delivery.endpoint_id)
        if batch is None:
            batch = by_endpoint[delivery.endpoint_id] = _Batch(delivery.endpoint, [])
        batch.deliveries.append(delivery)
    for batch in by_endpoint.values():
        if time.monotonic() >= deadline:
            batch.unsent = batch.deliveries
        else:
            _send(batch, deadline=deadline)
        _record(batch)
        outcomes.update(batch.outcomes)
    return outcomes


# The namespace of the advisory locks that are an endpoint's sender slots.
_SLOT_LOCKS = 0x77686B73  # "whks"


# A slot the sender holds when slots are off (no advisory lock taken, none to release).
_NO_SLOT = ""


def _take_slot(endpoint_id: str) -> str | None:
    """One of the endpoint's `WEBHOOK_SENDERS_PER_ENDPOINT` sender slots (a session advisory
    lock on this connection, so a killed worker's slot is freed with its connection), or None
    when every slot is taken.

    Through PgBouncer in transaction pooling (`DATABASE_POOLER=pgbouncer`) a session lock would
    stay on whichever server connection took it, and its unlock could reach another: the slots
    are off there, and any number of senders may serve one endpoint, as before they existed."""
    if settings.DATABASE_POOLER == "pgbouncer":
        return _NO_SLOT
    with connection.cursor() as cursor:
        for slot in range(max(1, settings.WEBHOOK_SENDERS_PER_ENDPOINT)):
            key = f"{endpoint_id}:{slot}"
            cursor.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", [_SLOT_LOCKS, key])
            if cursor.fetchone()[0]:
                return key
    return None


def _release_slot(key: str) -> None:
    if key == _NO_SLOT:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [_SLOT_LOCKS, key])


def endpoint_deliveries_send(*, endpoint_id: str) -> dict[str, int]:
    """Send the endpoint's due deliveries, in batches of `WEBHOOK_DELIVERY_BATCH`, until none
    is left, the endpoint stops answering, or the time budget is spent (then a new request is
    queued). Clears the endpoint's send request first, so a delivery relayed from now on gets
    a new one. Returns how many deliveries had each outcome.

    At most `WEBHOOK_SENDERS_PER_ENDPOINT` senders work on one endpoint at a time, so an
    endpoint that hangs until the timeout holds that many workers, never all of them. A
    request that finds every slot taken returns at once and leaves the endpoint's request set;
    a sender looks at that request after giving its slot back and goes on if it is set."""
    counts: dict[str, int] = {}
    while True:
        slot = _take_slot(endpoint_id)
        if slot is None:
            counts["busy"] = counts.get("busy", 0) + 1
            return counts
        try:
            more = _endpoint_send_batches(endpoint_id, counts)
        finally:
            _release_slot(slot)
        if (
            not more
            or not WebhookEndpoint.objects.filter(
                id=endpoint_id, send_requested_at__isnull=False
            ).exists()
        ):
            return counts


def _endpoint_send_batches(endpoint_id: str, counts: dict[str, int]) -> bool:
    """The batches of one sender holding a slot; False when it stopped at its time budget
    (a new request is on its way then)."""
    WebhookEndpoint.objects.filter(id=endpoint_id, send_requested_at__isnull=False).update(
        send_requested_at=None
    )
    size = max(1, settings.WEBHOOK_DELIVERY_BATCH)
    deadline = time.monotonic() + batch_budget_seconds()
    while True:
        leased = _claim_endpoint(endpoint_id, timezone.now(), limit=size)
        if not leased:
            return True
        batch = _Batch(leased[0].endpoint, leased)
        _send(batch, deadline=deadline)
        _record(batch)
        for outcome in batch.outcomes.values():
            counts[outcome] = counts.get(outcome, 0) + 1
        if batch.unsent and not batch.pause:
            return False  # the time budget: _record asked for another send
        if batch.pause or len(leased) < size:
            return True
        if time.monotonic() >= deadline:
            with transaction.atomic():
                endpoints_send_request([endpoint_id], now=timezone.now())
            return False


def delivery_attempt(*, delivery_id: str) -> str:
    """Send one delivery once, if it is due and nobody else is sending it (a batch of one)."""
    return deliveries_send(delivery_ids=[delivery_id])[delivery_id]


def _endpoint_failed(
    *, endpoint_id: str, now: datetime, failures: int, since_success: bool
) -> None:
    """A batch ended on `failures` failed attempts (after a success in it, when
    `since_success`): the endpoint's streak of failures in a row and its start, in one
    statement under the row's lock; disabled when that start is past the disable period."""
    table = WebhookEndpoint._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" SET "failures_in_row" = CASE WHEN %s THEN %s'
            ' ELSE "failures_in_row" + %s END,'
            ' "failing_since" = CASE WHEN %s THEN %s ELSE COALESCE("failing_since", %s) END'
            ' WHERE "id" = %s RETURNING "failing_since"',
            [since_success, failures, failures, since_success, now, now, endpoint_id],
        )
        row = cursor.fetchone()
    cutoff = now - timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS)
    if row is None or row[0] > cutoff:
        return
    disabled = WebhookEndpoint.objects.filter(
        id=endpoint_id, status=WebhookEndpoint.Status.ENABLED, failing_since__lte=cutoff
    ).update(
        status=WebhookEndpoint.Status.DISABLED,
        disabled_reason=(
            "Disabled automatically: every delivery attempt failed for "
            f"{settings.WEBHOOK_DISABLE_AFTER_SECONDS / 86400:g} days (since "
            f"{now.isoformat(timespec='seconds')} minus that period)."
        ),
    )
    if disabled:
        logger.warning("webhook endpoint %s disabled after failing too long", endpoint_id)


# --- the sweep -------------------------------------------------------------------------------


def webhooks_sweep() -> dict:
    """The safety net (beat, every few seconds): relay events nobody relayed and re-dispatch
    deliveries that are due and neither in flight nor recently dispatched, in batches by
    endpoint."""
    relayed = 0
    for _ in range(10):
        count = events_relay()
        relayed += count
        if count < settings.WEBHOOK_SWEEP_BATCH:
            break
    now = timezone.now()
    grace = now - timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    # A send request whose hint was lost (broker down, worker killed) is forgotten; the
    # deliveries it was for are dispatched below like any other due ones.
    WebhookEndpoint.objects.filter(send_requested_at__lt=grace).update(send_requested_at=None)
    with transaction.atomic():
        due = list(
            Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=grace))
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True)
            .values_list("id", "endpoint_id")[: settings.WEBHOOK_SWEEP_BATCH]
        )
        if due:
            Delivery.objects.filter(id__in=[d for d, _ in due]).update(dispatched_at=now)
            deliveries_dispatch_on_commit(delivery_batches(due))
    return {"relayed": relayed, "dispatched": len(due)}

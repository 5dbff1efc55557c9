"""Keyset pagination on (created, id), newest first, over any scoped queryset."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.pagination import apply_created_filter, keyset_page
from core.errors import ResourceMissing
from events.models import Event

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def events(acct):
    rows = []
    for i in range(25):
        # pairs share a timestamp so the id breaks ties
        rows.append(
            Event.objects.create(
                account=acct.account,
                livemode=False,
                type="test.event",
                api_version="x",
                data={},
                object_id=str(i),
                created=BASE + timedelta(seconds=i // 2),
            )
        )
    return Event.objects.filter(account=acct.account, livemode=False)


def walk(queryset, limit, **kwargs):
    seen, cursor = [], None
    while True:
        rows, has_more = keyset_page(queryset, limit=limit, starting_after=cursor, **kwargs)
        seen.extend(rows)
        if not has_more:
            return seen
        cursor = rows[-1].id


def test_pages_walk_every_row_once_newest_first(events):
    seen = walk(events, limit=4)
    assert len(seen) == 25
    assert len({row.id for row in seen}) == 25
    keys = [(row.created, row.id) for row in seen]
    assert keys == sorted(keys, reverse=True)


def test_ending_before_returns_the_page_before_in_the_same_order(events):
    everything = list(events.order_by("-created", "-id"))
    rows, has_more = keyset_page(events, limit=3, ending_before=everything[10].id)
    assert [r.id for r in rows] == [r.id for r in everything[7:10]]
    assert has_more is True


def test_has_more_is_false_on_the_last_page(events):
    everything = list(events.order_by("-created", "-id"))
    rows, has_more = keyset_page(events, limit=10, starting_after=everything[14].id)
    assert len(rows) == 10
    assert has_more is False


def test_a_cursor_outside_the_scope_is_resource_missing(events, other_acct):
    foreign = Event.objects.create(
        account=other_acct.account,
        livemode=False,
        type="t",
        api_version="x",
        data={},
        object_id="x",
    )
    with pytest.raises(ResourceMissing) as info:
        keyset_page(events, limit=3, starting_after=foreign.id)
    assert info.value.param == "starting_after"


def test_created_filters_are_unix_seconds(events):
    start = int(BASE.timestamp())
    assert apply_created_filter(events, {"eq": start + 3}).count() == 2
    assert apply_created_filter(events, {"gt": start + 10}).count() == 3  # seconds 11, 12 (one row)
    assert apply_created_filter(events, {"gte": start + 10, "lt": start + 11}).count() == 2
    assert apply_created_filter(events, {"lte": start}).count() == 2


def test_a_deep_page_costs_the_same_queries_as_the_first(events):
    everything = list(events.order_by("-created", "-id"))
    with CaptureQueriesContext(connection) as first:
        keyset_page(events, limit=3)
    with CaptureQueriesContext(connection) as deep:
        keyset_page(events, limit=3, starting_after=everything[20].id)
    assert len(first) == 1
    assert len(deep) == 2  # the cursor lookup and the page; no OFFSET scan
    assert "OFFSET" not in deep.captured_queries[-1]["sql"].upper()

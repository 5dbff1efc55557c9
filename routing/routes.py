"""The routing decision: which connections an attempt may go to, in which order, and why the
others were skipped. Pure: it reads what `routing.selectors.routing_inputs` read in one
statement (the connections of the scope and the flow) and the payment's facts, and writes
nothing, so `evaluate` and a confirm decide the same way.

A flow's `routing` (validated by its API serializer):

    {"type": "priority",     "processors": ["proc_a", "proc_b"]}
    {"type": "volume_split", "split": [{"processor": "proc_a", "percent": 70}, …]}
    {"type": "rules",        "rules": [{"if": {…}, "then": {"processors": […]}}, …],
                             "default": {"processors": […]}}
    {"type": "success_rate", "processors": […], "window": 200, "exploration_percent": 5}

and its `retry`: {"max_attempts": 1–5, "on": ["soft_decline", "processor_error"]}.

No flow (none named, no default): every active connection of the mode, oldest first (the
built-in simulated connection is the oldest), and no retry — what a merchant who never set
up a flow had before connections existed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .models import ConnectionStatus, ProcessorConnection

# Declines retried on the next connection (`retry[on]` has `soft_decline`).
SOFT_DECLINES = frozenset(
    {"processing_error", "try_again_later", "issuer_not_available", "reenter_transaction"}
)
RETRY_ON = ("soft_decline", "processor_error")
DEFAULT_WINDOW = 200
DEFAULT_EXPLORATION = 5


@dataclass(frozen=True)
class Facts:
    """What routing may look at about a payment."""

    amount: int
    currency: str
    card_brand: str | None = None
    card_country: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    # the connections the card has a token at (None: not known, every one is taken to have)
    tokens: frozenset[str] | None = None


@dataclass(frozen=True)
class Skipped:
    processor: str
    reason: str  # disabled, circuit_open, no_token, deleted


@dataclass
class Route:
    """The decision: `connections` in the order to try them (at most `max_attempts` of them
    are tried), the rule that matched (its index) and what was skipped."""

    connections: list[ProcessorConnection]
    flow_id: str | None = None
    flow_version: int | None = None
    rule: int | None = None
    skipped: list[Skipped] = field(default_factory=list)
    max_attempts: int = 1
    retry_on: tuple[str, ...] = RETRY_ON
    routing_type: str | None = None

    def retries(self, *, soft_decline: bool, processor_error: bool) -> bool:
        """A failed attempt of this kind goes on to the next connection."""
        if processor_error:
            return "processor_error" in self.retry_on
        return soft_decline and "soft_decline" in self.retry_on


def is_soft(decline_code: str | None, code: str | None) -> bool:
    return (decline_code or code or "") in SOFT_DECLINES


def decide(
    flow: Mapping[str, Any] | None,
    connections: Iterable[ProcessorConnection],
    facts: Facts,
    *,
    now: datetime,
    rand: Callable[[], float] = random.random,
) -> Route:
    """The route of a payment with `facts` under `flow` (a dict with `id`, `version`,
    `routing`, `retry`; None for no flow) over the scope's `connections`."""
    by_id = {c.id: c for c in connections}
    if flow is None:
        ordered = sorted(
            (c for c in by_id.values() if c.deleted_at is None),
            key=lambda c: (not c.builtin, c.created, c.id),
        )
        route = Route(connections=[])
        _usable(route, [c.id for c in ordered], by_id, facts, now)
        route.connections = route.connections[:1]
        return route
    routing = flow.get("routing") or {}
    retry = flow.get("retry") or {}
    route = Route(
        connections=[],
        flow_id=flow.get("id"),
        flow_version=flow.get("version"),
        max_attempts=int(retry.get("max_attempts") or 1),
        retry_on=tuple(retry.get("on") or RETRY_ON),
        routing_type=routing.get("type"),
    )
    kind = routing.get("type")
    if kind == "volume_split":
        names = _split_order(routing.get("split") or [], rand)
    elif kind == "rules":
        names, route.rule = _rules_order(routing, facts)
    elif kind == "success_rate":
        names = _success_rate_order(routing, by_id, rand)
    else:  # priority
        names = list(routing.get("processors") or [])
    _usable(route, names, by_id, facts, now)
    return route


def _usable(
    route: Route,
    names: list[str],
    by_id: Mapping[str, ProcessorConnection],
    facts: Facts,
    now: datetime,
) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            continue
        seen.add(name)
        connection = by_id.get(name)
        if connection is None or connection.deleted_at is not None:
            route.skipped.append(Skipped(name, "deleted"))
        elif connection.status != ConnectionStatus.ACTIVE:
            route.skipped.append(Skipped(name, "disabled"))
        elif connection.circuit_state(now) == "open":
            route.skipped.append(Skipped(name, "circuit_open"))
        elif facts.tokens is not None and name not in facts.tokens:
            route.skipped.append(Skipped(name, "no_token"))
        else:
            route.connections.append(connection)


def _split_order(split: list[Mapping[str, Any]], rand: Callable[[], float]) -> list[str]:
    """One connection drawn by its share; the others after it, largest share first."""
    total = sum(int(item["percent"]) for item in split)
    if not split or total <= 0:
        return []
    point = rand() * total
    chosen = split[-1]["processor"]
    for item in split:
        point -= int(item["percent"])
        if point < 0:
            chosen = item["processor"]
            break
    rest = sorted(
        (item for item in split if item["processor"] != chosen),
        key=lambda item: -int(item["percent"]),
    )
    return [chosen] + [item["processor"] for item in rest]


def _rules_order(routing: Mapping[str, Any], facts: Facts) -> tuple[list[str], int | None]:
    for index, rule in enumerate(routing.get("rules") or []):
        if matches(rule.get("if") or {}, facts):
            return list((rule.get("then") or {}).get("processors") or []), index
    return list((routing.get("default") or {}).get("processors") or []), None


def matches(condition: Mapping[str, Any], facts: Facts) -> bool:
    """Every condition given holds."""
    currencies = condition.get("currency")
    if currencies and facts.currency not in currencies:
        return False
    if condition.get("amount_gte") is not None and facts.amount < int(condition["amount_gte"]):
        return False
    if condition.get("amount_lt") is not None and facts.amount >= int(condition["amount_lt"]):
        return False
    brands = condition.get("card_brand")
    if brands and facts.card_brand not in brands:
        return False
    countries = condition.get("card_country")
    if countries and facts.card_country not in countries:
        return False
    for key, value in (condition.get("metadata") or {}).items():
        if str(facts.metadata.get(key, "")) != str(value) or key not in facts.metadata:
            return False
    return True


def success_rate(connection: ProcessorConnection, window: int) -> float:
    """The share of authorised attempts among the connection's last `window`, with one
    success and one failure assumed (so a new connection starts at one half, not at zero)."""
    recent = connection.recent_outcomes[-window:]
    return (recent.count("1") + 1) / (len(recent) + 2)


def _success_rate_order(
    routing: Mapping[str, Any],
    by_id: Mapping[str, ProcessorConnection],
    rand: Callable[[], float],
) -> list[str]:
    names = list(routing.get("processors") or [])
    window = int(routing.get("window") or DEFAULT_WINDOW)
    exploration = int(
        routing["exploration_percent"]
        if routing.get("exploration_percent") is not None
        else DEFAULT_EXPLORATION
    )
    rates = {name: success_rate(by_id[name], window) if name in by_id else 0.0 for name in names}
    # best first; a tie keeps the flow's order
    ordered = sorted(names, key=lambda name: -rates[name])
    if len(ordered) > 1 and rand() * 100 < exploration:
        # exploring: one of the others first, so their rate keeps being learnt
        others = ordered[1:]
        pick = others[min(int(rand() * len(others)), len(others) - 1)]
        ordered = [pick] + [name for name in ordered if name != pick]
    return ordered

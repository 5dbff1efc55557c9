"""Processor connections (`proc_…`) and payment flows (`flow_…`): where an attempt goes, and what
happens when it fails. The payment core (`payments`, `intents`) reads them through
`routing.services.route`; the drivers that speak to a connection live in `payments.processors`."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from core.ids import id_factory
from core.models import ScopedModel


class ConnectionKind(models.TextChoices):
    SIMULATED = "simulated"
    STRIPE = "stripe"


class ConnectionStatus(models.TextChoices):
    ACTIVE = "active"
    DISABLED = "disabled"


class Behavior(models.TextChoices):
    NORMAL = "normal"  # the test cards decide
    DECLINE = "decline"  # every authorisation declined with `decline_code`
    OUTAGE = "outage"  # every call fails as a processor error
    TIMEOUT = "timeout"  # no answer within the call's time limit


class Circuit(models.TextChoices):
    CLOSED = "closed"
    OPEN = "open"


class ProcessorConnection(FSMModelMixin, ScopedModel):
    """One processor an account is connected to, in one mode. `status` and `circuit` change
    only through the transitions below, under the row's lock, with their events."""

    id = models.CharField(
        primary_key=True, max_length=40, default=id_factory("proc"), editable=False
    )
    kind = models.CharField(max_length=16, choices=ConnectionKind.choices)
    name = models.CharField(max_length=100)
    # The simulated connection every account starts with in each mode (one per mode).
    builtin = models.BooleanField(default=False)
    status = FSMField(default=ConnectionStatus.ACTIVE, choices=ConnectionStatus.choices)
    # simulated
    behavior = models.CharField(max_length=16, choices=Behavior.choices, default=Behavior.NORMAL)
    decline_code = models.CharField(max_length=64, default="try_again_later")
    latency_ms = models.PositiveIntegerField(default=0)
    # stripe: the API key encrypted with settings.PROCESSOR_CREDENTIAL_KEYS (core.crypto)
    api_key_encrypted = models.TextField(blank=True, default="")
    api_key_last4 = models.CharField(max_length=4, blank=True, default="")
    api_base = models.CharField(max_length=500, blank=True, default="")
    # health: consecutive processor errors, and the circuit they open
    circuit = FSMField(default=Circuit.CLOSED, choices=Circuit.choices)
    consecutive_errors = models.PositiveIntegerField(default=0)
    circuit_opened_at = models.DateTimeField(null=True, blank=True)
    # success-rate routing: the last attempts' outcomes, newest last ("1" authorised, "0" not),
    # kept only while a `success_rate` flow names the connection (`learns`)
    learns = models.BooleanField(default=False)
    recent_outcomes = models.CharField(max_length=1000, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    # A deleted connection is kept (hidden from the API) while the charges it made may still
    # be captured, canceled or refunded through it.
    deleted_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "livemode", "-created", "-id"], name="proc_list_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "livemode"],
                name="proc_one_builtin_per_mode",
                condition=models.Q(builtin=True),
            )
        ]

    def __str__(self) -> str:
        return self.id

    # --- status ---------------------------------------------------------------------------

    @transition(field=status, source=ConnectionStatus.DISABLED, target=ConnectionStatus.ACTIVE)
    def enable(self) -> None:
        pass

    @transition(field=status, source=ConnectionStatus.ACTIVE, target=ConnectionStatus.DISABLED)
    def disable(self) -> None:
        pass

    # --- the circuit ----------------------------------------------------------------------

    @transition(field=circuit, source=Circuit.CLOSED, target=Circuit.OPEN)
    def open_circuit(self, now: datetime) -> None:
        self.circuit_opened_at = now

    @transition(field=circuit, source=Circuit.OPEN, target=Circuit.OPEN)
    def reopen_circuit(self, now: datetime) -> None:
        """The half-open trial failed (or was claimed): the cool-down starts again."""
        self.circuit_opened_at = now

    @transition(field=circuit, source=Circuit.OPEN, target=Circuit.CLOSED)
    def close_circuit(self) -> None:
        self.circuit_opened_at = None
        self.consecutive_errors = 0

    def circuit_state(self, now: datetime | None = None) -> str:
        """`closed`, `open` (skipped) or `half_open` (the cool-down is over: one trial call)."""
        if self.circuit != Circuit.OPEN:
            return "closed"
        opened = self.circuit_opened_at or timezone.now()
        cooldown = timedelta(seconds=settings.PROCESSOR_CIRCUIT_SECONDS)
        return "open" if (now or timezone.now()) < opened + cooldown else "half_open"


class RoutingType(models.TextChoices):
    PRIORITY = "priority"
    VOLUME_SPLIT = "volume_split"
    RULES = "rules"
    SUCCESS_RATE = "success_rate"


class PaymentFlow(ScopedModel):
    """How an account's payments are routed across its connections, and retried. `routing`
    and `retry` hold the validated configuration as the API shows it; `version` goes up by one
    on every update (each charge records the flow and the version it ran)."""

    id = models.CharField(
        primary_key=True, max_length=40, default=id_factory("flow"), editable=False
    )
    name = models.CharField(max_length=100)
    routing = models.JSONField(default=dict)
    retry = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)
    is_default = models.BooleanField(default=False)
    metadata = models.JSONField(default=dict, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "livemode", "-created", "-id"], name="flow_list_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "livemode"],
                name="flow_one_default_per_mode",
                condition=models.Q(is_default=True),
            )
        ]

    def __str__(self) -> str:
        return self.id

    def connection_ids(self) -> set[str]:
        """Every connection the flow names."""
        routing = self.routing or {}
        ids = set(routing.get("processors") or [])
        ids.update(item["processor"] for item in routing.get("split") or [])
        for rule in routing.get("rules") or []:
            ids.update(rule.get("then", {}).get("processors") or [])
        ids.update((routing.get("default") or {}).get("processors") or [])
        return ids

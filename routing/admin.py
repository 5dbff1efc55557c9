"""The console's processors and payment flows.

Processors: the list (name, kind, mode, status, circuit, behaviour, latency) and each
connection's page, with buttons to enable or disable it and, for a simulated one, to switch its
behaviour (normal, decline with a code, outage, timeout; and its latency) — all through
`routing.services.connection_update`, as the operator. A `stripe` connection's API key is never
shown: only its last four characters.

Payment flows: the list, a create form (for one account and mode) and an edit form on each
flow's page (name, routing type, up to four processors in order with their split percents, the
retry's max attempts and what it retries on, default), through `flow_create` / `flow_update`.
A `rules` flow keeps its rules here (they are edited through the API)."""

from __future__ import annotations

import json
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from accounts.models import Account
from console.base import (
    ConsoleAdmin,
    about,
    act,
    admin_form,
    admin_link,
    form_action,
    mode,
    operator_of,
    utc,
)
from core import context
from core.errors import DomainError
from core.scope import Scope
from core.values import UNSET

from .models import (
    Behavior,
    ConnectionKind,
    ConnectionStatus,
    PaymentFlow,
    ProcessorConnection,
    RoutingType,
)
from .presenters import DEFAULT_RETRY_ON, retry_to_api
from .routes import DEFAULT_EXPLORATION, DEFAULT_WINDOW, RETRY_ON
from .services import connection_update, flow_create, flow_update

MAX_LATENCY_MS = 60_000
SLOTS = 4  # processors a flow names through the console's form

# --- processors ----------------------------------------------------------------------------


def _set_status(modeladmin, request, queryset, status: str) -> None:
    for connection in queryset:
        act(
            modeladmin,
            request,
            connection,
            partial(
                connection_update,
                scope=Scope.of(connection),
                connection_id=connection.id,
                status=status,
            ),
            lambda done: "Enabled." if done.status == ConnectionStatus.ACTIVE else "Disabled.",
        )


@admin.action(description="Enable the selected processors")
def enable(modeladmin, request, queryset):
    _set_status(modeladmin, request, queryset, ConnectionStatus.ACTIVE)


@admin.action(description="Disable the selected processors")
def disable(modeladmin, request, queryset):
    _set_status(modeladmin, request, queryset, ConnectionStatus.DISABLED)


class BehaviorForm(forms.Form):
    # (the field names are the API's, `simulated[behavior]`; the words shown say "behaviour")
    behavior = forms.ChoiceField(
        choices=Behavior.choices,
        label="Behaviour",
        help_text=mark_safe(
            "<code>normal</code>: the test cards decide; <code>decline</code>: every "
            "authorisation is declined with the code below; <code>outage</code>: every call "
            "fails as a processor error; <code>timeout</code>: no answer within the call's "
            "time limit."
        ),
    )
    decline_code = forms.CharField(
        max_length=64,
        required=False,
        label="Decline code",
        help_text=mark_safe(
            "The decline code of <code>decline</code> (<code>try_again_later</code> is a soft "
            "decline, which a flow retries on its next processor; <code>do_not_honor</code> a "
            "hard one). Empty: unchanged."
        ),
    )
    latency_ms = forms.IntegerField(
        min_value=0,
        max_value=MAX_LATENCY_MS,
        required=False,
        label="Latency (ms)",
        help_text="Added to every call, in milliseconds. Empty: unchanged.",
    )


class BehaviourFilter(admin.ChoicesFieldListFilter):
    """The `behavior` column's filter, titled in the console's spelling."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "behaviour"


def describe_behavior(connection: ProcessorConnection) -> str:
    if connection.kind != ConnectionKind.SIMULATED:
        return "—"
    if connection.behavior == Behavior.DECLINE:
        return f"decline ({connection.decline_code})"
    return connection.behavior


@admin.action(description="Switch the behaviour of the selected simulated processors…")
def set_behavior(modeladmin, request, queryset):
    objects = list(queryset)

    def perform(connection: ProcessorConnection, data: dict) -> None:
        simulated = {
            "behavior": data["behavior"],
            "decline_code": data["decline_code"] or None,
            "latency_ms": data["latency_ms"],
        }
        act(
            modeladmin,
            request,
            connection,
            lambda: connection_update(
                scope=Scope.of(connection), connection_id=connection.id, simulated=simulated
            ),
            lambda done: f"Behaviour set to {describe_behavior(done)}, latency "
            f"{done.latency_ms} ms.",
        )

    first = objects[0] if len(objects) == 1 else None
    initial = (
        {
            "behavior": first.behavior,
            "decline_code": first.decline_code,
            "latency_ms": first.latency_ms,
        }
        if first is not None
        else None
    )
    return form_action(
        modeladmin,
        request,
        queryset,
        form_class=BehaviorForm,
        title="Switch a simulated processor's behaviour",
        perform=perform,
        describe=lambda c: f"{c.name} ({c.id}): {describe_behavior(c)}, {c.latency_ms} ms",
        initial=initial,
        submit="Switch",
    )


@admin.register(ProcessorConnection)
class ProcessorConnectionAdmin(ConsoleAdmin):
    list_display = (
        "name",
        "id",
        "kind",
        "mode",
        "status_display",
        "circuit_display",
        "behavior_display",
        "latency_display",
        "account_link",
        "created_utc",
    )
    list_filter = ("kind", "status", "livemode", ("behavior", BehaviourFilter), "circuit")
    search_fields = ("=id", "name")
    actions = [enable, disable, set_behavior]
    object_actions = (
        ("enable", "Enable"),
        ("disable", "Disable"),
        ("set_behavior", "Behaviour…"),
    )
    fields = (
        "id",
        "name",
        "kind",
        "builtin",
        "status_display",
        "circuit_display",
        "consecutive_errors",
        "circuit_opened_utc",
        "behavior_display",
        "latency_display",
        "api_key_display",
        "api_base",
        "learns",
        "recent_display",
        "metadata",
        "account_link",
        "mode",
        "created_utc",
        "updated_utc",
        "deleted_utc",
    )
    readonly_fields = fields

    def get_object_actions(self, connection: ProcessorConnection | None):
        """The buttons that make sense on this connection."""
        if connection is None or connection.deleted_at is not None:
            return ()
        offered = {
            "enable": connection.status == ConnectionStatus.DISABLED,
            "disable": connection.status == ConnectionStatus.ACTIVE,
            "set_behavior": connection.kind == ConnectionKind.SIMULATED,
        }
        return tuple((name, label) for name, label in self.object_actions if offered[name])

    def change_view(self, request, object_id, form_url="", extra_context=None):
        connection = self.get_object(request, unquote(object_id))
        response = super().change_view(request, object_id, form_url, extra_context)
        if hasattr(response, "context_data"):
            response.context_data["console_actions"] = self.get_object_actions(connection)
        return response

    @admin.display(description="status", ordering="status")
    def status_display(self, c: ProcessorConnection) -> str:
        return "deleted" if c.deleted_at is not None else c.status

    @admin.display(description="circuit", ordering="circuit")
    def circuit_display(self, c: ProcessorConnection) -> str:
        state = c.circuit_state().replace("_", " ")
        return (
            f"{state} ({c.consecutive_errors} errors in a row)" if c.consecutive_errors else state
        )

    @admin.display(description="behaviour", ordering="behavior")
    def behavior_display(self, c: ProcessorConnection) -> str:
        return describe_behavior(c)

    @admin.display(description="latency", ordering="latency_ms")
    def latency_display(self, c: ProcessorConnection) -> str:
        return f"{c.latency_ms} ms" if c.kind == ConnectionKind.SIMULATED else "—"

    @admin.display(description="API key")
    def api_key_display(self, c: ProcessorConnection) -> str:
        # never the key itself, not even encrypted: its last four characters
        return f"•••• {c.api_key_last4}" if c.api_key_last4 else "—"

    @admin.display(description="recent outcomes (success-rate routing)")
    def recent_display(self, c: ProcessorConnection) -> str:
        recent = c.recent_outcomes
        return f"{recent.count('1')} of the last {len(recent)} authorised" if recent else "—"

    @admin.display(description="circuit opened (UTC)")
    def circuit_opened_utc(self, c: ProcessorConnection) -> str:
        return utc(c.circuit_opened_at)

    @admin.display(description="updated (UTC)")
    def updated_utc(self, c: ProcessorConnection) -> str:
        return utc(c.updated)

    @admin.display(description="deleted (UTC)")
    def deleted_utc(self, c: ProcessorConnection) -> str:
        return utc(c.deleted_at)


# --- payment flows -------------------------------------------------------------------------

ROUTING_CHOICES = [
    (RoutingType.PRIORITY, "priority: in this order, the first that is up"),
    (RoutingType.VOLUME_SPLIT, "volume split: by the percents"),
    (RoutingType.SUCCESS_RATE, "success rate: the best recent authorisation rate first"),
]
KEEP = "keep"


class FlowForm(forms.Form):
    """A flow's name, routing, retry and default; the processor choices are the scope's
    (`flow_form`)."""

    name = forms.CharField(max_length=100)
    routing_type = forms.ChoiceField(choices=ROUTING_CHOICES, label="Routing")
    retry_max_attempts = forms.IntegerField(
        min_value=1,
        max_value=5,
        initial=1,
        label="Max attempts",
        help_text="Processors tried for one payment (1: no retry).",
    )
    retry_on = forms.MultipleChoiceField(
        choices=[(name, name.replace("_", " ")) for name in RETRY_ON],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=list(DEFAULT_RETRY_ON),
        label="Retry on",
    )
    default = forms.BooleanField(
        required=False,
        help_text="The flow of every payment that names none (it takes over from the current "
        "default).",
    )

    connections: list[tuple[str, str]] = []
    keeps_rules = False
    # as the console lays the form out (console.base.admin_form): a processor and its percent
    # on one line
    fieldsets = [
        (None, {"fields": ["name", "routing_type"]}),
        (
            "Processors",
            {
                "fields": [
                    (f"processor_{slot}", f"percent_{slot}") for slot in range(1, SLOTS + 1)
                ],
                "description": "Priority: tried in this order. Volume split: each takes its "
                "percent of the payments (together 100). Success rate: the best recent rate "
                "first.",
            },
        ),
        ("Retry", {"fields": ["retry_max_attempts", "retry_on"]}),
        (None, {"fields": ["default"]}),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.keeps_rules:
            self.fields["routing_type"].choices = [
                (KEEP, "rules, as they are (edit them through the API)"),
                *ROUTING_CHOICES,
            ]
        choices = [("", "—"), *self.connections]
        for slot in range(1, SLOTS + 1):
            self.fields[f"processor_{slot}"] = forms.ChoiceField(
                choices=choices, required=False, label=f"Processor {slot}"
            )
            self.fields[f"percent_{slot}"] = forms.IntegerField(
                min_value=1,
                max_value=100,
                required=False,
                label="Percent",
            )
        slots = [
            f"{kind}_{slot}" for slot in range(1, SLOTS + 1) for kind in ("processor", "percent")
        ]
        self.order_fields(["name", "routing_type", *slots])

    def clean(self):
        data = super().clean()
        kind = data.get("routing_type")
        slots = [
            (data.get(f"processor_{slot}"), data.get(f"percent_{slot}"), slot)
            for slot in range(1, SLOTS + 1)
            if data.get(f"processor_{slot}")
        ]
        data["retry"] = {
            "max_attempts": data.get("retry_max_attempts") or 1,
            "on": list(data.get("retry_on") or []),
        }
        if kind == KEEP or kind is None:
            data["routing"] = UNSET
            return data
        names = [name for name, _, _ in slots]
        if not names:
            raise forms.ValidationError("Choose at least one processor.")
        if len(set(names)) != len(names):
            raise forms.ValidationError("A processor is named twice.")
        if kind == RoutingType.VOLUME_SPLIT:
            for _, percent, slot in slots:
                if percent is None:
                    self.add_error(f"percent_{slot}", "A volume split needs every percent.")
            percents = [p for _, p, _ in slots if p is not None]
            if len(percents) == len(slots) and sum(percents) != 100:
                raise forms.ValidationError(
                    f"The percents of a volume split add up to 100 (these: {sum(percents)})."
                )
            data["routing"] = {
                "type": kind,
                "split": [{"processor": n, "percent": p} for n, p, _ in slots],
            }
        elif kind == RoutingType.SUCCESS_RATE:
            data["routing"] = {
                "type": kind,
                "processors": names,
                "window": DEFAULT_WINDOW,
                "exploration_percent": DEFAULT_EXPLORATION,
            }
        else:
            data["routing"] = {"type": RoutingType.PRIORITY, "processors": names}
        return data


def flow_form(scope: Scope, *, keeps_rules: bool = False) -> type[FlowForm]:
    """The flow form whose processor choices are `scope`'s connections."""
    connections = [
        (c.id, f"{c.name} ({c.id}, {c.kind}{'' if c.status == 'active' else ', disabled'})")
        for c in ProcessorConnection.objects.filter(**scope.filters, deleted_at=None).order_by(
            "created", "id"
        )
    ]
    return type(
        "ScopedFlowForm", (FlowForm,), {"connections": connections, "keeps_rules": keeps_rules}
    )


def flow_initial(flow: PaymentFlow) -> dict:
    """The edit form as the flow is now."""
    routing = flow.routing or {}
    kind = routing.get("type") or RoutingType.PRIORITY
    retry = retry_to_api(flow.retry)
    initial = {
        "name": flow.name,
        "routing_type": KEEP if kind == RoutingType.RULES else kind,
        "retry_max_attempts": retry["max_attempts"],
        "retry_on": retry["on"],
        "default": flow.is_default,
    }
    if kind == RoutingType.VOLUME_SPLIT:
        slots = [(item["processor"], item.get("percent")) for item in routing.get("split") or []]
    else:
        slots = [(name, None) for name in routing.get("processors") or []]
    for slot, (name, percent) in enumerate(slots[:SLOTS], start=1):
        initial[f"processor_{slot}"] = name
        initial[f"percent_{slot}"] = percent
    return initial


def _kept_tuning(routing, flow: PaymentFlow):
    """A success-rate flow keeps its window and exploration when it stays one."""
    previous = flow.routing or {}
    if routing is UNSET or routing.get("type") != RoutingType.SUCCESS_RATE:
        return routing
    if previous.get("type") != RoutingType.SUCCESS_RATE:
        return routing
    return {
        **routing,
        "window": previous.get("window", routing["window"]),
        "exploration_percent": previous.get("exploration_percent", routing["exploration_percent"]),
    }


@admin.action(description="Edit the selected payment flow…")
def edit_flow(modeladmin, request, queryset):
    flows = list(queryset[:2])
    if len(flows) != 1:
        modeladmin.message_user(request, "Edit one payment flow at a time.", messages.ERROR)
        return None
    flow = flows[0]
    keeps_rules = (flow.routing or {}).get("type") == RoutingType.RULES

    def perform(obj: PaymentFlow, data: dict) -> None:
        act(
            modeladmin,
            request,
            obj,
            lambda: flow_update(
                scope=Scope.of(obj),
                flow_id=obj.id,
                name=data["name"],
                routing=_kept_tuning(data["routing"], obj),
                retry=data["retry"],
                default=data["default"],
            ),
            lambda done: f"Updated (version {done.version}).",
        )

    return form_action(
        modeladmin,
        request,
        queryset,
        form_class=flow_form(Scope.of(flow), keeps_rules=keeps_rules),
        title="Edit payment flow",
        perform=perform,
        describe=lambda f: f"{f.name} ({f.id}, version {f.version})",
        initial=flow_initial(flow),
        submit="Save",
    )


def _processor_slots(flow: PaymentFlow) -> tuple[str, list[tuple[str, str]]]:
    """The processors a flow names, in its order, each with its share (" 70%") for a volume
    split, and the separator that shows them: " → " for an order, ", " for a split or rules."""
    routing = flow.routing or {}
    if routing.get("type") == RoutingType.VOLUME_SPLIT:
        split = routing.get("split") or []
        return ", ", [(item["processor"], f" {item.get('percent')}%") for item in split]
    if routing.get("type") == RoutingType.RULES:
        return ", ", [(name, "") for name in sorted(flow.connection_ids())]
    return " → ", [(name, "") for name in routing.get("processors") or []]


@admin.register(PaymentFlow)
class PaymentFlowAdmin(ConsoleAdmin):
    list_display = (
        "name",
        "id",
        "routing_type",
        "processors_display",
        "retry_display",
        "is_default",
        "version",
        "account_link",
        "mode",
        "created_utc",
    )
    list_filter = ("livemode", "is_default")
    search_fields = ("=id", "name")
    actions = [edit_flow]
    object_actions = (("edit_flow", "Edit…"),)
    fields = (
        "id",
        "name",
        "routing_type",
        "processors_named",
        "routing_display",
        "retry_display",
        "is_default",
        "version",
        "metadata",
        "account_link",
        "mode",
        "created_utc",
        "updated_utc",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        # the console's own create form (`add_view`), through `flow_create`
        return request.user.is_active and request.user.is_staff

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        accounts = list(Account.objects.order_by("name").values_list("id", "name"))
        account_id = request.GET.get("account") or (accounts[0][0] if accounts else "")
        livemode = request.GET.get("mode") == "live"
        scope = Scope(account_id=account_id, livemode=livemode)
        form_class = flow_form(scope)
        form = form_class(request.POST) if request.method == "POST" else form_class()
        if request.method == "POST" and account_id and form.is_valid():
            flow = self._create(request, scope, form)
            if flow is not None:
                url = reverse("admin:routing_paymentflow_change", args=[quote(flow.id)])
                return HttpResponseRedirect(url)
        context_data = {
            **self.admin_site.each_context(request),
            "title": "Add payment flow",
            "opts": self.model._meta,
            "accounts": accounts,
            "selected": {"account": account_id, "mode": mode(livemode)},
            "form": form,
            "adminform": admin_form(form),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/routing/flow_form.html", context_data)

    def _create(self, request, scope: Scope, form: FlowForm) -> PaymentFlow | None:
        """`flow_create` as the operator (logged); a refusal is the form's error."""
        data = form.cleaned_data
        with context.operating(operator_of(request)) as ctx:
            try:
                flow = flow_create(
                    scope=scope,
                    name=data["name"],
                    routing=data["routing"],
                    retry=data["retry"],
                    default=data["default"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                return None
        summary = f"Created ({flow.routing['type']})."
        self.log_addition(request, flow, f"{summary} (request {ctx.request_id})")
        self.message_user(request, about(flow, summary), messages.SUCCESS)
        return flow

    @admin.display(description="routing")
    def routing_type(self, flow: PaymentFlow) -> str:
        return (flow.routing or {}).get("type", "—")

    @admin.display(description="processors")
    def processors_display(self, flow: PaymentFlow) -> str:
        """The list's column: the processors' ids, in the flow's order."""
        separator, slots = _processor_slots(flow)
        return separator.join(f"{name}{share}" for name, share in slots) or "—"

    @admin.display(description="processors")
    def processors_named(self, flow: PaymentFlow) -> str:
        """The flow's page: each processor by its name (a link to its page) beside its id."""
        separator, slots = _processor_slots(flow)
        if not slots:
            return "—"
        connections = {
            c.id: c
            for c in ProcessorConnection.objects.filter(
                **Scope.of(flow).filters, id__in=[name for name, _ in slots]
            ).only("id", "name", "deleted_at")
        }

        def named(connection_id: str):
            connection = connections.get(connection_id)
            if connection is None:
                return format_html("{} (unknown)", connection_id)
            return format_html(
                "{} ({}{})",
                admin_link(ProcessorConnection, connection_id, connection.name),
                connection_id,
                ", deleted" if connection.deleted_at is not None else "",
            )

        return format_html_join(separator, "{}{}", ((named(name), share) for name, share in slots))

    @admin.display(description="retry")
    def retry_display(self, flow: PaymentFlow) -> str:
        retry = retry_to_api(flow.retry)
        if retry["max_attempts"] <= 1:
            return "no retry"
        on = ", ".join(o.replace("_", " ") for o in retry["on"]) or "nothing"
        return f"up to {retry['max_attempts']} attempts, on {on}"

    @admin.display(description="routing (as the API shows it)")
    def routing_display(self, flow: PaymentFlow) -> str:
        return format_html("<pre>{}</pre>", json.dumps(flow.routing, indent=2, sort_keys=True))

    @admin.display(description="updated (UTC)")
    def updated_utc(self, flow: PaymentFlow) -> str:
        return utc(flow.updated)

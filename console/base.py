"""What every page and action of the operator console shares.

The console shows every object read-only: status and amounts change only through the services
(the state machine, its row locks, the events), which the console's actions call like the API
does, in the scope of the object acted on (`Scope.of(obj)`). Each action runs as the operator
(`core.context.operating`), so the events it causes say who acted and from which request, and
each writes Django's `LogEntry`. A refused action (a domain error) is a message on the page,
never a 500.

This package imports no app of the project: the apps' `admin.py` modules import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst

from core import context
from core.errors import DomainError
from core.money import currency_exponent, format_amount, major_units, parse_major_amount

T = TypeVar("T")


# --- display ---------------------------------------------------------------------------------


def utc(value: datetime | None) -> str:
    """A time as the console shows it: always UTC, to the second."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def money(amount: int | None, currency: str | None) -> str:
    if amount is None or not currency:
        return "—"
    return format_amount(amount, currency)


def admin_link(model: type[Model] | str, pk: Any, label: str | None = None) -> str:
    """A link to a row's console page from its id alone (no query for the related row).
    `model` is the class or its "app_label.modelname" (for a model of an app above yours)."""
    if pk is None:
        return "—"
    if isinstance(model, str):
        app_label, model_name = model.lower().split(".")
    else:
        app_label, model_name = model._meta.app_label, model._meta.model_name
    # quoted as the admin quotes its own links: its change page unquotes the id, and an id with
    # "_" and two hex digits of one of its escapes ("_3A", about one in 200 of ours) would
    # be looked up as another id, not found
    url = reverse(f"admin:{app_label}_{model_name}_change", args=[quote(pk)])
    return format_html('<a href="{}">{}</a>', url, label or pk)


def mode(livemode: bool) -> str:
    return "live" if livemode else "test"


# --- the base admin --------------------------------------------------------------------------


class ConsoleAdmin(admin.ModelAdmin):
    """A read-only page per object kind: nothing is added, edited or deleted by hand here.
    Subclasses declare `actions` that call services through `act`."""

    show_full_result_count = False
    list_per_page = 50
    ordering = ("-created",)
    change_form_template = "admin/console/change_form.html"
    # (action name, button label): the actions offered as buttons on one object's page.
    object_actions: tuple[tuple[str, str], ...] = ()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "console_actions": self.object_actions}
        return super().change_view(request, object_id, form_url, extra_context)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="created (UTC)", ordering="created")
    def created_utc(self, obj) -> str:
        return utc(obj.created)

    @admin.display(description="mode", ordering="livemode")
    def mode(self, obj) -> str:
        return mode(obj.livemode)

    @admin.display(description="account", ordering="account_id")
    def account_link(self, obj) -> str:
        return admin_link("accounts.account", obj.account_id)


# --- money typed by the operator ------------------------------------------------------------


class MajorAmountField(forms.CharField):
    """An amount typed as people write it, in the major unit of the form's currency (`50.00`
    USD, `2500` JPY, `1.250` KWD), cleaned to an integer in minor units (`None` when left
    empty); refused with more decimals than the currency has. Never a float. Its currency is
    set by `MoneyForm`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.currency: str | None = None

    def clean(self, value: Any) -> int | None:
        text = super().clean(value)
        if not text:
            return None
        if self.currency is None:
            raise forms.ValidationError(
                "The selected objects are in different currencies: leave the amount empty, or "
                "select objects in one currency.",
                code="currencies",
            )
        amount = parse_major_amount(text, self.currency)
        if amount is None:
            raise forms.ValidationError(amount_format_hint(self.currency), code="invalid")
        if amount < 1:
            raise forms.ValidationError("Enter an amount greater than zero.", code="min_value")
        return amount


def amount_format_hint(currency: str) -> str:
    """How to type an amount in `currency`: "Enter an amount in USD with at most 2 decimals,
    such as 15.00."."""
    exponent = currency_exponent(currency)
    decimals = f"at most {exponent} decimals" if exponent else "no decimals"
    example = major_units(15 * 10**exponent, currency)
    return f"Enter an amount in {currency.upper()} with {decimals}, such as {example}."


class MoneyForm(forms.Form):
    """A console action's form whose `MajorAmountField`s are in `currency` (that of the objects
    acted on; `None` when they differ). Each such field's help text starts with the currency."""

    def __init__(self, *args: Any, currency: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        for field in self.fields.values():
            if isinstance(field, MajorAmountField):
                field.currency = currency
                field.widget.attrs["inputmode"] = "decimal"
                where = (
                    f"In {currency.upper()}, as people write it "
                    f"(such as {major_units(15 * 10 ** currency_exponent(currency), currency)})."
                    if currency
                    else "The objects are in different currencies: no amount can be given."
                )
                field.help_text = f"{where} {field.help_text}".strip()


def one_currency(objects: Iterable[Model]) -> str | None:
    """The currency all `objects` are in, or None when they differ (or have none)."""
    currencies = {getattr(obj, "currency", None) for obj in objects}
    return currencies.pop() if len(currencies) == 1 else None


# --- acting as the operator ------------------------------------------------------------------


def operator_of(request: HttpRequest) -> str:
    """How events and the log name the person acting: `admin:<username>`."""
    return f"admin:{request.user.get_username()}"


def act(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    obj: Model,
    call: Callable[[], T],
    done: Callable[[T], str],
) -> T | None:
    """Call a service as the operator. On success: a `LogEntry` for `obj` (saying what was
    done, by which request) and a success message; on a domain error: the error's message, and
    nothing changed (the service refused before writing)."""
    with context.operating(operator_of(request)) as ctx:
        try:
            result = call()
        except DomainError as exc:
            modeladmin.message_user(request, about(obj, exc.message), messages.ERROR)
            return None
    summary = done(result)
    modeladmin.log_change(request, obj, f"{summary} (request {ctx.request_id})")
    modeladmin.message_user(request, about(obj, summary), messages.SUCCESS)
    return result


def about(obj: Model, text: str) -> str:
    """A console message about one object: "Payment intent pi_…: Captured $15.00.". It starts
    with the kind of object, never with the id: the admin capitalises a message's first letter,
    which would show "pi_…" as "Pi_…"."""
    return f"{capfirst(obj._meta.verbose_name)} {obj.pk}: {text}"


def back(modeladmin: admin.ModelAdmin, objects: Iterable[Model]) -> HttpResponseRedirect:
    """After an action: to the object's own page when there was one, else to the list."""
    objects = list(objects)
    opts = modeladmin.model._meta
    if len(objects) == 1:
        url = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(objects[0].pk)]
        )
    else:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return HttpResponseRedirect(url)


def admin_form(form: forms.Form) -> helpers.AdminForm:
    """`form` laid out as the admin lays out its own forms (`admin/includes/fieldset.html`, with
    the admin's forms stylesheet): the form's `fieldsets` when it has them, as a ModelAdmin's
    (`[(title or None, {"fields": [name, (name, name), …], "description": …})]`, a tuple of
    names sharing a line), else every field on its own line."""
    fieldsets = getattr(form, "fieldsets", None) or [(None, {"fields": list(form.fields)})]
    return helpers.AdminForm(form, fieldsets, {})


def form_action(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    form_class: type[forms.Form],
    title: str,
    perform: Callable[[Model, dict], Any],
    describe: Callable[[Model], str] = str,
    initial: dict | None = None,
    submit: str = "Confirm",
):
    """An action with an intermediate page: the form first (posted back to the same action
    with the same selection), then `perform(obj, cleaned_data)` for each selected row. A
    `MoneyForm` is given the selected rows' currency."""
    objects = list(queryset)
    # a form of amounts reads them in the currency of the objects acted on
    kwargs = {"currency": one_currency(objects)} if issubclass(form_class, MoneyForm) else {}
    if "apply" in request.POST:
        form = form_class(request.POST, **kwargs)
        if form.is_valid():
            for obj in objects:
                perform(obj, form.cleaned_data)
            return back(modeladmin, objects)
    else:
        form = form_class(initial=initial, **kwargs)
    context_data = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": modeladmin.model._meta,
        "objects": [(obj.pk, describe(obj)) for obj in objects],
        "form": form,
        "adminform": admin_form(form),
        "action": request.POST.get("action", ""),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "submit": submit,
    }
    return TemplateResponse(request, "admin/console/action_form.html", context_data)

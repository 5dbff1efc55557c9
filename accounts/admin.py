"""The console's accounts and API keys. A key shows only its lookup prefix (`sk_test_AbCdEfGh`):
the hash is never shown, and the key itself is not stored. Rolling an account's keys issues new
ones through the accounts service and shows them once, on the answer to that request only."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count, Q
from django.template.response import TemplateResponse

from console.base import ConsoleAdmin, admin_form, mode, operator_of, utc
from core import context

from .keys import key_lookup
from .models import Account, ApiKey
from .services import api_keys_roll


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = ("lookup", "kind", "livemode", "created", "last_used", "revoked_at")
    readonly_fields = fields
    ordering = ("-created",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class RollKeysForm(forms.Form):
    MODES = (("all", "every mode it has keys in"), ("test", "test mode"), ("live", "live mode"))
    modes = forms.ChoiceField(
        choices=MODES,
        initial="all",
        help_text="The old keys of these modes stop working at once.",
    )


@admin.action(description="Roll API keys (new keys shown once)…")
def roll_keys(modeladmin, request, queryset):
    accounts = list(queryset)
    form = RollKeysForm(request.POST if "apply" in request.POST else None)
    if not form.is_valid():
        return TemplateResponse(
            request,
            "admin/console/action_form.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": "Roll API keys",
                "opts": Account._meta,
                "objects": [(account.pk, str(account)) for account in accounts],
                "form": form,
                "adminform": admin_form(form),
                "action": "roll_keys",
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "submit": "Roll keys",
            },
        )
    livemode = {"all": None, "test": False, "live": True}[form.cleaned_data["modes"]]
    rolled = []
    with context.operating(operator_of(request)) as ctx:
        for account in accounts:
            keys = api_keys_roll(account=account, livemode=livemode)
            prefixes = ", ".join(key_lookup(raw) + "…" for raw in keys.values())
            modeladmin.log_change(
                request, account, f"Rolled API keys; new: {prefixes} (request {ctx.request_id})"
            )
            rolled.append((account, sorted(keys.items())))
    modeladmin.message_user(
        request, f"Rolled the keys of {len(rolled)} account(s); the old keys no longer work."
    )
    response = TemplateResponse(
        request,
        "admin/console/keys_rolled.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": "New API keys",
            "opts": Account._meta,
            "rolled": rolled,
        },
    )
    response["Cache-Control"] = "no-store"  # the keys are on this page only: never cached
    return response


@admin.register(Account)
class AccountAdmin(ConsoleAdmin):
    list_display = ("id", "name", "active_keys", "created_utc")
    list_filter = ("created",)
    search_fields = ("=id", "name")
    actions = [roll_keys]
    object_actions = (("roll_keys", "Roll API keys…"),)
    inlines = [ApiKeyInline]
    fields = ("id", "name", "created_utc")
    readonly_fields = fields

    def get_queryset(self, request):
        active = Count("api_keys", filter=Q(api_keys__revoked_at__isnull=True))
        return super().get_queryset(request).annotate(active_key_count=active)

    @admin.display(description="active keys", ordering="active_key_count")
    def active_keys(self, account: Account) -> int:
        return account.active_key_count


class ActiveFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("active", "active"), ("revoked", "revoked"))

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(ConsoleAdmin):
    list_display = (
        "prefix",
        "kind",
        "mode",
        "account_link",
        "state",
        "last_used_utc",
        "created_utc",
    )
    list_filter = ("kind", "livemode", ActiveFilter, "created")
    search_fields = ("lookup", "=account__id")
    fields = (
        "prefix",
        "kind",
        "mode",
        "account_link",
        "state",
        "last_used_utc",
        "revoked_utc",
        "created_utc",
    )
    readonly_fields = fields

    @admin.display(description="key (prefix only)", ordering="lookup")
    def prefix(self, key: ApiKey) -> str:
        return f"{key.lookup}…"

    @admin.display(description="mode", ordering="livemode")
    def mode(self, key: ApiKey) -> str:
        return mode(key.livemode)

    @admin.display(description="state")
    def state(self, key: ApiKey) -> str:
        return "active" if key.is_active else "revoked"

    @admin.display(description="last used (UTC)", ordering="last_used")
    def last_used_utc(self, key: ApiKey) -> str:
        return utc(key.last_used)

    @admin.display(description="revoked (UTC)", ordering="revoked_at")
    def revoked_utc(self, key: ApiKey) -> str:
        return utc(key.revoked_at)

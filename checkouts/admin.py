"""The console: checkouts read-only (each with its timeline and linked payments), and the
checkout-insights page (an entry of its own on the admin index) with the funnel and the daily
line as server-rendered SVG, conversion and drop-off per step, lost vs recovered money per
currency, and filters for account, mode, period, flow, country and source."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.models import Account
from core.countries import country_name
from core.money import format_amount
from core.scope import Scope

from .charts import LABELS, daily_svg, funnel_svg
from .insights import FUNNEL, checkout_insights, insights_timezone
from .models import Checkout, CheckoutInsights, Source
from .presenters import linked_payments_to_api, timeline_to_api

PERIODS = {"7": 7, "30": 30, "90": 90}


def _when(value) -> str:
    if not value:
        return "—"
    return datetime.fromtimestamp(value, tz=timezone.get_current_timezone()).strftime(
        "%Y-%m-%d %H:%M:%S"
    )


@admin.register(Checkout)
class CheckoutAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "tracking_id",
        "account",
        "livemode",
        "status",
        "source",
        "amount_display",
        "country",
        "created",
    )
    list_filter = ("status", "livemode", "source", "currency")
    search_fields = ("id", "tracking_id", "payment_reference")
    date_hierarchy = "created"
    ordering = ("-created",)
    list_select_related = ("account",)
    show_full_result_count = False
    fields = (
        "id",
        "account",
        "livemode",
        "status",
        "status_changed_at",
        "tracking_id",
        "payment_flow",
        "source",
        "amount_display",
        "country",
        "customer",
        "cart",
        "payment_reference",
        "timeline_display",
        "linked_payments_display",
        "created",
        "last_activity_at",
        "completed_at",
        "was_inactive",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Every field is read-only: a page to view, with no Save button that saves nothing.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="amount")
    def amount_display(self, obj: Checkout) -> str:
        return format_amount(obj.amount, obj.currency) if obj.currency else "—"

    @admin.display(description="timeline")
    def timeline_display(self, obj: Checkout):
        timeline = timeline_to_api(obj)
        steps = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (name, timeline[name]["status"], _when(timeline[name]["date"]))
                for name in ("intent_started", "shipping", "delivery", "billing", "complete")
            ),
        )
        history = format_html_join(
            "",
            "<li>{} → {} at {}</li>",
            ((c["step"], c["status"], _when(c["date"])) for c in timeline["history"]),
        )
        return format_html(
            '<table class="timeline"><tr><th>step</th><th>status</th><th>since</th></tr>{}'
            "</table><p>Every change:</p><ol>{}</ol>",
            steps,
            history or "—",
        )

    @admin.display(description="linked payments")
    def linked_payments_display(self, obj: Checkout):
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td><a href="../../../intents/paymentintent/{}/change/">{}</a></td>'
            "<td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    p["title"],
                    quote(p["payment_intent"]),  # as the admin quotes ids in its own links
                    p["payment_intent"],
                    p["status"],
                    attempt.get("decline_code") or "",
                    _when(p["created"]),
                )
                for p, attempt in zip(linked_payments_to_api(obj), obj.attempts, strict=True)
            ),
        )
        if not obj.attempts:
            return "—"
        return format_html(
            '<table class="linked-payments"><tr><th></th><th>payment intent</th><th>status</th>'
            "<th>decline code</th><th>at</th></tr>{}</table>",
            rows,
        )


@admin.register(CheckoutInsights)
class CheckoutInsightsAdmin(admin.ModelAdmin):
    """The insights page in place of a change list (the proxy model has no rows of its own)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def changelist_view(self, request, extra_context=None):
        accounts = list(Account.objects.order_by("name").values_list("id", "name"))
        get = request.GET
        account_id = get.get("account") or (accounts[0][0] if accounts else "")
        livemode = get.get("mode") == "live"
        period = get.get("period") if get.get("period") in PERIODS else "30"
        tz = get.get("tz") or "UTC"
        if insights_timezone(tz) is None:
            tz = "UTC"
        filters = {
            "payment_flow": get.get("flow") or None,
            "country": get.get("country") or None,
            "source": get.get("source") if get.get("source") in Source.values else None,
        }
        now = timezone.now()
        days = PERIODS[period]
        answer = checkout_insights(
            scope=Scope(account_id=account_id, livemode=livemode),
            gte=int((now - timedelta(days=days)).timestamp()),
            lt=int(now.timestamp()),
            group_by="day",
            tz=tz,
            now=now,
            **filters,
        )
        total = answer["total"]
        zone = insights_timezone(tz)
        last = now.astimezone(zone).date()
        steps = [
            {
                "label": LABELS[step],
                "count": total[step],
                "conversion": total["step_conversion"].get(step) if i else None,
                "drop_off": total["drop_off"].get(step) if i else None,
            }
            for i, step in enumerate(FUNNEL)
        ]
        money = [
            {
                "currency": m["currency"].upper(),
                "completed": format_amount(m["completed_amount"], m["currency"]),
                "lost": format_amount(m["lost_amount"], m["currency"]),
                "recovered": format_amount(m["recovered_amount"], m["currency"]),
                "declined": m["declined_attempts"],
                "codes": ", ".join(f"{c['code']} ({c['count']})" for c in m["top_decline_codes"]),
            }
            for m in total["money"]
        ]
        flows = (
            Checkout.objects.filter(account_id=account_id, livemode=livemode)
            .exclude(payment_flow=None)
            .values_list("payment_flow", flat=True)
            .distinct()
            .order_by("payment_flow")[:50]
        )
        countries = (
            Checkout.objects.filter(account_id=account_id, livemode=livemode)
            .exclude(country=None)
            .values_list("country", flat=True)
            .distinct()
            .order_by("country")[:300]
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Checkout insights",
            "opts": self.model._meta,
            "accounts": accounts,
            "selected": {
                "account": account_id,
                "mode": "live" if livemode else "test",
                "period": period,
                "tz": tz,
                "flow": filters["payment_flow"] or "",
                "country": filters["country"] or "",
                "source": filters["source"] or "",
            },
            "periods": list(PERIODS),
            "flows": list(flows),
            "countries": [(c, country_name(c)) for c in countries],
            "sources": Source.values,
            "total": total,
            "steps": steps,
            "money": money,
            "funnel_svg": funnel_svg(total),
            "daily_svg": daily_svg(
                answer["data"], first=last - timedelta(days=days - 1), last=last
            ),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/checkouts/insights.html", context)

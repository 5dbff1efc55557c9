"""Operators see intents read-only (money and status move only through services) and act on them
with admin actions that call those services, in the scope of the intent acted on."""

from django.contrib import admin, messages

from core.errors import DomainError
from core.scope import Scope

from .models import PaymentIntent
from .services import payment_intent_cancel


@admin.action(description="Cancel the selected payment intents (requested_by_customer)")
def cancel_intents(modeladmin, request, queryset):
    done = 0
    for pi in queryset:
        try:
            payment_intent_cancel(
                scope=Scope.of(pi),
                payment_intent_id=pi.id,
                cancellation_reason="requested_by_customer",
            )
            done += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"{pi.id}: {exc.message}", level=messages.WARNING)
    modeladmin.message_user(request, f"Canceled {done} payment intent(s).")


@admin.register(PaymentIntent)
class PaymentIntentAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "account",
        "livemode",
        "status",
        "amount",
        "amount_received",
        "currency",
        "capture_method",
        "created",
    )
    list_filter = ("status", "livemode", "capture_method", "currency")
    search_fields = ("id", "customer__id", "customer__email", "description", "receipt_email")
    date_hierarchy = "created"
    ordering = ("-created",)
    list_select_related = ("account",)
    actions = [cancel_intents]
    readonly_fields = [f.name for f in PaymentIntent._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

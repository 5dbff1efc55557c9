from django.contrib import admin

from .models import Account, ApiKey


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    fields = ("lookup", "kind", "livemode", "created", "last_used", "revoked_at")
    readonly_fields = fields
    can_delete = False


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "created")
    search_fields = ("id", "name")
    inlines = [ApiKeyInline]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("lookup", "account", "kind", "livemode", "last_used", "revoked_at")
    list_filter = ("kind", "livemode")
    readonly_fields = ("account", "kind", "livemode", "lookup", "created", "last_used")
    exclude = ("hashed",)

    def has_add_permission(self, request):
        return False  # keys are issued by create_account / roll_key, which show them once

from django.contrib import admin

from .models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "account", "livemode", "created", "pending_webhooks")
    list_filter = ("type", "livemode")
    search_fields = ("id", "object_id")
    readonly_fields = [f.name for f in Event._meta.fields]

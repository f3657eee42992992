from django.contrib import admin

from frontline.channels.models import RawPayload


@admin.register(RawPayload)
class RawPayloadAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "provider_message_id", "status", "attempts", "received_at")
    list_filter = ("channel", "status")
    search_fields = ("provider_message_id",)
    readonly_fields = ("body",)

from django.contrib import admin

from frontline.channels.models import Mailbox, RawPayload


@admin.register(RawPayload)
class RawPayloadAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "provider_message_id", "status", "attempts", "received_at")
    list_filter = ("channel", "status")
    search_fields = ("provider_message_id",)
    readonly_fields = ("body",)


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = ("address", "name", "from_name", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("address", "name")
    readonly_fields = ("inbound_secret_hash",)

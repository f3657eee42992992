from django.contrib import admin

from frontline.tickets.models import Attachment, Message, Tag, Ticket, TicketEvent


class MessageInline(admin.StackedInline):
    model = Message
    extra = 0
    fields = ("visibility", "direction", "author_type", "channel", "text", "delivery_state")
    readonly_fields = fields


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "subject",
        "status",
        "priority",
        "channel",
        "team",
        "assignee",
        "updated_at",
    )
    list_filter = ("status", "priority", "channel", "type", "team")
    search_fields = ("subject",)
    raw_id_fields = ("requester", "assignee", "followup_of")
    filter_horizontal = ("collaborators", "tags")
    inlines = [MessageInline]
    readonly_fields = ("status",)  # status changes go through the lifecycle, not the admin


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "ticket",
        "visibility",
        "direction",
        "author_type",
        "channel",
        "created_at",
    )
    list_filter = ("visibility", "direction", "channel", "delivery_state")
    raw_id_fields = ("ticket", "author_user", "author_customer")


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("filename", "content_type", "size", "status", "message")
    raw_id_fields = ("message",)


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin):
    list_display = ("ticket", "kind", "field", "old_value", "new_value", "actor", "created_at")
    list_filter = ("kind",)
    raw_id_fields = ("ticket", "actor_user")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)

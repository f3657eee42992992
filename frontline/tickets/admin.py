from django.contrib import admin

from frontline.tickets.models import (
    Attachment,
    CannedResponse,
    CustomField,
    Message,
    SideConversation,
    SideMessage,
    Tag,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketTask,
    TimeEntry,
)


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
    raw_id_fields = (
        "requester",
        "assignee",
        "followup_of",
        "merged_into",
        "swarm_requested_by",
        "cc_customers",
    )
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


@admin.register(TicketLink)
class TicketLinkAdmin(admin.ModelAdmin):
    list_display = ("from_ticket", "kind", "to_ticket", "created_at")
    list_filter = ("kind",)
    raw_id_fields = ("from_ticket", "to_ticket", "created_by")


@admin.register(TimeEntry)
class TimeEntryAdmin(admin.ModelAdmin):
    list_display = ("ticket", "user", "started_at", "seconds", "running", "note")
    list_filter = ("running",)
    raw_id_fields = ("ticket", "user")


class SideMessageInline(admin.TabularInline):
    model = SideMessage
    extra = 0
    raw_id_fields = ("author",)


@admin.register(SideConversation)
class SideConversationAdmin(admin.ModelAdmin):
    list_display = ("subject", "ticket", "created_by", "created_at", "closed_at")
    raw_id_fields = ("ticket", "created_by")
    filter_horizontal = ("participants",)
    inlines = [SideMessageInline]


@admin.register(SideMessage)
class SideMessageAdmin(admin.ModelAdmin):
    list_display = ("conversation", "author", "created_at")
    raw_id_fields = ("conversation", "author")


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ("title", "shortcut", "owner", "team", "created_at")
    search_fields = ("title", "shortcut", "body")
    raw_id_fields = ("owner",)


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ("key", "label", "type", "required_on_solve", "active", "position")
    list_filter = ("type", "active")


@admin.register(TicketTask)
class TicketTaskAdmin(admin.ModelAdmin):
    list_display = ("id", "ticket", "kind", "title", "due_at", "assignee", "done_at")
    list_filter = ("kind",)
    raw_id_fields = ("ticket", "assignee", "done_by")

from django.contrib import admin

from frontline.core.models import DomainEvent


@admin.register(DomainEvent)
class DomainEventAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "ticket_id", "customer_id", "actor", "created_at")
    list_filter = ("name",)

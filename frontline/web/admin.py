from django.contrib import admin

from frontline.web.models import SavedView


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "sort", "position", "created_at")
    list_filter = ("sort",)
    search_fields = ("name", "owner__username")
    raw_id_fields = ("owner",)
    readonly_fields = ("created_at",)

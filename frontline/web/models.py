"""Workspace state kept per user: saved ticket views (filters + sort), personal or shared."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SavedView(models.Model):
    """A named ticket filter in the left navigation. No owner: shared with every agent."""

    name = models.CharField(max_length=80)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="saved_views",
        help_text="empty: a shared view, created by an admin or a supervisor",
    )
    filters = models.JSONField(default=dict, blank=True)
    sort = models.CharField(max_length=16, default="updated")
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "name", "id"]
        indexes = [models.Index(fields=["owner", "position"], name="savedview_owner_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_shared(self) -> bool:
        return self.owner_id is None

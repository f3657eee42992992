"""Meta's webhook for Messenger and Instagram accounts (mounted at /channels/meta/)."""

from __future__ import annotations

from django.urls import URLPattern, path

from frontline.channels.meta.views import webhook

app_name = "meta"

urlpatterns: list[URLPattern] = [
    path("<slug:key>", webhook, name="webhook"),
]

from __future__ import annotations

from django.urls import URLPattern, path

from frontline.channels.webhook.views import messages_inbound

app_name = "webhook"

urlpatterns: list[URLPattern] = [
    path("<slug:key>/messages", messages_inbound, name="messages"),
]

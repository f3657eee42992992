"""Twilio messaging webhooks (mounted at /channels/twilio/)."""

from __future__ import annotations

from django.urls import URLPattern, path

from frontline.channels.twilio.views import inbound_message, message_status

app_name = "twilio"

urlpatterns: list[URLPattern] = [
    path("<slug:key>/messages", inbound_message, name="messages"),
    path("<slug:key>/status", message_status, name="status"),
]

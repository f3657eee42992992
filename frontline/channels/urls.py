"""Provider-facing channel endpoints (mounted at /channels/)."""

from __future__ import annotations

from django.urls import URLPattern, path

from frontline.channels.email.views import inbound_mime

app_name = "channels"

urlpatterns: list[URLPattern] = [
    path("email/inbound/<str:address>", inbound_mime, name="email-inbound"),
]

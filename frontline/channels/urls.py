"""Provider-facing channel endpoints (mounted at /channels/)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from frontline.channels.email.views import inbound_mime

app_name = "channels"

urlpatterns: list[URLPattern | URLResolver] = [
    path("email/inbound/<str:address>", inbound_mime, name="email-inbound"),
    path("twilio/", include("frontline.channels.twilio.urls")),
    path("phone/", include("frontline.channels.phone.urls")),
    path("meta/", include("frontline.channels.meta.urls")),
    path("webhook/", include("frontline.channels.webhook.urls")),
]

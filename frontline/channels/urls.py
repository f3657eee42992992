"""Provider-facing channel endpoints (mounted at /channels/)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from frontline.channels.email.views import inbound_mime
from frontline.channels.files import reply_file

app_name = "channels"

urlpatterns: list[URLPattern | URLResolver] = [
    path("email/inbound/<str:address>", inbound_mime, name="email-inbound"),
    path("files/<str:token>/<str:filename>", reply_file, name="reply-file"),
    path("twilio/", include("frontline.channels.twilio.urls")),
    path("phone/", include("frontline.channels.phone.urls")),
    path("meta/", include("frontline.channels.meta.urls")),
    path("webhook/", include("frontline.channels.webhook.urls")),
]

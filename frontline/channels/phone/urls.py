"""Phone endpoints, mounted at /channels/phone/: Twilio Voice callbacks (named by the
account's key) and the ticket page's "Log a call" form."""

from __future__ import annotations

from django.urls import URLPattern, path

from frontline.channels.phone import views

app_name = "phone"

urlpatterns: list[URLPattern] = [
    path("<slug:key>/calls", views.call_status_callback, name="calls"),
    path("<slug:key>/transcription", views.transcription_callback, name="transcription"),
    path("tickets/<int:ticket_id>/calls", views.call_log_post, name="call_log"),
]

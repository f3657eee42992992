"""Signed, expiring links to a reply's files, for providers that fetch media by URL (Twilio's
MediaUrl for MMS and WhatsApp). A link names one stored file of one public outbound message;
anyone holding it may download that file until it expires, as the provider must, without a
login. Nothing else is reachable through it."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.http import FileResponse, Http404, HttpRequest
from django.urls import reverse
from django.views.decorators.http import require_GET

from frontline.tickets.models import Attachment, Direction, Visibility

FILE_LINK_SALT = "frontline.channels.reply-file"
# Long enough for a provider's retries and the customer's handset to fetch it.
FILE_LINK_MAX_AGE = timedelta(days=7)


def file_link(attachment: Attachment) -> str:
    """The absolute, signed URL of one of a reply's files (on SITE_URL)."""
    token = signing.dumps({"a": attachment.pk}, salt=FILE_LINK_SALT)
    path = reverse(
        "channels:reply-file", kwargs={"token": token, "filename": quote(attachment.filename)}
    )
    return settings.SITE_URL.rstrip("/") + path


def attachment_for_link(token: str) -> Attachment | None:
    try:
        data = signing.loads(token, salt=FILE_LINK_SALT, max_age=FILE_LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    attachment = (
        Attachment.objects.select_related("message")
        .filter(
            pk=data.get("a"),
            status="stored",
            message__direction=Direction.OUTBOUND,
            message__visibility=Visibility.PUBLIC,
        )
        .first()
    )
    return attachment if attachment is not None and attachment.file else None


@require_GET
def reply_file(request: HttpRequest, token: str, filename: str) -> FileResponse:
    attachment = attachment_for_link(token)
    if attachment is None:
        raise Http404("No such file, or the link has expired")
    response = FileResponse(
        attachment.file.open("rb"),
        filename=attachment.filename,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response

"""The raw-MIME HTTPS endpoint: POST /channels/email/inbound/<mailbox address>.

For relays and inbound-parse services that post the whole RFC 5322 message (as the body, or as
the multipart form field `email`). Authenticated by the mailbox's own secret. Like the SMTP
receiver, the message is committed as a RawPayload before the 202, then processed by a task.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from frontline.channels.email.adapter import provider_id_for
from frontline.channels.email.handlers import secret_hash
from frontline.channels.email.parser import message_id_of
from frontline.channels.models import Mailbox
from frontline.channels.selectors import mailbox_for_address
from frontline.channels.webhooks import pooled, webhook_accept

# A multipart form carries some overhead around the message itself.
FORM_OVERHEAD_BYTES = 1024 * 1024


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _secret(request: HttpRequest) -> str:
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.GET.get("secret", "")


def _authorised(mailbox: Mailbox, secret: str) -> bool:
    if not mailbox.inbound_secret_hash or not secret:
        return False
    return hmac.compare_digest(secret_hash(secret), mailbox.inbound_secret_hash)


def _form_message(request: HttpRequest) -> bytes | None:
    upload = request.FILES.get("email")
    if upload is not None:
        return b"".join(upload.chunks())
    value = request.POST.get("email")
    if value is None:
        return None
    return value.encode("utf-8", errors="surrogateescape")


@csrf_exempt
@require_POST
@pooled
def inbound_mime(request: HttpRequest, address: str) -> JsonResponse:
    mailbox = mailbox_for_address(address)
    if mailbox is None:
        return _error(404, "No such mailbox.")
    if not _authorised(mailbox, _secret(request)):
        return _error(401, "Missing or wrong mailbox secret.")
    limit = int(settings.SMTP_MAX_MESSAGE_BYTES)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    is_form = request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded")
    if length > limit + (FORM_OVERHEAD_BYTES if is_form else 0):
        return _error(413, f"The message is larger than {limit} bytes.")
    try:
        if is_form:
            raw = _form_message(request)
            if raw is None:
                return _error(400, "The form has no `email` field with the raw message.")
        else:
            raw = request.read(limit + 1)
    except RequestDataTooBig:
        return _error(413, "The message is too large for a form field; post it as the body.")
    except MultiPartParserError:
        return _error(400, "The multipart form could not be read.")
    if len(raw) > limit:
        return _error(413, f"The message is larger than {limit} bytes.")
    if not raw.strip():
        return _error(400, "The body is empty: post the raw RFC 5322 message.")
    payload, created = webhook_accept(
        channel="email",
        body=raw,
        provider_message_id=provider_id_for(raw, message_id_of(raw)),
        content_type="message/rfc822",
        headers={"recipients": address.strip().lower(), "via": "https"},
    )
    return JsonResponse({"payload_id": payload.pk, "duplicate": not created}, status=202)

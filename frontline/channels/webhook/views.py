"""POST /channels/webhook/<key>/messages: a bridge delivers a message or a status.

Order of the checks: the account (404), a signature header at all (403), the size (413,
before the body is read), the signature itself (403), then JSON and the schema (400). Only a
signed, well-formed payload is stored; its processing (downloads, customer, ticket) happens
later in a task, and the bridge gets its 202 at once.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from frontline.channels.accounts import account_by_key
from frontline.channels.models import Provider
from frontline.channels.types import Channel
from frontline.channels.webhook import schema, signing
from frontline.channels.webhook.adapter import signing_secrets, stored_payload_id
from frontline.channels.webhook.schema import Envelope, MessagePayload
from frontline.channels.webhooks import forbidden, pooled, request_headers, webhook_accept

# JSON around the content (text, metadata, the base64 of small files).
BODY_OVERHEAD_BYTES = 1024 * 1024


def body_limit() -> int:
    """The largest body accepted: one file at ATTACHMENT_MAX_BYTES in base64 (4/3 of its
    size) plus the rest of the payload. Bigger or more files are sent by `url`."""
    return int(settings.ATTACHMENT_MAX_BYTES) * 4 // 3 + BODY_OVERHEAD_BYTES


def _error(status: int, message: str, fields: dict[str, list[str]] | None = None) -> JsonResponse:
    answer: dict[str, Any] = {"error": message}
    if fields:
        answer["fields"] = fields
    return JsonResponse(answer, status=status)


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@csrf_exempt
@require_POST
@pooled
def messages_inbound(request: HttpRequest, key: str) -> JsonResponse:
    account = account_by_key(key, providers=(Provider.GENERIC,))
    if account is None:
        return _error(404, "No such messaging webhook.")
    header = request.headers.get(signing.SIGNATURE_HEADER, "")
    if not header:
        return forbidden(f"missing {signing.SIGNATURE_HEADER} header")
    limit = body_limit()
    too_large = f"The body is larger than {limit} bytes; send big files by url."
    if _content_length(request) > limit:
        return _error(413, too_large)
    # Read directly (not request.body): the limit here, not DATA_UPLOAD_MAX_MEMORY_SIZE.
    body = request.read(limit + 1)
    if len(body) > limit:
        return _error(413, too_large)
    try:
        signing.verify(signing_secrets(account), body, header, time.time())
    except signing.SignatureInvalid as exc:
        return forbidden(str(exc))

    try:
        data = json.loads(body)
    except ValueError:
        return _error(400, "The body is not JSON.")
    if not isinstance(data, dict):
        return _error(400, "The body must be a JSON object.")
    try:
        payload: schema.MessagePayload | schema.StatusPayload | Envelope
        if data.get("type") in schema.KNOWN_TYPES:
            payload = schema.inbound_payload.validate_json(body)
        else:
            # A type this version does not know: stored and kept unprocessed, not refused.
            payload = Envelope.model_validate(data)
    except ValidationError as exc:
        fields = schema.validation_fields(exc)
        return _error(400, "The payload does not match the schema.", fields)
    if isinstance(payload, MessagePayload):
        most = int(settings.ATTACHMENTS_MAX_PER_MESSAGE)
        if len(payload.attachments) > most:
            return _error(400, "Too many attachments.", {"attachments": [f"at most {most}"]})
    idempotency_key = request.headers.get("Idempotency-Key")
    if idempotency_key is not None and idempotency_key != payload.id:
        return _error(
            400,
            "The Idempotency-Key header differs from the payload id.",
            {"id": ["must equal the Idempotency-Key header when both are sent"]},
        )

    stored, created = webhook_accept(
        channel=Channel.WEBHOOK.value,
        body=body,
        provider_message_id=stored_payload_id(account.pk, payload.type, payload.id),
        content_type="application/json",
        headers=request_headers(request, account_id=str(account.pk)),
    )
    return JsonResponse({"payload_id": stored.pk, "duplicate": not created}, status=202)

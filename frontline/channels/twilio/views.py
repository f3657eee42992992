"""Twilio's webhooks for SMS and WhatsApp: incoming messages and status callbacks.

POST /channels/twilio/<key>/messages   the number's "a message comes in" webhook
POST /channels/twilio/<key>/status     the StatusCallback given with each reply we send

Both check X-Twilio-Signature (and the AccountSid) before anything is stored, store the raw
form, and answer at once with empty TwiML (no auto-reply); parsing, media downloads and the
customer look-up happen in the payload's task.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from frontline.channels import webhooks
from frontline.channels.accounts import account_by_key, account_secret
from frontline.channels.models import Provider
from frontline.channels.twilio.adapter import RECEIVED_AT_HEADER, WEBHOOK_HEADER
from frontline.channels.twilio.signature import twilio_request_valid
from frontline.channels.twilio.status import (
    INBOUND_STATUSES,
    STATUS_QUERY_HEADERS,
    status_dedupe_id,
)
from frontline.channels.webhooks import pooled

TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
PROVIDERS = (Provider.TWILIO_SMS.value, Provider.TWILIO_WHATSAPP.value)


def _looks_like_status(form: QueryDict) -> bool:
    """A status callback posted to the messages URL (a number whose status callback points
    there): stored as a status, so it is neither mistaken for a message nor deduplicated
    against the message's other statuses."""
    status = form.get("MessageStatus", "")
    return bool(status) and status not in INBOUND_STATUSES


def _accept(request: HttpRequest, key: str, *, webhook: str) -> HttpResponse:
    account = account_by_key(key, providers=PROVIDERS)
    if account is None:
        return JsonResponse({"error": "No such Twilio account."}, status=404)
    body = request.body
    if not twilio_request_valid(request, account, account_secret(account, "auth_token")):
        return webhooks.forbidden("missing or wrong X-Twilio-Signature")
    form = request.POST
    if account.account_sid and form.get("AccountSid", "") != account.account_sid:
        return webhooks.forbidden("AccountSid is not this account's")
    if webhook == "message" and _looks_like_status(form):
        webhook = "status"
    extra = {
        "account_id": str(account.pk),
        WEBHOOK_HEADER: webhook,
        RECEIVED_AT_HEADER: timezone.now().isoformat(),
    }
    if webhook == "status":
        provider_id = status_dedupe_id(form)
        extra |= {
            header: request.GET[name]
            for name, header in STATUS_QUERY_HEADERS.items()
            if request.GET.get(name)
        }
    else:
        provider_id = form.get("MessageSid", "")
    webhooks.webhook_accept(
        channel=account.channel,
        body=body,
        provider_message_id=provider_id,
        content_type=request.content_type or "",
        headers=webhooks.request_headers(request, **extra),
    )
    return HttpResponse(TWIML_EMPTY, content_type="text/xml")


@csrf_exempt
@require_POST
@pooled
def inbound_message(request: HttpRequest, key: str) -> HttpResponse:
    return _accept(request, key, webhook="message")


@csrf_exempt
@require_POST
@pooled
def message_status(request: HttpRequest, key: str) -> HttpResponse:
    return _accept(request, key, webhook="status")

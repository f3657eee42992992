"""Meta's webhook for Messenger and Instagram: GET /channels/meta/<key> and POST the same.

GET is the subscription handshake Meta makes when the webhook is set up (or changed): it
must echo `hub.challenge` when `hub.verify_token` is the account's verify token.
POST carries events. The X-Hub-Signature-256 HMAC of the raw body is checked first (a forged
or unsigned request stores nothing), then the body is stored once and Meta gets its 200 at
once: parsing, downloads and look-ups happen in the payload's task.
"""

from __future__ import annotations

import hmac

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from frontline.channels import webhooks
from frontline.channels.accounts import account_by_key, account_secret
from frontline.channels.meta.events import payload_id_for
from frontline.channels.meta.signature import SIGNATURE_HEADER, signature_valid
from frontline.channels.models import MessagingAccount, Provider
from frontline.channels.webhooks import pooled

PROVIDERS = (Provider.META_MESSENGER.value, Provider.META_INSTAGRAM.value)


def _verification(request: HttpRequest, account: MessagingAccount) -> HttpResponse:
    expected = account_secret(account, "verify_token")
    mode = request.GET.get("hub.mode", "")
    token = request.GET.get("hub.verify_token", "")
    if mode != "subscribe" or not expected or not hmac.compare_digest(token, expected):
        return webhooks.forbidden("wrong hub.mode or hub.verify_token")
    return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")


def _delivery(request: HttpRequest, account: MessagingAccount) -> HttpResponse:
    try:
        body = request.body
    except RequestDataTooBig:
        return JsonResponse({"error": "The payload is too large."}, status=413)
    header = request.headers.get(SIGNATURE_HEADER, "")
    if not signature_valid(body, header, account_secret(account, "app_secret")):
        return webhooks.forbidden(f"missing or wrong {SIGNATURE_HEADER}")
    webhooks.webhook_accept(
        channel=account.channel,
        body=body,
        provider_message_id=payload_id_for(body),
        content_type=request.content_type or "",
        headers=webhooks.request_headers(request, account_id=str(account.pk)),
    )
    return HttpResponse("EVENT_RECEIVED", content_type="text/plain")


@csrf_exempt
@require_http_methods(["GET", "POST"])
@pooled
def webhook(request: HttpRequest, key: str) -> HttpResponse:
    account = account_by_key(key, providers=PROVIDERS)
    if account is None:
        return JsonResponse({"error": "No such Meta account."}, status=404)
    if request.method == "GET":
        return _verification(request, account)
    return _delivery(request, account)

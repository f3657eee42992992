"""Phone-channel endpoints.

Twilio Voice callbacks (POST /channels/phone/<key>/calls and …/transcription): the signature
is checked first (a forged or unsigned request stores nothing), then the raw form is stored
and its processing queued; Twilio gets an empty TwiML document at once.

The "Log a call" form of the ticket page (session, CSRF, staff who may update the ticket):
a call made or taken outside Frontline, recorded on the ticket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from frontline.channels import webhooks
from frontline.channels.accounts import account_by_key, account_secret
from frontline.channels.models import Provider
from frontline.channels.phone import services
from frontline.channels.phone.adapter import (
    CALL_STATUS_CALLBACK,
    CALLBACK_HEADER,
    RECEIVED_AT_HEADER,
    TRANSCRIPTION_CALLBACK,
)
from frontline.channels.phone.calls import OUTCOME_LABELS, CallDirection
from frontline.channels.twilio.signature import twilio_request_valid
from frontline.channels.webhooks import pooled
from frontline.core.errors import DomainError
from frontline.tickets import permissions
from frontline.tickets.actors import Actor
from frontline.web.common import staff_user, visible_ticket

# What Twilio expects back from a callback: an empty TwiML document.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _callback_accept(
    request: HttpRequest,
    key: str,
    *,
    callback: str,
    provider_message_id: Callable[[QueryDict], str],
) -> HttpResponse:
    body = request.body  # the bytes as received are what is stored; read before the form
    account = account_by_key(key, providers=(Provider.TWILIO_VOICE,))
    if account is None:
        return JsonResponse({"error": "No such phone account."}, status=404)
    if not twilio_request_valid(request, account, account_secret(account, "auth_token")):
        return webhooks.forbidden("missing or wrong X-Twilio-Signature")
    if account.account_sid and request.POST.get("AccountSid", "") != account.account_sid:
        return webhooks.forbidden("AccountSid is not this account's")
    webhooks.webhook_accept(
        channel=services.PHONE,
        body=body,
        provider_message_id=provider_message_id(request.POST),
        content_type=request.content_type or "",
        headers=webhooks.request_headers(
            request,
            account_id=str(account.pk),
            **{CALLBACK_HEADER: callback, RECEIVED_AT_HEADER: timezone.now().isoformat()},
        ),
    )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


def _status_id(form: QueryDict) -> str:
    """Each status of a call is stored once: Twilio's retries are the same payload."""
    call_sid, status = form.get("CallSid", ""), form.get("CallStatus", "")
    return f"call:{call_sid}:{status}" if call_sid and status else ""


def _transcription_id(form: QueryDict) -> str:
    transcription_sid = form.get("TranscriptionSid", "")
    return f"transcription:{transcription_sid}" if transcription_sid else ""


@csrf_exempt
@require_POST
@pooled
def call_status_callback(request: HttpRequest, key: str) -> HttpResponse:
    """Twilio's call status callback: the final status of a call becomes its message."""
    return _callback_accept(
        request, key, callback=CALL_STATUS_CALLBACK, provider_message_id=_status_id
    )


@csrf_exempt
@require_POST
@pooled
def transcription_callback(request: HttpRequest, key: str) -> HttpResponse:
    """Twilio's transcribeCallback for a voicemail recorded with <Record transcribe="true">."""
    return _callback_accept(
        request, key, callback=TRANSCRIPTION_CALLBACK, provider_message_id=_transcription_id
    )


# --------------------------------------------------------------------------- agent actions


class CallLogForm(forms.Form):
    """The "Log a call" form: the service checks the values, this only reads them."""

    direction = forms.ChoiceField(choices=[(d.value, d.value) for d in CallDirection])
    outcome = forms.ChoiceField(choices=[(o.value, label) for o, label in OUTCOME_LABELS.items()])
    phone = forms.CharField(required=False, max_length=40)
    minutes = forms.IntegerField(required=False, min_value=0, max_value=1440)
    seconds = forms.IntegerField(required=False, min_value=0, max_value=59)
    happened_at = forms.DateTimeField(required=False)
    notes = forms.CharField(required=False, strip=False)


def _describe(exc: DomainError) -> str:
    details = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.fields.items())
    return f"{exc.message} {details}".strip()


def _form_problems(form: forms.Form) -> str:
    details = "; ".join(
        f"{name}: {' '.join(str(e) for e in errors)}" for name, errors in form.errors.items()
    )
    return f"The call could not be logged. {details}"


def _back(ticket_id: int) -> HttpResponse:
    """Back to the ticket page, as every ticket-page post does; htmx follows the redirect and
    swaps the sidebar, timeline and flash messages from it."""
    return redirect("web:ticket_detail", ticket_id=ticket_id)


@login_required
@require_POST
def call_log_post(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = staff_user(request)
    ticket = visible_ticket(user, ticket_id)
    if not permissions.can_update_ticket(user, ticket):
        raise DjangoPermissionDenied("You may not log calls on this ticket.")
    form = CallLogForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_problems(form))
        return _back(ticket.pk)
    data: dict[str, Any] = form.cleaned_data
    try:
        services.call_log(
            ticket=ticket,
            actor=Actor.for_user(user),
            direction=data["direction"],
            phone=data["phone"] or "",
            duration_seconds=(data["minutes"] or 0) * 60 + (data["seconds"] or 0),
            outcome=data["outcome"],
            notes=data["notes"] or "",
            happened_at=data["happened_at"],
        )
    except DomainError as exc:
        messages.error(request, _describe(exc))
    else:
        messages.success(request, "Call logged.")
    return _back(ticket.pk)

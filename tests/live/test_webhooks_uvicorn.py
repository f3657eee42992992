"""Provider webhooks through the real ASGI application: they skip the middleware chain (no
session, CSRF or frame-options work for a provider), everything else keeps it."""

from __future__ import annotations

import httpx
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from frontline.channels.accounts import account_create
from frontline.channels.asgi import is_provider_webhook
from frontline.channels.models import RawPayload


def test_only_marked_webhook_views_take_the_bare_path(db):
    account_create(provider="twilio_sms", name="SMS", key="sms-1", address="+14155550111")
    assert is_provider_webhook("/channels/twilio/sms-1/messages")
    assert is_provider_webhook("/channels/webhook/any-key/messages")
    assert not is_provider_webhook("/channels/phone/tickets/1/calls")  # an agent's form post
    assert not is_provider_webhook("/tickets/1/")
    assert not is_provider_webhook("/channels/nothing-here")


def test_a_signed_webhook_over_http_is_stored_without_the_middleware(live_server_asgi):
    account_create(
        provider="twilio_sms", name="SMS", key="sms-live", address="+14155550111",
        account_sid="AC1", secrets={"auth_token": "tok"},
    )  # fmt: skip
    url = f"{live_server_asgi.url}/channels/twilio/sms-live/messages"
    form = {"MessageSid": "SMlive1", "AccountSid": "AC1", "From": "+14155552000",
            "To": "+14155550111", "Body": "hello", "NumMedia": "0"}  # fmt: skip
    signature = RequestValidator("tok").compute_signature(url, form)
    answer = httpx.post(url, data=form, headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 200 and "<Response>" in answer.text
    assert "X-Frame-Options" not in answer.headers  # no middleware on the way
    assert RawPayload.objects.filter(provider_message_id="SMlive1").exists()
    forged = httpx.post(url, data=form, headers={"X-Twilio-Signature": "forged"})
    assert forged.status_code == 403
    page = httpx.get(f"{live_server_asgi.url}/login/")
    assert page.headers.get("X-Frame-Options") == "DENY"  # the rest keeps the whole chain

"""Twilio test helpers: accounts pointed at the fake provider, webhook forms from the fixtures
(Twilio's documented shapes), signed with the `twilio` package's own RequestValidator."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from frontline.channels.accounts import account_create
from frontline.core import bus
from frontline.tickets.actors import Actor
from frontline.tickets.services import message_add
from tests.factories import UserFactory

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "twilio"
ACCOUNT_SID = "AC5ef8732a3c49700934481addd5ce1659"
AUTH_TOKEN = "test-auth-token-for-the-fake"
OUR_NUMBER = "+14155550100"
CUSTOMER_NUMBER = "+14155550123"


def form(name: str, **overrides: str) -> dict[str, str]:
    """A webhook form from tests/fixtures/twilio/<name>.json, with some fields replaced."""
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    data.update(overrides)
    return data


def fixture_json(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def new_sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


def message_form(name: str = "inbound_sms", **overrides: str) -> dict[str, str]:
    """An inbound message form with a fresh MessageSid (unless one is given)."""
    sid = overrides.pop("MessageSid", None) or new_sid("MM" if name == "inbound_mms" else "SM")
    return form(name, MessageSid=sid, SmsSid=sid, SmsMessageSid=sid, **overrides)


@pytest.fixture
def sms_account(db, fake_provider):
    return account_create(
        provider="twilio_sms",
        name="Support SMS",
        key="support-sms",
        address=OUR_NUMBER,
        account_sid=ACCOUNT_SID,
        api_base_url=fake_provider.url,
        secrets={"auth_token": AUTH_TOKEN},
    )


@pytest.fixture
def whatsapp_account(db, fake_provider):
    return account_create(
        provider="twilio_whatsapp",
        name="Support WhatsApp",
        key="support-whatsapp",
        address=OUR_NUMBER,
        account_sid=ACCOUNT_SID,
        api_base_url=fake_provider.url,
        secrets={"auth_token": AUTH_TOKEN},
    )


def webhook_path(account, endpoint: str = "messages", query: str = "") -> str:
    path = reverse(f"channels:twilio:{endpoint}", kwargs={"key": account.key})
    return f"{path}?{query}" if query else path


@pytest.fixture
def twilio_post(client, django_capture_on_commit_callbacks):
    """POST a form to an account's webhook as Twilio does (signed over the URL it calls),
    then run what the commit queued (the payload's processing)."""

    def post(
        account,
        data: dict[str, str],
        *,
        endpoint: str = "messages",
        query: str = "",
        token: str = AUTH_TOKEN,
        signed_url: str | None = None,
        signature: str | None = None,
    ):
        path = webhook_path(account, endpoint, query)
        url = signed_url or f"http://testserver{path}"
        if signature is None:
            signature = RequestValidator(token).compute_signature(url, data)
        headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature else {}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                path,
                data=urlencode(data),
                content_type="application/x-www-form-urlencoded",
                **headers,
            )

    return post


@pytest.fixture
def agent_reply(django_capture_on_commit_callbacks):
    """An agent's public reply, sent through the outbound path as after a real commit."""

    def reply(ticket, text: str = "", *, metadata: dict | None = None, deliver: bool = True):
        kwargs = {
            "ticket": ticket,
            "actor": Actor.for_user(UserFactory()),
            "text": text,
            "metadata": metadata,
        }
        if not deliver:
            with bus.paused():
                return message_add(**kwargs)
        with django_capture_on_commit_callbacks(execute=True):
            message = message_add(**kwargs)
        message.refresh_from_db()
        return message

    return reply

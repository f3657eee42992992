"""A Twilio Voice number connected to the fake provider, signed callbacks posted to it, and
the call-back subscriber the channels app wires in."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from frontline.channels.accounts import account_create
from frontline.channels.models import MessagingAccount
from frontline.channels.phone.handlers import on_call_received
from frontline.core import bus

AUTH_TOKEN = "f4c9d2e1b7a6083e5d4c3b2a19087f6e"
ACCOUNT_SID = "AC3f1e6b0c2d4a5e6f7a8b9c0d1e2f3a4b"
OUR_NUMBER = "+14155550100"
CALLER = "+14155550123"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "twilio_voice"
RECORDING_PATH = r"/2010-04-01/Accounts/AC\w+/Recordings/RE\w+\.mp3$"
AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" * 64


def fixture(name: str, **changes: str) -> dict[str, str]:
    """A recorded Twilio callback, with some parameters changed (None removes one)."""
    params: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return params


@pytest.fixture
def voice_account(db, fake_provider) -> MessagingAccount:
    return account_create(
        provider="twilio_voice",
        name="Support line",
        key="voice-line",
        address=OUR_NUMBER,
        account_sid=ACCOUNT_SID,
        api_base_url=fake_provider.url,
        secrets={"auth_token": AUTH_TOKEN},
    )


@pytest.fixture
def recording(fake_provider):
    """Twilio's media answer for a recording's MP3."""
    from tests.fakes.provider_server import Reply

    fake_provider.route("GET", RECORDING_PATH, Reply(body=AUDIO, content_type="audio/mpeg"))
    return AUDIO


@dataclass
class TwilioVoice:
    """Posts callbacks the way Twilio does: form-encoded, signed with the auth token."""

    client: Client
    account: MessagingAccount
    capture: Any

    def url(self, kind: str) -> str:
        return f"/channels/phone/{self.account.key}/{kind}"

    def post(
        self,
        kind: str,
        params: dict[str, str],
        *,
        signature: str | None = None,
        token: str = AUTH_TOKEN,
    ) -> Any:
        path = self.url(kind)
        if signature is None:
            signature = RequestValidator(token).compute_signature(
                f"http://testserver{path}", params
            )
        headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature else {}
        with self.capture(execute=True):
            return self.client.post(
                path,
                data=urlencode(params),
                content_type="application/x-www-form-urlencoded",
                **headers,
            )

    def call(self, name: str, **changes: str) -> Any:
        return self.post("calls", fixture(name, **changes))

    def transcription(self, name: str = "transcription_completed", **changes: str) -> Any:
        return self.post("transcription", fixture(name, **changes))


@pytest.fixture
def twilio_voice(voice_account, django_capture_on_commit_callbacks) -> TwilioVoice:
    return TwilioVoice(Client(), voice_account, django_capture_on_commit_callbacks)


@pytest.fixture
def callbacks_subscribed():
    """The subscription the channels app makes (task mode, phone messages only)."""
    entry = ("task", "frontline.channels.phone.handlers:on_call_received")
    present = entry in bus._handlers.get("message.received", [])
    bus.subscribe(
        "message.received",
        on_call_received,
        mode="task",
        when=lambda e: e.data.get("channel") == "phone",
    )
    yield
    if not present:
        bus._handlers["message.received"].remove(entry)
        bus._conditions.pop(("message.received", *entry), None)

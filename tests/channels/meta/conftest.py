"""Meta test helpers: a Messenger page and an Instagram account pointed at the fake Graph API,
webhook bodies from tests/fixtures/meta (Meta's documented shapes), signed as Meta signs them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from frontline.channels.accounts import account_create
from frontline.channels.meta.signature import signature_for
from frontline.core import bus
from frontline.tickets.actors import Actor
from frontline.tickets.models import Message
from frontline.tickets.services import message_add
from tests.factories import UserFactory

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "meta"
APP_ID = "873264519283746"
APP_SECRET = "test-app-secret-for-the-fake"
VERIFY_TOKEN = "a-verify-token-we-chose"
PAGE_TOKEN = "EAAtest-page-token"
PAGE_ID = "106829374920485"
PSID = "6574839201928374"
IG_ID = "17841405822304914"
IGSID = "7519283746501928"


def fixture(name: str) -> dict[str, Any]:
    """A fresh copy of tests/fixtures/meta/<name>.json."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def messaging(payload: dict[str, Any], index: int = 0) -> dict[str, Any]:
    """The index-th messaging event of the first entry (to adjust a fixture)."""
    return payload["entry"][0]["messaging"][index]


def batch_of(*payloads: dict[str, Any]) -> dict[str, Any]:
    """One POST batching the entries of several payloads, as Meta does."""
    combined = copy.deepcopy(payloads[0])
    for other in payloads[1:]:
        combined["entry"] += copy.deepcopy(other["entry"])
    return combined


def inbound(channel: str = "facebook") -> list[Message]:
    return list(Message.objects.filter(channel=channel, direction="inbound").order_by("id"))


@pytest.fixture
def page_account(db, fake_provider):
    return account_create(
        provider="meta_messenger",
        name="Northwind on Facebook",
        key="northwind-page",
        address=PAGE_ID,
        account_sid=APP_ID,
        api_base_url=fake_provider.url,
        secrets={"app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN, "page_token": PAGE_TOKEN},
    )


@pytest.fixture
def instagram_account(db, fake_provider):
    return account_create(
        provider="meta_instagram",
        name="Northwind on Instagram",
        key="northwind-instagram",
        address=IG_ID,
        account_sid=APP_ID,
        api_base_url=fake_provider.url,
        secrets={"app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN, "page_token": PAGE_TOKEN},
    )


def webhook_path(account) -> str:
    return reverse("channels:meta:webhook", kwargs={"key": account.key})


@pytest.fixture
def meta_post(client, django_capture_on_commit_callbacks):
    """POST a payload to an account's webhook as Meta does (signed with the app secret), then
    run what the commit queued (the payload's processing)."""

    def post(account, payload: dict[str, Any] | bytes, *, signature: str | None = None):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        if signature is None:
            signature = signature_for(body, APP_SECRET)
        headers = {"HTTP_X_HUB_SIGNATURE_256": signature} if signature else {}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                webhook_path(account), data=body, content_type="application/json", **headers
            )

    return post


@pytest.fixture
def agent_reply(django_capture_on_commit_callbacks):
    """An agent's public reply, sent through the outbound path as after a real commit."""

    def reply(ticket, text: str = "", *, deliver: bool = True, **extra):
        kwargs = {"ticket": ticket, "actor": Actor.for_user(UserFactory()), "text": text, **extra}
        if not deliver:
            with bus.paused():
                return message_add(**kwargs)
        with django_capture_on_commit_callbacks(execute=True):
            message = message_add(**kwargs)
        message.refresh_from_db()
        return message

    return reply

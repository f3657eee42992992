"""A bridged network ("myapp") whose bridge receives replies on the fake provider's /hook."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from frontline.channels.accounts import account_create
from frontline.channels.webhook.signing import SIGNATURE_HEADER, sign
from tests.factories import TeamFactory
from tests.fakes.provider_server import Reply

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "webhook"
SECRET = "whsec-test-2f9c1e0a7b"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def account(db, fake_provider):
    fake_provider.route("POST", r"^/hook$", Reply.json(fixture("bridge_answer.json")))
    return account_create(
        provider="generic",
        name="Shop app",
        address="myapp",
        key="shop-app",
        outbound_url=f"{fake_provider.url}/hook",
        team_id=TeamFactory().pk,
        secrets={"signing_secret": SECRET},
    )


@dataclass
class Bridge:
    """Posts payloads the way a bridge does: signed, to the account's URL."""

    django_capture_on_commit_callbacks: Any
    key: str = "shop-app"

    @property
    def url(self) -> str:
        return f"/channels/webhook/{self.key}/messages"

    def post(
        self,
        payload: dict[str, Any] | bytes,
        *,
        secret: str | list[str] = SECRET,
        signature: str | None = None,
        at: float | None = None,
        process: bool = True,
        **headers: str,
    ):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        if signature is None:
            signature = sign(secret, body, time.time() if at is None else at)
        extra = (
            {"HTTP_" + SIGNATURE_HEADER.upper().replace("-", "_"): signature} if signature else {}
        )
        for name, value in headers.items():
            extra["HTTP_" + name.upper()] = value
        client = Client(enforce_csrf_checks=True)
        with self.django_capture_on_commit_callbacks(execute=process):
            return client.post(self.url, data=body, content_type="application/json", **extra)


@pytest.fixture
def bridge(account, django_capture_on_commit_callbacks) -> Bridge:
    return Bridge(django_capture_on_commit_callbacks)

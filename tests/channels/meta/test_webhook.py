"""The webhook endpoint: Meta's verification handshake, the signature check, and storing each
delivery once before Meta gets its 200."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from frontline.channels.meta.events import payload_id_for
from frontline.channels.meta.signature import signature_for, signature_valid
from frontline.channels.models import RawPayload
from frontline.tickets.models import Message, Ticket
from tests.channels.meta.conftest import (
    APP_SECRET,
    VERIFY_TOKEN,
    fixture,
    inbound,
    messaging,
    webhook_path,
)

pytestmark = pytest.mark.django_db


def test_the_handshake_echoes_the_challenge_for_the_right_token(client, page_account):
    response = client.get(
        webhook_path(page_account),
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"1158201444"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "not-the-token", "hub.challenge": "42"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"},
        {"hub.challenge": "42"},
    ],
)
def test_the_handshake_refuses_a_wrong_token_or_mode(client, page_account, query):
    response = client.get(webhook_path(page_account), query)

    assert response.status_code == 403
    assert b"42" not in response.content


def test_an_unknown_key_is_not_found_and_stores_nothing(client, page_account):
    body = json.dumps(fixture("messenger_text")).encode()
    response = client.post(
        "/channels/meta/no-such-page",
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=signature_for(body, APP_SECRET),
    )

    assert response.status_code == 404
    assert not RawPayload.objects.exists()


@pytest.mark.parametrize(
    "signature",
    ["", "sha256=" + "0" * 64, "sha1=abc", signature_for(b"another body", APP_SECRET)],
    ids=["missing", "forged", "sha1", "other-body"],
)
def test_a_forged_or_missing_signature_is_refused_and_nothing_is_stored(
    meta_post, page_account, signature
):
    response = meta_post(page_account, fixture("messenger_text"), signature=signature)

    assert response.status_code == 403
    assert not RawPayload.objects.exists()
    assert not Message.objects.exists()


def test_a_signature_made_with_another_secret_is_refused(meta_post, page_account):
    body = json.dumps(fixture("messenger_text")).encode()

    response = meta_post(page_account, body, signature=signature_for(body, "some-other-app"))

    assert response.status_code == 403
    assert not RawPayload.objects.exists()


def test_the_signature_check_is_the_documented_hmac():
    body = b'{"object":"page","entry":[]}'
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert signature_valid(body, expected, "s3cret")
    assert signature_valid(body, expected.upper().replace("SHA256=", "sha256="), "s3cret")
    assert not signature_valid(body, expected, "")  # no app secret: nothing is trusted


def test_a_signed_delivery_is_stored_raw_and_answered_at_once(meta_post, page_account):
    payload = fixture("messenger_text")
    body = json.dumps(payload).encode()

    response = meta_post(page_account, body)

    assert response.status_code == 200
    stored = RawPayload.objects.get()
    assert bytes(stored.body) == body
    assert stored.channel == "facebook"
    assert stored.provider_message_id == payload_id_for(body)
    assert stored.headers["account_id"] == str(page_account.pk)
    assert stored.status == "processed"


def test_the_same_delivery_five_times_is_stored_and_ingested_once(meta_post, page_account):
    body = json.dumps(fixture("messenger_text")).encode()

    responses = [meta_post(page_account, body) for _ in range(5)]

    assert [r.status_code for r in responses] == [200] * 5
    assert RawPayload.objects.count() == 1
    assert len(inbound()) == 1
    assert Ticket.objects.count() == 1


def test_one_message_in_two_different_deliveries_is_one_message(meta_post, page_account):
    first = fixture("messenger_text")
    again = fixture("messenger_text")
    again["entry"][0]["time"] += 30_000  # Meta's retry: a new POST with the same message
    messaging(again)["timestamp"] += 1

    meta_post(page_account, first)
    meta_post(page_account, again)

    assert RawPayload.objects.count() == 2
    assert sorted(RawPayload.objects.values_list("status", flat=True)) == [
        "duplicate",
        "processed",
    ]
    assert len(inbound()) == 1


def test_an_instagram_payload_on_a_messenger_url_is_kept_unsupported(meta_post, page_account):
    meta_post(page_account, fixture("instagram_text"))

    stored = RawPayload.objects.get()
    assert stored.status == "unsupported"
    assert "instagram" in stored.error
    assert not Message.objects.exists()

"""Agent replies posted to the bridge (signed, retried), and the bridge's status callbacks."""

from __future__ import annotations

import base64
import time

import pytest

from frontline.channels.models import DeliveryReceipt, PayloadStatus, RawPayload
from frontline.channels.outbound import OutboundRetry, outbound_message_send
from frontline.channels.types import OutboundMessage, SenderIdentity
from frontline.channels.webhook import adapter as webhook_adapter
from frontline.channels.webhook.adapter import GenericWebhookAdapter
from frontline.channels.webhook.signing import SIGNATURE_HEADER, verify
from frontline.core import bus
from frontline.tickets.actors import Actor
from frontline.tickets.models import Message, Ticket
from frontline.tickets.services import AttachmentInput, message_add
from tests.channels.webhook.conftest import SECRET, fixture
from tests.factories import UserFactory
from tests.fakes.provider_server import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(bridge) -> Ticket:
    """A conversation the customer started from the bridged app."""
    assert bridge.post(fixture("message.json")).status_code == 202
    return Ticket.objects.get()


def reply(ticket, django_capture_on_commit_callbacks, text="Sorry! A new one is on its way.", **kw):
    with django_capture_on_commit_callbacks(execute=True):
        sent = message_add(ticket=ticket, actor=Actor.for_user(UserFactory()), text=text, **kw)
    sent.refresh_from_db()
    return sent


def test_an_agent_reply_is_posted_signed_and_becomes_sent_with_the_bridges_id(
    ticket, account, fake_provider, django_capture_on_commit_callbacks
):
    sent = reply(ticket, django_capture_on_commit_callbacks)

    (request,) = fake_provider.received("POST", r"^/hook$")
    verify(SECRET, request.body, request.headers[SIGNATURE_HEADER], time.time())
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"] == f"frontline-{sent.pk}"
    body = request.json()
    assert body == {
        "type": "message",
        "id": f"frontline-{sent.pk}",
        "ticket_id": ticket.pk,
        "thread_id": "chat-48213307",
        "to": {"id": "48213307"},
        "text": "Sorry! A new one is on its way.",
        "html": sent.html,
        "public": False,
        "attachments": [],
    }
    assert sent.delivery_state == "sent"
    assert sent.provider_message_id == f"{account.pk}:out:b-1"


def test_the_reply_validates_against_the_published_schema(
    ticket, fake_provider, django_capture_on_commit_callbacks
):
    from frontline.channels.webhook.schema import OutboundMessage as OutboundSchema

    reply(ticket, django_capture_on_commit_callbacks)
    (request,) = fake_provider.received("POST", r"^/hook$")
    OutboundSchema.model_validate_json(request.body)


def test_a_reply_to_a_public_post_is_marked_public(
    bridge, fake_provider, django_capture_on_commit_callbacks
):
    bridge.post(fixture("message_public.json"))
    reply(Ticket.objects.get(), django_capture_on_commit_callbacks, text="We're on it.")

    body = fake_provider.received("POST", r"^/hook$")[0].json()
    assert body["public"] is True
    assert body["thread_id"] == "post-555"
    assert body["to"] == {"id": "fan-31"}


def test_small_files_go_inline_and_big_ones_are_listed_without_content(
    ticket, fake_provider, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(webhook_adapter, "OUTBOUND_ATTACHMENT_MAX_BYTES", 100)
    label = b"shipping label"
    reply(
        ticket,
        django_capture_on_commit_callbacks,
        attachments=[
            AttachmentInput(filename="label.txt", content=label, content_type="text/plain"),
            AttachmentInput(
                filename="manual.pdf", content=b"m" * 500, content_type="application/pdf"
            ),
        ],
    )

    body = fake_provider.received("POST", r"^/hook$")[0].json()
    assert body["attachments"] == [
        {
            "filename": "label.txt",
            "content_type": "text/plain",
            "size": len(label),
            "content_base64": base64.b64encode(label).decode(),
        },
        {"filename": "manual.pdf", "content_type": "application/pdf", "size": 500,
         "content_base64": None},
    ]  # fmt: skip


def queued_reply(ticket) -> Message:
    """A reply whose send the test drives itself, as the outbound task's attempts would."""
    with bus.paused():
        return message_add(ticket=ticket, actor=Actor.for_user(UserFactory()), text="On its way.")


def test_a_bridge_error_is_retried_with_the_same_idempotency_key(ticket, account, fake_provider):
    sent = queued_reply(ticket)
    fake_provider.fail_next(1, status=500)

    with pytest.raises(OutboundRetry, match="answered 500"):
        outbound_message_send(sent.pk, final_attempt=False)
    sent.refresh_from_db()
    assert sent.delivery_state == "queued"
    outbound_message_send(sent.pk, final_attempt=False)  # the task's retry

    first, second = fake_provider.received("POST", r"^/hook$")
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert first.json() == second.json()
    sent.refresh_from_db()
    assert sent.delivery_state == "sent"
    assert sent.provider_message_id == f"{account.pk}:out:b-1"
    outbound_message_send(sent.pk)  # a late duplicate of the task sends nothing more
    assert len(fake_provider.received("POST", r"^/hook$")) == 2


def test_a_bridge_that_stays_down_ends_as_a_visible_failure(ticket, fake_provider):
    sent = queued_reply(ticket)
    fake_provider.fail_next(2, status=503, body=b"maintenance")

    with pytest.raises(OutboundRetry):
        outbound_message_send(sent.pk, final_attempt=False)
    outbound_message_send(sent.pk, final_attempt=True)

    sent.refresh_from_db()
    assert sent.delivery_state == "failed"
    assert "503" in sent.delivery_error
    assert "maintenance" in sent.delivery_error
    assert ticket.events.filter(kind="delivery_failed").exists()


def test_an_unreachable_bridge_is_retried(ticket, account):
    account.outbound_url = "http://127.0.0.1:9/hook"  # discard port: nothing listens
    account.save()
    sent = queued_reply(ticket)
    with pytest.raises(OutboundRetry, match="could not post the reply"):
        outbound_message_send(sent.pk, final_attempt=False)


def test_without_an_id_in_the_answer_our_own_id_is_kept(
    ticket, account, fake_provider, django_capture_on_commit_callbacks
):
    fake_provider.route("POST", r"^/hook$", Reply(status=204, body=b""))
    sent = reply(ticket, django_capture_on_commit_callbacks)
    assert sent.delivery_state == "sent"
    assert sent.provider_message_id == f"{account.pk}:out:frontline-{sent.pk}"


def outbound(account, **changes) -> OutboundMessage:
    values = {
        "channel": "webhook",
        "message_id": 7,
        "ticket_id": 1,
        "recipient": SenderIdentity(kind="external", value="u-1", network="myapp"),
        "text": "hi",
        "metadata": {"account_id": account.pk, "inbound": {}},
    }
    values.update(changes)
    return OutboundMessage(**values)


@pytest.mark.parametrize("url", ["ftp://bridge.example.com/hook", "javascript:alert(1)", ""])
def test_an_outbound_url_that_is_not_http_is_refused(account, fake_provider, url):
    account.outbound_url = url
    account.save()
    with pytest.raises(ValueError, match="must be an http"):
        GenericWebhookAdapter().send(outbound(account))
    assert fake_provider.received() == []


def test_a_customer_without_an_id_on_the_network_cannot_be_answered(account, fake_provider):
    with pytest.raises(ValueError, match="no myapp id"):
        GenericWebhookAdapter().send(outbound(account, recipient=SenderIdentity(kind="", value="")))
    assert fake_provider.received() == []


def test_during_a_rotation_replies_are_signed_with_both_secrets(account, fake_provider):
    from frontline.channels.accounts import account_secrets_set

    account_secrets_set(account, signing_secret="next-secret", previous_signing_secret=SECRET)
    GenericWebhookAdapter().send(outbound(account))

    (request,) = fake_provider.received("POST", r"^/hook$")
    header = request.headers[SIGNATURE_HEADER]
    assert header.count("v1=") == 2
    verify(SECRET, request.body, header, time.time())
    verify("next-secret", request.body, header, time.time())


def test_status_callbacks_move_the_reply_forward(
    ticket, bridge, account, django_capture_on_commit_callbacks
):
    sent = reply(ticket, django_capture_on_commit_callbacks)

    response = bridge.post(fixture("status_delivered.json"))
    assert response.status_code == 202
    raw = RawPayload.objects.get(pk=response.json()["payload_id"])
    assert raw.status == PayloadStatus.PROCESSED
    assert raw.error.startswith("handled: status delivered of b-1")
    sent.refresh_from_db()
    assert sent.delivery_state == "delivered"

    bridge.post(fixture("status_failed.json"))
    sent.refresh_from_db()
    assert sent.delivery_state == "failed"
    assert sent.delivery_error == "user blocked the bot"


def test_a_status_before_the_replys_id_is_known_is_kept_and_applied_later(
    ticket, bridge, account, django_capture_on_commit_callbacks
):
    bridge.post(fixture("status_delivered.json"))  # the bridge was faster than its own answer
    kept = DeliveryReceipt.objects.get()
    assert kept.provider_message_id == f"{account.pk}:out:b-1"
    assert kept.applied_at is None

    sent = reply(ticket, django_capture_on_commit_callbacks)

    assert sent.delivery_state == "delivered"
    kept.refresh_from_db()
    assert kept.message_id == sent.pk
    assert kept.applied_at is not None


def test_a_status_about_a_reply_from_another_bridge_does_not_touch_ours(
    ticket, bridge, account, django_capture_on_commit_callbacks
):
    from frontline.channels.accounts import account_create

    account_create(
        provider="generic", name="Other", address="otherapp", key="other-app",
        secrets={"signing_secret": SECRET},
    )  # fmt: skip
    sent = reply(ticket, django_capture_on_commit_callbacks)
    bridge.key = "other-app"
    bridge.post(fixture("status_delivered.json"))  # also says "b-1"

    sent.refresh_from_db()
    assert sent.delivery_state == "sent"
    assert Message.objects.filter(delivery_state="delivered").count() == 0


def test_a_customer_message_with_the_id_of_a_reply_is_not_taken_for_it(
    ticket, bridge, django_capture_on_commit_callbacks
):
    """Networks often number sent and received messages in one sequence."""
    sent = reply(ticket, django_capture_on_commit_callbacks)  # the bridge answered "b-1"
    payload = fixture("message.json")
    payload.update(id="b-1", text="Thanks, got it")
    bridge.post(payload)

    answer = Message.objects.exclude(pk=sent.pk).get(text="Thanks, got it")
    assert answer.ticket_id == ticket.pk
    sent.refresh_from_db()
    assert sent.text == "Sorry! A new one is on its way."

"""The common part of the messaging channels: accounts, batched and unsupported payloads,
delivery reports in any order, and which account a reply goes out from."""

from __future__ import annotations

import json

import pytest

from frontline.channels import registry
from frontline.channels.accounts import (
    account_create,
    account_for_reply,
    account_secret,
    account_secrets_set,
)
from frontline.channels.models import DeliveryReceipt, PayloadStatus, RawPayload
from frontline.channels.outbound import outbound_message_send
from frontline.channels.receipts import (
    delivery_receipts_apply,
    delivery_receipts_sweep,
    delivery_report,
)
from frontline.channels.registry import UnsupportedPayload
from frontline.channels.services import raw_payload_process, raw_payload_store
from frontline.channels.types import InboundMessage, SenderIdentity, SendResult
from frontline.core import bus
from frontline.tickets.actors import Actor
from frontline.tickets.models import DeliveryState, Message
from frontline.tickets.services import message_add
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


class BatchAdapter:
    """A provider that batches messages in one payload, like Meta does."""

    channel = "social"

    def __init__(self) -> None:
        self.sent: list = []
        self.fail_on: str | None = None

    def parse(self, body: bytes, headers: dict[str, str]) -> list[InboundMessage]:
        data = json.loads(body)
        if data.get("kind") == "mystery":
            raise UnsupportedPayload("a mystery event")
        messages = []
        for item in data["messages"]:
            if item["id"] == self.fail_on:
                raise RuntimeError("database went away")
            messages.append(
                InboundMessage(
                    channel="social",
                    sender=SenderIdentity(kind="social", value=item["from"], network="testnet"),
                    text=item["text"],
                    provider_message_id=item["id"],
                    metadata={"account_id": int(headers.get("account_id", 0)) or None},
                )
            )
        return messages

    def send(self, message):
        self.sent.append(message)
        return SendResult(provider_message_id=f"out-{message.message_id}", state="sent")


@pytest.fixture
def batch_adapter(monkeypatch):
    adapter = BatchAdapter()
    monkeypatch.setitem(registry._adapters, "social", adapter)
    return adapter


def _store(body: dict, provider_id: str = "") -> int:
    payload, _ = raw_payload_store(
        channel="social", body=json.dumps(body).encode(), provider_message_id=provider_id
    )
    return payload.pk


def test_account_secrets_are_encrypted_and_kept_apart():
    account = account_create(
        provider="twilio_sms", name="Support SMS", address="+14155550100",
        secrets={"auth_token": "s3cret"},
    )  # fmt: skip
    assert "s3cret" not in account.secrets_encrypted
    assert account_secret(account, "auth_token") == "s3cret"
    account_secrets_set(account, verify_token="v")
    assert account_secret(account, "auth_token") == "s3cret"
    assert account.channel == "sms"
    assert account.key.startswith("support-sms-")


def test_a_batched_payload_gives_each_message_once_even_after_a_failure(batch_adapter):
    body = {
        "messages": [
            {"id": "m1", "from": "ana", "text": "first"},
            {"id": "m2", "from": "ben", "text": "second"},
        ]
    }
    batch_adapter.fail_on = "m2"
    payload_id = _store(body)
    with pytest.raises(RuntimeError):
        raw_payload_process(payload_id)
    assert RawPayload.objects.get(pk=payload_id).status == PayloadStatus.PENDING
    batch_adapter.fail_on = None
    raw_payload_process(payload_id)  # the retry
    texts = sorted(Message.objects.filter(channel="social").values_list("text", flat=True))
    assert texts == ["first", "second"]
    assert RawPayload.objects.get(pk=payload_id).status == PayloadStatus.PROCESSED
    raw_payload_process(payload_id)
    assert Message.objects.filter(channel="social").count() == 2


def test_unsupported_payloads_are_kept_raw_and_reported(batch_adapter):
    payload_id = _store({"kind": "mystery"})
    assert raw_payload_process(payload_id) is None
    payload = RawPayload.objects.get(pk=payload_id)
    assert payload.status == PayloadStatus.UNSUPPORTED
    assert "mystery" in payload.error
    assert json.loads(bytes(payload.body)) == {"kind": "mystery"}


def _reply(ticket, channel="sms") -> Message:
    with bus.paused():
        return message_add(
            ticket=ticket, actor=Actor.for_user(UserFactory()), text="Hello", channel=channel
        )


def test_delivery_reports_only_move_forward():
    ticket = TicketFactory(channel="sms")
    message = _reply(ticket)
    Message.objects.filter(pk=message.pk).update(
        provider_message_id="SM1", delivery_state=DeliveryState.SENT
    )
    assert delivery_report(channel="sms", provider_message_id="SM1", state="read")
    assert not delivery_report(channel="sms", provider_message_id="SM1", state="delivered")
    message.refresh_from_db()
    assert message.delivery_state == "read"
    assert DeliveryReceipt.objects.filter(provider_message_id="SM1").count() == 2


def test_reports_before_the_message_is_known_are_applied_when_it_is():
    ticket = TicketFactory(channel="sms")
    message = _reply(ticket)
    assert not delivery_report(channel="sms", provider_message_id="SM9", state="delivered")
    assert not delivery_report(channel="sms", provider_message_id="SM9", state="sent")
    assert delivery_receipts_sweep() == 0  # still unknown
    Message.objects.filter(pk=message.pk).update(
        provider_message_id="SM9", delivery_state=DeliveryState.SENT
    )
    assert delivery_receipts_sweep() == 2
    message.refresh_from_db()
    assert message.delivery_state == "delivered"
    assert delivery_receipts_apply(channel="sms", provider_message_id="SM9") == 0


def test_a_send_applies_reports_that_raced_ahead_of_it(batch_adapter):
    ticket = TicketFactory(channel="social")
    message = _reply(ticket, channel="social")
    delivery_report(channel="social", provider_message_id=f"out-{message.pk}", state="read")
    outbound_message_send(message.pk)
    message.refresh_from_db()
    assert message.provider_message_id == f"out-{message.pk}"
    assert message.delivery_state == "read"


def test_replies_go_out_from_the_account_the_customer_wrote_to():
    first = account_create(provider="twilio_sms", name="Main", address="+14155550100")
    second = account_create(provider="twilio_sms", name="Billing", address="+14155550199")
    ticket = TicketFactory(channel="sms")
    assert account_for_reply(ticket, "sms") == first  # nothing inbound yet: the default
    Message.objects.create(
        ticket=ticket, visibility="public", direction="inbound", author_type="customer",
        channel="sms", text="hi", metadata={"account_id": second.pk},
    )  # fmt: skip
    assert account_for_reply(ticket, "sms") == second
    second.is_active = False
    second.save()
    assert account_for_reply(ticket, "sms") == first


class NeverCalled:
    channel = "sms"

    def parse(self, body, headers):
        raise AssertionError("not used")

    def send(self, message):
        raise AssertionError("a sandbox account must not reach the provider")


def test_sandbox_accounts_write_replies_to_the_outbox(monkeypatch, settings, tmp_path):
    from frontline.core.demo import messaging_accounts_ensure

    settings.DATA_DIR = tmp_path
    monkeypatch.setitem(registry._adapters, "sms", NeverCalled())
    accounts = messaging_accounts_ensure()
    assert messaging_accounts_ensure() == accounts  # idempotent
    assert {a.channel for a in accounts} == {
        "sms", "whatsapp", "phone", "facebook", "instagram", "webhook",
    }  # fmt: skip
    whatsapp = next(a for a in accounts if a.channel == "whatsapp")
    assert sorted(whatsapp.templates.values_list("name", flat=True)) == [
        "follow_up",
        "order_update",
    ]
    ticket = TicketFactory(channel="sms")
    ticket.requester.identities.create(kind="phone", value="+14155550100")
    message = _reply(ticket)
    outbound_message_send(message.pk)
    message.refresh_from_db()
    assert (message.delivery_state, message.provider_message_id) == (
        "sent",
        f"sandbox-{message.pk}",
    )
    written = json.loads((tmp_path / "outbox" / "sms" / f"message-{message.pk}.json").read_text())
    assert written["to"] == "+14155550100" and written["text"] == "Hello"


def test_file_links_reach_only_a_reply_s_stored_files_and_expire(client):
    from datetime import timedelta
    from urllib.parse import urlsplit

    from django.core import signing

    from frontline.channels.files import file_link
    from frontline.tickets.models import Attachment
    from frontline.tickets.services import AttachmentInput

    ticket = TicketFactory(channel="sms")
    agent = Actor.for_user(UserFactory())
    with bus.paused():
        reply = message_add(
            ticket=ticket, actor=agent, text="Label",
            attachments=[AttachmentInput(filename="label.pdf", content=b"%PDF")],
        )  # fmt: skip
        note = message_add(
            ticket=ticket, actor=agent, text="Internal", visibility="internal",
            attachments=[AttachmentInput(filename="notes.txt", content=b"secret")],
        )  # fmt: skip
    shared = Attachment.objects.get(message=reply)
    private = Attachment.objects.get(message=note)
    assert client.get(urlsplit(file_link(shared)).path).status_code == 200
    assert client.get(urlsplit(file_link(private)).path).status_code == 404  # a note's file
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("frontline.channels.files.FILE_LINK_MAX_AGE", timedelta(seconds=-1))
        assert client.get(urlsplit(file_link(shared)).path).status_code == 404  # expired
    forged = signing.dumps({"a": shared.pk}, salt="another-purpose")
    assert client.get(f"/channels/files/{forged}/label.pdf").status_code == 404

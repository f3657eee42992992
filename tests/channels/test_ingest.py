"""The ingest service: dedupe, customer resolution, threading, reopen and follow-up."""

from __future__ import annotations

import hashlib
import json

import pytest

from frontline.channels.services import (
    inbound_message_ingest,
    raw_payload_process,
    raw_payload_store,
)
from frontline.channels.types import InboundAttachment, InboundMessage, SenderIdentity
from frontline.core.models import DomainEvent
from frontline.customers.models import Customer, Identity
from frontline.tickets import services as ticket_services
from frontline.tickets.actors import SYSTEM
from frontline.tickets.models import Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def email(
    text="My order never arrived",
    *,
    sender="Ana@Example.com",
    msg_id="",
    refs=(),
    subject="Where is my order?",
):
    return InboundMessage(
        channel="email",
        sender=SenderIdentity(kind="email", value=sender),
        sender_name="Ana Lima",
        subject=subject,
        text=text,
        provider_message_id=msg_id,
        references=tuple(refs),
    )


def sms(text, *, sender="+1 415 555 0100", msg_id=""):
    return InboundMessage(
        channel="sms",
        sender=SenderIdentity(kind="phone", value=sender),
        text=text,
        provider_message_id=msg_id,
    )


def test_new_email_creates_customer_ticket_message_and_events():
    result = inbound_message_ingest(email(msg_id="<a1@mail.example.com>"))
    assert result.created_ticket and not result.duplicate
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert ticket.subject == "Where is my order?"
    assert ticket.status == "new"
    assert ticket.channel == "email"
    assert ticket.requester.name == "Ana Lima"
    assert Identity.objects.get(customer=ticket.requester).value == "ana@example.com"
    message = Message.objects.get(pk=result.message_id)
    assert message.direction == "inbound" and message.author_type == "customer"
    assert message.html == "<p>My order never arrived</p>"
    assert list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True)) == [
        "created",
        "message_added",
    ]
    names = list(DomainEvent.objects.filter(ticket_id=ticket.pk).values_list("name", flat=True))
    assert names == ["ticket.created", "message.received"]


def test_same_provider_message_twice_gives_one_message():
    first = inbound_message_ingest(email(msg_id="<dup@mail.example.com>"))
    second = inbound_message_ingest(email(msg_id="<dup@mail.example.com>"))
    assert second.duplicate
    assert second.message_id == first.message_id
    assert Message.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_same_provider_id_on_another_channel_is_not_a_duplicate():
    inbound_message_ingest(email(msg_id="42"))
    other = inbound_message_ingest(sms("hi", msg_id="42"))
    assert not other.duplicate
    assert Message.objects.count() == 2


def test_email_reply_threads_by_references():
    first = inbound_message_ingest(email(msg_id="<m1@x>"))
    reply = inbound_message_ingest(
        email("Any news?", msg_id="<m2@x>", refs=["<m1@x>"], subject="Re: Where is my order?")
    )
    assert reply.ticket_id == first.ticket_id and not reply.created_ticket
    assert Ticket.objects.get(pk=first.ticket_id).message_count == 2


def test_email_without_reference_opens_a_new_ticket():
    first = inbound_message_ingest(email(msg_id="<n1@x>"))
    second = inbound_message_ingest(email("Another question", msg_id="<n2@x>", subject="Invoice"))
    assert second.ticket_id != first.ticket_id
    assert second.customer_id == first.customer_id


def test_sms_continues_the_open_conversation_and_recognises_the_number():
    first = inbound_message_ingest(sms("Hi, my parcel?", sender="(415) 555-0100"))
    second = inbound_message_ingest(sms("Hello??", sender="+14155550100"))
    assert second.ticket_id == first.ticket_id
    assert Customer.objects.count() == 1


def test_customer_reply_reopens_a_solved_ticket():
    first = inbound_message_ingest(email(msg_id="<s1@x>"))
    ticket = Ticket.objects.get(pk=first.ticket_id)
    ticket_services.ticket_update(ticket=ticket, actor=SYSTEM, status="solved")
    inbound_message_ingest(email("Still broken", msg_id="<s2@x>", refs=["<s1@x>"]))
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.reopen_count == 1
    assert ticket.solved_at is None


def test_reply_to_a_closed_ticket_opens_a_linked_followup():
    first = inbound_message_ingest(email(msg_id="<c1@x>"))
    ticket = Ticket.objects.get(pk=first.ticket_id)
    ticket_services.ticket_update(ticket=ticket, actor=SYSTEM, status="solved")
    ticket_services.ticket_update(ticket=ticket, actor=SYSTEM, status="closed")
    result = inbound_message_ingest(email("It broke again", msg_id="<c2@x>", refs=["<c1@x>"]))
    assert result.created_ticket
    assert result.followup_of == ticket.pk
    followup = Ticket.objects.get(pk=result.ticket_id)
    assert followup.followup_of_id == ticket.pk
    ticket.refresh_from_db()
    assert ticket.status == "closed" and ticket.message_count == 1


def test_oversized_and_dangerous_attachments_are_recorded_not_stored(settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    message = InboundMessage(
        channel="email",
        sender=SenderIdentity(kind="email", value="bob@example.com"),
        text="files",
        attachments=(
            InboundAttachment(filename="small.txt", content_type="text/plain", content=b"tiny"),
            InboundAttachment(
                filename="big.pdf", content_type="application/pdf", content=b"x" * 11
            ),
            InboundAttachment(
                filename="invoice.pdf.exe", content_type="application/x-msdownload", content=b"MZ"
            ),
        ),
    )
    result = inbound_message_ingest(message)
    attachments = {
        a.filename: a for a in Message.objects.get(pk=result.message_id).attachments.all()
    }
    assert attachments["small.txt"].status == "stored"
    assert attachments["small.txt"].sha256 == hashlib.sha256(b"tiny").hexdigest()
    assert attachments["small.txt"].file.read() == b"tiny"
    assert attachments["big.pdf"].status == "rejected" and not attachments["big.pdf"].file
    assert "limit" in attachments["big.pdf"].rejection_reason
    assert attachments["invoice.pdf.exe"].status == "rejected"


def test_html_is_sanitised_on_ingest():
    message = InboundMessage(
        channel="email",
        sender=SenderIdentity(kind="email", value="eve@example.com"),
        html=(
            '<p onclick="steal()">Hi<script>alert(1)</script>'
            '<a href="javascript:alert(2)">x</a></p>'
        ),
    )
    stored = Message.objects.get(pk=inbound_message_ingest(message).message_id)
    assert "script" not in stored.html and "onclick" not in stored.html
    assert "javascript:" not in stored.html
    assert stored.text.startswith("Hi")


def test_raw_payload_is_stored_once_and_processed_idempotently():
    body = json.dumps(
        {
            "requester": {"identities": [{"kind": "email", "value": "raw@example.com"}]},
            "subject": "s",
            "text": "t",
            "external_id": "ext-1",
        }
    ).encode()
    payload, created = raw_payload_store(channel="api", body=body, provider_message_id="ext-1")
    again, created_again = raw_payload_store(channel="api", body=body, provider_message_id="ext-1")
    assert created and not created_again and again.pk == payload.pk
    result = raw_payload_process(payload.pk)
    assert result is not None and result.created_ticket
    assert raw_payload_process(payload.pk) is None  # already processed
    payload.refresh_from_db()
    assert payload.status == "processed" and payload.ticket_id == result.ticket_id
    assert Message.objects.count() == 1


def test_unparseable_payload_is_kept_and_marked_failed():
    payload, _ = raw_payload_store(channel="api", body=b"{not json", provider_message_id="bad-1")
    assert raw_payload_process(payload.pk) is None
    payload.refresh_from_db()
    assert payload.status == "failed" and "unparseable" in payload.error
    assert bytes(payload.body) == b"{not json"


def test_a_new_chat_session_is_a_new_conversation():
    def chat(text, session):
        return InboundMessage(
            channel="chat",
            sender=SenderIdentity(kind="chat", value="visitor-1"),
            text=text,
            thread_key=session,
        )

    first = inbound_message_ingest(chat("hi", "session-a"))
    same = inbound_message_ingest(chat("still me", "session-a"))
    other = inbound_message_ingest(chat("new visit", "session-b"))
    assert same.ticket_id == first.ticket_id
    assert other.ticket_id != first.ticket_id and other.created_ticket


def test_channel_ticket_fields_resolve_teams_and_refuse_unknown_ones():
    from frontline.core.errors import ValidationFailed
    from tests.factories import TeamFactory

    team = TeamFactory(slug="billing")
    message = InboundMessage(
        channel="email",
        sender=SenderIdentity(kind="email", value="pay@example.com"),
        text="invoice",
        ticket_fields={"team": "billing", "priority": "high", "tags": ["Invoice"]},
    )
    ticket = Ticket.objects.get(pk=inbound_message_ingest(message).ticket_id)
    assert ticket.team == team and ticket.priority == "high"
    assert list(ticket.tags.values_list("name", flat=True)) == ["invoice"]
    bad = InboundMessage(
        channel="email",
        sender=SenderIdentity(kind="email", value="pay@example.com"),
        text="x",
        ticket_fields={"team": "nope"},
    )
    with pytest.raises(ValidationFailed):
        inbound_message_ingest(bad)
    with pytest.raises(ValidationFailed):
        inbound_message_ingest(
            InboundMessage(
                channel="email",
                sender=SenderIdentity(kind="email", value="pay@example.com"),
                text="x",
                ticket_fields={"status": "closed"},
            )
        )


def test_late_messages_keep_ticket_recency_right():
    from datetime import timedelta

    from django.utils import timezone

    first = inbound_message_ingest(sms("now", msg_id="SM1"))
    earlier = timezone.now() - timedelta(hours=3)
    late = InboundMessage(
        channel="sms",
        sender=SenderIdentity(kind="phone", value="+1 415 555 0100"),
        text="sent three hours ago",
        provider_message_id="SM0",
        received_at=earlier,
    )
    inbound_message_ingest(late)
    ticket = Ticket.objects.get(pk=first.ticket_id)
    assert ticket.last_customer_message_at is not None
    assert ticket.last_customer_message_at > earlier
    assert Message.objects.get(provider_message_id="SM0").created_at == earlier


def test_inline_images_point_at_their_stored_attachment():
    message = InboundMessage(
        channel="email",
        sender=SenderIdentity(kind="email", value="pics@example.com"),
        html='<p>Look: <img src="cid:photo1@x" alt="damage"></p>',
        attachments=(
            InboundAttachment(
                filename="damage.png",
                content_type="image/png",
                content=b"\x89PNG",
                content_id="<photo1@x>",
                inline=True,
            ),
        ),
    )
    stored = Message.objects.get(pk=inbound_message_ingest(message).message_id)
    attachment = stored.attachments.get()
    assert "cid:" not in stored.html
    assert f'src="/attachments/{attachment.pk}/damage.png"' in stored.html

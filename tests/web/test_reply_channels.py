"""What each reply channel allows, in the composer and the API alike: WhatsApp's 24-hour window
and templates, public replies on public social tickets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from frontline.channels.accounts import account_create
from frontline.channels.models import MessageTemplate
from frontline.channels.services import inbound_message_ingest
from frontline.channels.types import InboundMessage, SenderIdentity
from frontline.tickets.models import Message, Ticket
from tests.web.test_agent_pages import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def whatsapp():
    account = account_create(
        provider="twilio_whatsapp", name="WA", address="+14155550135", options={"sandbox": True}
    )
    template = MessageTemplate.objects.create(
        account=account, name="follow_up", content_sid="HX1", body="Hi {{1}}, any news?",
        variables=["name"],
    )  # fmt: skip
    result = inbound_message_ingest(
        InboundMessage(
            channel="whatsapp",
            sender=SenderIdentity(kind="phone", value="+14155550100"),
            sender_name="Ana",
            text="Is my tent shipped?",
            provider_message_id="SMwa1",
            metadata={"account_id": account.pk},
        )
    )
    return Ticket.objects.get(pk=result.ticket_id), template


def _age(ticket: Ticket, hours: int) -> None:
    Message.objects.filter(ticket=ticket).update(created_at=timezone.now() - timedelta(hours=hours))


def test_inside_the_window_any_reply_goes(
    agent, whatsapp, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.DATA_DIR = tmp_path
    ticket, _ = whatsapp
    client = logged_in(agent)
    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "24-hour window is open" in html
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/tickets/{ticket.pk}/messages/", {"text": "Yes, today", "visibility": "public"}
        )
    reply = Message.objects.get(text="Yes, today")
    assert (reply.channel, reply.delivery_state) == ("whatsapp", "sent")


def test_outside_the_window_only_templates_go(
    agent, whatsapp, api_for, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.DATA_DIR = tmp_path
    ticket, template = whatsapp
    _age(ticket, 25)
    client = logged_in(agent)
    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "The 24-hour window has closed" in html and "follow_up (en)" in html
    refused = client.post(
        f"/tickets/{ticket.pk}/messages/", {"text": "Hello?", "visibility": "public"}
    )
    assert refused.status_code == 422 and not Message.objects.filter(text="Hello?").exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/tickets/{ticket.pk}/messages/",
            {"visibility": "public", "template": str(template.pk), f"tvar-{template.pk}-1": "Ana"},
        )
    reply = Message.objects.get(text="Hi Ana, any news?")
    assert reply.metadata["template"]["content_sid"] == "HX1"
    assert reply.delivery_state == "sent"
    api = api_for(agent)
    assert api.post(f"/api/tickets/{ticket.pk}/messages", {"text": "Free text"}).status_code == 422
    sent = api.post(
        f"/api/tickets/{ticket.pk}/messages",
        {"template_id": template.pk, "template_variables": {"1": "Ben"}},
    )
    assert sent.status_code == 201 and sent.json()["text"] == "Hi Ben, any news?"
    missing = api.post(f"/api/tickets/{ticket.pk}/messages", {"template_id": template.pk})
    assert missing.status_code == 422


def test_the_api_answers_on_another_channel_the_customer_can_be_reached_on(
    agent, whatsapp, api_for, settings, tmp_path
):
    settings.DATA_DIR = tmp_path
    ticket, _ = whatsapp
    account_create(
        provider="twilio_sms", name="SMS", address="+14155550134", options={"sandbox": True}
    )
    api = api_for(agent)
    sent = api.post(f"/api/tickets/{ticket.pk}/messages", {"text": "By SMS", "channel": "sms"})
    assert sent.status_code == 201 and sent.json()["channel"] == "sms"
    assert Ticket.objects.get(pk=ticket.pk).requester.preferred_channel == "sms"
    nope = api.post(f"/api/tickets/{ticket.pk}/messages", {"text": "x", "channel": "instagram"})
    assert nope.status_code == 422


def test_a_public_social_ticket_warns_that_the_reply_is_public(agent, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    account_create(
        provider="meta_messenger", name="Page", address="1049", options={"sandbox": True}
    )
    result = inbound_message_ingest(
        InboundMessage(
            channel="facebook",
            sender=SenderIdentity(kind="social", value="7001", network="facebook"),
            text="Your tents leak!",
            provider_message_id="c_1",
            thread_key="post_1",
            metadata={"public": True, "comment_id": "c_1"},
            ticket_fields={"is_public": True},
        )
    )
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert ticket.is_public
    html = logged_in(agent).get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Public reply." in html and "everyone who can see the post" in html

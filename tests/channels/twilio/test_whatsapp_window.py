"""WhatsApp's 24-hour window and its templates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from frontline.channels.models import MessageTemplate
from frontline.channels.twilio.whatsapp import (
    template_render,
    whatsapp_reply_check,
    whatsapp_templates,
    whatsapp_window,
)
from frontline.core.errors import ValidationFailed
from frontline.tickets.models import Message
from tests.channels.twilio.conftest import message_form
from tests.factories import MessageFactory, TicketFactory

pytestmark = pytest.mark.django_db


def _inbound(ticket, hours_ago: float, channel: str = "whatsapp") -> Message:
    message = MessageFactory(ticket=ticket, channel=channel, direction="inbound")
    at = timezone.now() - timedelta(hours=hours_ago)
    Message.objects.filter(pk=message.pk).update(created_at=at)
    message.refresh_from_db()
    return message


def test_the_window_opens_with_a_whatsapp_message_received_through_the_webhook(
    whatsapp_account, twilio_post
):
    twilio_post(whatsapp_account, message_form("inbound_whatsapp"))
    message = Message.objects.get()

    window = whatsapp_window(message.ticket)

    assert window.open
    assert window.closes_at == message.created_at + timedelta(hours=24)
    whatsapp_reply_check(message.ticket, template=None)  # free-form allowed


def test_the_window_follows_the_customers_last_whatsapp_message():
    ticket = TicketFactory(channel="whatsapp")
    _inbound(ticket, hours_ago=50)
    latest = _inbound(ticket, hours_ago=23)
    _inbound(ticket, hours_ago=1, channel="sms")  # another channel does not count

    window = whatsapp_window(ticket)

    assert window.open
    assert window.closes_at == latest.created_at + timedelta(hours=24)
    assert not whatsapp_window(ticket, now=latest.created_at + timedelta(hours=24)).open


def test_a_closed_window_refuses_free_form_replies_with_a_clear_message():
    ticket = TicketFactory(channel="whatsapp")
    _inbound(ticket, hours_ago=25)

    assert not whatsapp_window(ticket).open
    with pytest.raises(ValidationFailed) as refused:
        whatsapp_reply_check(ticket, template=None)
    assert "more than 24 hours old" in refused.value.message
    assert "template" in refused.value.fields
    whatsapp_reply_check(ticket, template={"content_sid": "HX" + "c" * 32, "variables": {}})


def test_without_any_whatsapp_message_only_a_template_can_start():
    ticket = TicketFactory(channel="sms")
    _inbound(ticket, hours_ago=1, channel="sms")

    window = whatsapp_window(ticket)

    assert (window.open, window.closes_at) == (False, None)
    with pytest.raises(ValidationFailed, match="start a conversation"):
        whatsapp_reply_check(ticket, template=None)


def test_a_template_without_its_content_sid_is_refused():
    ticket = TicketFactory(channel="whatsapp")
    with pytest.raises(ValidationFailed, match="Content SID"):
        whatsapp_reply_check(ticket, template={"name": "order_update", "variables": {}})


def _template(account, name="order_update", **fields) -> MessageTemplate:
    defaults = {
        "content_sid": "HX" + "d" * 32,
        "body": "Hi {{1}}, your order {{2}} has shipped. Reply here with any question, {{1}}!",
        "variables": ["name", "order"],
    }
    return MessageTemplate.objects.create(account=account, name=name, **{**defaults, **fields})


def test_only_active_templates_of_the_account_are_offered(whatsapp_account, sms_account):
    shipped = _template(whatsapp_account, "order_update")
    welcome = _template(whatsapp_account, "a_welcome", language="pt_BR")
    _template(whatsapp_account, "old_offer", is_active=False)
    _template(sms_account, "sms_only")

    assert list(whatsapp_templates(whatsapp_account)) == [welcome, shipped]


def test_template_render_fills_every_placeholder(whatsapp_account):
    template = _template(whatsapp_account)

    text = template_render(template, {"1": "Ana", "2": "4411"})

    assert text == "Hi Ana, your order 4411 has shipped. Reply here with any question, Ana!"


def test_template_render_refuses_missing_variables(whatsapp_account):
    template = _template(whatsapp_account)

    with pytest.raises(ValidationFailed) as refused:
        template_render(template, {"1": "Ana", "2": "  "})

    assert "{{2}} (order)" in refused.value.message
    assert refused.value.fields == {"variables.2": ["required"]}

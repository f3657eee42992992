"""Calls logged by hand (the service, the ticket-page view and its permissions), the adapter's
send (a logged call is confirmed, a typed reply refused), and the timeline partials."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import timezone

from frontline.accounts.models import Role
from frontline.channels.outbound import outbound_message_send
from frontline.channels.phone.adapter import PhoneAdapter
from frontline.channels.phone.services import call_log
from frontline.channels.types import OutboundMessage, SenderIdentity
from frontline.core import bus
from frontline.core.errors import PermissionDenied, ValidationFailed
from frontline.tickets.actors import Actor
from frontline.tickets.models import Message, TicketTask
from frontline.tickets.services import message_add, ticket_collaborator_add
from tests.channels.phone.conftest import CALLER
from tests.factories import (
    CustomerFactory,
    IdentityFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
    customer_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return TeamFactory()


@pytest.fixture
def agent(team):
    user = UserFactory(role=Role.AGENT, first_name="Bea", last_name="Ortiz")
    team.members.add(user)
    return user


@pytest.fixture
def ticket(team):
    customer = CustomerFactory(name="Ana Silva")
    IdentityFactory(customer=customer, kind="phone", value=CALLER)
    return TicketFactory(requester=customer, channel="phone", team=team, status="open")


def _log(ticket, user, **overrides):
    values = {
        "direction": "outbound",
        "phone": "",
        "duration_seconds": 245,
        "outcome": "answered",
        "notes": "Explained the return label; she will send the charger back.",
        "happened_at": None,
    }
    values.update(overrides)
    return call_log(ticket=ticket, actor=Actor.for_user(user), **values)


# --------------------------------------------------------------------------- the service


def test_a_logged_call_is_a_public_phone_message_by_the_agent(ticket, agent):
    when = timezone.now() - timedelta(hours=2)
    message = _log(ticket, agent, happened_at=when)

    assert message.channel == "phone"
    assert message.visibility == "public"
    assert message.author_user == agent
    assert message.text == "Explained the return label; she will send the charger back."
    call = message.metadata["call"]
    assert call["direction"] == "outbound"
    assert call["outcome"] == "answered"
    assert call["duration"] == 245
    assert call["phone"] == CALLER  # the customer's number on file
    assert call["logged_by"] == agent.pk
    assert call["summary"] == f"Outbound call to {CALLER}, 4 min 5 s"
    message.refresh_from_db()
    assert message.created_at == when


def test_a_logged_call_without_notes_shows_its_summary(ticket, agent):
    message = _log(ticket, agent, notes="  ", phone="(415) 555-0199", duration_seconds=0)
    assert message.text == "Outbound call to +14155550199"
    assert message.metadata["call"]["phone"] == "+14155550199"


def test_a_missed_call_logged_by_hand_opens_a_call_back(ticket, agent):
    message = _log(ticket, agent, direction="inbound", outcome="missed", duration_seconds=0)
    task = TicketTask.objects.get()
    assert task.kind == "callback" and task.phone == CALLER
    assert task.created_by == f"user:{agent.pk}"
    assert message.metadata["call"]["callback_task_id"] == task.pk


def test_a_logged_call_that_reached_the_customer_ticks_the_call_back_off(ticket, agent):
    _log(ticket, agent, direction="inbound", outcome="missed", duration_seconds=0)
    task = TicketTask.objects.get()
    _log(ticket, agent, happened_at=timezone.now())
    task.refresh_from_db()
    assert task.done_at is not None
    assert task.done_by == agent


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"direction": "sideways"}, "direction"),
        ({"outcome": "hung-up"}, "outcome"),
        ({"duration_seconds": -1}, "duration_seconds"),
        ({"duration_seconds": 2 * 24 * 3600}, "duration_seconds"),
        ({"outcome": "missed", "duration_seconds": 30}, "duration_seconds"),
        ({"phone": "not a number"}, "phone"),
        ({"notes": "x" * 10_001}, "notes"),
        ({"happened_at": timezone.now() + timedelta(hours=3)}, "happened_at"),
    ],
)
def test_the_service_refuses_what_makes_no_sense(ticket, agent, overrides, field):
    with pytest.raises(ValidationFailed) as refused:
        _log(ticket, agent, **overrides)
    assert field in refused.value.fields
    assert not Message.objects.exists()


def test_a_number_is_needed_when_the_customer_has_none(agent, team):
    ticket = TicketFactory(channel="email", team=team)
    with pytest.raises(ValidationFailed) as refused:
        _log(ticket, agent)
    assert "phone" in refused.value.fields


def test_a_closed_ticket_takes_no_call(ticket, agent):
    ticket.status = "closed"
    ticket.save()
    with pytest.raises(ValidationFailed) as refused:
        _log(ticket, agent)
    assert "ticket" in refused.value.fields


def test_only_staff_who_may_update_the_ticket_log_calls(ticket):
    outsider = UserFactory(role=Role.AGENT)
    outsider_team = TeamFactory()
    outsider_team.members.add(outsider)
    light = UserFactory(role=Role.LIGHT_AGENT)
    ticket_collaborator_add(ticket=ticket, user=light)
    for user in (outsider, light, customer_user(ticket.requester)):
        with pytest.raises(PermissionDenied):
            _log(ticket, user)
    assert not Message.objects.exists()


# --------------------------------------------------------------------------- the view


def _form(**overrides):
    data = {
        "direction": "inbound",
        "outcome": "answered",
        "phone": "",
        "minutes": "3",
        "seconds": "12",
        "happened_at": "",
        "notes": "Wanted to know when the replacement ships.",
    }
    data.update(overrides)
    return data


def test_an_agent_logs_a_call_from_the_ticket_page(
    ticket, agent, django_capture_on_commit_callbacks
):
    client = Client()
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/channels/phone/tickets/{ticket.pk}/calls", _form())

    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.pk}/"
    message = Message.objects.get(ticket=ticket)
    assert message.text == "Wanted to know when the replacement ships."
    assert message.metadata["call"]["duration"] == 192
    assert message.metadata["call"]["direction"] == "inbound"
    # The outbound path confirms the logged call instead of delivering anything.
    assert message.delivery_state == "sent"
    page = client.get(response["Location"])
    assert "Call logged." in page.content.decode()


def test_the_view_reads_the_time_of_the_call(ticket, agent):
    client = Client()
    client.force_login(agent)
    client.post(
        f"/channels/phone/tickets/{ticket.pk}/calls",
        _form(happened_at="2026-03-02T14:30", outcome="missed", minutes="", seconds=""),
    )
    message = Message.objects.get(ticket=ticket)
    assert timezone.localtime(message.created_at).strftime("%Y-%m-%d %H:%M") == "2026-03-02 14:30"
    assert message.metadata["call"]["outcome"] == "missed"


def test_an_htmx_post_is_answered_like_the_other_ticket_page_posts(ticket, agent):
    client = Client()
    client.force_login(agent)
    response = client.post(
        f"/channels/phone/tickets/{ticket.pk}/calls", _form(), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.pk}/"
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_a_refused_call_comes_back_as_a_flash_message(ticket, agent):
    client = Client()
    client.force_login(agent)
    response = client.post(
        f"/channels/phone/tickets/{ticket.pk}/calls",
        _form(outcome="missed", minutes="2"),
        follow=True,
    )
    assert "a missed or failed call has no duration" in response.content.decode()
    assert not Message.objects.exists()
    response = client.post(
        f"/channels/phone/tickets/{ticket.pk}/calls", _form(minutes="many"), follow=True
    )
    assert "minutes: Enter a whole number." in response.content.decode()
    assert not Message.objects.exists()


def test_people_without_the_right_are_refused(ticket):
    client = Client()
    client.force_login(customer_user(ticket.requester))
    assert client.post(f"/channels/phone/tickets/{ticket.pk}/calls", _form()).status_code == 403

    other_team_agent = UserFactory(role=Role.AGENT)
    TeamFactory().members.add(other_team_agent)
    client.force_login(other_team_agent)
    assert client.post(f"/channels/phone/tickets/{ticket.pk}/calls", _form()).status_code == 404

    light = UserFactory(role=Role.LIGHT_AGENT)
    ticket_collaborator_add(ticket=ticket, user=light)
    client.force_login(light)
    assert client.post(f"/channels/phone/tickets/{ticket.pk}/calls", _form()).status_code == 403

    client.logout()
    response = client.post(f"/channels/phone/tickets/{ticket.pk}/calls", _form())
    assert response.status_code == 302 and "/login" in response["Location"]
    assert not Message.objects.exists()


def test_the_form_needs_its_csrf_token(ticket, agent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    assert client.post(f"/channels/phone/tickets/{ticket.pk}/calls", _form()).status_code == 403
    assert not Message.objects.exists()


def test_only_posts_are_accepted(ticket, agent):
    client = Client()
    client.force_login(agent)
    assert client.get(f"/channels/phone/tickets/{ticket.pk}/calls").status_code == 405


# --------------------------------------------------------------------------- send


def _outbound(metadata):
    return OutboundMessage(
        channel="phone",
        message_id=1,
        ticket_id=1,
        recipient=SenderIdentity(kind="phone", value=CALLER),
        text="…",
        metadata=metadata,
    )


def test_send_confirms_a_logged_call():
    result = PhoneAdapter().send(
        _outbound({"message": {"call": {"direction": "outbound", "outcome": "answered"}}})
    )
    assert result.state == "sent"


def test_send_refuses_a_typed_reply(ticket, agent):
    with pytest.raises(ValueError, match="answer phone tickets by SMS or email"):
        PhoneAdapter().send(_outbound({"message": {}, "inbound": {"call": {"sid": "CA1"}}}))
    # Through the outbound path, the refusal is shown on the reply.
    with bus.paused():
        reply = message_add(
            ticket=ticket, actor=Actor.for_user(agent), text="Hello there", channel="phone"
        )
    outbound_message_send(reply.pk)
    reply.refresh_from_db()
    assert reply.delivery_state == "failed"
    assert "answer phone tickets by SMS or email" in reply.delivery_error


# --------------------------------------------------------------------------- templates


def test_the_call_partial_shows_a_voicemail_with_its_transcription(ticket):
    message = Message.objects.create(
        ticket=ticket, visibility="public", direction="inbound", author_type="customer",
        author_customer=ticket.requester, channel="phone", text="Voicemail from +1…",
        metadata={"call": {
            "direction": "inbound", "outcome": "voicemail", "phone": CALLER,
            "summary": f"Voicemail from {CALLER} (0:42)",
            "recording_url": "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
            "transcription": {"status": "completed", "text": "Please call me <back>"},
            "callback_task_id": 7,
        }},
    )  # fmt: skip
    html = render_to_string("web/ticket/_call.html", {"message": message, "ticket": ticket})
    assert f'id="message-{message.pk}"' in html
    assert f"Voicemail from {CALLER} (0:42)" in html
    assert f'href="tel:{CALLER}"' in html
    assert "Please call me &lt;back&gt;" in html
    assert "Open the recording at Twilio" in html
    assert "A call-back is in the ticket\u2019s tasks." in html


def test_the_call_partial_shows_a_logged_call_with_its_notes(ticket, agent):
    message = _log(ticket, agent)
    html = render_to_string("web/ticket/_call.html", {"message": message, "ticket": ticket})
    assert agent.label in html
    assert "logged by hand" in html
    assert f"Outbound call to {CALLER}, 4 min 5 s" in html
    assert "Explained the return label" in html


def test_the_call_log_form_posts_to_the_view(ticket, agent):
    request = RequestFactory().get("/")
    request.user = agent
    html = render_to_string("web/ticket/_call_log_form.html", {"ticket": ticket}, request=request)
    assert f'action="/channels/phone/tickets/{ticket.pk}/calls"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert f'<option value="{CALLER}">' in html
    for field in ("direction", "outcome", "phone", "minutes", "seconds", "happened_at", "notes"):
        assert f'name="{field}"' in html

"""One customer everywhere, in the workspace: the customer page's timeline across channels,
suggested merges (merge, undo, dismiss), the remembered channel, and the ticket sidebar's
view of the other channels; tasks on the ticket."""

from __future__ import annotations

import pytest

from frontline.accounts.models import Role
from frontline.channels.accounts import account_create
from frontline.channels.services import inbound_message_ingest
from frontline.channels.types import InboundMessage, SenderIdentity
from frontline.customers.models import Customer, MergeSuggestion
from frontline.customers.suggestions import suggestions_from_message
from frontline.tickets.actors import Actor
from frontline.tickets.models import Message, Ticket, TicketTask
from frontline.tickets.services import message_add, ticket_task_add
from tests.factories import TeamFactory, UserFactory
from tests.web.test_agent_pages import logged_in

pytestmark = pytest.mark.django_db


def ingest(channel: str, kind: str, value: str, text: str, pid: str, **extra):
    return inbound_message_ingest(
        InboundMessage(
            channel=channel,
            sender=SenderIdentity(kind=kind, value=value, network=extra.pop("network", "")),
            sender_name="Ana Lima",
            text=text,
            provider_message_id=pid,
            **extra,
        )
    )


@pytest.fixture
def ana_everywhere():
    """Ana wrote by email and by SMS; both resolve to one customer once her phone is known."""
    by_email = ingest("email", "email", "ana@example.org", "Zipper broke", "<e1@x>", subject="Zip")
    customer = Customer.objects.get(pk=by_email.customer_id)
    customer.identities.create(kind="phone", value="+14155550100")
    by_sms = ingest("sms", "phone", "+1 415 555 0100", "Any news?", "SM1")
    assert by_sms.customer_id == customer.pk
    return customer, by_email.ticket_id, by_sms.ticket_id


def test_the_customer_page_shows_every_channel_in_one_timeline(agent, ana_everywhere):
    customer, email_ticket, sms_ticket = ana_everywhere
    message_add(
        ticket=Ticket.objects.get(pk=email_ticket), actor=Actor.for_user(agent), text="On it."
    )
    html = logged_in(agent).get(f"/customers/{customer.pk}/").content.decode()
    timeline = html[html.index('class="customer-timeline"') :]
    positions = [timeline.index(t) for t in ("On it.", "Any news?", "Zipper broke")]
    assert positions == sorted(positions)  # newest first, across channels
    assert 'data-channel="sms"' in timeline and 'data-channel="email"' in timeline
    assert f"/tickets/{sms_ticket}/" in timeline and f"/tickets/{email_ticket}/" in timeline
    listing = logged_in(agent).get("/customers/?q=555").content.decode()
    assert f"/customers/{customer.pk}/" in listing


def test_the_timeline_only_shows_tickets_the_agent_may_see(ana_everywhere):
    customer, email_ticket, _ = ana_everywhere
    Ticket.objects.filter(pk=email_ticket).update(team=TeamFactory())
    outsider = UserFactory(role=Role.AGENT)
    html = logged_in(outsider).get(f"/customers/{customer.pk}/").content.decode()
    assert "Any news?" in html and "Zipper broke" not in html


def test_suggested_merge_then_undo_from_the_customer_page(agent):
    ana = ingest("email", "email", "ana@example.org", "Hello\n--\nAna +44 7911 123456", "<e1@x>")
    sms = ingest("sms", "phone", "+447911123456", "Hi from my phone", "SM2")
    assert ana.customer_id != sms.customer_id
    suggestions_from_message(
        customer_id=ana.customer_id, text="+44 7911 123456", message_id=ana.message_id,
        ticket_id=ana.ticket_id,
    )  # fmt: skip
    suggestion = MergeSuggestion.objects.get()
    client = logged_in(agent)
    page = client.get(f"/customers/{ana.customer_id}/").content.decode()
    assert "Possibly the same person" in page and "+447911123456" in page
    ticket_page = client.get(f"/tickets/{ana.ticket_id}/").content.decode()
    assert "may be this person" in ticket_page
    client.post(
        f"/customers/{ana.customer_id}/suggestions/{suggestion.pk}/", {"keep": ana.customer_id}
    )
    assert Customer.objects.get(pk=sms.customer_id).merged_into_id == ana.customer_id
    assert Ticket.objects.get(pk=sms.ticket_id).requester_id == ana.customer_id
    moved = client.get(f"/customers/{sms.customer_id}/")
    assert moved.status_code == 302 and moved.url == f"/customers/{ana.customer_id}/"
    page = client.get(f"/customers/{ana.customer_id}/").content.decode()
    assert "Hi from my phone" in page and "Undo merge" in page
    merge_id = Customer.objects.get(pk=ana.customer_id).merges_in.get().pk
    client.post(f"/customers/{ana.customer_id}/merges/{merge_id}/undo/")
    assert Customer.objects.get(pk=sms.customer_id).merged_into_id is None
    assert Ticket.objects.get(pk=sms.ticket_id).requester_id == sms.customer_id
    record = client.get(f"/customers/{ana.customer_id}/").content.decode()
    record = record[record.index('id="h-record"') :]
    assert f"customer #{sms.customer_id} merged into this one" in record
    assert f"merge of customer #{sms.customer_id} undone" in record


def test_dismissing_a_suggestion_and_who_may_decide(agent):
    ana = ingest("email", "email", "ana@example.org", "x", "<e1@x>")
    ingest("sms", "phone", "+447911123456", "y", "SM3")
    suggestions_from_message(
        customer_id=ana.customer_id, text="+44 7911 123456", message_id=1, ticket_id=1
    )
    suggestion = MergeSuggestion.objects.get()
    light = UserFactory(role=Role.LIGHT_AGENT)
    url = f"/customers/{ana.customer_id}/suggestions/{suggestion.pk}/"
    assert logged_in(light).post(url, {"decision": "dismiss"}).status_code == 403
    logged_in(agent).post(url, {"decision": "dismiss"})
    suggestion.refresh_from_db()
    assert suggestion.status == "dismissed"
    record = logged_in(agent).get(f"/customers/{ana.customer_id}/").content.decode()
    assert "marked as not the same person" in record
    assert logged_in(agent).post(url, {"decision": "dismiss"}).status_code == 404


def test_moving_a_conversation_to_another_channel_is_remembered(agent, ana_everywhere):
    customer, email_ticket, _ = ana_everywhere
    account_create(provider="twilio_sms", name="SMS", address="+14155550199")
    client = logged_in(agent)
    html = client.get(f"/tickets/{email_ticket}/").content.decode()
    select = html[
        html.index('id="reply-channel"') : html.index("</select>", html.index('id="reply-channel"'))
    ]
    assert 'value="email" selected' in select and 'value="sms"' in select
    assert "+14155550100" in select  # where the SMS would go
    with pytest.MonkeyPatch.context() as patch:  # no provider needed to check the choice
        patch.setattr("frontline.channels.outbound.on_message_created", lambda event: None)
        client.post(
            f"/tickets/{email_ticket}/messages/",
            {"text": "Texting you", "visibility": "public", "channel": "sms"},
        )
    assert Message.objects.get(text="Texting you").channel == "sms"
    customer.refresh_from_db()
    assert customer.preferred_channel == "sms"
    html = client.get(f"/tickets/{email_ticket}/").content.decode()
    select = html[
        html.index('id="reply-channel"') : html.index("</select>", html.index('id="reply-channel"'))
    ]
    assert 'value="sms" selected' in select  # the conversation moved there
    assert "prefers SMS" in html
    client.post(f"/customers/{customer.pk}/profile/", {"preferred_channel": "carrier-pigeon"})
    customer.refresh_from_db()
    assert customer.preferred_channel == "sms"
    client.post(
        f"/customers/{customer.pk}/profile/", {"preferred_channel": "email", "language": "pt"}
    )
    customer.refresh_from_db()
    assert (customer.preferred_channel, customer.language) == ("email", "pt")


def test_the_sidebar_shows_what_the_customer_said_on_other_channels(agent, ana_everywhere):
    _, email_ticket, _ = ana_everywhere
    html = logged_in(agent).get(f"/tickets/{email_ticket}/").content.decode()
    side = html[html.index("Lately, elsewhere") :]
    assert "Any news?" in side and "All conversations on every channel" in side


def test_tasks_are_added_and_ticked_off_on_the_ticket(agent, ana_everywhere):
    _, email_ticket, _ = ana_everywhere
    ticket = Ticket.objects.get(pk=email_ticket)
    ticket_task_add(
        ticket=ticket,
        actor=Actor.for_user(agent),
        title="Call back",
        kind="callback",
        phone="+14155550100",
    )
    client = logged_in(agent)
    client.post(
        f"/tickets/{email_ticket}/tasks/", {"title": "Check stock", "due_at": "2026-12-01T09:30"}
    )
    titles = sorted(TicketTask.objects.values_list("title", flat=True))
    assert titles == ["Call back", "Check stock"]
    html = client.get(f"/tickets/{email_ticket}/").content.decode()
    assert 'href="tel:+14155550100"' in html and "added the task “Check stock”" in html
    task = TicketTask.objects.get(title="Check stock")
    client.post(f"/tickets/{email_ticket}/tasks/{task.pk}/done/", {"done": "1"})
    task.refresh_from_db()
    assert task.done_at is not None and task.done_by == agent
    assert "completed the task" in client.get(f"/tickets/{email_ticket}/").content.decode()
    light = UserFactory(role=Role.LIGHT_AGENT)
    ticket.collaborators.add(light)
    refused = logged_in(light).post(f"/tickets/{email_ticket}/tasks/{task.pk}/done/", {"done": "0"})
    assert refused.status_code == 403

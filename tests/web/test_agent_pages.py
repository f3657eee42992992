"""The plain agent UI: login, ticket list, ticket page, reply, update — and who may see it."""

from __future__ import annotations

import pytest
from django.test import Client

from frontline.accounts.models import Role
from frontline.channels.services import inbound_message_ingest
from frontline.channels.types import InboundMessage, SenderIdentity
from frontline.tickets.models import Message, Ticket
from tests.factories import TeamFactory, TicketFactory, UserFactory, customer_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket():
    result = inbound_message_ingest(
        InboundMessage(
            channel="email",
            sender=SenderIdentity(kind="email", value="ana@example.com"),
            sender_name="Ana Lima",
            subject="Broken zipper",
            html='<p>The zipper broke <img src=x onerror="alert(1)"></p>',
        )
    )
    return Ticket.objects.get(pk=result.ticket_id)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_login_page_and_login_flow(agent):
    client = Client()
    assert client.get("/tickets/").status_code == 302
    page = client.get("/login/")
    assert page.status_code == 200 and b'name="password"' in page.content
    bad = client.post("/login/", {"username": agent.username, "password": "wrong"})
    assert b"Wrong username or password" in bad.content
    good = client.post("/login/", {"username": agent.username, "password": "password123"})
    assert good.status_code == 302 and good["Location"] == "/tickets/"
    assert client.get("/tickets/").status_code == 200


def test_list_shows_visible_tickets_only(agent, ticket):
    other_team = TeamFactory()
    hidden = TicketFactory(subject="Other team secret", team=other_team, status="open")
    page = logged_in(agent).get("/tickets/?view=all")
    assert b"Broken zipper" in page.content
    assert b"Other team secret" not in page.content
    assert logged_in(agent).get(f"/tickets/{hidden.pk}/").status_code == 404


def test_ticket_page_renders_sanitised_conversation_and_customer(agent, ticket):
    page = logged_in(agent).get(f"/tickets/{ticket.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "The zipper broke" in body
    assert "onerror" not in body
    assert "ana@example.com" in body  # customer identities in the sidebar


def test_reply_note_and_update(agent, ticket):
    client = logged_in(agent)
    client.post(
        f"/tickets/{ticket.pk}/messages/",
        {"text": "Internal: check stock", "visibility": "internal"},
    )
    client.post(
        f"/tickets/{ticket.pk}/messages/",
        {"text": "We are sending a new one.", "visibility": "public", "status": "pending"},
    )
    messages = list(Message.objects.filter(ticket=ticket).order_by("id"))
    assert [m.visibility for m in messages] == ["public", "internal", "public"]
    ticket.refresh_from_db()
    assert ticket.status == "pending" and ticket.assignee == agent
    assert ticket.first_response_at is not None
    response = client.post(
        f"/tickets/{ticket.pk}/update/",
        {"status": "closed", "priority": "high", "type": "problem", "tags": "zipper, warranty"},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "pending"  # pending -> closed is refused, nothing changes
    client.post(f"/tickets/{ticket.pk}/update/", {"priority": "high", "tags": "zipper, warranty"})
    ticket.refresh_from_db()
    assert ticket.priority == "high"
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["warranty", "zipper"]


def test_light_agent_can_note_but_not_reply(ticket):
    specialist = UserFactory(role=Role.LIGHT_AGENT)
    client = logged_in(specialist)
    assert client.get(f"/tickets/{ticket.pk}/").status_code == 404
    ticket.collaborators.add(specialist)
    assert client.get(f"/tickets/{ticket.pk}/").status_code == 200
    assert (
        client.post(
            f"/tickets/{ticket.pk}/messages/", {"text": "hi", "visibility": "public"}
        ).status_code
        == 403
    )
    client.post(
        f"/tickets/{ticket.pk}/messages/", {"text": "Looks like batch 42", "visibility": "internal"}
    )
    assert Message.objects.filter(ticket=ticket, visibility="internal").count() == 1
    assert client.post(f"/tickets/{ticket.pk}/update/", {"priority": "low"}).status_code == 403


def test_customers_cannot_use_the_agent_workspace(ticket):
    client = logged_in(customer_user(ticket.requester))
    assert client.get("/tickets/").status_code == 403
    assert client.get(f"/tickets/{ticket.pk}/").status_code == 403


def test_healthz():
    assert Client().get("/healthz").json() == {"status": "ok"}


def test_attachments_are_served_only_through_the_permission_layer(agent):
    from frontline.channels.types import InboundAttachment

    result = inbound_message_ingest(
        InboundMessage(
            channel="email",
            sender=SenderIdentity(kind="email", value="files@example.com"),
            text="see attached",
            attachments=(
                InboundAttachment(
                    filename="report.html", content_type="text/html", content=b"<script>x</script>"
                ),
                InboundAttachment(
                    filename="photo.png", content_type="image/png", content=b"\x89PNG"
                ),
            ),
        )
    )
    ticket = Ticket.objects.get(pk=result.ticket_id)
    html_file = ticket.messages.get().attachments.get(filename="report.html")
    png = ticket.messages.get().attachments.get(filename="photo.png")
    url = f"/attachments/{html_file.pk}/{html_file.filename}"
    assert Client().get(url).status_code == 302  # login first
    response = logged_in(agent).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == b"<script>x</script>"
    image = logged_in(agent).get(f"/attachments/{png.pk}/{png.filename}")
    assert image["Content-Type"] == "image/png" and image["Content-Disposition"].startswith(
        "inline"
    )
    ticket.team = TeamFactory()
    ticket.save()
    assert logged_in(agent).get(url).status_code == 404  # not in that team
    other_customer = customer_user()
    assert logged_in(other_customer).get(url).status_code == 404
    assert logged_in(customer_user(ticket.requester)).get(url).status_code == 200

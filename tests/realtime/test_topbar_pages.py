"""Presence toggle and notification pages (the no-JavaScript path; live pushes are tested in
test_agent_socket.py and the browser tests)."""

from __future__ import annotations

import pytest
from django.test import Client

from frontline.accounts.models import AgentProfile, Notification, Role
from frontline.accounts.services import notification_create
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_topbar_shows_presence_and_unread_count(agent):
    ticket = TicketFactory()
    notification_create(user=agent, kind="assigned", text="You got #1", ticket_id=ticket.pk)
    html = logged_in(agent).get("/tickets/").content.decode()
    assert 'id="presence-select"' in html and 'id="notif-count"' in html
    assert "Notifications: 1 unread" in html


def test_presence_post_sets_it_and_returns_only_to_our_own_pages(agent):
    client = logged_in(agent)
    response = client.post("/presence/", {"presence": "online", "next": "/tickets/?view=mine"})
    assert response.status_code == 302 and response["Location"] == "/tickets/?view=mine"
    assert AgentProfile.objects.get(user=agent).presence == "online"
    response = client.post("/presence/", {"presence": "away", "next": "https://evil.example/"})
    assert response["Location"] == "/tickets/"
    client.post("/presence/", {"presence": "sleeping"})
    assert AgentProfile.objects.get(user=agent).presence == "away"


def test_notifications_page_lists_own_and_marks_read(agent):
    other = UserFactory(role=Role.AGENT)
    ticket = TicketFactory()
    notification_create(user=agent, kind="mentioned", text="Ann mentioned you", ticket_id=ticket.pk)
    notification_create(user=other, kind="mentioned", text="not yours")
    client = logged_in(agent)
    page = client.get("/notifications/").content.decode()
    assert "Ann mentioned you" in page and "not yours" not in page
    assert f"/tickets/{ticket.pk}/" in page
    client.post("/notifications/read/")
    assert not Notification.objects.filter(user=agent, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=other, read_at__isnull=True).exists()


def test_customers_cannot_use_them():
    customer = UserFactory(role=Role.CUSTOMER)
    client = logged_in(customer)
    assert client.get("/notifications/").status_code == 403
    assert client.post("/presence/", {"presence": "online"}).status_code == 403

"""Notifications: create (and the event the realtime layer pushes), mark read, counts."""

from __future__ import annotations

import pytest

from frontline.accounts.selectors import notifications_recent, notifications_unread_count
from frontline.accounts.services import (
    notification_create,
    notifications_create_many,
    notifications_mark_read,
)
from frontline.core.errors import ValidationFailed
from frontline.core.models import DomainEvent
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_create_publishes_notification_created():
    user = UserFactory()
    ticket = TicketFactory()
    note = notification_create(
        user=user, kind="mentioned", text="  Ana mentioned\nyou ", ticket_id=ticket.pk,
        actor_label="user:9",
    )  # fmt: skip
    assert note.text == "Ana mentioned you"
    event = DomainEvent.objects.get(name="notification.created")
    assert event.ticket_id == ticket.pk
    assert event.actor == "user:9"
    assert event.payload == {
        "notification_id": note.pk,
        "user_id": user.pk,
        "kind": "mentioned",
        "text": "Ana mentioned you",
    }


def test_create_refusals_and_long_text():
    user = UserFactory()
    with pytest.raises(ValidationFailed):
        notification_create(user=user, kind="party", text="x")
    with pytest.raises(ValidationFailed):
        notification_create(user=user, kind="swarm", text="   ")
    assert len(notification_create(user=user, kind="swarm", text="x" * 900).text) == 500


def test_create_many_one_event_each():
    users = UserFactory.create_batch(3)
    created = notifications_create_many(users=users, kind="swarm", text="help")
    assert all(n.pk for n in created)
    events = DomainEvent.objects.filter(name="notification.created")
    assert sorted(e.payload["notification_id"] for e in events) == sorted(n.pk for n in created)
    assert notifications_create_many(users=[], kind="swarm", text="help") == []


def test_mark_read_only_touches_own_notifications():
    me, other = UserFactory(), UserFactory()
    mine = [notification_create(user=me, kind="assigned", text=f"n{i}") for i in range(3)]
    theirs = notification_create(user=other, kind="assigned", text="theirs")
    assert notifications_unread_count(me) == 3

    assert notifications_mark_read(user=me, ids=[mine[0].pk, theirs.pk]) == 1
    assert notifications_unread_count(me) == 2
    assert notifications_unread_count(other) == 1
    assert notifications_mark_read(user=me, ids=[mine[0].pk]) == 0  # already read
    assert notifications_mark_read(user=me, ids="all") == 2
    assert notifications_unread_count(me) == 0
    assert notifications_unread_count(other) == 1


def test_recent_newest_first_and_bounded(django_assert_num_queries):
    me = UserFactory()
    for i in range(30):
        notification_create(user=me, kind="assigned", text=f"n{i}")
    notifications_mark_read(user=me, ids=list(me.notifications.values_list("pk", flat=True)[:5]))
    with django_assert_num_queries(1):
        recent = notifications_recent(me, limit=10)
    assert [n.text for n in recent] == [f"n{i}" for i in range(29, 19, -1)]
    assert len(notifications_recent(me, limit=1000)) == 30
    assert all(n.read_at is None for n in notifications_recent(me, unread_only=True, limit=100))
    assert len(notifications_recent(me, unread_only=True, limit=100)) == 25

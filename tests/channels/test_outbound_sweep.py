"""A reply whose send task was lost (the process died after the commit) is still sent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from frontline.channels.tasks import outbound_stuck_sweep
from frontline.core import bus
from frontline.tickets.actors import Actor
from frontline.tickets.models import Message
from frontline.tickets.services import message_add
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_lost_send_tasks_are_swept_up_but_recent_ones_left_alone():
    ticket = TicketFactory(channel="web")
    with bus.paused():  # as if the process died before enqueueing the send
        lost = message_add(ticket=ticket, actor=Actor.for_user(UserFactory()), text="Lost")
        recent = message_add(ticket=ticket, actor=Actor.for_user(UserFactory()), text="Retrying")
    Message.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert outbound_stuck_sweep() == 1
    lost.refresh_from_db()
    recent.refresh_from_db()
    assert lost.delivery_state == "sent"
    assert recent.delivery_state == "queued"  # its task may still be retrying: not touched
    assert outbound_stuck_sweep() == 0

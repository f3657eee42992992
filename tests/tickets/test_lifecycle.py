"""Every allowed and every forbidden status transition, through the service."""

from __future__ import annotations

import itertools

import pytest

from frontline.core.errors import InvalidTransition
from frontline.tickets import lifecycle
from frontline.tickets.actors import SYSTEM
from frontline.tickets.lifecycle import ALLOWED, Status
from frontline.tickets.models import Ticket, TicketEvent
from frontline.tickets.services import ticket_update
from tests.factories import TicketFactory

EXPECTED_ALLOWED = {
    ("new", "open"), ("new", "pending"), ("new", "on_hold"), ("new", "solved"),
    ("open", "pending"), ("open", "on_hold"), ("open", "solved"),
    ("pending", "open"), ("pending", "on_hold"), ("pending", "solved"),
    ("on_hold", "open"), ("on_hold", "pending"), ("on_hold", "solved"),
    ("solved", "open"), ("solved", "closed"),
}  # fmt: skip
ALL_PAIRS = [(a.value, b.value) for a, b in itertools.product(Status, Status) if a != b]


def test_the_table_is_what_we_document():
    table = {(a.value, b.value) for a, targets in ALLOWED.items() for b in targets}
    assert table == EXPECTED_ALLOWED


@pytest.mark.django_db
@pytest.mark.parametrize(("old", "new"), sorted(EXPECTED_ALLOWED))
def test_allowed_transition(old, new):
    ticket = TicketFactory(status=old)
    ticket_update(ticket=ticket, actor=SYSTEM, status=new)
    ticket.refresh_from_db()
    assert ticket.status == new
    event = TicketEvent.objects.get(ticket=ticket, field="status")
    assert (event.old_value, event.new_value) == (old, new)
    if new == "solved":
        assert ticket.solved_at is not None
    if new == "closed":
        assert ticket.closed_at is not None
    if (old, new) == ("solved", "open"):
        assert ticket.reopen_count == 1 and ticket.solved_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(("old", "new"), sorted(set(ALL_PAIRS) - EXPECTED_ALLOWED))
def test_forbidden_transition(old, new):
    ticket = TicketFactory(status=old)
    with pytest.raises(InvalidTransition):
        ticket_update(ticket=ticket, actor=SYSTEM, status=new)
    assert Ticket.objects.get(pk=ticket.pk).status == old
    assert not TicketEvent.objects.filter(ticket=ticket).exists()


def test_customer_message_moves():
    assert lifecycle.status_after_customer_message("solved") == Status.OPEN
    assert lifecycle.status_after_customer_message("pending") == Status.OPEN
    assert lifecycle.status_after_customer_message("on_hold") == Status.ON_HOLD
    assert lifecycle.status_after_customer_message("new") == Status.NEW
    with pytest.raises(ValueError, match="closed"):
        lifecycle.status_after_customer_message("closed")


def test_agent_reply_opens_new_tickets_only():
    assert lifecycle.status_after_agent_reply("new") == Status.OPEN
    assert lifecycle.status_after_agent_reply("pending") == Status.PENDING

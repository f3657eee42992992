from __future__ import annotations

import pytest

from frontline.accounts.models import Role
from frontline.core.models import DomainEvent
from frontline.tickets.actors import Actor
from frontline.tickets.models import Ticket
from frontline.tickets.services import message_add, ticket_create
from tests.factories import CustomerFactory, UserFactory


@pytest.fixture
def make_ticket(db):
    """A ticket opened by a customer message, through the services."""

    def make(subject="My boots are broken", *, requester=None, text="Hello", **fields):
        requester = requester or CustomerFactory()
        ticket = ticket_create(
            requester=requester, subject=subject, channel=fields.pop("channel", "email"), **fields
        )
        message_add(ticket=ticket, actor=Actor.for_customer(requester), text=text)
        return Ticket.objects.get(pk=ticket.pk)

    return make


@pytest.fixture
def supervisor(db):
    return UserFactory(role=Role.SUPERVISOR)


@pytest.fixture
def light_agent(db):
    return UserFactory(role=Role.LIGHT_AGENT)


def events_named(name):
    return list(DomainEvent.objects.filter(name=name).order_by("id"))


def kinds(ticket):
    return [e.kind for e in ticket.events.order_by("id")]

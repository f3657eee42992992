"""The expert finder: skills and recently solved similar tickets, ranked deterministically."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from frontline.accounts.models import Role
from frontline.tickets.experts import experts_for_ticket, significant_words
from frontline.tickets.models import Ticket
from frontline.tickets.services import ticket_create, ticket_update
from tests.factories import CustomerFactory, UserFactory, agent_skill

pytestmark = pytest.mark.django_db


def _solved(subject, assignee, *, tags=(), days_ago=1):
    ticket = ticket_create(
        requester=CustomerFactory(), subject=subject, assignee=assignee, tags=list(tags)
    )
    ticket_update(ticket=ticket, status="solved")
    Ticket.objects.filter(pk=ticket.pk).update(solved_at=timezone.now() - timedelta(days=days_ago))
    return ticket


def test_significant_words():
    assert significant_words("Re: The zipper of my JACKET broke, order 1042!") == {
        "zipper",
        "jacket",
        "broke",
        "order",
    }


def test_skills_and_solved_history_are_combined_and_explained():
    zed = UserFactory(username="zed")
    amy = UserFactory(username="amy")
    bob = UserFactory(username="bob")
    agent_skill(zed, "zippers", 5)
    agent_skill(amy, "Returns", 2)
    agent_skill(amy, "unrelated", 5)
    _solved("Jacket zipper stuck", bob)
    _solved("Zipper broken on jacket", bob)
    _solved("Jacket colour", bob)  # one shared word only: not similar
    _solved("Refund please", amy, tags=["returns"])
    ticket = ticket_create(
        requester=CustomerFactory(), subject="Broken zipper on my jacket", tags=["returns"]
    )
    agent_skill(amy, "jacket", 1)

    experts = experts_for_ticket(ticket)

    assert [(e.user.username, e.score) for e in experts] == [("amy", 5), ("bob", 4)]
    assert experts[0].reasons == [
        "skill returns (level 2)",
        "skill jacket (level 1)",
        "solved 1 similar ticket(s) recently",
    ]
    assert experts[1].reasons == ["solved 2 similar ticket(s) recently"]
    # "zippers" is not "zipper": skills match whole tags or subject words
    assert zed not in [e.user for e in experts]


def test_exclusions_window_and_deterministic_ties():
    old = UserFactory(username="old")
    gone = UserFactory(username="gone", is_active=False)
    light = UserFactory(username="light", role=Role.LIGHT_AGENT)
    assignee = UserFactory(username="assignee")
    b, a = UserFactory(username="b-agent"), UserFactory(username="a-agent")
    for user in (gone, light, assignee, a, b):
        agent_skill(user, "billing", 3)
    _solved("billing invoice wrong", old, days_ago=200)  # outside 180 days
    ticket = ticket_create(
        requester=CustomerFactory(), subject="Billing invoice wrong", assignee=assignee
    )
    experts = experts_for_ticket(ticket)
    assert [e.user.username for e in experts] == ["a-agent", "b-agent"]  # tie: by username
    assert experts_for_ticket(ticket) == experts
    assert experts_for_ticket(ticket, limit=1) == experts[:1]


def test_nothing_to_match():
    UserFactory()
    ticket = ticket_create(requester=CustomerFactory(), subject="Hi there")
    assert experts_for_ticket(ticket) == []


def test_query_count_does_not_grow_with_agents(django_assert_max_num_queries):
    for n in range(15):
        agent = UserFactory()
        agent_skill(agent, "shipping", 1 + n % 5)
        _solved(f"Shipping delay parcel {n}", agent, tags=["shipping"])
    ticket = ticket_create(
        requester=CustomerFactory(), subject="Parcel shipping delay", tags=["shipping"]
    )
    with django_assert_max_num_queries(5):
        experts = experts_for_ticket(ticket, limit=10)
        assert len(experts) == 10
        assert [e.user.username for e in experts]  # users came with the last query

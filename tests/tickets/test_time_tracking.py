"""Timers, manual entries, deletes, totals and the CSV export rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from frontline.accounts.models import Role
from frontline.core.errors import Conflict, PermissionDenied, ValidationFailed
from frontline.tickets.actors import Actor
from frontline.tickets.models import TimeEntry
from frontline.tickets.selectors import (
    TIME_EXPORT_HEADER,
    time_entries_export_rows,
    time_entries_filter,
    time_totals_by_agent,
    time_totals_for_ticket,
)
from frontline.tickets.services import (
    ticket_collaborator_add,
    time_entry_add,
    time_entry_delete,
    timer_start,
    timer_stop,
)
from tests.factories import TimeEntryFactory, UserFactory
from tests.tickets.conftest import events_named, kinds

pytestmark = pytest.mark.django_db


def test_timer_start_is_idempotent_and_stop_records_the_time(make_ticket, agent):
    ticket = make_ticket()
    actor = Actor.for_user(agent)
    first = timer_start(ticket=ticket, actor=actor)
    again = timer_start(ticket=ticket, actor=actor)
    assert again.pk == first.pk
    assert TimeEntry.objects.filter(running=True).count() == 1
    assert len(events_named("time_entry.started")) == 1
    TimeEntry.objects.filter(pk=first.pk).update(started_at=timezone.now() - timedelta(minutes=5))

    stopped = timer_stop(ticket=ticket, actor=actor)

    assert not stopped.running
    assert 299 <= stopped.seconds <= 310
    assert kinds(ticket)[-2:] == ["timer_started", "time_tracked"]
    (recorded,) = events_named("time_entry.recorded")
    assert recorded.payload["seconds"] == stopped.seconds
    with pytest.raises(Conflict):
        timer_stop(ticket=ticket, actor=actor)
    assert timer_start(ticket=ticket, actor=actor).pk != first.pk  # a new one after a stop


def test_one_running_timer_per_agent_and_ticket_is_a_database_rule(make_ticket, agent):
    ticket = make_ticket()
    TimeEntryFactory(ticket=ticket, user=agent, running=True, seconds=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeEntryFactory(ticket=ticket, user=agent, running=True, seconds=0)
    other = UserFactory()
    TimeEntryFactory(ticket=ticket, user=other, running=True, seconds=0)  # another agent: fine


def test_a_forgotten_timer_is_capped_at_a_day(make_ticket, agent):
    ticket = make_ticket()
    entry = timer_start(ticket=ticket, actor=Actor.for_user(agent))
    TimeEntry.objects.filter(pk=entry.pk).update(started_at=timezone.now() - timedelta(days=3))
    assert timer_stop(ticket=ticket, actor=Actor.for_user(agent)).seconds == 24 * 3600


@pytest.mark.parametrize("minutes", [0, -5, 24 * 60 + 1, True, 2.5])
def test_manual_entries_are_one_minute_to_a_day(make_ticket, agent, minutes):
    with pytest.raises(ValidationFailed) as refused:
        time_entry_add(ticket=make_ticket(), actor=Actor.for_user(agent), minutes=minutes)
    assert refused.value.fields == {"minutes": ["1 to 1440"]}


def test_manual_entry(make_ticket, agent):
    ticket = make_ticket()
    entry = time_entry_add(
        ticket=ticket, actor=Actor.for_user(agent), minutes=24 * 60, note="Long call"
    )
    assert (entry.seconds, entry.note, entry.running) == (86400, "Long call", False)
    with pytest.raises(ValidationFailed):
        time_entry_add(
            ticket=ticket,
            actor=Actor.for_user(agent),
            minutes=5,
            started_at=timezone.now() + timedelta(hours=1),
        )


def test_customers_and_outsiders_track_no_time(make_ticket):
    from frontline.tickets.services import ticket_update
    from tests.factories import TeamFactory

    ticket = make_ticket()
    with pytest.raises(PermissionDenied):
        timer_start(ticket=ticket, actor=Actor.for_customer(ticket.requester))
    light = UserFactory(role=Role.LIGHT_AGENT)
    with pytest.raises(PermissionDenied):
        timer_start(ticket=ticket, actor=Actor.for_user(light))
    ticket_collaborator_add(ticket=ticket, user=light)
    assert timer_start(ticket=ticket, actor=Actor.for_user(light)).running
    ticket_update(ticket=ticket, team=TeamFactory())
    with pytest.raises(PermissionDenied):  # an agent outside the ticket's team
        time_entry_add(ticket=ticket, actor=Actor.for_user(UserFactory()), minutes=5)


def test_delete_own_entries_supervisors_any(make_ticket, agent, supervisor):
    ticket = make_ticket()
    mine = time_entry_add(ticket=ticket, actor=Actor.for_user(agent), minutes=5)
    other_agent = UserFactory()
    theirs = time_entry_add(ticket=ticket, actor=Actor.for_user(other_agent), minutes=5)
    with pytest.raises(PermissionDenied):
        time_entry_delete(entry=theirs, actor=Actor.for_user(agent))
    time_entry_delete(entry=mine, actor=Actor.for_user(agent))
    time_entry_delete(entry=theirs, actor=Actor.for_user(supervisor))
    assert TimeEntry.objects.count() == 0
    assert kinds(ticket).count("time_entry_deleted") == 2
    assert len(events_named("time_entry.deleted")) == 2


def test_totals_per_ticket_and_per_agent(make_ticket, agent, django_assert_num_queries):
    ana = UserFactory(username="ana", display_name="Ana")
    ticket, other = make_ticket("a"), make_ticket("b")
    TimeEntryFactory(ticket=ticket, user=ana, seconds=600)
    TimeEntryFactory(ticket=ticket, user=ana, seconds=300)
    TimeEntryFactory(ticket=ticket, user=agent, seconds=1200)
    TimeEntryFactory(ticket=other, user=agent, seconds=60)
    TimeEntryFactory(ticket=ticket, user=agent, seconds=0, running=True)  # not counted yet

    with django_assert_num_queries(1):
        totals = time_totals_for_ticket(ticket)
    assert totals.total_seconds == 2100
    assert [(a.name, a.seconds, a.entries) for a in totals.by_agent] == [
        (agent.username, 1200, 1),
        ("Ana", 900, 2),
    ]
    with django_assert_num_queries(1):
        by_agent = time_totals_by_agent(time_entries_filter())
    assert [(a.user_id, a.seconds) for a in by_agent] == [(agent.pk, 1260), (ana.pk, 900)]


def test_export_rows_filter_and_escape(make_ticket, agent, django_assert_max_num_queries):
    now = timezone.now()
    ticket = make_ticket("=HYPERLINK(evil)")
    other = make_ticket("Other")
    TimeEntryFactory(ticket=ticket, user=agent, seconds=90, note="+1 call",
                     started_at=now - timedelta(days=1))  # fmt: skip
    TimeEntryFactory(ticket=other, user=agent, seconds=60, started_at=now - timedelta(days=10))
    for n in range(20):
        TimeEntryFactory(ticket=other, user=UserFactory(), seconds=n + 1, started_at=now)

    with django_assert_max_num_queries(2):
        rows = list(time_entries_export_rows(time_entries_filter()))
    assert rows[0] == TIME_EXPORT_HEADER
    assert len(rows) == 23
    recent = list(
        time_entries_export_rows(
            time_entries_filter(start=now - timedelta(days=2), end=now, agent_id=agent.pk)
        )
    )
    assert len(recent) == 2
    row = dict(zip(TIME_EXPORT_HEADER, recent[1], strict=True))
    assert row["ticket_id"] == str(ticket.pk)
    assert row["ticket_subject"] == "'=HYPERLINK(evil)"  # never a formula in a spreadsheet
    assert row["note"] == "'+1 call"
    assert (row["seconds"], row["minutes"]) == ("90", "1.50")
    assert len(list(time_entries_export_rows(time_entries_filter(ticket_id=other.pk)))) == 22

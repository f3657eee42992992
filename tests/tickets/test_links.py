"""Ticket links (related, incident -> problem) and the problem -> incident cascade."""

from __future__ import annotations

import pytest

from frontline.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from frontline.tickets.actors import Actor
from frontline.tickets.models import TicketLink
from frontline.tickets.permissions import tickets_visible_to
from frontline.tickets.selectors import ticket_links
from frontline.tickets.services import ticket_link, ticket_unlink, ticket_update
from tests.factories import TeamFactory, UserFactory
from tests.tickets.conftest import events_named, kinds

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor(agent):
    return Actor.for_user(agent)


def test_incident_link_sets_types_and_records_both_timelines(make_ticket, actor):
    problem, incident = make_ticket("Checkout down"), make_ticket("Cannot pay")
    link = ticket_link(from_ticket=incident, to_ticket=problem, kind="incident_of", actor=actor)
    problem.refresh_from_db()
    incident.refresh_from_db()
    assert (incident.type, problem.type) == ("incident", "problem")
    assert "link_added" in kinds(problem) and "link_added" in kinds(incident)
    type_row = incident.events.get(kind="field_changed", field="type")
    assert (type_row.old_value, type_row.new_value) == ("question", "incident")
    (event,) = events_named("ticket.linked")
    assert event.payload["link_id"] == link.pk
    assert event.payload["types_changed"] == {
        str(incident.pk): "incident",
        str(problem.pk): "problem",
    }

    links = ticket_links(problem)
    assert [t.pk for _, t in links.incidents] == [incident.pk]
    assert links.problem is None
    found = ticket_links(incident).problem
    assert found is not None
    assert found[1].pk == problem.pk


def test_link_refusals(make_ticket, actor):
    a, b, c = make_ticket("a"), make_ticket("b"), make_ticket("c")
    with pytest.raises(ValidationFailed):
        ticket_link(from_ticket=a, to_ticket=a, kind="related", actor=actor)
    with pytest.raises(ValidationFailed):
        ticket_link(from_ticket=a, to_ticket=b, kind="duplicate", actor=actor)
    ticket_link(from_ticket=a, to_ticket=b, kind="related", actor=actor)
    with pytest.raises(Conflict):
        ticket_link(from_ticket=a, to_ticket=b, kind="related", actor=actor)
    with pytest.raises(Conflict):  # related is one link for both directions
        ticket_link(from_ticket=b, to_ticket=a, kind="related", actor=actor)

    ticket_link(from_ticket=a, to_ticket=c, kind="incident_of", actor=actor)
    with pytest.raises(Conflict) as second_problem:  # an incident has one problem
        ticket_link(from_ticket=a, to_ticket=b, kind="incident_of", actor=actor)
    assert second_problem.value.fields == {"from_ticket": [f"already an incident of #{c.pk}"]}
    with pytest.raises(ValidationFailed):  # the cycle c -> a
        ticket_link(from_ticket=c, to_ticket=a, kind="incident_of", actor=actor)
    with pytest.raises(ValidationFailed):  # a chain b -> a (a is an incident)
        ticket_link(from_ticket=b, to_ticket=a, kind="incident_of", actor=actor)
    with pytest.raises(ValidationFailed):  # c has incidents: it cannot become one
        ticket_link(from_ticket=c, to_ticket=b, kind="incident_of", actor=actor)
    assert TicketLink.objects.count() == 2

    solved = make_ticket("solved problem")
    ticket_update(ticket=solved, status="solved")
    with pytest.raises(InvalidTransition):
        ticket_link(from_ticket=b, to_ticket=solved, kind="incident_of", actor=actor)


def test_linking_needs_update_rights_on_both(make_ticket):
    team_a, team_b = TeamFactory(), TeamFactory()
    agent_a = UserFactory()
    agent_a.teams.add(team_a)
    mine, theirs = make_ticket("mine", team=team_a), make_ticket("theirs", team=team_b)
    with pytest.raises(PermissionDenied):
        ticket_link(
            from_ticket=mine, to_ticket=theirs, kind="related", actor=Actor.for_user(agent_a)
        )


def test_unlink_records_and_keeps_types(make_ticket, actor):
    problem, incident = make_ticket("p"), make_ticket("i")
    link = ticket_link(from_ticket=incident, to_ticket=problem, kind="incident_of", actor=actor)
    ticket_unlink(link=link, actor=actor)
    assert TicketLink.objects.count() == 0
    incident.refresh_from_db()
    assert incident.type == "incident"
    assert "link_removed" in kinds(problem) and "link_removed" in kinds(incident)
    assert events_named("ticket.unlinked")[0].payload["kind"] == "incident_of"
    ticket_unlink(link=link, actor=actor)  # gone already: nothing more happens
    assert len(events_named("ticket.unlinked")) == 1


def test_ticket_links_hides_tickets_the_reader_cannot_see(make_ticket, supervisor):
    actor = Actor.for_user(supervisor)
    team_a, team_b = TeamFactory(), TeamFactory()
    agent_a = UserFactory()
    agent_a.teams.add(team_a)
    mine, theirs = make_ticket("mine", team=team_a), make_ticket("theirs", team=team_b)
    ticket_link(from_ticket=mine, to_ticket=theirs, kind="related", actor=actor)
    assert len(ticket_links(mine).related) == 1
    assert ticket_links(mine, visible=tickets_visible_to(agent_a)).related == []


def test_ticket_links_query_count(make_ticket, actor, django_assert_max_num_queries):
    problem = make_ticket("p")
    for n in range(5):
        ticket_link(
            from_ticket=make_ticket(f"i{n}"), to_ticket=problem, kind="incident_of", actor=actor
        )
    ticket_link(from_ticket=problem, to_ticket=make_ticket("r"), kind="related", actor=actor)
    # the agent's teams, the visible ids, the links with both tickets: whatever the count
    with django_assert_max_num_queries(3):
        links = ticket_links(problem, visible=tickets_visible_to(actor.user))
        assert [t.subject for _, t in links.incidents] == [f"i{n}" for n in range(5)]


def test_solving_a_problem_solves_its_open_incidents_with_a_public_reply(make_ticket, actor):
    problem = make_ticket("Checkout down")
    open_one, pending_one, solved_one = make_ticket("a"), make_ticket("b"), make_ticket("c")
    for incident in (open_one, pending_one, solved_one):
        ticket_link(from_ticket=incident, to_ticket=problem, kind="incident_of", actor=actor)
    ticket_update(ticket=pending_one, status="pending")
    ticket_update(ticket=solved_one, status="solved")
    solved_before = solved_one.events.count()

    ticket_update(ticket=problem, actor=actor, status="solved", solve_note="Payment provider fixed")

    for incident in (open_one, pending_one):
        incident.refresh_from_db()
        assert incident.status == "solved"
        reply = incident.messages.order_by("id").last()
        assert reply.visibility == "public"
        assert reply.direction == "outbound"
        assert reply.text == (
            f"The underlying problem #{problem.pk} was solved: Payment provider fixed"
        )
        status_row = incident.events.filter(field="status").last()
        assert status_row.new_value == "solved"
        assert status_row.data["problem_id"] == problem.pk
    assert solved_one.events.count() == solved_before  # left alone
    assert problem.events.get(kind="incidents_solved").data["ticket_ids"] == [
        open_one.pk,
        pending_one.pk,
    ]
    updated = [e.ticket_id for e in events_named("ticket.updated")]
    assert open_one.pk in updated and pending_one.pk in updated


def test_cascade_is_idempotent_and_reaches_only_reopened_incidents(make_ticket, actor):
    problem, first, second = make_ticket("p"), make_ticket("i1"), make_ticket("i2")
    for incident in (first, second):
        ticket_link(from_ticket=incident, to_ticket=problem, kind="incident_of", actor=actor)
    ticket_update(ticket=problem, actor=actor, status="solved")
    assert first.messages.count() == 2
    ticket_update(ticket=problem, actor=actor, status="solved")  # no change, no cascade
    assert first.messages.count() == 2

    ticket_update(ticket=problem, actor=actor, status="open")
    ticket_update(ticket=second, actor=actor, status="open")
    ticket_update(ticket=problem, actor=actor, status="solved")
    assert first.messages.count() == 2  # still solved: untouched
    assert second.messages.count() == 3
    second.refresh_from_db()
    assert second.status == "solved"
    assert second.messages.order_by("id").last().text == (
        f"The underlying problem #{problem.pk} was solved."
    )


def test_a_failing_incident_rolls_the_problem_back(make_ticket, actor, monkeypatch):
    from frontline.tickets import services

    problem, incident = make_ticket("p"), make_ticket("i")
    ticket_link(from_ticket=incident, to_ticket=problem, kind="incident_of", actor=actor)

    def boom(**kwargs):
        raise ValidationFailed("no", fields={"text": ["no"]})

    monkeypatch.setattr(services, "message_add", boom)
    with pytest.raises(ValidationFailed):
        ticket_update(ticket=problem, actor=actor, status="solved")
    problem.refresh_from_db()
    assert problem.status == "new"

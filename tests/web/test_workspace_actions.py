"""Queue actions: saved views (create, validate, share, delete) and bulk changes to tickets."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from frontline.accounts.models import Role
from frontline.core.errors import NotFound, ValidationFailed
from frontline.tickets.models import Tag, Ticket, TicketEvent
from frontline.web import services
from frontline.web.models import SavedView
from tests.factories import SavedViewFactory, TeamFactory, TicketFactory, UserFactory
from tests.web.test_workspace_list import listed, logged_in

pytestmark = pytest.mark.django_db


def flashes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def supervisor(db):
    return UserFactory(role=Role.SUPERVISOR)


# --------------------------------------------------------------------------- saved views


def test_save_the_current_filters_as_a_personal_view(agent):
    urgent = TicketFactory(subject="Urgent one", priority="urgent", status="open")
    TicketFactory(subject="Calm one", priority="low", status="open")
    client = logged_in(agent)
    response = client.post(
        "/tickets/views/",
        {
            "name": "  My   urgent ",
            "priority": ["urgent"],
            "status": ["new", "open"],
            "sort": "waiting",
        },
    )
    view = SavedView.objects.get()
    assert (view.name, view.owner, view.sort) == ("My urgent", agent, "waiting")
    assert view.filters == {"status": ["new", "open"], "priority": ["urgent"]}
    assert response.status_code == 302 and response["Location"] == f"/tickets/?view=saved-{view.pk}"
    page = client.get(response["Location"])
    assert listed(page) == [urgent.pk]
    assert b"My urgent" in page.content and b"Delete view" in page.content
    assert b'<option value="waiting" selected>' in page.content
    # only its owner has it
    other = logged_in(UserFactory(role=Role.AGENT)).get("/tickets/")
    assert b"My urgent" not in other.content
    # someone else's view id falls back to the default view instead of showing it
    stranger = logged_in(UserFactory(role=Role.AGENT)).get(f"/tickets/?view=saved-{view.pk}")
    assert b"My urgent" not in stranger.content and len(listed(stranger)) == 2


def test_the_list_offers_save_as_view_with_the_current_filters(agent):
    page = logged_in(agent).get("/tickets/?view=open&f=1&priority=high&tag=vip&sort=priority")
    form = re.search(
        r'<form method="post" action="/tickets/views/">.*?</form>', page.content.decode(), re.S
    )
    html = form.group(0)
    for hidden in [
        'name="priority" value="high"',
        'name="tag" value="vip"',
        'name="sort" value="priority"',
    ]:
        assert hidden in html
    assert 'name="shared"' not in html  # agents do not share views


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "", "status": ["open"]}, "needs a name"),
        ({"name": "x" * 81}, "too long"),
        ({"name": "Bad", "status": ["bogus"]}, "status: unknown status bogus"),
        ({"name": "Bad", "team": ["424242"]}, "team: no team with id 424242"),
        ({"name": "Bad", "sort": "sideways"}, "sort: one of"),
    ],
)
def test_saved_views_are_validated(agent, data, message):
    response = logged_in(agent).post("/tickets/views/", {"next": "/tickets/?view=all", **data})
    assert response.status_code == 302 and response["Location"] == "/tickets/?view=all"
    assert any(message in m for m in flashes(response)), flashes(response)
    assert not SavedView.objects.exists()


def test_names_are_unique_per_owner(agent):
    services.saved_view_create(user=agent, name="Mine", filters={})
    with pytest.raises(ValidationFailed, match="exists already"):
        services.saved_view_create(user=agent, name="mine", filters={})
    services.saved_view_create(user=UserFactory(role=Role.AGENT), name="Mine", filters={})


def test_stored_filters_reject_unknown_keys(agent):
    with pytest.raises(ValidationFailed) as error:
        services.saved_view_create(user=agent, name="X", filters={"colour": "red"})
    assert error.value.fields == {"colour": ["not a filter"]}


def test_only_admins_and_supervisors_share_views(agent, supervisor):
    response = logged_in(agent).post("/tickets/views/", {"name": "Team", "shared": "1"})
    assert any("Only admins and supervisors" in m for m in flashes(response))
    assert not SavedView.objects.exists()
    logged_in(supervisor).post(
        "/tickets/views/", {"name": "Escalations", "priority": "urgent", "shared": "1"}
    )
    shared = SavedView.objects.get()
    assert shared.owner is None and shared.is_shared
    for user in (agent, UserFactory(role=Role.LIGHT_AGENT), UserFactory(role=Role.ADMIN)):
        assert b"Escalations" in logged_in(user).get("/tickets/").content


def test_delete_own_view_but_not_someone_elses(agent, supervisor):
    mine = SavedViewFactory(owner=agent, name="Mine")
    theirs = SavedViewFactory(owner=UserFactory(role=Role.AGENT), name="Theirs")
    shared = SavedViewFactory(owner=None, name="Shared")
    client = logged_in(agent)
    response = client.post(f"/tickets/views/{theirs.pk}/delete/")
    assert any("No such saved view" in m for m in flashes(response))
    response = client.post(f"/tickets/views/{shared.pk}/delete/")
    assert any("Only admins and supervisors" in m for m in flashes(response))
    assert b"Delete view" not in client.get(f"/tickets/?view=saved-{shared.pk}").content
    response = client.post(f"/tickets/views/{mine.pk}/delete/")
    assert response["Location"] == "/tickets/"
    assert set(SavedView.objects.values_list("name", flat=True)) == {"Theirs", "Shared"}
    logged_in(supervisor).post(f"/tickets/views/{shared.pk}/delete/")
    assert not SavedView.objects.filter(pk=shared.pk).exists()
    with pytest.raises(NotFound):
        services.saved_view_delete(user=agent, view_id=999999)


def test_saved_view_edited_by_hand_into_nonsense_lists_nothing(agent):
    TicketFactory(status="open")
    broken = SavedViewFactory(owner=agent, filters={"status": ["nope"]})
    page = logged_in(agent).get(f"/tickets/?view=saved-{broken.pk}")
    assert page.status_code == 200 and listed(page) == []


def test_saved_views_are_posts_only(agent):
    assert logged_in(agent).get("/tickets/views/").status_code == 405
    assert logged_in(agent).get("/tickets/bulk/").status_code == 405


# --------------------------------------------------------------------------- bulk actions


def bulk(client, tickets, **data):
    return client.post(
        "/tickets/bulk/",
        {"ids": [str(t.pk) for t in tickets], "next": "/tickets/?view=all", **data},
    )


def test_bulk_assign_status_team_and_tag(agent, admin_user):
    team = TeamFactory(name="Returns")
    team.members.add(agent)
    tickets = [TicketFactory(status="new") for _ in range(3)]
    tickets[0].tags.add(Tag.objects.create(name="existing"))
    client = logged_in(admin_user)
    response = bulk(
        client, tickets, assignee=str(agent.pk), status="open", team=str(team.pk), add_tag=" VIP "
    )
    assert response.status_code == 302 and response["Location"] == "/tickets/?view=all"
    assert flashes(response) == ["Updated 3 tickets."]
    for ticket in Ticket.objects.filter(pk__in=[t.pk for t in tickets]):
        assert (ticket.assignee, ticket.status, ticket.team) == (agent, "open", team)
        assert "vip" in {t.name for t in ticket.tags.all()}
    assert {t.name for t in Ticket.objects.get(pk=tickets[0].pk).tags.all()} == {"existing", "vip"}
    # each change is on each ticket's timeline, by the user who made it
    events = TicketEvent.objects.filter(ticket=tickets[1], kind="field_changed")
    assert {e.field for e in events} == {"assignee", "status", "team", "tags"}
    assert {e.actor_user_id for e in events} == {admin_user.pk}
    # unassign and clear the team
    bulk(client, tickets, assignee="none", team="none")
    assert not Ticket.objects.filter(
        pk__in=[t.pk for t in tickets], assignee__isnull=False
    ).exists()
    assert not Ticket.objects.filter(pk__in=[t.pk for t in tickets], team__isnull=False).exists()


def test_bulk_reports_per_ticket_failures_and_changes_the_rest(admin_user):
    fine = TicketFactory(status="open")
    solved = TicketFactory(status="solved")  # solved -> pending is not allowed
    closed = TicketFactory(status="closed")  # closed tickets never change
    response = bulk(logged_in(admin_user), [fine, solved, closed], status="pending")
    messages = flashes(response)
    assert messages[0] == "Updated 1 ticket."
    assert messages[1].startswith("2 tickets not changed.")
    assert f"#{solved.pk}: A ticket cannot go from solved to pending." in messages[1]
    assert f"#{closed.pk}: Closed tickets cannot change." in messages[1]
    statuses = dict(Ticket.objects.values_list("pk", "status"))
    assert (statuses[fine.pk], statuses[solved.pk], statuses[closed.pk]) == (
        "pending",
        "solved",
        "closed",
    )


def test_bulk_refuses_what_the_user_may_not_change(agent):
    team_a, team_b = TeamFactory(), TeamFactory()
    team_a.members.add(agent)
    mine = TicketFactory(team=team_a, status="open")
    hidden = TicketFactory(team=team_b, status="open")
    response = bulk(logged_in(agent), [mine, hidden], status="pending")
    assert flashes(response)[0] == "Updated 1 ticket."
    assert f"#{hidden.pk}: not found" in flashes(response)[1]
    assert Ticket.objects.get(pk=hidden.pk).status == "open"
    # a light agent may read the tickets they were invited to, but not change them
    light = UserFactory(role=Role.LIGHT_AGENT)
    mine.collaborators.add(light)
    response = bulk(logged_in(light), [mine], status="solved")
    assert f"#{mine.pk}: you may not change this ticket" in flashes(response)[0]
    assert Ticket.objects.get(pk=mine.pk).status == "pending"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"status": "open"}, "Select at least one ticket."),
        ({}, "Choose a change to apply."),
        ({"assignee": "999999"}, "Tickets are assigned to agents."),
        ({"status": "sideways"}, "Unknown status."),
        ({"team": "999999"}, "No such team."),
    ],
)
def test_bulk_input_errors(admin_user, data, message):
    ticket = TicketFactory(status="open")
    ids = [] if message.startswith("Select") else [ticket]
    response = bulk(logged_in(admin_user), ids, **data)
    assert flashes(response) == [message]


def test_bulk_assign_to_a_light_agent_is_refused(admin_user):
    light = UserFactory(role=Role.LIGHT_AGENT)
    response = bulk(logged_in(admin_user), [TicketFactory()], assignee=str(light.pk))
    assert flashes(response) == ["Tickets are assigned to agents."]


def test_bulk_with_nothing_to_change_says_so(admin_user):
    ticket = TicketFactory(status="open")
    response = bulk(logged_in(admin_user), [ticket], status="open")
    assert flashes(response) == ["Nothing to change: the selected tickets already match."]


def test_bulk_never_redirects_off_site(admin_user):
    response = logged_in(admin_user).post(
        "/tickets/bulk/",
        {"ids": [str(TicketFactory().pk)], "status": "open", "next": "https://evil.example/"},
    )
    assert response["Location"] == "/tickets/"


def test_bulk_limit(admin_user):
    with pytest.raises(ValidationFailed, match="At most"):
        services.tickets_bulk_update(
            user=admin_user,
            ticket_ids=list(range(1, services.BULK_MAX + 2)),
            change=services.BulkChange(status="open"),
        )


def test_bulk_needs_csrf(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post("/tickets/bulk/", {"ids": ["1"], "status": "open"}).status_code == 403


def test_bulk_result_is_shown_after_the_redirect(admin_user):
    ticket = TicketFactory(status="open")
    page = logged_in(admin_user).post(
        "/tickets/bulk/",
        {"ids": [str(ticket.pk)], "status": "pending", "next": "/tickets/?view=all"},
        follow=True,
    )
    html = page.content.decode()
    flash = html[html.index('id="flash-region"') :]
    assert "flash flash-success" in flash and "Updated 1 ticket." in flash

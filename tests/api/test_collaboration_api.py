"""The collaboration endpoints over HTTP: what they answer, beyond who may call them (that is
the permission matrix)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from frontline.accounts.models import Role
from frontline.tickets import services as ticket_services
from frontline.tickets.actors import Actor
from frontline.tickets.models import Ticket
from tests.factories import CustomerFactory, TeamFactory, TimeEntryFactory, UserFactory

pytestmark = pytest.mark.django_db


def make_ticket(subject="Question", requester=None, **fields):
    requester = requester or CustomerFactory()
    ticket = ticket_services.ticket_create(requester=requester, subject=subject, **fields)
    ticket_services.message_add(ticket=ticket, actor=Actor.for_customer(requester), text="Hi")
    return Ticket.objects.get(pk=ticket.pk)


@pytest.fixture
def admin_api(api_for, admin_user):
    return api_for(admin_user)


def test_merge_answers_the_survivor_with_its_cc(admin_api):
    target, source = make_ticket("Boots"), make_ticket("Boots again")
    response = admin_api.post(f"/api/tickets/{target.pk}/merge", {"source_ids": [source.pk]})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["cc_customers"] == [{"id": source.requester_id, "name": source.requester.name}]
    assert data["message_count"] == 3
    source_data = admin_api.get(f"/api/tickets/{source.pk}").json()
    assert (source_data["status"], source_data["merged_into_id"]) == ("closed", target.pk)

    again = admin_api.post(f"/api/tickets/{target.pk}/merge", {"source_ids": [source.pk]})
    assert again.status_code == 409
    assert again.json()["error"]["fields"] == {"source": ["already merged"]}
    itself = admin_api.post(f"/api/tickets/{target.pk}/merge", {"source_ids": [target.pk]})
    assert itself.status_code == 422
    missing = admin_api.post(f"/api/tickets/{target.pk}/merge", {"source_ids": [987654]})
    assert missing.json()["error"]["fields"] == {"source_ids": ["987654: not found"]}


def test_split_only_messages_of_that_ticket(admin_api):
    ticket, other = make_ticket("a"), make_ticket("b")
    message = other.messages.get()
    response = admin_api.post(f"/api/tickets/{ticket.pk}/messages/{message.pk}/split")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No such message."


def test_links_round_trip(admin_api):
    problem, incident = make_ticket("Checkout down"), make_ticket("Cannot pay")
    created = admin_api.post(
        f"/api/tickets/{incident.pk}/links", {"to_ticket_id": problem.pk, "kind": "incident_of"}
    )
    assert created.status_code == 201
    assert created.json()["ticket"] == {
        "id": problem.pk,
        "subject": "Checkout down",
        "status": "new",
        "type": "problem",
    }
    links = admin_api.get(f"/api/tickets/{problem.pk}/links").json()
    assert [i["ticket"]["id"] for i in links["incidents"]] == [incident.pk]
    assert admin_api.get(f"/api/tickets/{incident.pk}/links").json()["problem"]["ticket"]["id"] == (
        problem.pk
    )
    solved = admin_api.patch(
        f"/api/tickets/{problem.pk}", {"status": "solved", "solve_note": "Provider fixed"}
    )
    assert solved.status_code == 200
    assert admin_api.get(f"/api/tickets/{incident.pk}").json()["status"] == "solved"
    reply = admin_api.get(f"/api/tickets/{incident.pk}/messages").json()[-1]
    assert reply["text"] == f"The underlying problem #{problem.pk} was solved: Provider fixed"
    assert reply["visibility"] == "public"
    link_id = created.json()["id"]
    assert admin_api.delete(f"/api/tickets/{problem.pk}/links/{link_id}").status_code == 204
    assert admin_api.delete(f"/api/tickets/{problem.pk}/links/{link_id}").status_code == 404


def test_time_entries_and_timer(api_for, agent):
    api = api_for(agent)
    ticket = make_ticket()
    first = api.post(f"/api/tickets/{ticket.pk}/time-entries/start").json()
    second = api.post(f"/api/tickets/{ticket.pk}/time-entries/start").json()
    assert first["id"] == second["id"] and first["running"]
    stopped = api.post(f"/api/tickets/{ticket.pk}/time-entries/stop").json()
    assert stopped["running"] is False
    assert api.post(f"/api/tickets/{ticket.pk}/time-entries/stop").status_code == 409
    manual = api.post(f"/api/tickets/{ticket.pk}/time-entries", {"minutes": 30, "note": "call"})
    assert manual.status_code == 201
    too_long = api.post(f"/api/tickets/{ticket.pk}/time-entries", {"minutes": 24 * 60 + 1})
    assert too_long.status_code == 422
    listed = api.get(f"/api/tickets/{ticket.pk}/time-entries").json()
    assert listed["total_seconds"] == 1800 + stopped["seconds"]
    assert listed["by_agent"][0]["user_id"] == agent.pk
    assert len(listed["entries"]) == 2


def test_csv_export_filters_and_only_shows_visible_tickets(api_for, supervisor_and_teams):
    supervisor, agent_a, team_a, team_b = supervisor_and_teams
    now = timezone.now()
    mine = make_ticket("Team A work", team=team_a)
    theirs = make_ticket("Team B secret", team=team_b)
    TimeEntryFactory(ticket=mine, user=agent_a, seconds=600, note="=cmd()", started_at=now)
    TimeEntryFactory(ticket=theirs, user=supervisor, seconds=60, started_at=now)
    TimeEntryFactory(ticket=mine, user=supervisor, seconds=120, started_at=now - timedelta(days=40))

    def export(api, **params):
        response = api.get("/api/tickets/time-entries/export.csv", params)
        assert response.status_code == 200, response
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment" in response["Content-Disposition"]
        body = b"".join(response.streaming_content).decode()
        return list(csv.DictReader(io.StringIO(body)))

    boss = api_for(supervisor)
    assert len(export(boss)) == 3
    recent = export(boss, **{"from": (now - timedelta(days=1)).isoformat()})
    assert sorted(r["ticket_subject"] for r in recent) == ["Team A work", "Team B secret"]
    assert len(export(boss, **{"to": (now - timedelta(days=30)).date().isoformat()})) == 1
    assert [r["agent_id"] for r in export(boss, agent=agent_a.pk)] == [str(agent_a.pk)]
    assert len(export(boss, ticket=theirs.pk)) == 1

    rows = export(api_for(agent_a))  # team B's ticket is not theirs to see
    assert sorted(r["ticket_id"] for r in rows) == [str(mine.pk)] * 2
    assert {r["note"] for r in rows} == {"'=cmd()", ""}
    bad = api_for(agent_a).get("/api/tickets/time-entries/export.csv", {"from": "yesterday"})
    assert bad.status_code == 422


@pytest.fixture
def supervisor_and_teams(db):
    team_a, team_b = TeamFactory(), TeamFactory()
    agent_a = UserFactory()
    agent_a.teams.add(team_a)
    return UserFactory(role=Role.SUPERVISOR), agent_a, team_a, team_b


def test_swarm_flow_and_list_filter(api_for, agent):
    api = api_for(agent)
    helper = UserFactory()
    ticket, calm = make_ticket("On fire"), make_ticket("Calm")
    swarmed = api.post(f"/api/tickets/{ticket.pk}/swarm", {"note": "Need eyes"}).json()
    assert swarmed["swarm"]["note"] == "Need eyes"
    assert swarmed["swarm"]["requested_by_id"] == agent.pk
    listed = api.get("/api/tickets", {"swarm": "true"}).json()["items"]
    assert [t["id"] for t in listed] == [ticket.pk]
    not_swarmed = api.get("/api/tickets", {"swarm": "false"}).json()["items"]
    assert [t["id"] for t in not_swarmed] == [calm.pk]
    inbox = api_for(helper).get("/api/tickets/notifications").json()
    assert inbox["unread_count"] == 1
    assert inbox["items"][0]["kind"] == "swarm"
    assert inbox["items"][0]["ticket_id"] == ticket.pk
    assert api.delete(f"/api/tickets/{ticket.pk}/swarm").json()["swarm"] is None


def test_notifications_mark_read(api_for, agent):
    from frontline.accounts.services import notification_create

    api = api_for(agent)
    notes = [notification_create(user=agent, kind="assigned", text=f"n{i}") for i in range(3)]
    other = notification_create(user=UserFactory(), kind="assigned", text="not yours")
    marked = api.post("/api/tickets/notifications/read", {"ids": [notes[0].pk, other.pk]})
    assert marked.json() == {"marked": 1}
    unread = api.get("/api/tickets/notifications", {"unread": "true"}).json()
    assert unread["unread_count"] == 2
    assert [n["text"] for n in unread["items"]] == ["n2", "n1"]
    assert api.post("/api/tickets/notifications/read", {}).status_code == 422
    assert api.post("/api/tickets/notifications/read", {"all": True}).json() == {"marked": 2}


def test_side_conversation_over_the_api(api_for, agent):
    light = UserFactory(role=Role.LIGHT_AGENT)
    ticket = make_ticket()
    api = api_for(agent)
    created = api.post(
        f"/api/tickets/{ticket.pk}/side-conversations",
        {"subject": "Warranty?", "participant_ids": [light.pk], "text": "Covered?"},
    )
    assert created.status_code == 201, created.content
    conversation = created.json()
    assert {p["id"] for p in conversation["participants"]} == {agent.pk, light.pk}
    assert [m["text"] for m in conversation["messages"]] == ["Covered?"]
    light_api = api_for(light)  # now a collaborator: can read the ticket and answer
    url = f"/api/tickets/{ticket.pk}/side-conversations/{conversation['id']}"
    assert light_api.post(f"{url}/messages", {"text": "Yes"}).status_code == 201
    assert light_api.get(f"/api/tickets/{ticket.pk}").status_code == 200
    closed = api.post(f"{url}/close").json()
    assert closed["closed_at"] is not None
    assert light_api.post(f"{url}/messages", {"text": "late"}).status_code == 409
    unknown = api.post(
        f"/api/tickets/{ticket.pk}/side-conversations", {"subject": "x", "participant_ids": [999]}
    )
    assert unknown.json()["error"]["fields"] == {"participant_ids": ["999: not found"]}


def test_custom_fields_and_ticket_validation(admin_api):
    created = admin_api.post(
        "/api/tickets/custom-fields",
        {"key": "reason", "label": "Reason", "type": "dropdown", "options": ["fixed", "wontfix"]},
    )
    assert created.status_code == 201
    field_id = created.json()["id"]
    admin_api.patch(f"/api/tickets/custom-fields/{field_id}", {"required_on_solve": True})
    ticket = make_ticket()
    refused = admin_api.patch(f"/api/tickets/{ticket.pk}", {"status": "solved"})
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"] == {"custom_fields.reason": ["required to solve"]}
    bad = admin_api.patch(f"/api/tickets/{ticket.pk}", {"custom_fields": {"reason": "maybe"}})
    assert bad.json()["error"]["fields"] == {
        "custom_fields.reason": ["must be one of ['fixed', 'wontfix']"]
    }
    ok = admin_api.patch(
        f"/api/tickets/{ticket.pk}", {"status": "solved", "custom_fields": {"reason": "fixed"}}
    )
    assert ok.json()["status"] == "solved"
    assert admin_api.delete(f"/api/tickets/custom-fields/{field_id}").status_code == 204
    assert admin_api.get("/api/tickets/custom-fields").json() == []


def test_canned_responses_scopes(api_for, agent, admin_user):
    team = TeamFactory()
    agent.teams.add(team)
    admin = api_for(admin_user)
    shared = admin.post(
        "/api/tickets/canned-responses", {"title": "Hi", "body": "Hello", "scope": "shared"}
    )
    team_one = admin.post(
        "/api/tickets/canned-responses",
        {"title": "Team", "body": "x", "scope": "team", "team_id": team.pk},
    )
    assert team_one.json()["team_id"] == team.pk
    api = api_for(agent)
    own = api.post("/api/tickets/canned-responses", {"title": "Mine", "body": "b", "shortcut": "m"})
    assert own.json()["owner_id"] == agent.pk
    titles = [c["title"] for c in api.get("/api/tickets/canned-responses").json()]
    assert titles == ["Hi", "Mine", "Team"]
    by_shortcut = api.get("/api/tickets/canned-responses", {"q": "m"}).json()
    assert by_shortcut[0]["title"] == "Mine"  # the shortcut match comes first
    admins_own = admin.post("/api/tickets/canned-responses", {"title": "Admin's", "body": "b"})
    assert (
        api.patch(
            f"/api/tickets/canned-responses/{admins_own.json()['id']}", {"body": "x"}
        ).status_code
        == 404
    )
    assert api.delete(f"/api/tickets/canned-responses/{shared.json()['id']}").status_code == 403
    no_team = api.post(
        "/api/tickets/canned-responses", {"title": "t", "body": "b", "scope": "team"}
    )
    assert no_team.status_code == 422


def test_experts_endpoint(api_for, agent):
    from tests.factories import agent_skill

    expert = UserFactory(username="zoe")
    agent_skill(expert, "billing", 4)
    ticket = make_ticket("Billing question")
    data = api_for(agent).get(f"/api/tickets/{ticket.pk}/experts").json()
    assert data == [
        {
            "user": {"id": expert.pk, "name": "zoe"},
            "score": 4,
            "reasons": ["skill billing (level 4)"],
        }
    ]


def test_ticket_list_query_count_does_not_grow_with_cc(admin_api, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    target = make_ticket("t")
    with CaptureQueriesContext(connection) as small:
        admin_api.get("/api/tickets")
    for n in range(5):
        ticket_services.ticket_merge(
            source=make_ticket(f"s{n}"), target=target, actor=Actor("system")
        )
        make_ticket(f"more {n}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        items = admin_api.get("/api/tickets").json()["items"]
    assert len(next(i for i in items if i["id"] == target.pk)["cc_customers"]) == 5

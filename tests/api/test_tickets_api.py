"""Tickets over the REST API: create (the api channel), list filters and keyset pagination,
get, patch (lifecycle), messages and notes, base64 attachments, timeline, collaborators."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from frontline.accounts.models import Role
from frontline.customers import services as customer_services
from frontline.customers.models import Customer, Identity
from frontline.tickets import services as ticket_services
from frontline.tickets.actors import Actor
from frontline.tickets.models import Attachment, Message, Ticket, TicketEvent
from tests.factories import TeamFactory, UserFactory, customer_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(api_for, admin_user):
    return api_for(admin_user)


@pytest.fixture
def agent_api(api_for, agent):
    return api_for(agent)


def new_ticket(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": "My order never arrived",
        "text": "Order 1001 was due last week.",
        "requester": {
            "name": "Ana Lima",
            "identities": [{"kind": "email", "value": "ana@example.com"}],
        },
    }
    body.update(overrides)
    return body


def make_ticket(
    requester: Customer | None = None, subject: str = "Question", **fields: Any
) -> Ticket:
    """A ticket with the customer's first message, through the services."""
    requester = requester or customer_services.customer_create(name="Someone")
    ticket = ticket_services.ticket_create(requester=requester, subject=subject, **fields)
    ticket_services.message_add(
        ticket=ticket, actor=Actor.for_customer(requester), text="Hello, I need help"
    )
    return Ticket.objects.get(pk=ticket.pk)


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


# --------------------------------------------------------------------------- create


def test_create_with_identities_case_folds_the_email_to_one_customer(agent_api):
    first = agent_api.post(
        "/api/tickets",
        new_ticket(
            requester={"name": "Ana", "identities": [{"kind": "email", "value": "Ana@Example.COM"}]}
        ),
    )
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["duplicate"] is False
    assert data["channel"] == "api"
    assert data["status"] == "new"
    assert data["subject"] == "My order never arrived"
    assert data["message_count"] == 1
    assert data["requester"]["name"] == "Ana"

    second = agent_api.post(
        "/api/tickets",
        new_ticket(
            subject="Another thing",
            requester={"identities": [{"kind": "email", "value": "  ana@EXAMPLE.com "}]},
        ),
    )
    assert second.status_code == 201, second.content
    assert second.json()["id"] != data["id"]  # api tickets never thread by customer
    assert second.json()["requester"]["id"] == data["requester"]["id"]
    assert Customer.objects.count() == 1
    assert list(Identity.objects.values_list("kind", "value")) == [("email", "ana@example.com")]
    first_message = Message.objects.get(ticket_id=data["id"])
    assert first_message.author_type == "customer"
    assert first_message.text == "Order 1001 was due last week."


def test_create_with_several_identities_attaches_the_new_ones(agent_api):
    known = customer_services.customer_create(
        name="Bo", identities=[customer_services.IdentityInput("phone", "+14155550100")]
    )
    response = agent_api.post(
        "/api/tickets",
        new_ticket(
            requester={
                "identities": [
                    {"kind": "phone", "value": "(415) 555-0100"},
                    {"kind": "email", "value": "bo@example.com"},
                ]
            }
        ),
    )
    assert response.status_code == 201, response.content
    assert response.json()["requester"]["id"] == known.pk
    assert set(known.identities.values_list("value", flat=True)) == {
        "+14155550100",
        "bo@example.com",
    }


def test_create_by_requester_id(agent_api):
    customer = customer_services.customer_create(name="Known Customer")
    response = agent_api.post("/api/tickets", new_ticket(requester={"id": customer.pk}))
    assert response.status_code == 201, response.content
    assert response.json()["requester"] == {"id": customer.pk, "name": "Known Customer"}


def test_create_for_a_merged_customer_goes_to_the_survivor(agent_api):
    source = customer_services.customer_create(name="Old")
    target = customer_services.customer_create(name="New")
    customer_services.customer_merge(source=source, target=target)
    response = agent_api.post("/api/tickets", new_ticket(requester={"id": source.pk}))
    assert response.status_code == 201, response.content
    assert response.json()["requester"]["id"] == target.pk


@pytest.mark.parametrize(
    ("requester", "field"),
    [
        ({"id": 999_999}, "requester"),
        ({}, "requester"),
        ({"identities": [{"kind": "email"}]}, "requester.identities.0"),
        ({"identities": [{"kind": "email", "value": "not an email"}]}, "identities"),
    ],
)
def test_create_refuses_a_bad_requester(agent_api, requester, field):
    response = agent_api.post("/api/tickets", new_ticket(requester=requester))
    assert response.status_code == 422, response.content
    assert field in response.json()["error"]["fields"]
    assert Ticket.objects.count() == 0


def test_staff_must_name_the_requester(agent_api):
    body = new_ticket()
    del body["requester"]
    response = agent_api.post("/api/tickets", body)
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"requester": ["id or identities required"]}


def test_customer_creates_tickets_for_themselves_only(api_for, agent):
    me = customer_user(customer_services.customer_create(name="Me"))
    someone_else = customer_services.customer_create(name="Someone else")
    team = TeamFactory()
    client = api_for(me)

    body = new_ticket(
        requester={"id": someone_else.pk}, priority="urgent", team_id=team.pk, assignee_id=agent.pk
    )
    response = client.post("/api/tickets", body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["requester"]["id"] == me.customer.pk
    # staff-only fields are ignored for customers
    assert (data["priority"], data["team"], data["assignee"]) == ("normal", None, None)

    bare = {"subject": "No requester given", "text": "It is me"}
    response = client.post("/api/tickets", bare)
    assert response.status_code == 201, response.content
    assert response.json()["requester"]["id"] == me.customer.pk
    assert someone_else.tickets.count() == 0


def test_create_sets_the_staff_fields(admin_api, agent):
    team = TeamFactory()
    response = admin_api.post(
        "/api/tickets",
        new_ticket(
            priority="high",
            type="incident",
            tags=["Billing", " vip "],
            custom_fields={"order": "1001"},
            team_id=team.pk,
            assignee_id=agent.pk,
            language="pt",
        ),
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["priority"] == "high"
    assert data["type"] == "incident"
    assert data["tags"] == ["billing", "vip"]
    assert data["custom_fields"] == {"order": "1001"}
    assert data["team"] == {"id": team.pk, "name": team.name}
    assert data["assignee"]["id"] == agent.pk
    assert data["language"] == "pt"


def test_create_refuses_an_assignee_who_is_not_an_agent_and_writes_nothing(admin_api):
    light = UserFactory(role=Role.LIGHT_AGENT)
    response = admin_api.post("/api/tickets", new_ticket(assignee_id=light.pk))
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"assignee_id": ["not an agent"]}
    assert Ticket.objects.count() == 0
    assert Customer.objects.count() == 0


def test_create_needs_a_first_message(agent_api):
    response = agent_api.post("/api/tickets", new_ticket(text="  ", html=""))
    assert response.status_code == 422
    assert "text" in response.json()["error"]["fields"]


def test_agent_filing_a_ticket_for_another_team_gets_it_back(api_for):
    team_a, team_b = TeamFactory(), TeamFactory()
    agent_b = UserFactory(role=Role.AGENT)
    agent_b.teams.add(team_b)
    client = api_for(agent_b)
    response = client.post("/api/tickets", new_ticket(team_id=team_a.pk, external_id="x-1"))
    assert response.status_code == 201, response.content
    ticket_id = response.json()["id"]
    assert response.json()["team"]["id"] == team_a.pk
    retry = client.post("/api/tickets", new_ticket(team_id=team_a.pk, external_id="x-1"))
    assert (retry.status_code, retry.json()["id"]) == (200, ticket_id)
    # ...but it is team A's now
    assert client.get(f"/api/tickets/{ticket_id}").status_code == 404


def test_external_id_makes_retries_idempotent(agent_api, api_for):
    body = new_ticket(
        external_id="crm-42", attachments=[{"filename": "a.txt", "content_base64": b64(b"hi")}]
    )
    first = agent_api.post("/api/tickets", body)
    assert first.status_code == 201, first.content
    assert first.json()["duplicate"] is False

    again = agent_api.post("/api/tickets", body)
    assert again.status_code == 200, again.content
    assert again.json()["duplicate"] is True
    assert again.json()["id"] == first.json()["id"]
    assert Ticket.objects.count() == 1
    assert Message.objects.count() == 1
    assert Attachment.objects.count() == 1

    # the id is the caller's own: another user's crm-42 is another request
    other = api_for(UserFactory(role=Role.AGENT)).post("/api/tickets", body)
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]


# --------------------------------------------------------------------------- list


@pytest.fixture
def queue(agent, admin_user):
    """Five tickets with known attributes; updated_at one hour apart (t1 oldest)."""
    team_a, team_b = TeamFactory(name="Alpha"), TeamFactory(name="Beta")
    ana = customer_services.customer_create(name="Ana")
    bo = customer_services.customer_create(name="Bo")
    t1 = make_ticket(ana, "Refund please", team=team_a, assignee=agent, tags=["billing"])
    t2 = make_ticket(bo, "Where is my parcel", channel="chat", team=team_b, tags=["shipping"])
    t3 = make_ticket(
        ana, "Refund again", channel="api", assignee=admin_user, tags=["billing", "vip"]
    )
    t4 = make_ticket(bo, "Password reset", team=team_a)
    t5 = make_ticket(ana, "Invoice copy", channel="email", assignee=agent)
    ticket_services.ticket_update(ticket=t2, status="open")
    ticket_services.ticket_update(ticket=t3, status="pending")
    ticket_services.ticket_update(ticket=t5, status="solved")
    start = timezone.now() - timedelta(hours=10)
    tickets = [t1, t2, t3, t4, t5]
    for hour, ticket in enumerate(tickets):
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=start + timedelta(hours=hour))
    return {
        "tickets": {f"t{i}": t.pk for i, t in enumerate(tickets, 1)},
        "team_a": team_a,
        "team_b": team_b,
        "ana": ana,
        "bo": bo,
        "start": start,
    }


def _names(queue: dict[str, Any], response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    by_id = {pk: name for name, pk in queue["tickets"].items()}
    return [by_id[item["id"]] for item in response.json()["items"]]


def test_list_is_newest_updated_first(admin_api, queue):
    assert _names(queue, admin_api.get("/api/tickets")) == ["t5", "t4", "t3", "t2", "t1"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": ["new"]}, ["t4", "t1"]),
        ({"status": ["open", "pending"]}, ["t3", "t2"]),
        ({"status": ["solved", "new"]}, ["t5", "t4", "t1"]),
        ({"unassigned": "true"}, ["t4", "t2"]),
        ({"tag": "billing"}, ["t3", "t1"]),
        ({"tag": " VIP "}, ["t3"]),
        ({"tag": "nope"}, []),
        ({"channel": "chat"}, ["t2"]),
        ({"channel": "email"}, ["t5"]),
        ({"channel": "web"}, ["t4", "t1"]),
        ({"q": "refund"}, ["t3", "t1"]),
        ({"q": "REFUND", "status": ["new"]}, ["t1"]),
    ],
)
def test_list_filters(admin_api, queue, params, expected):
    assert _names(queue, admin_api.get("/api/tickets", params)) == expected


def test_list_filters_by_ids(admin_api, queue, agent, admin_user):
    def names(**params: Any) -> list[str]:
        return _names(queue, admin_api.get("/api/tickets", params))

    assert names(assignee_id=agent.pk) == ["t5", "t1"]
    assert names(assignee_id=admin_user.pk) == ["t3"]
    assert names(team_id=queue["team_a"].pk) == ["t4", "t1"]
    assert names(team_id=queue["team_b"].pk) == ["t2"]
    assert names(requester_id=queue["ana"].pk) == ["t5", "t3", "t1"]
    assert names(requester_id=queue["bo"].pk, team_id=queue["team_a"].pk) == ["t4"]


def test_list_filters_by_update_time(admin_api, queue):
    start = queue["start"]

    def names(**params: Any) -> list[str]:
        return _names(queue, admin_api.get("/api/tickets", params))

    # after is inclusive, before exclusive
    assert names(updated_after=(start + timedelta(hours=3)).isoformat()) == ["t5", "t4"]
    assert names(updated_before=(start + timedelta(hours=1)).isoformat()) == ["t1"]
    assert names(
        updated_after=(start + timedelta(minutes=30)).isoformat(),
        updated_before=(start + timedelta(hours=3)).isoformat(),
    ) == ["t3", "t2"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"updated_after": "yesterday"},
        {"assignee_id": "me"},
        {"team_id": str(10**30)},
        {"cursor": "not-a-cursor"},
        {"cursor": base64.urlsafe_b64encode(b'["2024-01-01T00:00:00+00:00"]').decode()},
        {"cursor": base64.urlsafe_b64encode(b'["yesterday", 3]').decode()},
    ],
)
def test_list_refuses_bad_parameters(admin_api, params):
    response = admin_api.get("/api/tickets", params)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "validation_error"
    assert set(response.json()["error"]["fields"]) & set(params)


def test_keyset_pagination_walks_every_ticket_once(admin_api):
    customer = customer_services.customer_create(name="Many")
    ids = [make_ticket(customer, f"Ticket {i}").pk for i in range(23)]
    now = timezone.now()
    # ties on updated_at are broken by id, across page boundaries too
    Ticket.objects.filter(pk__in=ids[5:12]).update(updated_at=now)
    expected = list(Ticket.objects.order_by("-updated_at", "-id").values_list("pk", flat=True))

    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 5}
        if cursor:
            params["cursor"] = cursor
        response = admin_api.get("/api/tickets", params)
        assert response.status_code == 200, response.content
        page = response.json()
        pages += 1
        assert len(page["items"]) <= 5
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10, "pagination does not end"
    assert pages == 5
    assert seen == expected  # same order, no duplicates, no gaps
    assert len(set(seen)) == 23


def test_list_query_count_does_not_grow_with_the_page_size(
    admin_api, agent, django_assert_num_queries
):
    team = TeamFactory()
    for i in range(30):
        customer = customer_services.customer_create(name=f"Customer {i}")
        make_ticket(customer, f"T{i}", team=team, assignee=agent, tags=[f"tag{i}", "common"])
    admin_api.get("/api/tickets", {"limit": 5})  # token's last_used_at is written once

    with CaptureQueriesContext(connection) as small:
        response = admin_api.get("/api/tickets", {"limit": 5})
    assert len(response.json()["items"]) == 5
    with django_assert_num_queries(len(small.captured_queries)):
        response = admin_api.get("/api/tickets", {"limit": 25})
    assert len(response.json()["items"]) == 25
    assert all(
        item["tags"] and item["assignee"] and item["team"] for item in response.json()["items"]
    )


# --------------------------------------------------------------------------- get and patch


def test_get_a_ticket(agent_api, agent):
    customer = customer_services.customer_create(name="Ana")
    ticket = make_ticket(customer, "Broken zipper", tags=["returns"], assignee=agent)
    response = agent_api.get(f"/api/tickets/{ticket.pk}")
    assert response.status_code == 200
    data = response.json()
    assert data["id"] == data["number"] == ticket.pk
    assert data["subject"] == "Broken zipper"
    assert data["requester"] == {"id": customer.pk, "name": "Ana"}
    assert data["assignee"] == {"id": agent.pk, "name": agent.label}
    assert data["tags"] == ["returns"]
    assert data["message_count"] == 1
    assert data["first_response_at"] is None


def test_unknown_ticket_is_a_json_404(agent_api):
    response = agent_api.get("/api/tickets/424242")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "No such ticket.", "fields": {}}
    }


def test_patch_walks_the_lifecycle(agent_api):
    ticket = make_ticket()
    url = f"/api/tickets/{ticket.pk}"
    for status in ("open", "pending", "on_hold", "open", "solved", "open", "solved", "closed"):
        response = agent_api.patch(url, {"status": status})
        assert response.status_code == 200, (status, response.content)
        assert response.json()["status"] == status
    data = response.json()
    assert data["reopen_count"] == 1
    assert data["solved_at"] is not None


@pytest.mark.parametrize(
    ("path", "forbidden"),
    [
        ([], "closed"),
        (["open"], "closed"),
        (["pending"], "closed"),
        (["solved"], "pending"),
        (["solved"], "on_hold"),
    ],
)
def test_patch_refuses_forbidden_transitions_with_409(agent_api, path, forbidden):
    ticket = make_ticket()
    url = f"/api/tickets/{ticket.pk}"
    for status in path:
        assert agent_api.patch(url, {"status": status}).status_code == 200
    response = agent_api.patch(url, {"status": forbidden})
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_transition"
    assert "status" in error["fields"]
    ticket.refresh_from_db()
    assert ticket.status == (path[-1] if path else "new")


def test_closed_ticket_takes_no_changes(agent_api):
    ticket = make_ticket()
    url = f"/api/tickets/{ticket.pk}"
    for status in ("solved", "closed"):
        assert agent_api.patch(url, {"status": status}).status_code == 200
    for change in ({"priority": "high"}, {"status": "open"}):
        response = agent_api.patch(url, change)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "invalid_transition"
    reply = agent_api.post(f"{url}/messages", {"text": "Hello?"})
    assert reply.status_code == 409


def test_patch_changes_fields_and_zero_clears_team_and_assignee(agent_api, agent):
    team = TeamFactory()
    ticket = make_ticket(custom_fields={"order": "1", "size": "M"}, tags=["old"])
    url = f"/api/tickets/{ticket.pk}"
    response = agent_api.patch(
        url,
        {
            "subject": "New subject",
            "priority": "urgent",
            "type": "problem",
            "tags": ["New", "other"],
            "custom_fields": {"size": None, "colour": "red"},
            "team_id": team.pk,
            "assignee_id": agent.pk,
            "language": "es",
        },
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["subject"] == "New subject"
    assert (data["priority"], data["type"], data["language"]) == ("urgent", "problem", "es")
    assert data["tags"] == ["new", "other"]
    assert data["custom_fields"] == {"order": "1", "colour": "red"}  # merged; null removes
    assert data["team"]["id"] == team.pk
    assert data["assignee"]["id"] == agent.pk

    response = agent_api.patch(url, {"team_id": 0, "assignee_id": 0})
    assert response.status_code == 200, response.content
    assert (response.json()["team"], response.json()["assignee"]) == (None, None)

    # unset fields stay as they are
    response = agent_api.patch(url, {"tags": []})
    assert response.json()["tags"] == []
    assert response.json()["priority"] == "urgent"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"priority": "asap"}, "priority"),
        ({"status": "archived"}, "status"),
        ({"type": 5}, "type"),
        ({"team_id": 999_999}, "team_id"),
        ({"assignee_id": 999_999}, "assignee_id"),
        ({"subject": ""}, "subject"),
        ({"tags": "billing"}, "tags"),
    ],
)
def test_patch_refuses_bad_values(agent_api, change, field):
    ticket = make_ticket()
    response = agent_api.patch(f"/api/tickets/{ticket.pk}", change)
    assert response.status_code == 422, response.content
    assert field in response.json()["error"]["fields"]


def test_patch_refuses_a_customer_as_assignee(agent_api):
    ticket = make_ticket()
    response = agent_api.patch(f"/api/tickets/{ticket.pk}", {"assignee_id": customer_user().pk})
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"assignee_id": ["not an agent"]}


# --------------------------------------------------------------------------- messages


def test_public_reply_sets_first_response_and_opens_the_ticket(agent_api, agent):
    ticket = make_ticket()
    assert (ticket.status, ticket.first_response_at) == ("new", None)
    response = agent_api.post(f"/api/tickets/{ticket.pk}/messages", {"text": "On its way!"})
    assert response.status_code == 201, response.content
    message = response.json()
    assert message["visibility"] == "public"
    assert message["direction"] == "outbound"
    assert message["author_type"] == "agent"
    assert message["author_user_id"] == agent.pk
    assert message["text"] == "On its way!"
    assert message["html"].startswith("<p>")

    data = agent_api.get(f"/api/tickets/{ticket.pk}").json()
    assert data["status"] == "open"
    assert data["first_response_at"] is not None
    assert data["assignee"]["id"] == agent.pk  # the first replier takes an unassigned ticket
    assert data["message_count"] == 2
    first_response_at = data["first_response_at"]

    agent_api.post(f"/api/tickets/{ticket.pk}/messages", {"text": "Any news?"})
    assert agent_api.get(f"/api/tickets/{ticket.pk}").json()["first_response_at"] == (
        first_response_at
    )


def test_internal_note_is_hidden_from_the_customer(api_for, agent_api):
    me = customer_user()
    ticket = make_ticket(me.customer)
    note = agent_api.post(
        f"/api/tickets/{ticket.pk}/messages",
        {"text": "Customer is on the VIP list", "visibility": "internal"},
    )
    assert note.status_code == 201
    assert note.json()["direction"] == "internal"
    reply = agent_api.post(f"/api/tickets/{ticket.pk}/messages", {"text": "We are on it"})
    assert reply.status_code == 201

    staff_view = agent_api.get(f"/api/tickets/{ticket.pk}/messages").json()
    assert [m["visibility"] for m in staff_view] == ["public", "internal", "public"]

    customer_view = api_for(me).get(f"/api/tickets/{ticket.pk}/messages")
    assert customer_view.status_code == 200
    texts = [m["text"] for m in customer_view.json()]
    assert texts == ["Hello, I need help", "We are on it"]
    assert "VIP" not in customer_view.content.decode()
    # a note does not count as a first response
    assert Ticket.objects.get(pk=ticket.pk).first_response_at is not None


def test_customer_reply_reopens_a_solved_ticket(api_for, agent_api):
    me = customer_user()
    ticket = make_ticket(me.customer)
    agent_api.patch(f"/api/tickets/{ticket.pk}", {"status": "solved"})
    response = api_for(me).post(f"/api/tickets/{ticket.pk}/messages", {"text": "Still broken"})
    assert response.status_code == 201, response.content
    assert response.json()["author_type"] == "customer"
    assert response.json()["author_customer_id"] == me.customer.pk
    data = agent_api.get(f"/api/tickets/{ticket.pk}").json()
    assert (data["status"], data["reopen_count"]) == ("open", 1)
    notes = api_for(me).post(
        f"/api/tickets/{ticket.pk}/messages", {"text": "psst", "visibility": "internal"}
    )
    assert notes.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "x", "visibility": "secret"}, "visibility"),
        ({"text": ["x"]}, "text"),
    ],
)
def test_message_refuses_bad_input(agent_api, body, field):
    ticket = make_ticket()
    response = agent_api.post(f"/api/tickets/{ticket.pk}/messages", body)
    assert response.status_code == 422, response.content
    assert field in response.json()["error"]["fields"]
    assert Message.objects.filter(ticket=ticket).count() == 1


# --------------------------------------------------------------------------- attachments


def test_attachment_via_base64_is_stored_with_its_sha256(agent_api):
    ticket = make_ticket()
    content = b"%PDF-1.7 pretend invoice\x00\xff" * 50
    response = agent_api.post(
        f"/api/tickets/{ticket.pk}/messages",
        {
            "text": "Invoice attached",
            "attachments": [
                {
                    "filename": "invoice.pdf",
                    "content_type": "application/pdf",
                    "content_base64": b64(content),
                },
                {"filename": "notes.txt", "content_base64": b64(b"plain")},
            ],
        },
    )
    assert response.status_code == 201, response.content
    attachments = response.json()["attachments"]
    assert [a["filename"] for a in attachments] == ["invoice.pdf", "notes.txt"]
    pdf = attachments[0]
    assert pdf["size"] == len(content)
    assert pdf["sha256"] == hashlib.sha256(content).hexdigest()
    assert pdf["status"] == "stored"
    assert pdf["content_type"] == "application/pdf"
    assert pdf["url"]
    assert attachments[1]["content_type"] == "text/plain"  # guessed from the name
    stored = Attachment.objects.get(pk=pdf["id"])
    with stored.file.open("rb") as fh:
        assert fh.read() == content
    listed = agent_api.get(f"/api/tickets/{ticket.pk}/messages").json()
    assert [a["sha256"] for a in listed[-1]["attachments"]] == [
        hashlib.sha256(content).hexdigest(),
        hashlib.sha256(b"plain").hexdigest(),
    ]


def test_attachment_on_ticket_create(agent_api):
    response = agent_api.post(
        "/api/tickets",
        new_ticket(attachments=[{"filename": "photo.jpg", "content_base64": b64(b"\xff\xd8jpeg")}]),
    )
    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get(message__ticket_id=response.json()["id"])
    assert attachment.sha256 == hashlib.sha256(b"\xff\xd8jpeg").hexdigest()
    assert attachment.size == 6


def test_attachment_too_large_is_refused_naming_the_file(agent_api, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    ticket = make_ticket()
    response = agent_api.post(
        f"/api/tickets/{ticket.pk}/messages",
        {
            "text": "Two files",
            "attachments": [
                {"filename": "small.txt", "content_base64": b64(b"x" * 100)},
                {"filename": "huge.log", "content_base64": b64(b"x" * 101)},
            ],
        },
    )
    assert response.status_code == 422, response.content
    problems = response.json()["error"]["fields"]["attachments"]
    assert len(problems) == 1
    assert "huge.log" in problems[0] and "100 byte" in problems[0]
    assert Message.objects.filter(ticket=ticket).count() == 1
    assert Attachment.objects.count() == 0
    created = agent_api.post(
        "/api/tickets",
        new_ticket(attachments=[{"filename": "huge.log", "content_base64": b64(b"x" * 101)}]),
    )
    assert created.status_code == 422
    assert "huge.log" in created.json()["error"]["fields"]["attachments"][0]
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("filename", ["setup.exe", "SETUP.EXE", "invoice.pdf.exe", "tool.exe.zip"])
def test_blocked_extension_is_refused(agent_api, filename):
    ticket = make_ticket()
    response = agent_api.post(
        f"/api/tickets/{ticket.pk}/messages",
        {"text": "Run this", "attachments": [{"filename": filename, "content_base64": b64(b"MZ")}]},
    )
    assert response.status_code == 422, response.content
    problem = response.json()["error"]["fields"]["attachments"][0]
    assert filename in problem and "not allowed" in problem
    assert Attachment.objects.count() == 0


@pytest.mark.parametrize("payload", ["not base64!", "YWJ", "aGk=\n", "8J+Ygg==💥"])
def test_bad_base64_is_refused(agent_api, payload):
    ticket = make_ticket()
    response = agent_api.post(
        f"/api/tickets/{ticket.pk}/messages",
        {"text": "x", "attachments": [{"filename": "a.txt", "content_base64": payload}]},
    )
    assert response.status_code == 422, response.content
    assert response.json()["error"]["fields"] == {
        "attachments.0.content_base64": ["not valid base64"]
    }
    assert Message.objects.filter(ticket=ticket).count() == 1


# --------------------------------------------------------------------------- timeline


def test_ticket_events_show_old_and_new_values(agent_api, agent):
    ticket = make_ticket()
    url = f"/api/tickets/{ticket.pk}"
    agent_api.patch(url, {"priority": "high", "status": "open"})
    agent_api.patch(url, {"priority": "low", "tags": ["a", "b"]})
    agent_api.post(f"{url}/messages", {"text": "note", "visibility": "internal"})

    response = agent_api.get(f"{url}/events")
    assert response.status_code == 200
    events = response.json()
    assert events[0]["kind"] == "created"
    assert events[1]["kind"] == "message_added"
    changes = [
        (e["field"], e["old_value"], e["new_value"], e["actor"])
        for e in events
        if e["kind"] == "field_changed"
    ]
    me = f"user:{agent.pk}"
    assert changes == [
        ("status", "new", "open", me),
        ("priority", "normal", "high", me),
        ("priority", "high", "low", me),
        ("tags", "", "a, b", me),
    ]
    assert events[-1]["kind"] == "message_added"
    assert events[-1]["data"]["visibility"] == "internal"
    ids = [e["id"] for e in events]
    assert ids == sorted(ids)


# --------------------------------------------------------------------------- collaborators


def test_invited_light_agent_can_then_see_the_ticket(agent_api, api_for, agent):
    team = TeamFactory()
    ticket = make_ticket(team=team)
    agent.teams.add(team)
    light = UserFactory(role=Role.LIGHT_AGENT, display_name="Dana (legal)")
    light_api = api_for(light)
    assert light_api.get(f"/api/tickets/{ticket.pk}").status_code == 404
    assert light_api.get("/api/tickets").json()["items"] == []

    response = agent_api.post(f"/api/tickets/{ticket.pk}/collaborators", {"user_id": light.pk})
    assert response.status_code == 201, response.content
    assert response.json() == {"id": light.pk, "name": "Dana (legal)"}
    # inviting twice is harmless
    assert (
        agent_api.post(f"/api/tickets/{ticket.pk}/collaborators", {"user_id": light.pk}).status_code
        == 201
    )
    assert list(ticket.collaborators.all()) == [light]
    assert TicketEvent.objects.filter(ticket=ticket, kind="collaborator_added").count() == 1

    assert light_api.get(f"/api/tickets/{ticket.pk}").status_code == 200
    assert [t["id"] for t in light_api.get("/api/tickets").json()["items"]] == [ticket.pk]
    assert light_api.get(f"/api/tickets/{ticket.pk}/messages").status_code == 200


@pytest.mark.parametrize("who", ["customer", "nobody", "inactive"])
def test_collaborator_must_be_an_active_staff_user(agent_api, who):
    ticket = make_ticket()
    if who == "customer":
        user_id = customer_user().pk
    elif who == "inactive":
        user_id = UserFactory(role=Role.AGENT, is_active=False).pk
    else:
        user_id = 999_999
    response = agent_api.post(f"/api/tickets/{ticket.pk}/collaborators", {"user_id": user_id})
    assert response.status_code == 422, response.content
    assert ticket.collaborators.count() == 0


@pytest.mark.parametrize(
    "extra",
    [{}, {"priority": "high", "type": "incident"}, {"tags": ["Refund", "vip"]}],
    ids=["plain", "fields", "tags"],
)
def test_the_created_ticket_is_exactly_what_a_read_returns(admin_api, extra):
    """The create answer is built from the ticket the ingest wrote, without re-reading it."""
    team = TeamFactory()
    created = admin_api.post("/api/tickets", new_ticket(team_id=team.pk, **extra))
    assert created.status_code == 201
    body = created.json()
    assert body.pop("duplicate") is False
    assert admin_api.get(f"/api/tickets/{body['id']}").json() == body

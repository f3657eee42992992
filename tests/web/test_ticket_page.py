"""The ticket page end to end through the views: the timeline, the composer (canned responses,
reply channel), and every sidebar action with its refusals (permissions, light agents, bad
input); the page's query count; the list's bulk merge."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from frontline.accounts.models import Role
from frontline.customers.models import Identity
from frontline.customers.services import customer_organisation_add, order_create
from frontline.tickets.actors import Actor
from frontline.tickets.models import (
    Message,
    SideConversation,
    Ticket,
    TicketLink,
    TimeEntry,
)
from frontline.tickets.services import (
    AttachmentInput,
    message_add,
    side_conversation_start,
    swarm_request,
    ticket_collaborator_add,
    ticket_create,
    ticket_link,
    ticket_update,
    time_entry_add,
    timer_start,
)
from tests.factories import (
    CannedResponseFactory,
    CustomerFactory,
    CustomFieldFactory,
    OrganisationFactory,
    TeamFactory,
    UserFactory,
    agent_skill,
    customer_user,
)
from tests.web.test_agent_pages import logged_in

pytestmark = pytest.mark.django_db


def make_ticket(subject="Broken zipper", *, requester=None, text="The zipper broke.", **fields):
    requester = requester or CustomerFactory(name="Ana Lima")
    ticket = ticket_create(requester=requester, subject=subject, channel="email", **fields)
    message_add(ticket=ticket, actor=Actor.for_customer(requester), text=text)
    return Ticket.objects.get(pk=ticket.pk)


@pytest.fixture
def ticket():
    return make_ticket()


@pytest.fixture
def light(ticket):
    """A light agent invited to the ticket."""
    user = UserFactory(role=Role.LIGHT_AGENT, first_name="Lena", last_name="Light")
    ticket.collaborators.add(user)
    return user


def flashes(response) -> str:
    """The flash messages a redirect leads to."""
    return " ".join(str(m) for m in response.wsgi_request._messages)


def post(client, ticket, path, data=None, **kwargs):
    return client.post(f"/tickets/{ticket.pk}/{path}", data or {}, **kwargs)


def page_html(user, ticket, query="") -> str:
    response = logged_in(user).get(f"/tickets/{ticket.pk}/{query}")
    assert response.status_code == 200
    return response.content.decode()


# --------------------------------------------------------------------------- timeline


def test_timeline_interleaves_messages_notes_and_events_in_time_order(agent, ticket):
    actor = Actor.for_user(agent)
    message_add(ticket=ticket, actor=actor, text="A replacement is on its way.")
    ticket_update(ticket=ticket, actor=actor, priority="high")
    message_add(ticket=ticket, actor=actor, text="Checked the stock.", visibility="internal")
    ticket_update(ticket=ticket, actor=actor, status="pending")
    html = page_html(agent, ticket)
    timeline = html[html.index('id="timeline"') : html.index('id="composer-card"')]
    order = [
        "created the ticket",
        "The zipper broke.",
        "A replacement is on its way.",
        "changed status: new → open",
        "changed priority: normal → high",
        "Checked the stock.",
        "changed status: open → pending",
    ]
    positions = [timeline.index(text) for text in order]
    assert positions == sorted(positions)
    # the note is tinted and keeps the hooks tests and live.js use
    note = Message.objects.get(text="Checked the stock.")
    assert re.search(rf'<article class="[^"]*is-note internal[^"]*" id="message-{note.pk}"', html)
    assert html.count("<article ") == 3
    assert 'data-delivery-for="' in html  # the outbound reply's delivery state
    assert "message added" not in timeline  # messages are shown, not told


def test_events_name_people_and_link_tickets(agent, ticket):
    bob = UserFactory(first_name="Bob", last_name="Builder")
    other = make_ticket("Other")
    actor = Actor.for_user(agent)
    ticket_collaborator_add(ticket=ticket, user=bob, actor=actor)
    ticket_link(from_ticket=ticket, to_ticket=other, kind="related", actor=actor)
    swarm_request(ticket=ticket, actor=actor, note="Need a zipper expert")
    html = page_html(agent, ticket)
    assert "added Bob Builder as collaborator" in html
    assert f'linked as related <a href="/tickets/{other.pk}/">#{other.pk}</a>' in html
    assert "asked for help: “Need a zipper expert”" in html


def test_page_queries_do_not_grow_with_the_conversation(agent, django_assert_max_num_queries):
    """A realistic ticket: 20 messages with attachments, 20+ events, links, time entries,
    side conversations, custom fields, a customer with orders and other tickets."""

    def build(messages: int) -> Ticket:
        customer = CustomerFactory(name="Ana Lima")
        Identity.objects.create(customer=customer, kind="email", value=f"ana{messages}@example.com")
        customer_organisation_add(customer=customer, organisation=OrganisationFactory())
        for n in range(3):
            order_create(customer=customer, product=f"Boots {n}", amount="50.00")
        ticket = make_ticket(requester=customer)
        actor = Actor.for_user(agent)
        colleague = UserFactory.create()
        for n in range(messages - 1):
            kind = ("public", "internal")[n % 2]
            files = [AttachmentInput(filename=f"f{n}.txt", content=b"x", content_type="text/plain")]
            message_add(
                ticket=ticket, actor=actor, text=f"m{n}", visibility=kind, attachments=files
            )
        for n in range(messages):
            ticket_update(ticket=ticket, actor=actor, priority=("high", "low")[n % 2])
        for _ in range(3):
            ticket_link(
                from_ticket=ticket,
                to_ticket=make_ticket(requester=customer),
                kind="related",
                actor=actor,
            )
        for n in range(4):
            time_entry_add(
                ticket=ticket, actor=Actor.for_user((agent, colleague)[n % 2]), minutes=5
            )
        timer_start(ticket=ticket, actor=actor)
        side_conversation_start(
            ticket=ticket, actor=actor, subject="Stock", participants=[colleague], text="Any?"
        )
        swarm_request(ticket=ticket, actor=actor, note="help")
        ticket_collaborator_add(ticket=ticket, user=colleague, actor=actor)
        return ticket

    CustomFieldFactory(key="reason", type="dropdown", options=["a", "b"])
    CustomFieldFactory(key="order", type="number")
    CannedResponseFactory()
    small, large = build(5), build(20)
    client = logged_in(agent)
    counts = []
    for ticket in (small, large):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/tickets/{ticket.pk}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(50):
        html = client.get(f"/tickets/{large.pk}/").content.decode()
    assert html.count("<article ") == 20 and html.count("attachment-list") == 19


# --------------------------------------------------------------------------- composer


def test_canned_response_renders_for_this_ticket_by_id_or_query(agent, ticket):
    mine = CannedResponseFactory(
        title="Refund",
        shortcut="refund",
        body="Hi {{requester.name}}, #{{ticket.id}} by {{agent.name}}",
    )
    theirs = CannedResponseFactory(title="Secret", owner=UserFactory(), body="not yours")
    client = logged_in(agent)
    by_id = client.get(f"/tickets/{ticket.pk}/canned/", {"id": mine.pk})
    assert by_id.status_code == 200 and by_id["Content-Type"].startswith("text/plain")
    assert by_id.content.decode() == f"Hi Ana Lima, #{ticket.pk} by {agent.label}"
    assert client.get(f"/tickets/{ticket.pk}/canned/", {"q": "/refund"}).status_code == 200
    assert client.get(f"/tickets/{ticket.pk}/canned/", {"id": theirs.pk}).status_code == 404
    assert client.get(f"/tickets/{ticket.pk}/canned/", {"q": "nothing"}).status_code == 404
    html = page_html(agent, ticket)
    assert f'data-id="{mine.pk}"' in html and f'data-id="{theirs.pk}"' not in html


def test_canned_insert_without_javascript_keeps_the_draft_and_sends_nothing(agent, ticket):
    CannedResponseFactory(title="Thanks", body="Thanks, {{requester.name}}!")
    response = post(
        logged_in(agent), ticket, "canned/insert/", {"text": "Hello.", "canned": "Thanks"}
    )
    assert response.status_code == 200
    assert "Hello.\n\nThanks, Ana Lima!</textarea>" in response.content.decode()
    assert ticket.messages.count() == 1
    missing = post(logged_in(agent), ticket, "canned/insert/", {"text": "x", "canned": "zzz"})
    assert "No canned response matches" in missing.content.decode()


def test_reply_via_lists_the_channels_the_customer_can_be_reached_on(agent, ticket):
    html = page_html(agent, ticket)
    assert 'id="reply-channel"' not in html  # email only: nothing to choose
    Identity.objects.create(customer=ticket.requester, kind="email", value="ana@example.com")
    Identity.objects.create(customer=ticket.requester, kind="chat", value="visitor-1")
    Identity.objects.create(customer=ticket.requester, kind="phone", value="+14155550100")
    html = page_html(agent, ticket)
    select = html[
        html.index('id="reply-channel"') : html.index("</select>", html.index('id="reply-channel"'))
    ]
    assert 'value="email" selected' in select and 'value="chat"' in select
    assert 'value="sms"' not in select  # no SMS sender is set up: it cannot reach them
    client = logged_in(agent)
    post(
        client, ticket, "messages/", {"text": "On chat", "visibility": "public", "channel": "chat"}
    )
    assert Message.objects.get(text="On chat").channel == "chat"
    refused = post(
        client, ticket, "messages/", {"text": "By SMS", "visibility": "public", "channel": "sms"}
    )
    assert refused.status_code == 422 and "cannot be reached by SMS" in refused.content.decode()
    assert "By SMS</textarea>" in refused.content.decode()
    assert not Message.objects.filter(text="By SMS").exists()
    post(client, ticket, "messages/", {"text": "A note", "visibility": "internal", "channel": "x"})
    assert Message.objects.get(text="A note").channel == "email"


def test_composer_offers_notes_only_to_light_agents(ticket, light):
    html = page_html(light, ticket)
    assert '<option value="public"' not in html and 'id="reply-status"' not in html
    assert 'id="properties-form"' not in html and "mention-hint" in html


# --------------------------------------------------------------------------- properties


def test_custom_fields_are_typed_inputs_saved_through_ticket_update(agent, ticket):
    CustomFieldFactory(key="reason", label="Reason", type="dropdown", options=["damage", "late"])
    CustomFieldFactory(key="units", label="Units", type="number", required_on_solve=True)
    CustomFieldFactory(key="gift", label="Gift", type="checkbox")
    CustomFieldFactory(key="due", label="Due", type="date")
    CustomFieldFactory(key="ref", label="Ref", type="text")
    html = page_html(agent, ticket)
    for snippet in (
        'type="number" step="any" name="cf_units"',
        'type="checkbox" name="cf_gift"',
        'type="date" name="cf_due"',
        '<select class="select" name="cf_reason"',
        'type="text" name="cf_ref"',
    ):
        assert snippet in html
    client = logged_in(agent)
    form = {"custom_fields_form": "1", "priority": "normal"}
    bad = post(client, ticket, "update/", {**form, "cf_units": "many"})
    assert "must be a number" in flashes(bad)
    solve = post(client, ticket, "update/", {**form, "status": "solved", "cf_reason": "late"})
    assert "required to solve" in flashes(solve)
    ticket.refresh_from_db()
    assert ticket.status != "solved" and ticket.custom_fields == {}
    good = {**form, "cf_units": "3", "cf_gift": "on", "cf_due": "2025-01-31", "cf_reason": "late"}
    post(client, ticket, "update/", good)
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"units": 3, "gift": True, "due": "2025-01-31", "reason": "late"}
    changes = ticket.events.filter(field="custom_fields").count()
    post(client, ticket, "update/", good)  # saving again changes nothing
    post(client, ticket, "update/", {**form, "cf_units": "3", "cf_due": "2025-01-31"})
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"units": 3, "gift": False, "due": "2025-01-31"}
    assert ticket.events.filter(field="custom_fields").count() == changes + 1


def test_e_solves_through_the_properties_form_which_light_agents_do_not_get(agent, ticket, light):
    response = post(logged_in(agent), ticket, "update/", {"status": "solved"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "solved"
    assert post(logged_in(light), ticket, "update/", {"status": "open"}).status_code == 403


# ------------------------------------------------------------- collaborators, swarm, experts


def test_collaborators_add_and_remove_with_light_agents_allowed(agent, ticket):
    specialist = UserFactory(role=Role.LIGHT_AGENT, first_name="Sam", last_name="Spec")
    client = logged_in(agent)
    added = post(client, ticket, "collaborators/", {"user": specialist.pk})
    assert "Sam Spec can now work on this ticket." in flashes(added)
    assert ticket.collaborators.filter(pk=specialist.pk).exists()
    assert "Remove Sam Spec as collaborator" in page_html(agent, ticket)
    assert page_html(specialist, ticket)  # they can open it now
    removed = post(client, ticket, f"collaborators/{specialist.pk}/remove/")
    assert "is no longer a collaborator" in flashes(removed)
    assert not ticket.collaborators.exists()
    customer = customer_user()
    assert "Choose a colleague." in flashes(
        post(client, ticket, "collaborators/", {"user": customer.pk})
    )
    assert "Choose a colleague." in flashes(post(client, ticket, "collaborators/", {"user": "x"}))
    missing = post(client, ticket, f"collaborators/{customer.pk}/remove/")
    assert "not a collaborator" in flashes(missing)


def test_light_agents_cannot_invite_or_swarm(ticket, light):
    client = logged_in(light)
    assert post(client, ticket, "collaborators/", {"user": light.pk}).status_code == 403
    assert post(client, ticket, f"collaborators/{light.pk}/remove/").status_code == 403
    assert post(client, ticket, "swarm/", {"note": "x"}).status_code == 403
    assert logged_in(light).get(f"/tickets/{ticket.pk}/experts/").status_code == 403
    html = page_html(light, ticket)
    assert "Ask for help" not in html and "Invite a colleague" not in html


def test_swarm_request_shows_the_note_and_experts_then_resolves(agent, ticket):
    expert = UserFactory(first_name="Zoe", last_name="Zip")
    agent_skill(expert, "zipper", 4)
    client = logged_in(agent)
    html = page_html(agent, ticket)
    assert "Ask for help" in html and 'hx-get="/tickets/' in html and "skill zipper" not in html
    response = post(client, ticket, "swarm/", {"note": "Which zipper model?"})
    assert "asked for help" in flashes(response)
    ticket.refresh_from_db()
    assert ticket.swarm_note == "Which zipper model?"
    html = page_html(agent, ticket)
    assert "Which zipper model?" in html and "Resolve swarm" in html
    assert "Zoe Zip" in html and "skill zipper (level 4)" in html and "Invite Zoe Zip" in html
    post(client, ticket, "collaborators/", {"user": expert.pk})
    assert ">invited</span>" in page_html(agent, ticket)
    post(client, ticket, "swarm/resolve/")
    ticket.refresh_from_db()
    assert ticket.swarm_requested_at is None
    ticket_update(ticket=ticket, status="solved")
    ticket_update(ticket=ticket, status="closed")
    refused = post(client, ticket, "swarm/", {"note": "late"})
    assert "is closed" in flashes(refused)


def test_expert_finder_partial(agent, ticket):
    expert = UserFactory(first_name="Zoe", last_name="Zip")
    agent_skill(expert, "zipper", 3)
    html = logged_in(agent).get(f"/tickets/{ticket.pk}/experts/").content.decode()
    assert 'id="experts-list"' in html and "Zoe Zip" in html and "skill zipper" in html
    assert "Zoe Zip" in page_html(agent, ticket, "?experts=1")  # without JavaScript


# --------------------------------------------------------------------------- side conversations


def test_side_conversation_start_post_close(agent, ticket):
    specialist = UserFactory(role=Role.LIGHT_AGENT, first_name="Sam", last_name="Spec")
    client = logged_in(agent)
    data = {"subject": "Stock?", "participants": [specialist.pk], "text": "Any left?"}
    assert "Side conversation started." in flashes(post(client, ticket, "side/", data))
    conversation = SideConversation.objects.get(ticket=ticket)
    assert ticket.collaborators.filter(pk=specialist.pk).exists()
    # the invited light agent reads and answers it
    assert "Any left?" in page_html(specialist, ticket)
    post(logged_in(specialist), ticket, f"side/{conversation.pk}/messages/", {"text": "Two."})
    assert conversation.messages.count() == 2
    empty = post(client, ticket, f"side/{conversation.pk}/messages/", {"text": " "})
    assert "needs text" in flashes(empty)
    assert "closed" in flashes(post(client, ticket, f"side/{conversation.pk}/close/"))
    late = post(client, ticket, f"side/{conversation.pk}/messages/", {"text": "More?"})
    assert "This side conversation is closed." in flashes(late)
    html = page_html(agent, ticket)
    assert "Two." in html and 'badge-status-closed">closed' in html


def test_side_conversation_refusals(agent, ticket):
    client = logged_in(agent)
    customer = customer_user()
    outsider = post(client, ticket, "side/", {"subject": "x", "participants": [customer.pk]})
    assert "Side conversations are between staff." in flashes(outsider)
    assert "do not exist" in flashes(
        post(client, ticket, "side/", {"subject": "x", "participants": [999999]})
    )
    assert "needs a subject" in flashes(post(client, ticket, "side/", {"subject": " "}))
    other = make_ticket("Elsewhere")
    conversation = side_conversation_start(
        ticket=other, actor=Actor.for_user(agent), subject="Theirs", participants=[]
    )
    assert post(client, ticket, f"side/{conversation.pk}/close/").status_code == 404
    hidden = make_ticket("Hidden", team=TeamFactory())
    assert post(client, hidden, "side/", {"subject": "x"}).status_code == 404
    assert not SideConversation.objects.filter(ticket=ticket).exists()


# --------------------------------------------------------------------------- links, merge, split


def test_links_add_each_kind_and_remove(agent, ticket):
    related, problem, incident = make_ticket("R"), make_ticket("P"), make_ticket("I")
    client = logged_in(agent)
    assert f"Linked to #{related.pk}." in flashes(
        post(client, ticket, "links/", {"number": f"#{related.pk}"})
    )
    post(client, ticket, "links/", {"number": problem.pk, "kind": "incident_of"})
    refused = post(client, problem, "links/", {"number": incident.pk, "kind": "incident_of"})
    assert "problem of another ticket" in flashes(refused) or "incident" in flashes(refused)
    post(client, problem, "links/", {"number": incident.pk, "kind": "problem_of"})
    assert TicketLink.objects.filter(from_ticket=incident, to_ticket=problem).exists()
    html = page_html(agent, ticket)
    assert f"Remove the link to #{related.pk}" in html and "Problem</span>" in html
    link = TicketLink.objects.get(from_ticket=ticket, to_ticket=related)
    assert "Link removed." in flashes(post(client, ticket, f"links/{link.pk}/remove/"))
    assert not TicketLink.objects.filter(pk=link.pk).exists()
    other_link = TicketLink.objects.get(from_ticket=incident)
    assert post(client, ticket, f"links/{other_link.pk}/remove/").status_code == 404


def test_link_refusals(agent, ticket, light):
    client = logged_in(agent)
    hidden = make_ticket("Hidden", team=TeamFactory())
    assert f"no ticket #{hidden.pk} you can see" in flashes(
        post(client, ticket, "links/", {"number": hidden.pk})
    )
    assert "no ticket #abc" in flashes(post(client, ticket, "links/", {"number": "abc"}))
    assert "linked to itself" in flashes(post(client, ticket, "links/", {"number": ticket.pk}))
    assert "Choose how" in flashes(post(client, ticket, "links/", {"number": "1", "kind": "x"}))
    assert post(logged_in(light), ticket, "links/", {"number": "1"}).status_code == 403
    assert not TicketLink.objects.exists()


def test_merge_into_another_ticket_goes_there(agent, ticket):
    target = make_ticket("Original report")
    response = post(logged_in(agent), ticket, "merge/", {"target": f"#{target.pk}"})
    assert response.status_code == 302 and response["Location"] == f"/tickets/{target.pk}/"
    assert f"Ticket #{ticket.pk} was merged into this one." in flashes(response)
    ticket.refresh_from_db()
    assert ticket.merged_into_id == target.pk and ticket.status == "closed"
    html = page_html(agent, ticket)
    assert "This ticket was merged into" in html and "Merge into…" not in html


def test_merge_refusals(agent, ticket, light):
    client = logged_in(agent)
    hidden = make_ticket("Hidden", team=TeamFactory())
    response = post(client, ticket, "merge/", {"target": hidden.pk})
    assert response["Location"] == f"/tickets/{ticket.pk}/"
    assert "no ticket" in flashes(response)
    assert "merged into itself" in flashes(post(client, ticket, "merge/", {"target": ticket.pk}))
    assert post(logged_in(light), ticket, "merge/", {"target": hidden.pk}).status_code == 403
    ticket.refresh_from_db()
    assert ticket.merged_into_id is None


def test_split_an_inbound_message_into_a_new_ticket(agent, ticket):
    second = message_add(
        ticket=ticket, actor=Actor.for_customer(ticket.requester), text="Also: invoice?"
    )
    reply = message_add(ticket=ticket, actor=Actor.for_user(agent), text="On it")
    html = page_html(agent, ticket)
    assert f"/tickets/{ticket.pk}/messages/{second.pk}/split/" in html
    assert f"/messages/{reply.pk}/split/" not in html  # only customer messages split
    client = logged_in(agent)
    response = post(client, ticket, f"messages/{second.pk}/split/")
    new = Ticket.objects.latest("pk")
    assert response["Location"] == f"/tickets/{new.pk}/" and new.pk != ticket.pk
    assert list(new.messages.values_list("text", flat=True)) == ["Also: invoice?"]
    refused = post(client, ticket, f"messages/{reply.pk}/split/")
    assert "Only a customer's message" in flashes(refused)
    assert post(client, ticket, "messages/999999/split/").status_code == 404
    partial = client.get(f"/tickets/{new.pk}/messages/{second.pk}/").content.decode()
    assert "/split/" not in partial  # the only message of its ticket


# --------------------------------------------------------------------------- time tracking


def test_timer_start_stop_manual_entries_and_totals(agent, ticket):
    client = logged_in(agent)
    assert "Timer started." in flashes(post(client, ticket, "time/start/"))
    html = page_html(agent, ticket)
    assert "data-timer-since=" in html and "Stop timer" in html
    running = TimeEntry.objects.get(running=True)
    TimeEntry.objects.filter(pk=running.pk).update(
        started_at=running.started_at - timedelta(minutes=7, seconds=1)
    )
    assert "Timer stopped: 7 min logged." in flashes(post(client, ticket, "time/stop/"))
    assert "No timer is running" in flashes(post(client, ticket, "time/stop/"))
    post(client, ticket, "time/", {"minutes": "15", "note": "Called the warehouse"})
    for bad in ("abc", "0", "2000"):
        assert "1 minute to 24 hours" in flashes(post(client, ticket, "time/", {"minutes": bad}))
    colleague = UserFactory(first_name="Cid", last_name="Colleague")
    time_entry_add(ticket=ticket, actor=Actor.for_user(colleague), minutes=60)
    html = page_html(agent, ticket)
    assert "1 h 22 min" in html  # 7 + 15 + 60
    assert "22 min" in html and "1 h 00 min" in html  # per agent
    assert "Called the warehouse" in html
    assert f"/api/tickets/time-entries/export.csv?ticket={ticket.pk}" in html
    theirs = TimeEntry.objects.get(user=colleague)
    assert f"time/{theirs.pk}/delete/" not in html
    assert post(client, ticket, f"time/{theirs.pk}/delete/").status_code == 403
    mine = TimeEntry.objects.filter(user=agent).first()
    assert "Time entry deleted." in flashes(post(client, ticket, f"time/{mine.pk}/delete/"))
    supervisor = UserFactory(role=Role.SUPERVISOR)
    post(logged_in(supervisor), ticket, f"time/{theirs.pk}/delete/")
    assert not TimeEntry.objects.filter(pk=theirs.pk).exists()
    assert post(client, ticket, "time/999999/delete/").status_code == 404


def test_time_csv_export_works_with_the_browser_session(agent, ticket):
    time_entry_add(ticket=ticket, actor=Actor.for_user(agent), minutes=12, note="=cmd")
    response = logged_in(agent).get(f"/api/tickets/time-entries/export.csv?ticket={ticket.pk}")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert "12.00" in body and "'=cmd" in body


def test_light_agents_track_time_but_get_no_export_link(ticket, light):
    client = logged_in(light)
    post(client, ticket, "time/", {"minutes": "5"})
    assert TimeEntry.objects.filter(user=light, seconds=300).exists()
    assert "export.csv" not in page_html(light, ticket)
    outsider = UserFactory(role=Role.LIGHT_AGENT)
    assert post(logged_in(outsider), ticket, "time/start/").status_code == 404


# --------------------------------------------------------------------------- customer 360


def test_customer_card_shows_the_customer_everywhere(agent, ticket):
    customer = ticket.requester
    customer.tier, customer.language = "vip", "pt"
    customer.save()
    Identity.objects.create(customer=customer, kind="email", value="ana@example.com")
    Identity.objects.create(customer=customer, kind="phone", value="+14155550100")
    customer_organisation_add(customer=customer, organisation=OrganisationFactory(name="Acme"))
    order_create(customer=customer, product="Trail boots", amount="120.00", currency="EUR")
    old = make_ticket("Old question", requester=customer)
    ticket_update(ticket=old, status="solved", custom_fields={"csat": "good"})
    make_ticket("Still open", requester=customer)
    html = page_html(agent, ticket)
    for text in (
        "VIP",
        "pt",
        "Acme",
        "ana@example.com",
        "+14155550100",
        "Trail boots",
        "120.00 EUR",
        "Old question",
        "Still open",
        'badge-status-solved">good',
    ):
        assert text in html, text
    assert html.index("Still open") < html.index("Old question")  # open first, then past


def test_customer_notes_edit(agent, ticket, light):
    response = post(logged_in(agent), ticket, "customer-notes/", {"notes": "Prefers email.\r\n"})
    assert "Customer notes saved." in flashes(response)
    ticket.requester.refresh_from_db()
    assert ticket.requester.notes == "Prefers email."
    assert "Prefers email." in page_html(light, ticket)  # read-only for light agents
    assert 'id="customer-notes"' not in page_html(light, ticket)
    assert post(logged_in(light), ticket, "customer-notes/", {"notes": "x"}).status_code == 403
    too_long = post(logged_in(agent), ticket, "customer-notes/", {"notes": "x" * 10_001})
    assert "at most" in flashes(too_long)


def test_sidebar_forms_carry_htmx_and_still_post_plainly(agent, ticket):
    html = page_html(agent, ticket)
    assert f'hx-post="/tickets/{ticket.pk}/time/start/"' in html
    assert f'action="/tickets/{ticket.pk}/time/start/"' in html
    assert 'hx-select-oob="#flash-region:innerHTML,#timeline:innerHTML"' in html
    assert "frontline/js/ticket.js" in html
    assert post(logged_in(agent), ticket, "time/start/").status_code == 302
    assert logged_in(agent).get(f"/tickets/{ticket.pk}/time/start/").status_code == 405


# --------------------------------------------------------------------------- bulk merge


def bulk_merge(client, ids, target, **extra):
    data = {"ids": [str(i) for i in ids], "action": "merge", "merge_target": target, **extra}
    return client.post("/tickets/bulk/", data)


def test_bulk_merge_into_a_typed_ticket(agent):
    target, one, two = make_ticket("Target"), make_ticket("One"), make_ticket("Two")
    response = bulk_merge(logged_in(agent), [one.pk, two.pk, target.pk], f"#{target.pk}")
    assert response.status_code == 302
    assert f"Merged 2 tickets (#{one.pk}, #{two.pk}) into #{target.pk}." in flashes(response)
    for source in (one, two):
        source.refresh_from_db()
        assert source.merged_into_id == target.pk
    assert 'id="bulk-merge-target"' in logged_in(agent).get("/tickets/?view=all").content.decode()


def test_bulk_merge_is_all_or_nothing_with_reasons(agent):
    target, fine = make_ticket("Target"), make_ticket("Fine")
    hidden = make_ticket("Hidden", team=TeamFactory())
    closed = make_ticket("Closed")
    ticket_update(ticket=closed, status="solved")
    ticket_update(ticket=closed, status="closed")
    client = logged_in(agent)
    response = bulk_merge(client, [fine.pk, hidden.pk], str(target.pk))
    assert f"Nothing merged. #{hidden.pk}: not found" in flashes(response)
    response = bulk_merge(client, [fine.pk, closed.pk], str(target.pk))
    assert "Nothing merged." in flashes(response) and f"#{closed.pk} is closed" in flashes(response)
    assert "no ticket #" in flashes(bulk_merge(client, [fine.pk], str(hidden.pk)))
    assert "no ticket #" in flashes(bulk_merge(client, [fine.pk], "abc"))
    assert "Select the tickets" in flashes(bulk_merge(client, [target.pk], str(target.pk)))
    light = UserFactory(role=Role.LIGHT_AGENT)
    fine.collaborators.add(light)
    target.collaborators.add(light)
    refused = bulk_merge(logged_in(light), [fine.pk], str(target.pk))
    assert "you may not change this ticket" in flashes(refused)
    assert not Ticket.objects.filter(merged_into__isnull=False).exists()

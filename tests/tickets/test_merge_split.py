"""Merging duplicates into one ticket, and splitting a message off into its own ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from frontline.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from frontline.tickets.actors import Actor
from frontline.tickets.models import Message, Ticket, TicketLink
from frontline.tickets.services import (
    message_add,
    message_split,
    ticket_collaborator_add,
    ticket_merge,
    ticket_update,
    tickets_merge_many,
)
from tests.factories import TeamFactory, UserFactory
from tests.tickets.conftest import events_named, kinds

pytestmark = pytest.mark.django_db


def _backdate(ticket, minutes):
    """Move a ticket's messages into the past, keeping their order."""
    for i, message in enumerate(ticket.messages.order_by("id")):
        stamp = timezone.now() - timedelta(minutes=minutes - i)
        Message.objects.filter(pk=message.pk).update(created_at=stamp)


def test_merge_moves_messages_in_time_order_and_closes_the_source(make_ticket, agent):
    target = make_ticket("Boots", text="first, in the target")
    source = make_ticket("Boots again", text="second, in the source")
    _backdate(source, 60)  # the source's message is older than the target's: after the
    _backdate(target, 30)  # merge it comes first, and the note written just now comes last
    message_add(ticket=source, actor=Actor.for_user(agent), text="checking", visibility="internal")
    actor = Actor.for_user(agent)

    merged = ticket_merge(source=source, target=target, actor=actor)

    texts = [m.text for m in merged.messages.order_by("created_at", "id")]
    assert texts[:3] == ["second, in the source", "first, in the target", "checking"]
    assert merged.message_count == 4  # 1 + 2 moved + the merge note
    source.refresh_from_db()
    assert source.status == "closed"
    assert source.merged_into_id == target.pk
    assert source.closed_at is not None
    notes = [m.text for m in Message.objects.filter(visibility="internal").order_by("id")]
    assert any(f"#{source.pk}" in n and "merged into this ticket" in n for n in notes)
    assert list(source.messages.values_list("text", flat=True)) == [
        f"This ticket was merged into #{target.pk}; its messages are there now."
    ]
    assert "merged" in kinds(target)
    assert "merged_into" in kinds(source)
    status_row = source.events.filter(kind="field_changed", field="status").last()
    assert (status_row.old_value, status_row.new_value) == ("new", "closed")
    (event,) = events_named("ticket.merged")
    assert event.ticket_id == target.pk
    assert event.payload["source_id"] == source.pk
    assert event.payload["messages_moved"] == 2


def test_merge_adds_the_other_requester_as_cc_and_unites_tags_and_collaborators(make_ticket, agent):
    helper, other_helper = UserFactory(), UserFactory()
    target = make_ticket("Refund", tags=["refund"])
    source = make_ticket("Refund please", tags=["refund", "vip"])
    ticket_collaborator_add(ticket=target, user=helper)
    ticket_collaborator_add(ticket=source, user=other_helper)

    merged = ticket_merge(source=source, target=target, actor=Actor.for_user(agent))

    assert list(merged.cc_customers.all()) == [source.requester]
    assert sorted(merged.tags.values_list("name", flat=True)) == ["refund", "vip"]
    assert set(merged.collaborators.all()) == {helper, other_helper}
    row = merged.events.get(kind="merged")
    assert row.data["tags_added"] == ["vip"]
    assert row.data["cc_customer_ids"] == [source.requester_id]


def test_merging_tickets_of_the_same_requester_adds_no_cc(make_ticket, agent):
    target = make_ticket("A")
    source = make_ticket("B", requester=target.requester)
    merged = ticket_merge(source=source, target=target, actor=Actor.for_user(agent))
    assert merged.cc_customers.count() == 0


def test_merge_refusals(make_ticket, agent):
    actor = Actor.for_user(agent)
    one, two = make_ticket("one"), make_ticket("two")
    with pytest.raises(ValidationFailed) as into_itself:
        ticket_merge(source=one, target=one, actor=actor)
    assert into_itself.value.fields == {"target": ["same as the source"]}

    closed = make_ticket("closed")
    ticket_update(ticket=closed, status="solved")
    ticket_update(ticket=closed, status="closed")
    with pytest.raises(InvalidTransition) as into_closed:
        ticket_merge(source=one, target=closed, actor=actor)
    assert into_closed.value.fields == {"target": ["closed"]}

    ticket_merge(source=two, target=one, actor=actor)
    three = make_ticket("three")
    with pytest.raises(InvalidTransition) as into_merged:
        ticket_merge(source=three, target=two, actor=actor)
    assert into_merged.value.fields == {"target": ["already merged"]}
    with pytest.raises(InvalidTransition):
        ticket_merge(source=two, target=three, actor=actor)  # merged already: closed
    assert Message.objects.filter(ticket=three).count() == 1  # nothing moved


def test_merge_needs_update_rights_on_both_tickets(make_ticket):
    team_a, team_b = TeamFactory(), TeamFactory()
    agent_a = UserFactory()
    agent_a.teams.add(team_a)
    mine = make_ticket("mine", team=team_a)
    theirs = make_ticket("theirs", team=team_b)
    with pytest.raises(PermissionDenied) as refused:
        ticket_merge(source=theirs, target=mine, actor=Actor.for_user(agent_a))
    assert refused.value.fields == {"source": ["not allowed"]}
    with pytest.raises(PermissionDenied):
        ticket_merge(source=mine, target=theirs, actor=Actor.for_user(agent_a))
    light = UserFactory(role="light_agent")
    ticket_collaborator_add(ticket=mine, user=light)
    other = make_ticket("other", team=team_a)
    ticket_collaborator_add(ticket=other, user=light)
    with pytest.raises(PermissionDenied):
        ticket_merge(source=other, target=mine, actor=Actor.for_user(light))
    assert Ticket.objects.get(pk=theirs.pk).status == "new"


def test_merge_many_is_all_or_nothing(make_ticket, agent):
    actor = Actor.for_user(agent)
    target, a, b = make_ticket("t"), make_ticket("a"), make_ticket("b")
    merged = tickets_merge_many(sources=[b, a], target=target, actor=actor)
    assert merged.message_count == 1 + 2 + 2  # one each moved, and a note per merge
    assert set(Ticket.objects.filter(merged_into=target).values_list("pk", flat=True)) == {
        a.pk,
        b.pk,
    }

    target2, c = make_ticket("t2"), make_ticket("c")
    with pytest.raises(ValidationFailed):
        tickets_merge_many(sources=[c, target2], target=target2, actor=actor)
    c.refresh_from_db()
    assert c.merged_into_id is None and c.status == "new"  # rolled back with the refusal
    with pytest.raises(ValidationFailed):
        tickets_merge_many(sources=[], target=target2, actor=actor)
    with pytest.raises(ValidationFailed):
        tickets_merge_many(sources=[c, c], target=target2, actor=actor)


def test_split_moves_a_customer_message_and_its_attachments_to_a_new_related_ticket(
    make_ticket, agent
):
    from frontline.tickets.services import AttachmentInput

    ticket = make_ticket("Two questions", text="first question")
    customer = Actor.for_customer(ticket.requester)
    second = message_add(
        ticket=ticket,
        actor=customer,
        text="also, unrelated: my invoice",
        attachments=[AttachmentInput(filename="invoice.pdf", content=b"%PDF-1.4")],
    )
    actor = Actor.for_user(agent)

    new = message_split(message=second, actor=actor)

    assert new.pk != ticket.pk
    assert new.requester_id == ticket.requester_id
    assert new.channel == ticket.channel
    assert list(new.messages.values_list("text", flat=True)) == ["also, unrelated: my invoice"]
    assert new.messages.get().attachments.get().filename == "invoice.pdf"
    assert new.message_count == 1
    assert new.last_customer_message_at == second.created_at
    ticket.refresh_from_db()
    assert ticket.message_count == 1
    assert list(ticket.messages.values_list("text", flat=True)) == ["first question"]
    link = TicketLink.objects.get()
    assert (link.from_ticket_id, link.to_ticket_id, link.kind) == (ticket.pk, new.pk, "related")
    assert "message_split" in kinds(ticket) and "link_added" in kinds(ticket)
    assert "split_from" in kinds(new) and "created" in kinds(new)
    (event,) = events_named("ticket.split")
    assert event.payload == {"message_id": second.pk, "new_ticket_id": new.pk}


def test_split_refusals(make_ticket, agent):
    actor = Actor.for_user(agent)
    ticket = make_ticket("One message only")
    only = ticket.messages.get()
    with pytest.raises(ValidationFailed) as only_message:
        message_split(message=only, actor=actor)
    assert only_message.value.fields == {"message": ["only message"]}
    reply = message_add(ticket=ticket, actor=actor, text="An agent reply")
    with pytest.raises(ValidationFailed) as not_customer:
        message_split(message=reply, actor=actor)
    assert not_customer.value.fields == {"message": ["not an inbound customer message"]}
    with pytest.raises(PermissionDenied):
        message_split(message=only, actor=Actor.for_customer(ticket.requester))

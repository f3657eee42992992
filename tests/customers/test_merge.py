"""Customer merge moves identities, tickets and orders; the record lets it be reverted."""

from __future__ import annotations

import pytest

from frontline.core.errors import Conflict, ValidationFailed
from frontline.core.models import DomainEvent
from frontline.customers.models import Customer, CustomerEvent, Identity
from frontline.customers.services import (
    IdentityInput,
    customer_create,
    customer_merge,
    customer_merge_revert,
    customer_organisation_add,
    customer_resolve,
    identity_add,
)
from frontline.tickets.models import TicketEvent
from tests.factories import OrderFactory, OrganisationFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair():
    target = customer_create(
        name="Ana Lima", identities=[IdentityInput("email", "ana@example.com")]
    )
    source = customer_create(
        identities=[IdentityInput("phone", "+14155550100"), IdentityInput("chat", "visitor-9")],
        attributes={"plan": "gold"},
        language="pt",
    )
    return source, target


def test_merge_moves_everything_and_records_it(pair):
    source, target = pair
    ticket = TicketFactory(requester=source)
    order = OrderFactory(customer=source)
    org = OrganisationFactory()
    customer_organisation_add(customer=source, organisation=org)
    merge = customer_merge(source=source, target=target, actor="user:1")

    assert set(Identity.objects.filter(customer=target).values_list("value", flat=True)) == {
        "ana@example.com", "+14155550100", "visitor-9",
    }  # fmt: skip
    ticket.refresh_from_db()
    order.refresh_from_db()
    assert ticket.requester_id == target.pk and order.customer_id == target.pk
    target.refresh_from_db()
    source.refresh_from_db()
    assert source.merged_into_id == target.pk
    assert target.language == "pt" and target.attributes == {"plan": "gold"}
    assert target.memberships.filter(organisation=org).exists()
    assert merge.moved["tickets"] == [ticket.pk] and merge.moved["orders"] == [order.pk]
    assert CustomerEvent.objects.filter(customer=target, kind="merged").exists()
    assert TicketEvent.objects.filter(ticket=ticket, field="requester").exists()
    assert DomainEvent.objects.filter(name="customer.merged", customer_id=target.pk).exists()
    # The phone now finds the surviving customer.
    found, created = customer_resolve(identities=[IdentityInput("phone", "(415) 555-0100")])
    assert found.pk == target.pk and not created


def test_revert_moves_back_exactly_what_moved(pair):
    source, target = pair
    ticket = TicketFactory(requester=source)
    own_ticket = TicketFactory(requester=target)
    merge = customer_merge(source=source, target=target)
    later = identity_add(customer=target, identity=IdentityInput("email", "ana.work@example.com"))
    customer_merge_revert(merge=merge)

    ticket.refresh_from_db()
    own_ticket.refresh_from_db()
    source.refresh_from_db()
    target.refresh_from_db()
    assert ticket.requester_id == source.pk and own_ticket.requester_id == target.pk
    assert source.merged_into_id is None
    assert set(source.identities.values_list("value", flat=True)) == {"+14155550100", "visitor-9"}
    assert Identity.objects.get(pk=later.pk).customer_id == target.pk
    assert target.language == "" and target.attributes == {}
    merge.refresh_from_db()
    assert merge.reverted_at is not None
    with pytest.raises(Conflict):
        customer_merge_revert(merge=merge)


def test_merge_refuses_self_and_double_merge(pair):
    source, target = pair
    with pytest.raises(ValidationFailed):
        customer_merge(source=target, target=target)
    customer_merge(source=source, target=target)
    other = Customer.objects.create(name="x")
    with pytest.raises(Conflict):
        customer_merge(source=source, target=other)


def test_identity_unique_per_kind(pair):
    _source, target = pair
    with pytest.raises(Conflict):
        identity_add(customer=target, identity=IdentityInput("phone", "415-555-0100"))
    # the same value as another kind is a different identity
    identity_add(customer=target, identity=IdentityInput("external", "+14155550100", "shop"))
    with pytest.raises(Conflict):
        customer_create(identities=[IdentityInput("email", "ANA@example.com")])


def test_the_portal_login_follows_the_merge_and_back(pair):
    from frontline.customers.services import customer_portal_user_set
    from tests.factories import UserFactory

    source, target = pair
    login = UserFactory(role="customer")
    customer_portal_user_set(customer=source, user=login)
    merge = customer_merge(source=source, target=target)
    target.refresh_from_db()
    assert target.user_id == login.pk
    customer_merge_revert(merge=merge)
    source.refresh_from_db()
    target.refresh_from_db()
    assert source.user_id == login.pk and target.user_id is None

"""Writes for customers: create, identities, resolve-by-identity, merge and un-merge, orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from frontline.channels.types import Channel
from frontline.core.bus import Event, publish
from frontline.core.errors import Conflict, NotFound, ValidationFailed
from frontline.customers.models import (
    Customer,
    CustomerEvent,
    CustomerMerge,
    CustomerOrganisation,
    Identity,
    Order,
    OrderStatus,
    Organisation,
    Tier,
)
from frontline.customers.normalize import InvalidIdentity, normalize_identity


@dataclass(frozen=True)
class IdentityInput:
    kind: str
    value: str
    network: str = ""


def identity_normalize(identity: IdentityInput) -> tuple[str, str, str]:
    try:
        return normalize_identity(
            identity.kind,
            identity.value,
            identity.network,
            default_region=settings.PHONE_DEFAULT_REGION,
        )
    except InvalidIdentity as exc:
        raise ValidationFailed(str(exc), fields={"identities": [str(exc)]}) from exc


def _record(customer: Customer, event_kind: str, actor: str, **data: Any) -> None:
    CustomerEvent.objects.create(customer=customer, kind=event_kind, actor=actor, data=data)


@transaction.atomic
def customer_create(
    *,
    name: str = "",
    identities: list[IdentityInput] | None = None,
    language: str = "",
    tier: str = Tier.STANDARD,
    attributes: dict[str, Any] | None = None,
    notes: str = "",
    actor: str = "system",
) -> Customer:
    if tier not in Tier.values:
        raise ValidationFailed("Unknown tier.", fields={"tier": [str(Tier.values)]})
    normalized = [identity_normalize(i) for i in identities or []]
    for kind, network, value in normalized:
        if Identity.objects.filter(kind=kind, network=network, value=value).exists():
            raise Conflict(
                f"{kind} {value} already belongs to another customer.",
                fields={"identities": [f"{kind} {value} is taken"]},
            )
    customer = Customer.objects.create(
        name=name.strip(), language=language, tier=tier, attributes=attributes or {}, notes=notes
    )
    for kind, network, value in dict.fromkeys(normalized):
        Identity.objects.create(customer=customer, kind=kind, network=network, value=value)
    _record(customer, "created", actor)
    publish(Event(name="customer.created", actor=actor, customer_id=customer.pk))
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, actor: str = "system", **changes: Any) -> Customer:
    allowed = {"name", "language", "tier", "attributes", "notes", "preferred_channel"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed("Unknown fields.", fields={f: ["unknown field"] for f in unknown})
    if "tier" in changes and changes["tier"] not in Tier.values:
        raise ValidationFailed("Unknown tier.", fields={"tier": [str(Tier.values)]})
    if changes.get("preferred_channel") and changes["preferred_channel"] not in {
        c.value for c in Channel
    }:
        raise ValidationFailed("Unknown channel.", fields={"preferred_channel": ["unknown"]})
    diff = {}
    for field, value in changes.items():
        old = getattr(customer, field)
        if old != value:
            diff[field] = {"old": old, "new": value}
            setattr(customer, field, value)
    if diff:
        customer.save()
        _record(customer, "updated", actor, changes=diff)
        publish(Event(name="customer.updated", actor=actor, customer_id=customer.pk, data=diff))
    return customer


@transaction.atomic
def identity_add(
    *, customer: Customer, identity: IdentityInput, actor: str = "system", verified: bool = False
) -> Identity:
    kind, network, value = identity_normalize(identity)
    existing = Identity.objects.filter(kind=kind, network=network, value=value).first()
    if existing is not None:
        if existing.customer_id == customer.pk:
            return existing
        raise Conflict(
            f"{kind} {value} belongs to customer {existing.customer_id}; merge them instead.",
            fields={"value": ["belongs to another customer"]},
        )
    created = Identity.objects.create(
        customer=customer, kind=kind, network=network, value=value, verified=verified
    )
    _record(customer, "identity_added", actor, kind=kind, network=network, value=value)
    return created


@transaction.atomic
def identity_remove(*, customer: Customer, identity_id: int, actor: str = "system") -> None:
    identity = Identity.objects.filter(customer=customer, pk=identity_id).first()
    if identity is None:
        raise NotFound("No such identity on this customer.")
    _record(
        customer,
        "identity_removed",
        actor,
        kind=identity.kind,
        network=identity.network,
        value=identity.value,
    )
    identity.delete()


def customer_resolve(
    *, identities: list[IdentityInput], name: str = "", actor: str = "system"
) -> tuple[Customer, bool]:
    """Find the customer behind any of `identities`, or create one. Returns (customer, created).

    Identities not yet known are attached to the customer found. Safe under concurrency:
    two messages from a new sender at once end up on one customer.
    """
    if not identities:
        raise ValidationFailed("A sender identity is required.", fields={"from": ["required"]})
    normalized = list(dict.fromkeys(identity_normalize(i) for i in identities))
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _customer_resolve_once(normalized, name=name, actor=actor)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _customer_resolve_once(
    normalized: list[tuple[str, str, str]], *, name: str, actor: str
) -> tuple[Customer, bool]:
    from django.db.models import Q

    query = Q()
    for kind, network, value in normalized:
        query |= Q(kind=kind, network=network, value=value)
    found = {
        (i.kind, i.network, i.value): i
        for i in Identity.objects.filter(query).select_related("customer")
    }
    customer: Customer | None = None
    for key in normalized:  # the first identity given is the one the message came from
        if key in found:
            customer = found[key].customer
            break
    created = customer is None
    if customer is None:
        customer = Customer.objects.create(name=name.strip()[:200])
        _record(customer, "created", actor, source="inbound")
        publish(Event(name="customer.created", actor=actor, customer_id=customer.pk))
    elif name and not customer.name:
        customer.name = name.strip()[:200]
        customer.save(update_fields=["name", "updated_at"])
    for kind, network, value in normalized:
        if (kind, network, value) not in found:
            Identity.objects.create(customer=customer, kind=kind, network=network, value=value)
            if not created:
                _record(customer, "identity_added", actor, kind=kind, network=network, value=value)
    return customer, created


@transaction.atomic
def customer_merge(*, source: Customer, target: Customer, actor: str = "system") -> CustomerMerge:
    """Move everything of `source` onto `target`; `source` stays as a tombstone pointing to it."""
    from frontline.tickets.services import tickets_move_requester

    if source.pk == target.pk:
        raise ValidationFailed("Cannot merge a customer into itself.", fields={"source": ["same"]})
    if source.merged_into_id is not None or target.merged_into_id is not None:
        raise Conflict("One of these customers was already merged.")
    identity_ids = list(source.identities.values_list("pk", flat=True))
    order_ids = list(source.orders.values_list("pk", flat=True))
    target_orgs = set(target.memberships.values_list("organisation_id", flat=True))
    moved_orgs = []
    for membership in source.memberships.all():
        if membership.organisation_id not in target_orgs:
            CustomerOrganisation.objects.create(
                customer=target, organisation_id=membership.organisation_id, is_primary=False
            )
            moved_orgs.append(membership.organisation_id)
    Identity.objects.filter(pk__in=identity_ids).update(customer=target)
    Order.objects.filter(pk__in=order_ids).update(customer=target)
    ticket_ids = tickets_move_requester(from_customer=source, to_customer=target, actor=actor)
    filled = {}
    for field in ("name", "language", "notes"):
        if not getattr(target, field) and getattr(source, field):
            filled[field] = getattr(source, field)
            setattr(target, field, getattr(source, field))
    added_attributes = {k: v for k, v in source.attributes.items() if k not in target.attributes}
    target.attributes = {**source.attributes, **target.attributes}
    target.save()
    moved_user = None
    if source.user_id is not None and target.user_id is None:
        # The portal login follows the person, so they keep seeing their tickets.
        moved_user = source.user_id
        source.user = None
        source.save(update_fields=["user", "updated_at"])
        target.user_id = moved_user
        target.save(update_fields=["user", "updated_at"])
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    merge = CustomerMerge.objects.create(
        source=source,
        target=target,
        actor=actor,
        moved={
            "identities": identity_ids,
            "orders": order_ids,
            "tickets": ticket_ids,
            "organisations": moved_orgs,
            "filled": filled,
            "attributes": sorted(added_attributes),
            "user": moved_user,
        },
    )
    _record(target, "merged", actor, source_id=source.pk, merge_id=merge.pk)
    _record(source, "merged_into", actor, target_id=target.pk, merge_id=merge.pk)
    publish(
        Event(
            name="customer.merged",
            actor=actor,
            customer_id=target.pk,
            data={"source_id": source.pk, "merge_id": merge.pk, "moved": merge.moved},
        )
    )
    return merge


@transaction.atomic
def customer_merge_revert(*, merge: CustomerMerge, actor: str = "system") -> CustomerMerge:
    """Undo a merge: move back exactly what moved (things added since stay on the target)."""
    from frontline.tickets.services import tickets_set_requester

    merge = CustomerMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.reverted_at is not None:
        raise Conflict("This merge was already reverted.")
    source, target = merge.source, merge.target
    moved = merge.moved
    Identity.objects.filter(pk__in=moved.get("identities", []), customer=target).update(
        customer=source
    )
    Order.objects.filter(pk__in=moved.get("orders", []), customer=target).update(customer=source)
    tickets_set_requester(
        ticket_ids=moved.get("tickets", []), from_customer=target, to_customer=source, actor=actor
    )
    CustomerOrganisation.objects.filter(
        customer=target, organisation_id__in=moved.get("organisations", [])
    ).delete()
    for field in moved.get("filled", {}):
        setattr(target, field, "")
    for key in moved.get("attributes", []):
        target.attributes.pop(key, None)
    target.save()
    if moved.get("user") and target.user_id == moved["user"]:
        target.user = None
        target.save(update_fields=["user", "updated_at"])
        source.user_id = moved["user"]
    source.merged_into = None
    source.save(update_fields=["merged_into", "user", "updated_at"])
    merge.reverted_at = timezone.now()
    merge.save(update_fields=["reverted_at"])
    _record(target, "merge_reverted", actor, source_id=source.pk, merge_id=merge.pk)
    _record(source, "unmerged", actor, target_id=target.pk, merge_id=merge.pk)
    publish(
        Event(
            name="customer.merge_reverted",
            actor=actor,
            customer_id=target.pk,
            data={"source_id": source.pk, "merge_id": merge.pk},
        )
    )
    return merge


@transaction.atomic
def organisation_create(
    *,
    name: str,
    domains: list[str] | None = None,
    attributes: dict[str, Any] | None = None,
    notes: str = "",
    shared_tickets: bool = False,
) -> Organisation:
    if not name.strip():
        raise ValidationFailed("Name is required.", fields={"name": ["required"]})
    return Organisation.objects.create(
        name=name.strip(),
        domains=sorted({d.strip().lower() for d in domains or [] if d.strip()}),
        attributes=attributes or {},
        notes=notes,
        shared_tickets=shared_tickets,
    )


@transaction.atomic
def organisation_update(*, organisation: Organisation, **changes: Any) -> Organisation:
    allowed = {"name", "domains", "attributes", "notes", "shared_tickets"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed("Unknown fields.", fields={f: ["unknown field"] for f in unknown})
    for field, value in changes.items():
        setattr(organisation, field, value)
    organisation.save()
    return organisation


@transaction.atomic
def customer_organisation_add(
    *, customer: Customer, organisation: Organisation, primary: bool = False
) -> CustomerOrganisation:
    membership, created = CustomerOrganisation.objects.get_or_create(
        customer=customer, organisation=organisation
    )
    if created:
        publish(
            Event(
                name="customer.organisation_added",
                customer_id=customer.pk,
                data={"organisation_id": organisation.pk},
            )
        )
    if primary or not customer.memberships.filter(is_primary=True).exists():
        customer.memberships.filter(is_primary=True).exclude(pk=membership.pk).update(
            is_primary=False
        )
        membership.is_primary = True
        membership.save(update_fields=["is_primary"])
    return membership


def _decimal(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed("Amount must be a number.", fields={"amount": ["invalid"]}) from exc
    if amount < 0:
        raise ValidationFailed("Amount cannot be negative.", fields={"amount": [">= 0"]})
    return amount


@transaction.atomic
def order_create(
    *,
    customer: Customer,
    product: str,
    amount: Any,
    currency: str = "USD",
    quantity: int = 1,
    sku: str = "",
    number: str = "",
    ordered_at: datetime | None = None,
    status: str = OrderStatus.PAID,
) -> Order:
    if status not in OrderStatus.values:
        raise ValidationFailed("Unknown status.", fields={"status": [str(OrderStatus.values)]})
    if len(currency) != 3 or not currency.isalpha():
        raise ValidationFailed("Currency is an ISO 4217 code.", fields={"currency": ["invalid"]})
    if quantity < 1:
        raise ValidationFailed("Quantity must be at least 1.", fields={"quantity": [">= 1"]})
    order = Order.objects.create(
        customer=customer,
        product=product,
        amount=_decimal(amount),
        currency=currency.upper(),
        quantity=quantity,
        sku=sku,
        number=number,
        ordered_at=ordered_at or timezone.now(),
        status=status,
    )
    publish(
        Event(
            name="customer.order_recorded",
            customer_id=customer.pk,
            data={"order_id": order.pk, "amount": str(order.amount), "currency": order.currency},
        )
    )
    return order


@transaction.atomic
def customer_delete(*, customer: Customer, actor: str = "system") -> None:
    """Delete a customer without tickets. Customers with tickets are erased (privacy), not
    deleted, so the service history and statistics stay whole."""
    if customer.tickets.exists():
        raise Conflict(
            "This customer has tickets; merge or erase them instead.",
            fields={"customer": ["has tickets"]},
        )
    publish(Event(name="customer.deleted", actor=actor, data={"customer_id": customer.pk}))
    customer.delete()


@transaction.atomic
def customer_portal_user_set(*, customer: Customer, user: Any, actor: str = "system") -> Customer:
    """Link a portal login (a user with the customer role) to a customer."""
    from frontline.accounts.models import Role

    if user.role != Role.CUSTOMER:
        raise ValidationFailed(
            "Only customer accounts sign in to the portal.", fields={"user": ["not a customer"]}
        )
    taken = Customer.objects.filter(user=user).exclude(pk=customer.pk).first()
    if taken is not None:
        raise Conflict("That login belongs to another customer.", fields={"user": ["taken"]})
    customer.user = user
    customer.save(update_fields=["user", "updated_at"])
    _record(customer, "portal_user_set", actor, user_id=user.pk)
    return customer

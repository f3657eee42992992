"""REST endpoints for customers, identities, merges, orders and organisations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from frontline.accounts.models import Role
from frontline.api.permissions import request_user, require_agent
from frontline.core.errors import NotFound, ValidationFailed
from frontline.customers import selectors, services
from frontline.customers.models import Customer, CustomerMerge, Order, Organisation

router = Router(tags=["customers"])
organisations_router = Router(tags=["organisations"])


class IdentityIn(Schema):
    kind: str = Field(..., description="email, phone, chat, social or external")
    value: str = Field(..., min_length=1, max_length=254)
    network: str = Field("", description="social network or external system; else empty")


class IdentityOut(Schema):
    id: int
    kind: str
    network: str
    value: str
    verified: bool


class OrganisationRef(Schema):
    id: int
    name: str
    is_primary: bool


class CustomerOut(Schema):
    id: int
    name: str
    language: str
    tier: str
    attributes: dict[str, Any]
    notes: str
    identities: list[IdentityOut]
    organisations: list[OrganisationRef]
    merged_into_id: int | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_organisations(obj: Customer) -> list[dict[str, Any]]:
        return [
            {"id": m.organisation_id, "name": m.organisation.name, "is_primary": m.is_primary}
            for m in obj.memberships.all()
        ]

    @staticmethod
    def resolve_identities(obj: Customer) -> list[Any]:
        return list(obj.identities.all())


class CustomerCreateIn(Schema):
    name: str = Field("", max_length=200)
    identities: list[IdentityIn] = Field(default_factory=list)
    language: str = Field("", max_length=16)
    tier: str = "standard"
    attributes: dict[str, Any] = Field(default_factory=dict)
    notes: str = ""
    organisation_ids: list[int] = Field(default_factory=list)


class CustomerUpdateIn(Schema):
    name: str | None = Field(None, max_length=200)
    language: str | None = Field(None, max_length=16)
    tier: str | None = None
    attributes: dict[str, Any] | None = None
    notes: str | None = None


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


class MergeIn(Schema):
    source_id: int = Field(..., description="the customer merged away into this one")


class MergeOut(Schema):
    id: int
    source_id: int
    target_id: int
    moved: dict[str, Any]
    created_at: datetime
    reverted_at: datetime | None


class OrderIn(Schema):
    product: str = Field(..., min_length=1, max_length=200)
    amount: Decimal = Field(..., ge=0, max_digits=12, decimal_places=2)
    currency: str = Field("USD", min_length=3, max_length=3)
    quantity: int = Field(1, ge=1)
    sku: str = Field("", max_length=64)
    number: str = Field("", max_length=64)
    ordered_at: datetime | None = None
    status: str = "paid"


class OrderOut(Schema):
    id: int
    number: str
    product: str
    sku: str
    quantity: int
    amount: Decimal
    currency: str
    ordered_at: datetime
    status: str


def _customers_qs() -> Any:
    return Customer.objects.prefetch_related("identities", "memberships__organisation")


def _actor(request: HttpRequest) -> str:
    return f"user:{request_user(request).pk}"


@router.get("/me", response=CustomerOut, summary="The signed-in customer's own profile")
def customer_me(request: HttpRequest) -> Customer:
    user = request_user(request)
    customer = getattr(user, "customer", None) if user.role == Role.CUSTOMER else None
    if customer is None:
        raise NotFound("You are not a customer.")
    return _customers_qs().get(pk=customer.pk)


@router.get("/lookup", response=CustomerOut, summary="Find a customer by one identity")
def customer_lookup(request: HttpRequest, kind: str, value: str, network: str = "") -> Customer:
    require_agent(request)
    found = selectors.customer_by_identity(
        services.IdentityInput(kind=kind, value=value, network=network)
    )
    if found is None:
        raise NotFound("No customer has that identity.")
    return _customers_qs().get(pk=found.pk)


@router.get("", response=CustomerPage, summary="List customers (newest first)")
def customer_list(
    request: HttpRequest, q: str = "", cursor: int | None = None, limit: int = 25
) -> dict[str, Any]:
    require_agent(request)
    limit = max(1, min(limit, 100))
    qs = selectors.customer_list(query=q).prefetch_related("memberships__organisation")
    if cursor:
        qs = qs.filter(pk__lt=cursor)
    rows = list(qs.order_by("-id")[: limit + 1])
    next_cursor = str(rows[limit - 1].pk) if len(rows) > limit else None
    return {"items": rows[:limit], "next_cursor": next_cursor}


@router.post("", response={201: CustomerOut}, summary="Create a customer")
def customer_create(request: HttpRequest, payload: CustomerCreateIn) -> Status[Customer]:
    require_agent(request)
    orgs = Organisation.objects.in_bulk(payload.organisation_ids)
    missing = [org_id for org_id in payload.organisation_ids if org_id not in orgs]
    if missing:
        raise ValidationFailed(
            "No such organisation.", fields={"organisation_ids": [f"not found: {missing}"]}
        )
    with transaction.atomic():
        customer = services.customer_create(
            name=payload.name,
            identities=[services.IdentityInput(**i.model_dump()) for i in payload.identities],
            language=payload.language,
            tier=payload.tier,
            attributes=payload.attributes,
            notes=payload.notes,
            actor=_actor(request),
        )
        for index, org_id in enumerate(dict.fromkeys(payload.organisation_ids)):
            services.customer_organisation_add(
                customer=customer, organisation=orgs[org_id], primary=index == 0
            )
    return Status(201, _customers_qs().get(pk=customer.pk))


@router.get("/{customer_id}", response=CustomerOut)
def customer_get(request: HttpRequest, customer_id: int) -> Customer:
    require_agent(request)
    return get_object_or_404(_customers_qs(), pk=customer_id)


@router.patch("/{customer_id}", response=CustomerOut)
def customer_update(request: HttpRequest, customer_id: int, payload: CustomerUpdateIn) -> Customer:
    require_agent(request)
    customer = get_object_or_404(Customer, pk=customer_id)
    services.customer_update(
        customer=customer, actor=_actor(request), **payload.model_dump(exclude_none=True)
    )
    return _customers_qs().get(pk=customer.pk)


@router.delete("/{customer_id}", response={204: None})
def customer_delete(request: HttpRequest, customer_id: int) -> Status[None]:
    from frontline.api.permissions import require_roles

    require_roles(request, Role.ADMIN, Role.SUPERVISOR)
    customer = get_object_or_404(Customer, pk=customer_id)
    services.customer_delete(customer=customer, actor=_actor(request))
    return Status(204, None)


@router.post("/{customer_id}/identities", response={201: IdentityOut})
def identity_add(request: HttpRequest, customer_id: int, payload: IdentityIn) -> Status[Any]:
    require_agent(request)
    customer = get_object_or_404(Customer, pk=customer_id)
    identity = services.identity_add(
        customer=customer,
        identity=services.IdentityInput(**payload.model_dump()),
        actor=_actor(request),
    )
    return Status(201, identity)


@router.delete("/{customer_id}/identities/{identity_id}", response={204: None})
def identity_remove(request: HttpRequest, customer_id: int, identity_id: int) -> Status[None]:
    require_agent(request)
    customer = get_object_or_404(Customer, pk=customer_id)
    services.identity_remove(customer=customer, identity_id=identity_id, actor=_actor(request))
    return Status(204, None)


@router.post("/{customer_id}/merge", response={201: MergeOut}, summary="Merge source into this one")
def customer_merge(request: HttpRequest, customer_id: int, payload: MergeIn) -> Status[Any]:
    require_agent(request)
    target = get_object_or_404(Customer, pk=customer_id)
    source = get_object_or_404(Customer, pk=payload.source_id)
    return Status(201, services.customer_merge(source=source, target=target, actor=_actor(request)))


@router.post("/merges/{merge_id}/revert", response=MergeOut, summary="Undo a merge")
def customer_merge_revert(request: HttpRequest, merge_id: int) -> Any:
    require_agent(request)
    merge = get_object_or_404(CustomerMerge, pk=merge_id)
    return services.customer_merge_revert(merge=merge, actor=_actor(request))


@router.get("/{customer_id}/orders", response=list[OrderOut])
def order_list(request: HttpRequest, customer_id: int) -> list[Order]:
    require_agent(request)
    customer = get_object_or_404(Customer, pk=customer_id)
    return list(customer.orders.order_by("-ordered_at")[:200])


@router.post("/{customer_id}/orders", response={201: OrderOut})
def order_create(request: HttpRequest, customer_id: int, payload: OrderIn) -> Status[Order]:
    require_agent(request)
    customer = get_object_or_404(Customer, pk=customer_id)
    return Status(201, services.order_create(customer=customer, **payload.model_dump()))


class OrganisationIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    domains: list[str] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)
    notes: str = ""
    shared_tickets: bool = False


class OrganisationUpdateIn(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    domains: list[str] | None = None
    attributes: dict[str, Any] | None = None
    notes: str | None = None
    shared_tickets: bool | None = None


class OrganisationOut(Schema):
    id: int
    name: str
    domains: list[str]
    attributes: dict[str, Any]
    notes: str
    shared_tickets: bool
    created_at: datetime


class MemberIn(Schema):
    customer_id: int
    primary: bool = False


@organisations_router.get("", response=list[OrganisationOut])
def organisation_list(request: HttpRequest, q: str = "", limit: int = 100) -> list[Organisation]:
    require_agent(request)
    qs = Organisation.objects.all()
    if q:
        qs = qs.filter(name__icontains=q)
    return list(qs.order_by("name")[: max(1, min(limit, 500))])


@organisations_router.post("", response={201: OrganisationOut})
def organisation_create(request: HttpRequest, payload: OrganisationIn) -> Status[Organisation]:
    require_agent(request)
    return Status(201, services.organisation_create(**payload.model_dump()))


@organisations_router.get("/{organisation_id}", response=OrganisationOut)
def organisation_get(request: HttpRequest, organisation_id: int) -> Organisation:
    require_agent(request)
    return get_object_or_404(Organisation, pk=organisation_id)


@organisations_router.patch("/{organisation_id}", response=OrganisationOut)
def organisation_update(
    request: HttpRequest, organisation_id: int, payload: OrganisationUpdateIn
) -> Organisation:
    require_agent(request)
    org = get_object_or_404(Organisation, pk=organisation_id)
    return services.organisation_update(organisation=org, **payload.model_dump(exclude_none=True))


@organisations_router.post("/{organisation_id}/members", response={201: OrganisationRef})
def organisation_member_add(
    request: HttpRequest, organisation_id: int, payload: MemberIn
) -> Status[dict[str, Any]]:
    require_agent(request)
    org = get_object_or_404(Organisation, pk=organisation_id)
    customer = get_object_or_404(Customer, pk=payload.customer_id)
    membership = services.customer_organisation_add(
        customer=customer, organisation=org, primary=payload.primary
    )
    return Status(201, {"id": org.pk, "name": org.name, "is_primary": membership.is_primary})

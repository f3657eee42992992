"""Reads for customers: lookup by identity and the 360 view."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet, Sum

from frontline.customers.models import Customer, Identity, Order
from frontline.customers.services import IdentityInput, identity_normalize


def customer_by_identity(identity: IdentityInput) -> Customer | None:
    kind, network, value = identity_normalize(identity)
    found = (
        Identity.objects.select_related("customer")
        .filter(kind=kind, network=network, value=value)
        .first()
    )
    return found.customer if found else None


def customer_list(*, query: str = "") -> QuerySet[Customer]:
    qs = Customer.objects.filter(merged_into__isnull=True)
    if query:
        qs = qs.filter(name__icontains=query) | qs.filter(identities__value__icontains=query)
    return qs.distinct().prefetch_related("identities")


@dataclass(frozen=True)
class OrderTotals:
    count: int
    by_currency: dict[str, Decimal]


def customer_order_totals(customer: Customer) -> OrderTotals:
    rows = Order.objects.filter(customer=customer).values("currency").annotate(total=Sum("amount"))
    by_currency = {row["currency"]: row["total"] for row in rows}
    return OrderTotals(
        count=Order.objects.filter(customer=customer).count(), by_currency=by_currency
    )


def customer_get_active(customer_id: int) -> Customer | None:
    """The customer, following a merge to the surviving record."""
    customer = Customer.objects.filter(pk=customer_id).first()
    seen = set()
    while customer is not None and customer.merged_into_id is not None and customer.pk not in seen:
        seen.add(customer.pk)
        customer = Customer.objects.filter(pk=customer.merged_into_id).first()
    return customer

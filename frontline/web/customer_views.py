"""The customer page: one person across every channel. Profile and identities, suggested
merges (merge, undo, or "not the same person"), and all their conversations in one timeline."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from frontline.accounts.models import User
from frontline.channels.replies import channel_label
from frontline.channels.types import Channel
from frontline.core.errors import DomainError
from frontline.customers import services as customer_services
from frontline.customers import suggestions
from frontline.customers.models import Customer, CustomerEvent, CustomerMerge, MergeSuggestion
from frontline.customers.selectors import customer_list, customer_order_totals
from frontline.tickets import permissions, selectors
from frontline.tickets.actors import Actor
from frontline.tickets.models import Ticket
from frontline.web.common import staff_user

CONVERSATION_PAGE = 50
CUSTOMERS_PAGE = 50
LANGUAGE_MAX = 16


HISTORY_SHOWN = 30


def _with_actor_names(merges: Iterable[CustomerMerge]) -> list[tuple[CustomerMerge, str]]:
    """Each merge with who did it: "user:4" -> the agent's name (one query for all); other
    actors ("system", "channel:sms") as they are."""
    merges = list(merges)
    ids = {int(pk) for kind, _, pk in (m.actor.partition(":") for m in merges)
           if kind == "user" and pk.isdigit()}  # fmt: skip
    names = {u.pk: u.label for u in User.objects.filter(pk__in=ids)}
    labelled = []
    for merge in merges:
        kind, _, pk = merge.actor.partition(":")
        if kind == "user" and pk.isdigit():
            labelled.append((merge, names.get(int(pk), "a former colleague")))
        else:
            labelled.append((merge, merge.actor))
    return labelled


def _history_line(event: CustomerEvent) -> str:
    """One line of the customer's own record: merges, identities, profile changes."""
    data = event.data or {}
    value = f"{data.get('kind', '')} {data.get('value', '')}".strip()
    lines = {
        "created": "first seen" + (" (wrote in)" if data.get("source") == "inbound" else ""),
        "updated": "profile changed: " + ", ".join(sorted(data.get("changes", {}))),
        "identity_added": f"now reachable on {value}",
        "identity_removed": f"no longer reachable on {value}",
        "merged": f"customer #{data.get('source_id')} merged into this one",
        "merged_into": f"merged into customer #{data.get('target_id')}",
        "merge_reverted": f"merge of customer #{data.get('source_id')} undone",
        "unmerged": f"split off customer #{data.get('target_id')} again",
        "not_same_person": f"marked as not the same person as customer #{data.get('other_id')}",
        "portal_user_set": "given a help-centre login",
    }
    return lines.get(event.kind, event.kind.replace("_", " "))


def _customer(customer_id: int) -> Customer:
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise Http404("No such customer")
    return customer


def _require_manager(user: User) -> None:
    if not permissions.is_staff_agent(user):
        raise DjangoPermissionDenied("Only agents, supervisors and admins manage customers.")


@login_required
def customer_list_view(request: HttpRequest) -> HttpResponse:
    staff_user(request)
    query = request.GET.get("q", "").strip()[:200]
    customers = list(customer_list(query=query).order_by("-id")[:CUSTOMERS_PAGE])
    return render(
        request,
        "web/customer_list.html",
        {"customers": customers, "customer_query": query, "page_size": CUSTOMERS_PAGE},
    )


@login_required
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = staff_user(request)
    customer = _customer(customer_id)
    if customer.merged_into_id is not None:
        messages.info(request, f"{customer} was merged into this customer.")
        return redirect("web:customer_detail", customer_id=customer.merged_into_id)
    tickets = permissions.tickets_visible_to(user, Ticket.objects.filter(requester=customer))
    before = request.GET.get("before", "")
    conversation = selectors.customer_conversation(
        tickets,
        include_internal=permissions.can_see_internal(user),
        before_id=int(before) if before.isdigit() else None,
        limit=CONVERSATION_PAGE + 1,
    )
    open_suggestions = list(suggestions.suggestions_open_for(customer))
    context: dict[str, Any] = {
        "customer": customer,
        "identities": list(customer.identities.order_by("kind", "network", "value")),
        "memberships": list(customer.memberships.select_related("organisation")),
        "orders": list(customer.orders.all()[:10]),
        "order_totals": customer_order_totals(customer),
        "tickets": list(tickets.order_by("-id")[:20]),
        "conversation": conversation[:CONVERSATION_PAGE],
        "older": conversation[CONVERSATION_PAGE - 1].pk
        if len(conversation) > CONVERSATION_PAGE
        else None,
        "suggestions": [
            (
                s,
                s.other if s.customer_id == customer.pk else s.customer,
                suggestions.suggestion_describe(s, customer),
            )
            for s in open_suggestions
        ],
        "merges": _with_actor_names(
            CustomerMerge.objects.filter(target=customer, reverted_at__isnull=True)
            .select_related("source")
            .order_by("-id")[:20]
        ),
        "history": [
            (event, _history_line(event))
            for event in customer.events.order_by("-id")[:HISTORY_SHOWN]
        ],
        "channel_choices": [(c.value, channel_label(c.value)) for c in Channel],
        "can_manage": permissions.is_staff_agent(user),
    }
    return render(request, "web/customer_detail.html", context)


@login_required
@require_POST
def customer_profile_post(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Name, language and preferred channel: what replies and routing remember."""
    user = staff_user(request)
    _require_manager(user)
    customer = _customer(customer_id)
    changes = {
        "name": request.POST.get("name", customer.name).strip()[:200],
        "language": request.POST.get("language", customer.language).strip()[:LANGUAGE_MAX],
        "preferred_channel": request.POST.get("preferred_channel", customer.preferred_channel),
    }
    try:
        customer_services.customer_update(
            customer=customer, actor=Actor.for_user(user).label, **changes
        )
        messages.success(request, "Customer saved.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("web:customer_detail", customer_id=customer.pk)


def _suggestion(customer: Customer, suggestion_id: int) -> MergeSuggestion:
    found = (
        suggestions.suggestions_open_for(customer).filter(pk=suggestion_id).first()
        if customer.merged_into_id is None
        else None
    )
    if found is None:
        raise Http404("No such open suggestion")
    return found


@login_required
@require_POST
def customer_suggestion_post(
    request: HttpRequest, customer_id: int, suggestion_id: int
) -> HttpResponse:
    """Merge a suggested pair (keeping the customer named in `keep`) or dismiss it."""
    user = staff_user(request)
    _require_manager(user)
    customer = _customer(customer_id)
    suggestion = _suggestion(customer, suggestion_id)
    actor = Actor.for_user(user).label
    stay = customer.pk
    try:
        if request.POST.get("decision") == "dismiss":
            suggestions.suggestion_dismiss(suggestion=suggestion, actor=actor)
            messages.success(request, "Noted: not the same person. It will not be suggested again.")
        else:
            keep_id = request.POST.get("keep", "")
            keep = Customer.objects.filter(
                pk=int(keep_id) if keep_id.isdigit() else 0,
                pk__in=[suggestion.customer_id, suggestion.other_id],
            ).first()
            if keep is None:
                raise Http404("Keep one of the two customers")
            suggestions.suggestion_accept(suggestion=suggestion, keep=keep, actor=actor)
            stay = keep.pk
            messages.success(request, "Customers merged. You can undo this below.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("web:customer_detail", customer_id=stay)


@login_required
@require_POST
def customer_merge_undo_post(request: HttpRequest, customer_id: int, merge_id: int) -> HttpResponse:
    user = staff_user(request)
    _require_manager(user)
    customer = _customer(customer_id)
    merge = CustomerMerge.objects.filter(pk=merge_id, target=customer).first()
    if merge is None:
        raise Http404("No such merge")
    try:
        customer_services.customer_merge_revert(merge=merge, actor=Actor.for_user(user).label)
        messages.success(request, f"Merge undone: {merge.source} is a separate customer again.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("web:customer_detail", customer_id=customer.pk)

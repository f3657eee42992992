"""The agent workspace's ticket queue (views, filters, sorts, bulk actions, saved views), the
styleguide, and the health check. The ticket page is in ticket_views.py."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from frontline.accounts.models import User
from frontline.channels.types import Channel
from frontline.core.errors import DomainError, ValidationFailed
from frontline.tickets import permissions
from frontline.tickets.actors import Actor
from frontline.tickets.lifecycle import Status
from frontline.tickets.models import Priority, Ticket
from frontline.tickets.services import tickets_merge_many
from frontline.web import selectors, services
from frontline.web.common import staff_user
from frontline.web.selectors import QueueView, WorkspaceFilters
from frontline.web.templatetags.ui import ICON_DIR

LIST_URL = "/tickets/"


@dataclass
class ListState:
    """What the list page shows: a view, the filters in force, a sort, and any input errors."""

    view: QueueView
    filters: WorkspaceFilters
    sort: str
    edited: bool  # the filter form replaced the view's filters
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def customised(self) -> bool:
        return self.filters != self.view.filters or self.sort != self.view.sort

    def query(self, **extra: str) -> str:
        """The query string of this state (for pagination, "next" and the saved-view form)."""
        pairs: list[tuple[str, str]] = [("view", self.view.key)]
        if self.filters != self.view.filters:
            pairs += [("f", "1"), *self.filters.as_query()]
        if self.sort != self.view.sort:
            pairs.append(("sort", self.sort))
        pairs += [(k, v) for k, v in extra.items() if v]
        return urlencode(pairs)


def _list_state(params: QueryDict, views: list[QueueView]) -> ListState:
    key = params.get("view") or ("all" if params.get("q") else selectors.DEFAULT_VIEW)
    view = selectors.view_find(views, key) or selectors.VIEWS[selectors.DEFAULT_VIEW]
    errors: dict[str, list[str]] = {}
    raw = {name: params.getlist(name) for name in selectors.FILTER_FIELDS if name in params}
    try:
        given = selectors.filters_clean(raw)
    except ValidationFailed as error:
        errors.update(error.fields)
        given = WorkspaceFilters()
    edited = params.get("f") == "1" and not errors
    if edited:
        filters = given
    else:  # single parameters refine the view: /tickets/?view=open&channel=chat, ?q=refund
        overrides = {k: getattr(given, k) for k in selectors.FILTER_FIELDS if getattr(given, k)}
        filters = replace(view.filters, **overrides)
    try:
        sort = selectors.sort_clean(params.get("sort") or view.sort)
    except ValidationFailed as error:
        errors.update(error.fields)
        sort = view.sort
    return ListState(view=view, filters=filters, sort=sort, edited=edited, errors=errors)


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and len(raw) < 6 else 1


def _agents() -> list[User]:
    return list(
        User.objects.filter(role__in=selectors.AGENT_ROLES, is_active=True)
        .only("id", "username", "display_name", "first_name", "last_name")
        .order_by("username")
    )


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    visible = permissions.tickets_visible_to(user)
    teams = selectors.teams_visible_to(user)
    views = selectors.views_for(user, teams=teams)
    state = _list_state(request.GET, views)
    counts = selectors.view_counts(user, views, visible)
    qs = selectors.tickets_filter(visible, state.filters, user=user)
    try:
        page = selectors.ticket_list_page(
            qs,
            sort=state.sort,
            cursor=request.GET.get("cursor"),
            page=_page_number(request.GET.get("page")),
        )
    except DomainError:  # a malformed cursor: start again at the top
        page = selectors.ticket_list_page(qs, sort=state.sort)
    agents = _agents()
    can_update = user.role in selectors.AGENT_ROLES
    context: dict[str, Any] = {
        "state": state,
        "title": state.view.label,
        "tickets": page.items,
        "page": page,
        "next_query": state.query(cursor=page.next_cursor or "")
        if page.next_cursor
        else state.query(page=str(page.page + 1)),
        "prev_query": state.query(page=str(page.page - 1)) if page.page > 1 else "",
        "here": f"{LIST_URL}?{state.query()}",
        "nav": selectors.nav_sections(user, views, counts),
        "current_view": "" if state.customised else state.view.key,
        "count": None if state.customised else counts.get(state.view.key),
        "filters": state.filters,
        "q": state.filters.q,
        "statuses": [s.value for s in Status],
        "priorities": Priority.values,
        "channels": [c.value for c in Channel],
        "sorts": selectors.SORTS,
        "sort_label": selectors.SORTS[state.sort],
        "teams": teams,
        "agents": agents,
        "can_update": can_update,
        "can_share": services.can_share_views(user),
        "saved_view": state.view.saved_view,
        "can_delete_view": state.view.saved_view is not None
        and (
            state.view.saved_view.owner_id == user.pk
            or (state.view.saved_view.owner_id is None and services.can_share_views(user))
        ),
    }
    return render(request, "web/ticket_list.html", context)


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return LIST_URL


def _ticket_ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit() and len(v) < 19]


def _describe(ids: list[int]) -> str:
    return ", ".join(f"#{i}" for i in ids[:20]) + (" …" if len(ids) > 20 else "")


@login_required
@require_POST
def ticket_bulk_post(request: HttpRequest) -> HttpResponse:
    """Apply the bulk bar's changes to the selected tickets; report per-ticket failures."""
    user = staff_user(request)
    if request.POST.get("action") == "merge":
        _bulk_merge(request, user)
        return redirect(_next_url(request))
    change = services.BulkChange(
        assignee=request.POST.get("assignee") or None,
        status=request.POST.get("status") or None,
        team=request.POST.get("team") or None,
        add_tag=request.POST.get("add_tag") or None,
    )
    try:
        result = services.tickets_bulk_update(
            user=user, ticket_ids=_ticket_ids(request.POST.getlist("ids")), change=change
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(_next_url(request))
    if result.updated:
        n = len(result.updated)
        messages.success(request, f"Updated {n} ticket{'s' if n != 1 else ''}.")
    if result.unchanged and not result.failed and not result.updated:
        messages.info(request, "Nothing to change: the selected tickets already match.")
    if result.failed:
        details = "; ".join(f"#{tid}: {reason}" for tid, reason in result.failed[:20])
        n = len(result.failed)
        messages.error(request, f"{n} ticket{'s' if n != 1 else ''} not changed. {details}")
    return redirect(_next_url(request))


def _bulk_merge(request: HttpRequest, user: User) -> None:
    """Merge the selected tickets into the ticket whose number was typed: all of them or,
    when any one cannot be merged, none (the flash says which and why)."""
    raw = request.POST.get("merge_target", "").strip().lstrip("#").strip()
    ids = _ticket_ids(request.POST.getlist("ids"))
    target_id = int(raw) if raw.isdigit() and len(raw) < 19 else None
    found = {
        t.pk: t
        for t in permissions.tickets_visible_to(
            user, Ticket.objects.filter(pk__in=[*ids, target_id or 0])
        )
    }
    target = found.get(target_id or 0)
    if target is None:
        messages.error(request, f"Nothing merged: there is no ticket #{raw} you can see.")
        return
    sources = [i for i in dict.fromkeys(ids) if i != target.pk]
    if not sources:
        messages.error(request, f"Select the tickets to merge into #{target.pk}.")
        return
    failed = [(i, "not found") for i in sources if i not in found] + [
        (i, "you may not change this ticket")
        for i in [target.pk, *sources]
        if i in found and not permissions.can_update_ticket(user, found[i])
    ]
    if failed:
        details = "; ".join(f"#{tid}: {reason}" for tid, reason in failed[:20])
        messages.error(request, f"Nothing merged. {details}")
        return
    try:
        tickets_merge_many(
            sources=[found[i] for i in sources], target=target, actor=Actor.for_user(user)
        )
    except DomainError as error:
        fields = "; ".join(f"{k}: {', '.join(v)}" for k, v in error.fields.items())
        messages.error(request, f"Nothing merged. {error.message} {fields}".strip())
        return
    n = len(sources)
    messages.success(
        request,
        f"Merged {n} ticket{'s' if n != 1 else ''} ({_describe(sources)}) into #{target.pk}.",
    )


@login_required
@require_POST
def saved_view_post(request: HttpRequest) -> HttpResponse:
    """Save the list's current filters and sort as a named view (own, or shared)."""
    user = staff_user(request)
    raw = {name: request.POST.getlist(name) for name in selectors.FILTER_FIELDS}
    raw = {k: v for k, v in raw.items() if v and any(v)}
    try:
        view = services.saved_view_create(
            user=user,
            name=request.POST.get("name", ""),
            filters=raw,
            sort=request.POST.get("sort", "updated"),
            shared=request.POST.get("shared") == "1",
        )
    except DomainError as error:
        detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in error.fields.items())
        messages.error(request, f"{error.message} {detail}".strip())
        return redirect(_next_url(request))
    messages.success(request, f"Saved the view “{view.name}”.")
    return redirect(f"{LIST_URL}?view=saved-{view.pk}")


@login_required
@require_POST
def saved_view_delete_post(request: HttpRequest, view_id: int) -> HttpResponse:
    user = staff_user(request)
    try:
        services.saved_view_delete(user=user, view_id=view_id)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(_next_url(request))
    messages.success(request, "Deleted the saved view.")
    return redirect(LIST_URL)


@login_required
def styleguide(request: HttpRequest) -> HttpResponse:
    """Every component of the design system on one page (staff only)."""
    staff_user(request)
    return render(
        request,
        "web/styleguide.html",
        {
            "statuses": [s.value for s in Status],
            "priorities": Priority.values,
            "channels": [c.value for c in Channel],
            "icons": sorted(
                path.name.removesuffix(".svg")
                for path in (Path(__file__).parent / "static" / ICON_DIR).glob("*.svg")
            ),
        },
    )


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})

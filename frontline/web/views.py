"""The agent workspace's ticket list (views, filters) and the health check."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from frontline.core.errors import DomainError
from frontline.tickets import permissions, selectors
from frontline.web.common import staff_user

VIEWS: dict[str, tuple[str, dict[str, Any]]] = {
    "open": ("Open", {"status": ["new", "open"]}),
    "mine": ("Mine", {"status": ["new", "open", "pending", "on_hold"], "mine": True}),
    "unassigned": ("Unassigned", {"status": ["new", "open"], "unassigned": True}),
    "pending": ("Pending", {"status": ["pending", "on_hold"]}),
    "solved": ("Solved", {"status": ["solved", "closed"]}),
    "all": ("All", {}),
}


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    view_key = request.GET.get("view", "open")
    title, spec = VIEWS.get(view_key, VIEWS["open"])
    filters = selectors.TicketFilters(
        status=spec.get("status"),
        assignee_id=user.pk if spec.get("mine") else None,
        unassigned=bool(spec.get("unassigned")),
        channel=request.GET.get("channel") or None,
        tag=request.GET.get("tag") or None,
        query=request.GET.get("q") or None,
    )
    qs = selectors.ticket_filter(permissions.tickets_visible_to(user), filters)
    try:
        page = selectors.ticket_page(qs, cursor=request.GET.get("cursor"), limit=50)
    except DomainError:
        page = selectors.ticket_page(qs, cursor=None, limit=50)
    return render(
        request,
        "web/ticket_list.html",
        {
            "tickets": page.items,
            "next_cursor": page.next_cursor,
            "views": [(key, label) for key, (label, _) in VIEWS.items()],
            "current_view": view_key,
            "title": title,
            "q": request.GET.get("q", ""),
        },
    )


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})

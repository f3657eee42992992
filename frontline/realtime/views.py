"""Presence and notifications pages (the websocket does the same live; these are the
no-JavaScript path and the full list)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from frontline.core.errors import DomainError
from frontline.web.common import staff_user


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    from frontline.accounts.selectors import notifications_recent, notifications_unread_count

    user = staff_user(request)
    return render(
        request,
        "realtime/notifications.html",
        {
            "notifications": notifications_recent(user, limit=100),
            "unread": notifications_unread_count(user),
        },
    )


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    from frontline.accounts.services import notifications_mark_read

    user = staff_user(request)
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()]
    notifications_mark_read(user=user, ids=ids or "all")
    return redirect("realtime:notifications")


@login_required
@require_POST
def presence_set(request: HttpRequest) -> HttpResponse:
    from frontline.accounts.services import agent_presence_set

    user = staff_user(request)
    try:
        agent_presence_set(user=user, presence=request.POST.get("presence", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/tickets/"
    return redirect(target)

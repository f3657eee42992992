"""The live corner of the top bar: presence toggle and notification bell."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("realtime/_topbar.html", takes_context=True)
def live_topbar(context: dict[str, Any]) -> dict[str, Any]:
    from frontline.accounts.models import AgentProfile, Presence
    from frontline.accounts.selectors import notifications_unread_count

    request = context["request"]
    user = request.user
    profile = AgentProfile.objects.filter(user=user).only("presence").first()
    return {
        "user": user,
        "presence": profile.presence if profile else Presence.OFFLINE,
        "presences": Presence.choices,
        "unread": notifications_unread_count(user),
        "csrf_token": context.get("csrf_token"),
        "next": request.get_full_path(),
    }

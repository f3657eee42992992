"""Template filters of the ticket page.

{% load ticket_page %}
{{ entry.seconds|duration }}   -> "0 min", "45 s", "12 min", "2 h 05 min"
"""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def duration(seconds: Any) -> str:
    """Tracked time, short: seconds under a minute, then minutes, then hours and minutes."""
    try:
        total = max(0, int(seconds or 0))
    except (TypeError, ValueError):
        return ""
    if total == 0:
        return "0 min"
    if total < 60:
        return f"{total} s"
    minutes = total // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"

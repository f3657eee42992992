"""Workspace template tags: `{% workspace_nav %}`, the left navigation with view counts.

The list page passes its own `nav` (already counted); any other page (the ticket page, the
styleguide) gets it computed here with the same single aggregate query.
"""

from __future__ import annotations

from typing import Any

from django import template

from frontline.web import selectors

register = template.Library()


@register.inclusion_tag("web/list/_nav.html", takes_context=True)
def workspace_nav(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    nav = context.get("nav")
    if nav is None and user is not None and user.is_authenticated:
        views = selectors.views_for(user)
        nav = selectors.nav_sections(user, views, selectors.view_counts(user, views))
    path = getattr(request, "path", "")
    return {
        "nav": nav or [],
        "current_view": context.get("current_view", ""),
        "user": user,
        "on_styleguide": path.startswith("/styleguide/"),
        "on_customers": path.startswith("/customers/"),
    }


@register.filter
def capped(count: int | None) -> str:
    """A view count as shown: "999+" past selectors.COUNT_CAP."""
    if count is None:
        return ""
    return f"{selectors.COUNT_CAP}+" if count > selectors.COUNT_CAP else str(count)

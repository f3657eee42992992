"""Design-system template tags: `{% icon %}`, `{% avatar %}`, and the relative-time filters.

{% load ui %}
{% icon "inbox" %}                      -> <svg class="icon icon-inbox" aria-hidden="true" ...>
{% icon "tag" class="icon-sm" %}
{% avatar ticket.assignee %}            -> initials in a coloured circle (a User or a name)
{% avatar "Ana Lima" size="sm" %}
{{ ticket.updated_at|ago }}             -> "5 min ago"
{{ ticket.last_customer_message_at|waited }} -> "2 h 5 min"
"""

from __future__ import annotations

import re
import zlib
from datetime import datetime
from functools import lru_cache
from typing import Any

from django import template
from django.contrib.staticfiles import finders
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

ICON_DIR = "vendor/lucide-static/icons"
AVATAR_COLOURS = 8

CHANNEL_ICONS = {
    "email": "mail",
    "chat": "message-circle",
    "sms": "smartphone",
    "whatsapp": "message-square",
    "facebook": "share-2",
    "instagram": "share-2",
    "social": "share-2",
    "phone": "phone",
    "portal": "globe",
    "api": "code",
    "web": "globe",
    "webhook": "webhook",
}

_ICON_NAME = re.compile(r"^[a-z0-9-]+$")
_SVG_OPEN = re.compile(r"<svg\b[^>]*>", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


@lru_cache(maxsize=128)
def _icon_body(name: str) -> str:
    """The inner markup of a vendored icon (everything between <svg ...> and </svg>)."""
    if not _ICON_NAME.match(name):
        raise ValueError(f"bad icon name {name!r}")
    path = finders.find(f"{ICON_DIR}/{name}.svg")
    if not path or isinstance(path, list):
        raise ValueError(f"unknown icon {name!r}: vendor it first (see vendor/VENDORED.md)")
    with open(path, encoding="utf-8") as handle:
        source = _COMMENT.sub("", handle.read())
    opening = _SVG_OPEN.search(source)
    if opening is None:
        raise ValueError(f"icon {name!r} is not an SVG")
    inner = source[opening.end() : source.rindex("</svg>")]
    return " ".join(inner.split())


@register.simple_tag
def icon(name: str, **attrs: str) -> SafeString:
    """An inline SVG icon, decorative (aria-hidden); its colour is the text colour."""
    classes = " ".join(filter(None, ["icon", f"icon-{name}", attrs.get("class", "")]))
    return format_html(
        '<svg class="{}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" '
        'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" '
        'aria-hidden="true" focusable="false">{}</svg>',
        classes,
        mark_safe(_icon_body(name)),  # noqa: S308 - our own vendored file, read from disk
    )


@register.simple_tag
def channel_icon(channel: str) -> SafeString:
    return icon(CHANNEL_ICONS.get(channel, "inbox"), **{"class": "channel-icon"})


def _label(who: Any) -> str:
    if who is None:
        return ""
    label = getattr(who, "label", None)
    return str(label if label is not None else who).strip()


def initials(name: str) -> str:
    """ "Ana Lima" -> "AL", "madonna" -> "MA", "ana.lima@example.com" -> "AL"."""
    words = [w for w in re.split(r"[\s._-]+", name.split("@")[0]) if w and w[0].isalnum()]
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][:2].upper()
    return (words[0][0] + words[-1][0]).upper()


@register.simple_tag
def avatar(who: Any, size: str = "") -> SafeString:
    """Initials in a circle; the colour is stable per name. `who`: a User, a Customer or a str."""
    name = _label(who)
    size_class = f" avatar-{size}" if size else ""
    if not name:
        return format_html(
            '<span class="avatar avatar-empty{}" role="img" aria-label="Unassigned">-</span>',
            size_class,
        )
    colour = zlib.crc32(name.encode()) % AVATAR_COLOURS + 1
    return format_html(
        '<span class="avatar avatar-c{}{}" role="img" aria-label="{}" title="{}">{}</span>',
        colour,
        size_class,
        name,
        name,
        initials(name),
    )


def _span(seconds: float, *, parts: int = 2) -> str:
    """A duration in its largest units: "5 min", "2 h 5 min", "3 d 4 h" (parts=1: "3 d")."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "under 1 min"
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    units = [(days, "d"), (hours, "h"), (minutes, "min")]
    while units[0][0] == 0:
        units.pop(0)
    shown = [f"{n} {unit}" for n, unit in units[:parts] if n]
    return " ".join(shown)


@register.filter
def ago(value: datetime | None) -> str:
    """ "5 min ago", "3 h ago", "2 d ago"; "just now" under a minute."""
    if value is None:
        return ""
    seconds = (timezone.now() - value).total_seconds()
    return "just now" if seconds < 60 else f"{_span(seconds, parts=1)} ago"


@register.filter
def waited(value: datetime | None) -> str:
    """How long since `value`: "2 h 5 min", "3 d 4 h"."""
    if value is None:
        return ""
    return _span(max(0.0, (timezone.now() - value).total_seconds()))


@register.filter
def hours_since(value: datetime | None) -> float:
    """Hours since `value` (0 for None), e.g. to mark long waits."""
    if value is None:
        return 0.0
    return (timezone.now() - value).total_seconds() / 3600


@register.filter
def status_label(value: str) -> str:
    """ "on_hold" -> "on-hold", as tickets show their status."""
    return str(value).replace("_", "-")


@register.filter
def channel_name(value: str) -> str:
    """ "sms" -> "SMS", "facebook" -> "Messenger": the channel as agents call it."""
    from frontline.channels.replies import channel_label

    return channel_label(str(value))

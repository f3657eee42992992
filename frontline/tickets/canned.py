"""Rendering canned responses: a fixed set of placeholders, substituted as plain text.

User-written text never goes through the Django template engine (no tags, no attribute
walks): only the names in PLACEHOLDERS are replaced, anything else is left as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from frontline.accounts.models import User
    from frontline.tickets.models import Ticket

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")

PLACEHOLDERS: dict[str, Callable[[Ticket, User], str]] = {
    "ticket.id": lambda ticket, agent: str(ticket.pk),
    "requester.name": lambda ticket, agent: ticket.requester.name,
    "agent.name": lambda ticket, agent: agent.label,
}


def canned_render(body: str, ticket: Ticket, agent: User) -> str:
    """`body` with its known placeholders filled in for `ticket` and `agent`.

    Hook: macros will reuse this to render the text of their "reply" actions, so new
    placeholders go in PLACEHOLDERS, not in the callers.
    """

    def replace(match: re.Match[str]) -> str:
        getter = PLACEHOLDERS.get(match.group(1))
        return getter(ticket, agent) if getter else match.group(0)

    return _PLACEHOLDER.sub(replace, body)

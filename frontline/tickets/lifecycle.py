"""The ticket status lifecycle, in one place. Pure: no ORM.

new -> open -> pending -> on-hold -> solved -> closed. Closed is final: a customer reply to a
closed ticket opens a follow-up ticket instead. A customer reply to a solved ticket reopens it.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"


ALLOWED: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED}),
    Status.OPEN: frozenset({Status.PENDING, Status.ON_HOLD, Status.SOLVED}),
    Status.PENDING: frozenset({Status.OPEN, Status.ON_HOLD, Status.SOLVED}),
    Status.ON_HOLD: frozenset({Status.OPEN, Status.PENDING, Status.SOLVED}),
    Status.SOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}

# Statuses in which a ticket still takes new messages on its thread.
ACTIVE = frozenset({Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD})
# Statuses an inbound customer message moves back to open.
REOPENED_BY_CUSTOMER = frozenset({Status.PENDING, Status.SOLVED})


def can_transition(old: str, new: str) -> bool:
    return Status(new) in ALLOWED[Status(old)]


def status_after_customer_message(current: str) -> Status:
    """Where a ticket goes when its customer writes. Closed never reopens (follow-up instead)."""
    status = Status(current)
    if status is Status.CLOSED:
        raise ValueError("closed tickets take no messages; open a follow-up")
    if status in REOPENED_BY_CUSTOMER:
        return Status.OPEN
    return status


def status_after_agent_reply(current: str) -> Status:
    """An agent's first public reply moves a new ticket to open (Zendesk's default)."""
    status = Status(current)
    return Status.OPEN if status is Status.NEW else status

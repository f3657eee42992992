"""Email addressing and threading tokens. Pure: no ORM.

Threading hints we put in our own mail and read back:
- Message-IDs of our replies: <frontline.t{ticket}.m{message}.{random}@{domain}>
- a ticket token in the subject: "[#1234]"
- plus-addressing: support+t1234@example.com
"""

from __future__ import annotations

import re
import secrets

SUBJECT_TOKEN_RE = re.compile(r"\[#(\d{1,18})\]")
OWN_MESSAGE_ID_RE = re.compile(r"<frontline\.t(\d{1,18})\.m\d+\.[A-Za-z0-9_-]+@[^>]+>")
PLUS_TICKET_RE = re.compile(r"^t(\d{1,18})$")


def split_address(address: str) -> tuple[str, str, str]:
    """'Support+T12@Example.COM' -> ('support', 't12', 'example.com')."""
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    base, _, tag = local.partition("+")
    return base, tag, domain


def base_address(address: str) -> str:
    base, _, domain = split_address(address)
    return f"{base}@{domain}"


def ticket_from_plus_tag(address: str) -> int | None:
    _, tag, _ = split_address(address)
    match = PLUS_TICKET_RE.match(tag)
    return int(match.group(1)) if match else None


def ticket_from_subject(subject: str) -> int | None:
    match = SUBJECT_TOKEN_RE.search(subject or "")
    return int(match.group(1)) if match else None


def ticket_from_references(references: list[str]) -> int | None:
    for ref in reversed(references):
        match = OWN_MESSAGE_ID_RE.fullmatch(ref.strip())
        if match:
            return int(match.group(1))
    return None


def make_message_id(*, ticket_id: int, message_id: int, domain: str) -> str:
    return f"<frontline.t{ticket_id}.m{message_id}.{secrets.token_urlsafe(6)}@{domain}>"


def subject_with_token(subject: str, ticket_id: int) -> str:
    clean = subject.strip() or "Your request"
    if SUBJECT_TOKEN_RE.search(clean):
        return clean
    prefix = "" if clean.lower().startswith("re:") else "Re: "
    return f"{prefix}{clean} [#{ticket_id}]"

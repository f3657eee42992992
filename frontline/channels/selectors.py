"""Reads for channels: mailbox look-up by recipient address."""

from __future__ import annotations

from frontline.channels.email.addressing import base_address
from frontline.channels.models import Mailbox


def mailbox_for_address(address: str) -> Mailbox | None:
    """The active mailbox receiving `address` (plus-tags ignored, aliases honoured)."""
    wanted = base_address(address)
    found = Mailbox.objects.filter(address=wanted, is_active=True).first()
    if found is not None:
        return found
    for mailbox in Mailbox.objects.filter(is_active=True).exclude(aliases=[]):
        if wanted in {a.lower() for a in mailbox.aliases}:
            return mailbox
    return None

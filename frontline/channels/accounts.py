"""Messaging accounts (Twilio numbers, Meta pages, bridged networks): create, secrets, look-up,
and which account a reply goes out from."""

from __future__ import annotations

import json
import secrets as secrets_module
import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.text import slugify

from frontline.channels.models import PROVIDER_CHANNEL, MessagingAccount, Provider
from frontline.core import crypto
from frontline.core.errors import ValidationFailed

if TYPE_CHECKING:
    from frontline.tickets.models import Ticket


def account_secrets(account: MessagingAccount) -> dict[str, str]:
    """The decrypted secrets of `account` (empty if none were set)."""
    if not account.secrets_encrypted:
        return {}
    return dict(_decrypted(account.secrets_encrypted))


@lru_cache(maxsize=256)
def _decrypted(token: str) -> tuple[tuple[str, str], ...]:
    """Decryption is a pure function of the stored token: every webhook checks a signature
    with these secrets, so they are decrypted once per process and stored value."""
    loaded = json.loads(crypto.decrypt(token))
    return tuple((str(k), str(v)) for k, v in loaded.items())


def account_secret(account: MessagingAccount, name: str) -> str:
    return account_secrets(account).get(name, "")


@transaction.atomic
def account_secrets_set(account: MessagingAccount, **values: str) -> MessagingAccount:
    """Set (or, with an empty value, remove) secrets; the others are kept."""
    current = account_secrets(account)
    for name, value in values.items():
        if value:
            current[name] = value
        else:
            current.pop(name, None)
    account.secrets_encrypted = crypto.encrypt(json.dumps(current, sort_keys=True))
    account.save(update_fields=["secrets_encrypted"])
    return account


@transaction.atomic
def account_create(
    *,
    provider: str,
    name: str,
    address: str = "",
    key: str = "",
    account_sid: str = "",
    api_base_url: str = "",
    outbound_url: str = "",
    public_url: str = "",
    team_id: int | None = None,
    options: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
) -> MessagingAccount:
    if provider not in Provider.values:
        raise ValidationFailed("Unknown provider.", fields={"provider": [str(Provider.values)]})
    if not name.strip():
        raise ValidationFailed("Name is required.", fields={"name": ["required"]})
    key = slugify(key) or f"{slugify(name)[:40] or provider}-{secrets_module.token_hex(4)}"
    if MessagingAccount.objects.filter(key=key).exists():
        raise ValidationFailed("That key is taken.", fields={"key": ["taken"]})
    account = MessagingAccount.objects.create(
        provider=provider,
        name=name.strip(),
        key=key,
        address=address.strip(),
        account_sid=account_sid.strip(),
        api_base_url=api_base_url.strip().rstrip("/"),
        outbound_url=outbound_url.strip(),
        public_url=public_url.strip(),
        team_id=team_id,
        options=options or {},
    )
    if secrets:
        account_secrets_set(account, **secrets)
    return account


# Webhook look-ups by key, per process: a change to an account (deactivated, a secret
# rotated) clears this process's copy at once and reaches the others within this many seconds.
ACCOUNT_CACHE_SECONDS = 5.0
_by_key: dict[str, tuple[float, MessagingAccount | None]] = {}


def account_by_key(key: str, *, providers: tuple[str, ...]) -> MessagingAccount | None:
    """The active account a webhook URL names, if it is one of `providers`."""
    now = time.monotonic()
    cached = _by_key.get(key)
    if cached is None or cached[0] < now:
        found = MessagingAccount.objects.filter(key=key, is_active=True).first()
        if len(_by_key) > 1000:
            _by_key.clear()  # keys come from URLs: never let strangers grow this
        _by_key[key] = cached = (now + ACCOUNT_CACHE_SECONDS, found)
    account = cached[1]
    return account if account is not None and account.provider in providers else None


def accounts_cache_clear(**_: object) -> None:
    """Signal receiver: an account was saved or deleted in this process."""
    _by_key.clear()


def account_get(account_id: int | None) -> MessagingAccount | None:
    if account_id is None:
        return None
    return MessagingAccount.objects.filter(pk=account_id).first()


def account_default(channel: str) -> MessagingAccount | None:
    """The first active account on `channel` (the oldest), for replies started by an agent."""
    providers = [p for p, c in PROVIDER_CHANNEL.items() if c == channel]
    return (
        MessagingAccount.objects.filter(provider__in=providers, is_active=True)
        .order_by("id")
        .first()
    )


def last_inbound_on_channel(ticket: Ticket, channel: str) -> dict[str, Any]:
    """The metadata of the customer's latest message on `channel` in `ticket` (empty if none):
    which account it came to, which comment or thread it belongs to."""
    from frontline.tickets.models import Direction, Message

    metadata = (
        Message.objects.filter(ticket=ticket, channel=channel, direction=Direction.INBOUND)
        .order_by("-id")
        .values_list("metadata", flat=True)
        .first()
    )
    return dict(metadata or {})


def account_for_reply(
    ticket: Ticket, channel: str, *, inbound: dict[str, Any] | None = None
) -> MessagingAccount | None:
    """The account the customer last wrote to on `channel`; else the channel's default.
    `inbound`: that last message's metadata, when the caller has it already."""
    if inbound is None:
        inbound = last_inbound_on_channel(ticket, channel)
    account = account_get(inbound.get("account_id"))
    if account is not None and account.is_active:
        return account
    return account_default(channel)

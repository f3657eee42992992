"""Identity normalisation: pure functions, no ORM, so hypothesis can hammer them.

Every identity is stored in one canonical form so the same person written two ways
(`Ana@Example.COM`, `(415) 555-0100`) is recognised as one customer.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers


class IdentityKind:
    EMAIL = "email"
    PHONE = "phone"
    CHAT = "chat"
    SOCIAL = "social"
    EXTERNAL = "external"

    ALL = (EMAIL, PHONE, CHAT, SOCIAL, EXTERNAL)


class InvalidIdentity(ValueError):
    pass


_EMAIL_RE = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]+$")
_NETWORK_RE = re.compile(r"^[a-z0-9_.-]{1,32}$")
MAX_VALUE_LENGTH = 254


def normalize_email(value: str) -> str:
    """Case-fold the whole address (what users expect, and what every helpdesk does)."""
    email = unicodedata.normalize("NFKC", value).strip().strip("<>").strip()
    email = email.casefold()
    if len(email) > MAX_VALUE_LENGTH or not _EMAIL_RE.match(email):
        raise InvalidIdentity(f"not an email address: {value!r}")
    local, _, domain = email.rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidIdentity(f"bad email domain: {value!r}") from exc
    return f"{local}@{domain}"


def normalize_phone(value: str, *, default_region: str = "US") -> str:
    """E.164 (`+14155550100`); numbers without a country code use `default_region`."""
    raw = unicodedata.normalize("NFKC", value).strip()
    if raw.lower().startswith("whatsapp:"):
        raw = raw[len("whatsapp:") :]
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, None if raw.startswith("+") else default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentity(f"not a phone number: {value!r}") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentity(f"not a possible phone number: {value!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_network(network: str) -> str:
    net = network.strip().lower()
    if not _NETWORK_RE.match(net):
        raise InvalidIdentity(f"bad network name: {network!r}")
    return net


def normalize_handle(value: str) -> str:
    """Social handles: no leading @, case-insensitive (as the networks treat them)."""
    handle = unicodedata.normalize("NFKC", value).strip().lstrip("@").casefold()
    if not handle or len(handle) > MAX_VALUE_LENGTH or any(c.isspace() for c in handle):
        raise InvalidIdentity(f"not a handle: {value!r}")
    return handle


def normalize_opaque(value: str) -> str:
    """Chat visitor ids and external ids are kept exactly, minus surrounding space."""
    ident = value.strip()
    if not ident or len(ident) > MAX_VALUE_LENGTH or any(ord(c) < 32 for c in ident):
        raise InvalidIdentity(f"not an identifier: {value!r}")
    return ident


def normalize_identity(
    kind: str, value: str, network: str = "", *, default_region: str = "US"
) -> tuple[str, str, str]:
    """Return the canonical `(kind, network, value)` or raise InvalidIdentity."""
    if kind == IdentityKind.EMAIL:
        return kind, "", normalize_email(value)
    if kind == IdentityKind.PHONE:
        return kind, "", normalize_phone(value, default_region=default_region)
    if kind == IdentityKind.CHAT:
        return kind, "", normalize_opaque(value)
    if kind == IdentityKind.SOCIAL:
        if not network:
            raise InvalidIdentity("a social identity needs its network")
        return kind, normalize_network(network), normalize_handle(value)
    if kind == IdentityKind.EXTERNAL:
        if not network:
            raise InvalidIdentity("an external id needs the system it comes from")
        return kind, normalize_network(network), normalize_opaque(value)
    raise InvalidIdentity(f"unknown identity kind: {kind!r}")

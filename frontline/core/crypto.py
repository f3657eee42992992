"""Secrets at rest (mailbox passwords, OAuth tokens): Fernet, keyed from the settings.

`FRONTLINE_ENCRYPTION_KEYS` (comma-separated Fernet keys, newest first) allows rotation; without
it a key is derived from SECRET_KEY, so the embedded mode needs no extra set-up.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = [k.strip() for k in settings.FRONTLINE_ENCRYPTION_KEYS if k.strip()]
    if not keys:
        derived = hashlib.sha256(b"frontline-secrets:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(derived).decode()]
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def decrypt(token: str) -> str:
    """The plain text, or raise ValueError if the key changed or the value was tampered with."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: wrong key or damaged value") from exc

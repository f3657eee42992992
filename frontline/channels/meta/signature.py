"""Meta's webhook signature: `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw
request body keyed with the app secret. Checked before anything is stored."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_PREFIX = "sha256="


def signature_for(body: bytes, app_secret: str) -> str:
    """The header value Meta sends for `body` (used by the check and by tests)."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_PREFIX}{digest}"


def signature_valid(body: bytes, header: str, app_secret: str) -> bool:
    """True when `header` is the signature of `body` under `app_secret` (constant time).

    An account without an app secret accepts nothing: an unsigned webhook is never trusted."""
    if not app_secret or not header.startswith(SIGNATURE_PREFIX):
        return False
    received = header.removeprefix(SIGNATURE_PREFIX).strip().lower()
    expected = signature_for(body, app_secret).removeprefix(SIGNATURE_PREFIX)
    return hmac.compare_digest(received.encode(), expected.encode())

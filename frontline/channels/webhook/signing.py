"""The messaging webhook's signature, used both ways (bridge -> Frontline, Frontline -> bridge).

    X-Frontline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>

The timestamp is signed with the body, so a captured request cannot be replayed after the
tolerance. A header may carry several `v1=` values: during a secret rotation the sender signs
with the old and the new secret, and the receiver accepts either. Unknown schemes (`v0=`,
`v2=`) are ignored, so the scheme can evolve without breaking older receivers.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

SIGNATURE_HEADER = "X-Frontline-Signature"
SCHEME = "v1"
TOLERANCE_SECONDS = 300
# More values than this is not a rotation but an attempt to make us hash for nothing.
MAX_SIGNATURES = 8
# A header longer than this is refused before it is parsed.
MAX_HEADER_LENGTH = 1024


class SignatureInvalid(ValueError):
    """The signature header is missing, malformed, stale or matches no secret. The text says
    which, and never anything about the secret."""


def _digest(secret: str, body: bytes, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _secrets(secret: str | Sequence[str]) -> list[str]:
    candidates = [secret] if isinstance(secret, str) else list(secret)
    return [s for s in candidates if s]


def sign(secret: str | Sequence[str], body: bytes, now: float) -> str:
    """The header value signing `body` at time `now` (unix seconds) with `secret`, or with
    each of several secrets (one `v1=` value each) while a rotation is under way."""
    secrets = _secrets(secret)
    if not secrets:
        raise ValueError("a signing secret is required")
    timestamp = int(now)
    values = ",".join(f"{SCHEME}={_digest(s, body, timestamp)}" for s in secrets)
    return f"t={timestamp},{values}"


def _parse(header: str) -> tuple[int, list[str]]:
    if len(header) > MAX_HEADER_LENGTH:
        raise SignatureInvalid("signature header too long")
    timestamps: list[str] = []
    signatures: list[str] = []
    for part in header.split(","):
        name, separator, value = part.strip().partition("=")
        if not separator:
            continue
        if name == "t":
            timestamps.append(value.strip())
        elif name == SCHEME:
            signatures.append(value.strip().lower())
    if len(timestamps) != 1 or not timestamps[0].isascii() or not timestamps[0].isdigit():
        raise SignatureInvalid("signature header needs exactly one t=<unix seconds>")
    if not signatures:
        raise SignatureInvalid(f"signature header has no {SCHEME}= value")
    if len(signatures) > MAX_SIGNATURES:
        raise SignatureInvalid(f"signature header has more than {MAX_SIGNATURES} values")
    return int(timestamps[0]), signatures


def verify(
    secret: str | Sequence[str],
    body: bytes,
    header: str,
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """Accept `header` for `body` or raise SignatureInvalid.

    Any `v1=` value may match any of our secrets (rotation on either side). The timestamp
    must be within `tolerance` seconds of `now`, in the past or the future (clock skew).
    """
    secrets = _secrets(secret)
    if not secrets:
        raise SignatureInvalid("no signing secret is configured")
    if not header or not header.strip():
        raise SignatureInvalid(f"missing {SIGNATURE_HEADER} header")
    timestamp, signatures = _parse(header)
    if abs(now - timestamp) > tolerance:
        raise SignatureInvalid("signature timestamp outside the tolerance (replay or clock skew)")
    expected = [_digest(s, body, timestamp) for s in secrets]
    matched = False
    for candidate in signatures:
        for digest in expected:
            # Every pair is compared, so the time taken does not tell which one matched.
            matched |= hmac.compare_digest(candidate.encode(), digest.encode())
    if not matched:
        raise SignatureInvalid("signature does not match")

"""Reading a provider's file download without trusting its size."""

from __future__ import annotations

import httpx

CHUNK_BYTES = 64 * 1024


def body_within(response: httpx.Response, max_bytes: int) -> tuple[bytes | None, int]:
    """The streamed body of `response` if it is at most `max_bytes`, else None; with the size
    seen (the declared length, or what was read until the limit was passed). At most the
    limit plus one chunk is ever read, so a huge or endless file costs no more."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None, int(declared)
    received = bytearray()
    for chunk in response.iter_bytes(CHUNK_BYTES):
        received.extend(chunk)
        if len(received) > max_bytes:
            return None, len(received)
    return bytes(received), len(received)

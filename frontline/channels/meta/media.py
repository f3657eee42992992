"""Downloading the files customers send on Messenger and Instagram (`payload.url`).

The URLs point at Meta's CDN, need no token and expire after a while. A file is read only up
to the attachment limit; a bigger one, or one whose URL is gone (4xx), is left out and said so.
A network error or a 5xx raises `MediaUnavailable` so the payload's task tries again later,
unless the caller says this is the last attempt: then the message arrives without the file.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from frontline.channels.downloads import body_within
from frontline.channels.types import InboundAttachment

MEDIA_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
# What a file of each attachment type is called when its URL does not name it.
FALLBACK_TYPES = {
    "image": "image/jpeg",
    "sticker": "image/png",
    "video": "video/mp4",
    "audio": "audio/mpeg",
    "file": "application/octet-stream",
}


class MediaUnavailable(Exception):
    """A download failed for a reason that may pass (timeout, 5xx): retry the payload."""


@dataclass
class Downloads:
    attachments: list[InboundAttachment] = field(default_factory=list)
    # Files left out: {"type", "url", "reason"} (kept in the message metadata).
    skipped: list[dict[str, Any]] = field(default_factory=list)


def _filename(url: str, kind: str, content_type: str, index: int) -> str:
    stem = urlsplit(url).path.rstrip("/").rpartition("/")[2]
    stem = stem.replace("\\", "_")[:180]
    if stem and "." in stem:
        return stem
    extension = mimetypes.guess_extension(content_type) or ""
    return f"{stem or f'{kind}-{index + 1}'}{extension}"


def _fetch(
    client: httpx.Client, url: str, kind: str, index: int, max_bytes: int, result: Downloads
) -> None:
    if urlsplit(url).scheme not in ("http", "https"):
        result.skipped.append({"type": kind, "url": url, "reason": "not a web address"})
        return
    try:
        with client.stream("GET", url) as response:
            if response.status_code >= 500 or response.status_code == 429:
                raise MediaUnavailable(f"{kind} download answered HTTP {response.status_code}")
            if not response.is_success:
                reason = f"could not be downloaded (HTTP {response.status_code})"
                result.skipped.append({"type": kind, "url": url, "reason": reason})
                return
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
            content_type = content_type or FALLBACK_TYPES.get(kind, "application/octet-stream")
            content, size = body_within(response, max_bytes)
            if content is None:
                reason = f"larger than the {max_bytes}-byte attachment limit"
                result.skipped.append({"type": kind, "url": url, "reason": reason, "size": size})
                return
            result.attachments.append(
                InboundAttachment(
                    filename=_filename(url, kind, content_type, index),
                    content_type=content_type,
                    content=content,
                )
            )
    except httpx.InvalidURL:
        result.skipped.append({"type": kind, "url": url, "reason": "not a valid address"})
    except httpx.HTTPError as exc:
        raise MediaUnavailable(f"{kind} download failed: {type(exc).__name__}") from exc


def media_download(
    items: list[tuple[str, str]], *, max_bytes: int, last_attempt: bool = False
) -> Downloads:
    """Download each (type, url) in order. On the last attempt a temporary failure leaves the
    file out (reported in `skipped`) instead of raising."""
    result = Downloads()
    if not items:
        return result
    with httpx.Client(follow_redirects=True, timeout=MEDIA_TIMEOUT) as client:
        for index, (kind, url) in enumerate(items):
            try:
                _fetch(client, url, kind, index, max_bytes, result)
            except MediaUnavailable as exc:
                if not last_attempt:
                    raise
                reason = f"could not be downloaded ({exc})"
                result.skipped.append({"type": kind, "url": url, "reason": reason})
    return result

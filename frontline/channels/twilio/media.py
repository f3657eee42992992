"""Downloading the media of an inbound MMS or WhatsApp message (MediaUrl{N}).

Twilio's media URLs answer with a redirect to its storage, and need HTTP basic auth when the
account enforces it; httpx drops the credentials when a redirect leaves Twilio's host. Files
over the attachment limit are streamed only up to that limit, then left out and reported;
a network error or a 5xx raises `MediaUnavailable` so the payload's task retries later, until
the caller stops retrying (`retry_failures=False`): the message then arrives without that file,
and says so, rather than never.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from frontline.channels.downloads import body_within
from frontline.channels.types import InboundAttachment

MEDIA_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
FILENAME_IN_DISPOSITION = re.compile(r"""filename\*?=(?:UTF-8'')?["']?([^"';]+)""", re.IGNORECASE)


class MediaUnavailable(Exception):
    """A download failed for a reason that may pass (timeout, 5xx): retry the payload."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"media {url} {reason}")
        self.reason = reason


@dataclass(frozen=True)
class MediaItem:
    url: str
    content_type: str = ""


@dataclass
class MediaResult:
    attachments: list[InboundAttachment] = field(default_factory=list)
    # Media left out: {"url", "content_type", "reason", "size"?} (kept in the message metadata).
    skipped: list[dict[str, Any]] = field(default_factory=list)


def _filename(item: MediaItem, response: httpx.Response, content_type: str, index: int) -> str:
    disposition = response.headers.get("Content-Disposition", "")
    found = FILENAME_IN_DISPOSITION.search(disposition)
    if found:
        name = unquote(found.group(1)).strip().replace("/", "_").replace("\\", "_")
        if name:
            return name[:200]
    stem = urlsplit(item.url).path.rstrip("/").rpartition("/")[2] or f"media-{index}"
    if "." in stem:
        return stem[:200]
    extension = mimetypes.guess_extension(content_type) or ""
    return f"{stem[:180]}{extension}"


def _download(
    client: httpx.Client, item: MediaItem, index: int, max_bytes: int, result: MediaResult
) -> None:
    """Add the file to `result`, or its reason for being left out; MediaUnavailable when
    trying again later may work."""
    try:
        with client.stream("GET", item.url) as response:
            if response.status_code >= 500 or response.status_code == 429:
                raise MediaUnavailable(item.url, f"HTTP {response.status_code}")
            if not response.is_success:
                result.skipped.append(
                    {
                        "url": item.url,
                        "content_type": item.content_type,
                        "reason": f"could not be downloaded (HTTP {response.status_code})",
                    }
                )
                return
            content_type = (
                item.content_type
                or response.headers.get("Content-Type", "").split(";")[0].strip()
                or "application/octet-stream"
            )
            content, size = body_within(response, max_bytes)
            if content is None:
                result.skipped.append(
                    {
                        "url": item.url,
                        "content_type": content_type,
                        "reason": f"larger than the {max_bytes} bytes limit",
                        "size": size,
                    }
                )
                return
            result.attachments.append(
                InboundAttachment(
                    filename=_filename(item, response, content_type, index),
                    content_type=content_type,
                    content=content,
                )
            )
    except httpx.HTTPError as exc:
        raise MediaUnavailable(item.url, f"network error: {type(exc).__name__}") from exc


def media_fetch(
    items: list[MediaItem],
    *,
    auth: httpx.BasicAuth | None,
    max_bytes: int,
    retry_failures: bool = True,
    auth_host: str = "",
) -> MediaResult:
    """Download every item, in order; oversized or gone ones are reported in `skipped`, and so
    are unavailable ones when `retry_failures` is off. The account's credentials go only to
    `auth_host` (Twilio's API host): a media URL elsewhere is fetched without them."""
    result = MediaResult()
    if not items:
        return result
    with (
        httpx.Client(auth=auth, follow_redirects=True, timeout=MEDIA_TIMEOUT) as with_auth,
        httpx.Client(follow_redirects=True, timeout=MEDIA_TIMEOUT) as without_auth,
    ):
        for index, item in enumerate(items):
            host = (urlsplit(item.url).hostname or "").lower()
            client = with_auth if auth is not None and host == auth_host.lower() else without_auth
            try:
                _download(client, item, index, max_bytes, result)
            except MediaUnavailable as exc:
                if retry_failures:
                    raise
                result.skipped.append(
                    {
                        "url": item.url,
                        "content_type": item.content_type,
                        "reason": f"could not be downloaded ({exc.reason})",
                    }
                )
    return result

"""Downloads of attachments a bridge sends by URL, at processing time (never in the view).

A download reads at most the attachment limit plus one byte, so a huge or endless file costs
no more than the limit. Failures are split in two: the file will never come (4xx, a bad URL)
-> the message is ingested without it and the reason is kept; the server or the network is
down for now (5xx, 408, 429, timeouts) -> AttachmentUnavailable, and the payload is retried.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from frontline.channels.downloads import body_within

DOWNLOAD_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
MAX_REDIRECTS = 3
RETRYABLE_STATUSES = frozenset({408, 425, 429})


class AttachmentUnavailable(RuntimeError):
    """A transient download failure: raising it makes the processing task retry."""


@dataclass(frozen=True)
class Download:
    content: bytes = b""
    too_large: bool = False
    problem: str = ""  # why the file will never be downloaded; empty when it was


def download(url: str, *, max_bytes: int) -> Download:
    if not url.lower().startswith(("http://", "https://")):
        return Download(problem="only http and https URLs are downloaded")
    try:
        with (
            httpx.Client(
                timeout=DOWNLOAD_TIMEOUT, follow_redirects=True, max_redirects=MAX_REDIRECTS
            ) as client,
            client.stream("GET", url, headers={"User-Agent": "Frontline"}) as response,
        ):
            status = response.status_code
            if status >= 500 or status in RETRYABLE_STATUSES:
                raise AttachmentUnavailable(f"{url} answered {status}")
            if status >= 400:
                return Download(problem=f"the server answered {status}")
            content, _ = body_within(response, max_bytes)
            return Download(too_large=True) if content is None else Download(content=content)
    except httpx.TooManyRedirects:
        return Download(problem=f"more than {MAX_REDIRECTS} redirects")
    except httpx.UnsupportedProtocol:
        return Download(problem="a redirect led to a URL that is not http or https")
    except httpx.InvalidURL as exc:
        return Download(problem=f"invalid URL: {exc}")
    except httpx.HTTPError as exc:  # timeouts, refused connections, broken transfers
        raise AttachmentUnavailable(f"download of {url} failed: {exc!r}") from exc

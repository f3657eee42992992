"""Twilio's request signature (X-Twilio-Signature), shared by SMS, WhatsApp and Voice.

Twilio signs the full URL it called plus, for form posts, every parameter name and value
sorted by name, with HMAC-SHA1 keyed by the account's auth token, base64-encoded. Behind a
proxy the URL Django sees differs from the one Twilio called: an account's `public_url`
(its webhook base as configured at Twilio) is then used instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from django.http import HttpRequest

from frontline.channels.models import MessagingAccount


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The signature Twilio sends for a form post of `params` to `url`."""
    data = url + "".join(f"{name}{value}" for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _with_and_without_port(url: str) -> list[str]:
    """Twilio may sign the URL with or without the default port; accept both forms."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    default = {"https": 443, "http": 80}.get(parts.scheme)
    bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    with_port = urlunsplit(
        (parts.scheme, f"{host}:{parts.port or default}", parts.path, parts.query, parts.fragment)
    )
    return [url, bare, with_port]


def signed_url(request: HttpRequest, account: MessagingAccount) -> str:
    """The URL Twilio called, as it signed it."""
    if account.public_url:
        base = urlsplit(account.public_url)
        return urlunsplit(
            (base.scheme, base.netloc, request.path, request.META.get("QUERY_STRING", ""), "")
        )
    return request.build_absolute_uri()


def twilio_request_valid(request: HttpRequest, account: MessagingAccount, auth_token: str) -> bool:
    """True if `request` carries a valid X-Twilio-Signature for `account`."""
    given = request.headers.get("X-Twilio-Signature", "")
    if not given or not auth_token:
        return False
    params = [(k, v) for k in request.POST for v in request.POST.getlist(k)]
    return any(
        hmac.compare_digest(twilio_signature(auth_token, url, params), given)
        for url in _with_and_without_port(signed_url(request, account))
    )

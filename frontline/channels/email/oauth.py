"""OAuth2 access tokens for IMAP (XOAUTH2) on Microsoft 365 and Google mailboxes.

The admin stores the client id/secret and a refresh token (encrypted); this module exchanges
the refresh token for an access token when the stored one is missing or about to expire, and
stores the new tokens (encrypted) with their expiry. The token endpoints can be overridden with
the `OAUTH_TOKEN_URLS` setting (`{"microsoft": url, "google": url}`), which the tests use.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from frontline.channels.models import Mailbox
from frontline.core import crypto

TOKEN_URLS = {
    "microsoft": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
    "google": "https://oauth2.googleapis.com/token",
}
# Microsoft's v2 endpoint wants the scopes again on refresh; Google keeps the granted ones.
REFRESH_SCOPES = {
    "microsoft": "https://outlook.office.com/IMAP.AccessAsUser.All offline_access",
}
EXPIRY_MARGIN = timedelta(seconds=120)
TIMEOUT_SECONDS = 20


class OAuthError(Exception):
    """The token endpoint refused the refresh (revoked consent, wrong secret, ...)."""


def token_url(provider: str) -> str:
    overrides: dict[str, str] = getattr(settings, "OAUTH_TOKEN_URLS", None) or {}
    url = overrides.get(provider) or TOKEN_URLS.get(provider)
    if not url:
        raise OAuthError(f"unknown OAuth provider {provider!r}")
    return url


def access_token_get(mailbox: Mailbox) -> str:
    """A valid access token for `mailbox`, refreshed (and stored) if needed."""
    expires_at = mailbox.oauth_expires_at
    if (
        mailbox.oauth_access_token_encrypted
        and expires_at
        and expires_at - EXPIRY_MARGIN > (timezone.now())
    ):
        return crypto.decrypt(mailbox.oauth_access_token_encrypted)
    return access_token_refresh(mailbox)


def access_token_refresh(mailbox: Mailbox) -> str:
    """Exchange the refresh token for a new access token; store both encrypted + the expiry."""
    refresh_token = crypto.decrypt(mailbox.oauth_refresh_token_encrypted)
    if not refresh_token:
        raise OAuthError("no refresh token: connect the mailbox to its provider again")
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": mailbox.oauth_client_id,
    }
    secret = crypto.decrypt(mailbox.oauth_client_secret_encrypted)
    if secret:
        form["client_secret"] = secret
    scope = REFRESH_SCOPES.get(mailbox.oauth_provider)
    if scope:
        form["scope"] = scope
    data = _post_form(token_url(mailbox.oauth_provider), form)
    access_token = data.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise OAuthError("the token endpoint answered without an access_token")
    try:
        expires_in = int(data.get("expires_in") or 3600)
    except (TypeError, ValueError):
        expires_in = 3600
    mailbox.oauth_access_token_encrypted = crypto.encrypt(access_token)
    mailbox.oauth_expires_at = timezone.now() + timedelta(seconds=expires_in)
    fields = ["oauth_access_token_encrypted", "oauth_expires_at"]
    new_refresh = data.get("refresh_token")
    if isinstance(new_refresh, str) and new_refresh and new_refresh != refresh_token:
        mailbox.oauth_refresh_token_encrypted = crypto.encrypt(new_refresh)
        fields.append("oauth_refresh_token_encrypted")
    mailbox.save(update_fields=fields)
    return access_token


def _post_form(url: str, form: dict[str, str]) -> dict[str, Any]:
    if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
        raise OAuthError(f"refusing token URL {url!r}")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise OAuthError(f"token refresh refused: {_describe(exc.read())}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise OAuthError(f"token endpoint unreachable: {exc}") from exc
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise OAuthError("the token endpoint did not answer JSON") from exc
    if not isinstance(data, dict):
        raise OAuthError("the token endpoint did not answer a JSON object")
    return data


def _describe(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace")
    if isinstance(data, dict):
        error = str(data.get("error", "error"))
        detail = str(data.get("error_description", ""))[:300]
        return f"{error}: {detail}" if detail else error
    return "error"

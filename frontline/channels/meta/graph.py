"""Calls to Meta's Graph API (Send API, comment replies, profile and mention look-ups).

Every call carries the page access token (account secret `page_token`) as a Bearer header,
so it never lands in a URL or a log line. A refused call raises `GraphError` with Graph's own
error message, which the outbound task shows the agent after its last retry.
"""

from __future__ import annotations

from typing import Any

import httpx

from frontline.channels.accounts import account_secret
from frontline.channels.models import MessagingAccount

# The Graph API version every call uses; Meta supports each version for about two years.
GRAPH_VERSION = "v21.0"
GRAPH_DEFAULT_BASE = "https://graph.facebook.com"
GRAPH_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


class GraphError(Exception):
    """A Graph API call failed. `transient` says whether trying again later may work
    (network trouble, a 5xx, throttling, or Graph's own `is_transient` flag)."""

    def __init__(
        self, message: str, *, status: int = 0, code: int | None = None, transient: bool = False
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.transient = transient


def graph_url(account: MessagingAccount, path: str) -> str:
    base = (account.api_base_url or GRAPH_DEFAULT_BASE).rstrip("/")
    return f"{base}/{GRAPH_VERSION}/{path.lstrip('/')}"


def _error_from(response: httpx.Response) -> GraphError:
    """Graph answers errors as {"error": {"message", "type", "code", "fbtrace_id", ...}}."""
    status = response.status_code
    try:
        error = response.json().get("error") or {}
    except ValueError:
        error = {}
    if not isinstance(error, dict):
        error = {}
    message = str(error.get("message") or response.reason_phrase or "no error message")
    code = error.get("code") if isinstance(error.get("code"), int) else None
    transient = status >= 500 or status == 429 or bool(error.get("is_transient"))
    detail = f" (code {code})" if code is not None else ""
    return GraphError(
        f"Graph API HTTP {status}: {message}{detail}", status=status, code=code, transient=transient
    )


def graph_call(
    account: MessagingAccount,
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    json: dict[str, Any] | None = None,
    data: dict[str, str] | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
) -> dict[str, Any]:
    """One Graph API request as the account's page; returns the decoded JSON answer."""
    token = account_secret(account, "page_token")
    if not token:
        raise GraphError(f"the account {account.key} has no page_token secret")
    try:
        response = httpx.request(
            method,
            graph_url(account, path),
            params=params,
            json=json,
            data=data,
            files=files,
            headers={"Authorization": f"Bearer {token}"},
            timeout=GRAPH_TIMEOUT,
        )
    except httpx.HTTPError as exc:
        raise GraphError(f"Graph API unreachable: {type(exc).__name__}", transient=True) from exc
    if not response.is_success:
        raise _error_from(response)
    try:
        answer = response.json()
    except ValueError as exc:
        raise GraphError("Graph API answered something that is not JSON", transient=True) from exc
    return answer if isinstance(answer, dict) else {}

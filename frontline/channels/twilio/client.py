"""Twilio's REST API, the part Frontline uses: create a Message, download inbound media.

Errors come back as `TwilioApiError` with Twilio's own error code and a plain explanation for
the agent; `permanent` says that retrying the same request cannot succeed (a wrong number, an
unsubscribed customer), which the outbound task still retries but the agent reads at once.
"""

from __future__ import annotations

from typing import Any

import httpx

from frontline.channels.accounts import account_secret
from frontline.channels.models import MessagingAccount

DEFAULT_API_BASE = "https://api.twilio.com"
API_TIMEOUT = httpx.Timeout(15.0, connect=5.0)

# What the common error codes mean for the agent (https://www.twilio.com/docs/api/errors).
ERROR_EXPLANATIONS = {
    20003: "Twilio refused the credentials: check the account SID and auth token",
    20429: "Twilio is rate-limiting this account",
    21211: "the 'To' number is not a valid phone number",
    21408: "sending to this country is not enabled in the Twilio account's geo permissions",
    21606: "the 'From' number cannot send messages from this Twilio account",
    21610: "the customer replied STOP and unsubscribed from this number",
    21612: "Twilio cannot send from this number to the 'To' number",
    21614: "the 'To' number is not a mobile number",
    21617: "the message is longer than 1600 characters",
    30003: "the handset is unreachable (switched off or out of coverage)",
    30004: "the message was blocked (the customer or their carrier blocks it)",
    30005: "the number is unknown to its carrier or no longer in service",
    30006: "the number is a landline or its carrier is unreachable",
    30007: "the carrier filtered the message as spam",
    30008: "the carrier reported an unknown error",
    63003: "the number is not on WhatsApp",
    63007: "Twilio has no WhatsApp sender for the 'From' number",
    63016: "the WhatsApp 24-hour window is closed: only an approved template can be sent",
}


class TwilioApiError(Exception):
    def __init__(
        self, message: str, *, status: int = 0, code: int | None = None, permanent: bool = False
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.permanent = permanent


def error_text(code: int | str | None, message: str = "") -> str:
    """`Twilio error 30003, the handset is unreachable ...`: our explanation of the code, else
    Twilio's own message."""
    try:
        number = int(code) if code is not None and code != "" else None
    except ValueError:
        number = None
    if number is None:
        return message or "no error code given"
    explanation = ERROR_EXPLANATIONS.get(number) or message
    return f"Twilio error {number}, {explanation}" if explanation else f"Twilio error {number}"


def api_base(account: MessagingAccount) -> str:
    return (account.api_base_url or DEFAULT_API_BASE).rstrip("/")


def basic_auth(account: MessagingAccount) -> httpx.BasicAuth:
    return httpx.BasicAuth(account.account_sid, account_secret(account, "auth_token"))


def messages_url(account: MessagingAccount) -> str:
    if not account.account_sid:
        raise TwilioApiError(
            f"The account {account.name!r} has no Twilio account SID: set it in the admin.",
            permanent=True,
        )
    return f"{api_base(account)}/2010-04-01/Accounts/{account.account_sid}/Messages.json"


def message_create(account: MessagingAccount, form: dict[str, Any]) -> dict[str, Any]:
    """POST a Message; returns Twilio's JSON answer (its `sid`, `status`, ...)."""
    try:
        response = httpx.post(
            messages_url(account),
            data=form,
            auth=basic_auth(account),
            timeout=API_TIMEOUT,
            headers={"Accept": "application/json"},
        )
    except httpx.HTTPError as exc:
        raise TwilioApiError(f"Twilio could not be reached: {exc!r}") from exc
    if response.is_success:
        answer = _json(response)
        if not isinstance(answer, dict) or not answer.get("sid"):
            raise TwilioApiError("Twilio's answer has no message sid.", status=response.status_code)
        return answer
    raise _refusal(response)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _refusal(response: httpx.Response) -> TwilioApiError:
    answer = _json(response)
    answer = answer if isinstance(answer, dict) else {}
    code = answer.get("code")
    status = response.status_code
    detail = error_text(code, str(answer.get("message") or ""))
    permanent = 400 <= status < 500 and status != 429 and code != 20429
    text = f"Twilio refused the message (HTTP {status}): {detail}."
    if permanent:
        text += " Retrying will not help until this is fixed."
    return TwilioApiError(
        text, status=status, code=int(code) if isinstance(code, int) else None, permanent=permanent
    )

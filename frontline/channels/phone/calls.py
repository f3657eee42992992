"""What a Twilio Voice callback says about a call, in an agent's terms: who the customer is,
how the call ended (answered, missed, voicemail, failed) and a one-line summary.

Pure functions on the callback's form fields (no database, no HTTP), shared by the adapter,
the transcription callback and the calls agents log by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

from frontline.channels.registry import UnsupportedPayload
from frontline.customers.normalize import InvalidIdentity, normalize_phone

# Twilio's CallStatus values; the last five end a call.
CALL_STATUSES = frozenset(
    {"queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled"}
)
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
# The other side never picked up (for us: a missed call; for the customer: we did not reach them).
NOT_REACHED = frozenset({"busy", "no-answer", "canceled"})
# Twilio's Direction values: calls to our number, and calls we place (REST API or <Dial>).
INBOUND = "inbound"
OUTBOUND_DIRECTIONS = frozenset({"outbound-api", "outbound-dial"})


class Outcome(StrEnum):
    ANSWERED = "answered"
    MISSED = "missed"
    VOICEMAIL = "voicemail"
    FAILED = "failed"


class CallDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


OUTCOME_LABELS = {
    Outcome.ANSWERED: "Answered",
    Outcome.MISSED: "Missed",
    Outcome.VOICEMAIL: "Voicemail",
    Outcome.FAILED: "Failed",
}


def phone_number(value: str, *, region: str) -> str:
    """`value` in E.164, or "" for a withheld or unusable caller id ("anonymous", "")."""
    try:
        return normalize_phone(value, default_region=region) if value.strip() else ""
    except InvalidIdentity:
        return ""


def duration_text(seconds: int) -> str:
    """A call's length as people say it: "45 s", "3 min 12 s", "1 h 5 min"."""
    seconds = max(0, seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def clock_text(seconds: int) -> str:
    """A recording's length as a player shows it: "0:42", "12:05"."""
    minutes, rest = divmod(max(0, seconds), 60)
    return f"{minutes}:{rest:02d}"


def call_summary(
    *,
    direction: str,
    outcome: str,
    number: str,
    duration: int = 0,
    recording_duration: int | None = None,
    status: str = "",
) -> str:
    """One line for the timeline and the ticket subject: "Missed call from +1…",
    "Voicemail from +1… (0:42)", "Inbound call, 3 min 12 s", "Outbound call to +1…, 5 min"."""
    who = number or "a withheld number"
    length = f", {duration_text(duration)}" if duration > 0 else ""
    if direction == CallDirection.INBOUND:
        if outcome == Outcome.ANSWERED:
            return f"Inbound call{length}"
        if outcome == Outcome.MISSED:
            return f"Missed call from {who}"
        if outcome == Outcome.VOICEMAIL:
            played = f" ({clock_text(recording_duration)})" if recording_duration else ""
            return f"Voicemail from {who}{played}"
        return f"Inbound call from {who} failed"
    if outcome == Outcome.ANSWERED:
        return f"Outbound call to {who}{length}"
    if outcome == Outcome.MISSED:
        reason = {"busy": "line busy", "canceled": "canceled"}.get(status, "no answer")
        return f"Outbound call to {who} not answered ({reason})"
    if outcome == Outcome.VOICEMAIL:
        return f"Outbound call to {who}: left a voicemail"
    return f"Outbound call to {who} failed"


def _seconds(form: Mapping[str, str], name: str) -> int | None:
    raw = form.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise ValueError(f"{name} is not a number of seconds: {raw!r}")
    return int(raw)


def _timestamp(raw: str) -> datetime | None:
    """Twilio's `Timestamp` (RFC 2822, UTC); None when absent or unreadable."""
    if not raw.strip():
        return None
    try:
        return parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class CallReport:
    """One call as a status (or transcription) callback describes it."""

    sid: str
    account_sid: str
    status: str
    direction: CallDirection
    provider_direction: str
    from_number: str
    to_number: str
    customer_number: str  # E.164, "" when the caller withheld it
    caller_name: str
    duration: int
    recording_url: str
    recording_sid: str
    recording_duration: int | None
    ended_at: datetime | None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def outcome(self) -> Outcome:
        if self.status == "failed":
            return Outcome.FAILED
        if self.status in NOT_REACHED:
            return Outcome.MISSED
        if self.direction == CallDirection.INBOUND and self.recording_url:
            return Outcome.VOICEMAIL  # the caller reached the recorder, not a person
        return Outcome.ANSWERED

    @property
    def summary(self) -> str:
        return call_summary(
            direction=self.direction,
            outcome=self.outcome,
            number=self.customer_number,
            duration=self.duration,
            recording_duration=self.recording_duration,
            status=self.status,
        )

    def metadata(self) -> dict[str, Any]:
        """The message's `call` metadata: what an agent, a reply or a call-back needs."""
        return {
            "sid": self.sid,
            "direction": self.direction.value,
            "provider_direction": self.provider_direction,
            "status": self.status,
            "from": self.from_number,
            "to": self.to_number,
            "phone": self.customer_number,
            "caller_name": self.caller_name,
            "duration": self.duration,
            "recording_url": self.recording_url,
            "recording_sid": self.recording_sid,
            "recording_duration": self.recording_duration,
            "outcome": self.outcome.value,
            "summary": self.summary,
        }


def call_report(form: Mapping[str, str], *, region: str) -> CallReport:
    """Read a Twilio Voice callback's standard call fields. ValueError if they are missing or
    malformed; UnsupportedPayload for a call status or direction this channel does not know
    (SIP trunking legs, a status Twilio adds later)."""
    sid = form.get("CallSid", "").strip()
    status = form.get("CallStatus", "").strip()
    provider_direction = form.get("Direction", "").strip()
    if not sid or not status or not provider_direction:
        raise ValueError("a call callback needs CallSid, CallStatus and Direction")
    if status not in CALL_STATUSES:
        raise UnsupportedPayload(f"call {sid}: unknown CallStatus {status!r}")
    if provider_direction == INBOUND:
        direction = CallDirection.INBOUND
    elif provider_direction in OUTBOUND_DIRECTIONS:
        direction = CallDirection.OUTBOUND
    else:
        raise UnsupportedPayload(f"call {sid}: calls of direction {provider_direction!r}")
    from_number = form.get("From", "").strip()
    to_number = form.get("To", "").strip()
    customer_side = from_number if direction == CallDirection.INBOUND else to_number
    return CallReport(
        sid=sid,
        account_sid=form.get("AccountSid", "").strip(),
        status=status,
        direction=direction,
        provider_direction=provider_direction,
        from_number=from_number,
        to_number=to_number,
        customer_number=phone_number(customer_side, region=region),
        caller_name=form.get("CallerName", "").strip(),
        duration=_seconds(form, "CallDuration") or 0,
        recording_url=form.get("RecordingUrl", "").strip(),
        recording_sid=form.get("RecordingSid", "").strip(),
        recording_duration=_seconds(form, "RecordingDuration"),
        ended_at=_timestamp(form.get("Timestamp", "")),
    )

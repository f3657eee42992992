"""What a Twilio callback says about a call: outcome, customer side and summary."""

from __future__ import annotations

import pytest

from frontline.channels.phone.calls import (
    CallDirection,
    Outcome,
    call_report,
    call_summary,
    clock_text,
    duration_text,
)
from frontline.channels.registry import UnsupportedPayload
from tests.channels.phone.conftest import CALLER, OUR_NUMBER, fixture


def _report(name: str, **changes: str):
    return call_report(fixture(name, **changes), region="US")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (45, "45 s"),
        (60, "1 min"),
        (192, "3 min 12 s"),
        (3600, "1 h"),
        (3900, "1 h 5 min"),
    ],
)
def test_durations_read_as_people_say_them(seconds, text):
    assert duration_text(seconds) == text


def test_recording_lengths_read_like_a_player():
    assert clock_text(42) == "0:42"
    assert clock_text(725) == "12:05"


@pytest.mark.parametrize(
    ("name", "changes", "outcome"),
    [
        ("status_inbound_completed", {}, Outcome.ANSWERED),
        ("status_inbound_no_answer", {}, Outcome.MISSED),
        ("status_inbound_no_answer", {"CallStatus": "busy"}, Outcome.MISSED),
        ("status_inbound_no_answer", {"CallStatus": "canceled"}, Outcome.MISSED),
        ("status_inbound_no_answer", {"CallStatus": "failed"}, Outcome.FAILED),
        ("status_inbound_voicemail", {}, Outcome.VOICEMAIL),
        ("status_outbound_api_completed", {}, Outcome.ANSWERED),
        # A recorded outbound call is a conversation, not a voicemail.
        (
            "status_outbound_api_completed",
            {"RecordingUrl": "https://api.twilio.com/x", "RecordingSid": "RE1"},
            Outcome.ANSWERED,
        ),
    ],
)
def test_outcomes(name, changes, outcome):
    assert _report(name, **changes).outcome == outcome


def test_the_customer_is_the_caller_inbound_and_the_callee_outbound():
    inbound = _report("status_inbound_completed")
    assert inbound.direction == CallDirection.INBOUND
    assert inbound.customer_number == CALLER
    outbound = _report("status_outbound_api_completed", Direction="outbound-dial")
    assert outbound.direction == CallDirection.OUTBOUND
    assert outbound.customer_number == CALLER
    assert outbound.from_number == OUR_NUMBER


def test_summaries():
    assert _report("status_inbound_completed").summary == "Inbound call, 3 min 12 s"
    assert _report("status_inbound_no_answer").summary == f"Missed call from {CALLER}"
    assert _report("status_inbound_voicemail").summary == f"Voicemail from {CALLER} (0:42)"
    assert (
        _report("status_outbound_api_completed").summary == f"Outbound call to {CALLER}, 5 min 5 s"
    )
    assert (
        _report("status_inbound_no_answer", CallStatus="failed").summary
        == f"Inbound call from {CALLER} failed"
    )
    assert (
        call_summary(direction="outbound", outcome="voicemail", number=CALLER)
        == f"Outbound call to {CALLER}: left a voicemail"
    )


def test_a_national_number_is_read_in_e164():
    report = _report("status_inbound_no_answer", From="(415) 555-0123")
    assert report.customer_number == CALLER


def test_malformed_and_unknown_callbacks():
    with pytest.raises(ValueError):
        _report("status_inbound_completed", CallStatus=None)
    with pytest.raises(ValueError):
        _report("status_inbound_completed", CallDuration="three")
    with pytest.raises(UnsupportedPayload):
        _report("status_inbound_completed", CallStatus="parked")
    with pytest.raises(UnsupportedPayload):
        _report("status_inbound_completed", Direction="trunking-terminating")

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontline.channels.chat.hours import ScheduleError, is_open, schedule_validate

BERLIN_OFFICE = {
    "timezone": "Europe/Berlin",
    "days": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-12-25"],
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-11-24 08:00", True),  # Tue 09:00 Berlin (UTC+1)
        ("2026-11-24 07:59", False),  # 08:59 Berlin
        ("2026-11-24 15:59", True),  # 16:59
        ("2026-11-24 16:00", False),  # 17:00 sharp is closed
        ("2026-11-28 10:00", False),  # Saturday
        ("2026-12-25 10:00", False),  # holiday
        ("2026-07-14 07:30", True),  # summer time: 09:30 Berlin (UTC+2)
    ],
)
def test_office_hours(moment, expected):
    assert is_open(BERLIN_OFFICE, at(moment)) is expected


def test_overnight_span_runs_into_the_next_day():
    night = {"timezone": "UTC", "days": {"fri": [["22:00", "06:00"]]}}
    assert is_open(night, at("2026-11-27 23:00"))  # Friday night
    assert is_open(night, at("2026-11-28 05:59"))  # Saturday early
    assert not is_open(night, at("2026-11-28 06:00"))
    assert not is_open(night, at("2026-11-27 21:59"))
    holiday_friday = {**night, "holidays": ["2026-11-27"]}
    assert not is_open(holiday_friday, at("2026-11-28 02:00"))


def test_empty_schedule_is_always_open():
    assert is_open({}, at("2026-11-28 03:00"))


@pytest.mark.parametrize(
    "schedule",
    [
        {"timezone": "Mars/Olympus", "days": {}},
        {"days": {"monday": [["09:00", "17:00"]]}},
        {"days": {"mon": [["9", "17:00"]]}},
        {"days": {"mon": [["09:00", "25:00"]]}},
        {"days": {"mon": [["09:00", "09:00"]]}},
        {"days": {"mon": [["09:00"]]}},
        {"days": {}, "holidays": ["25/12/2026"]},
    ],
)
def test_bad_schedules_are_refused(schedule):
    with pytest.raises(ScheduleError):
        schedule_validate(schedule)


@given(st.datetimes(timezones=st.just(UTC)))
def test_a_valid_schedule_never_crashes(moment):
    schedule_validate(BERLIN_OFFICE)
    assert is_open(BERLIN_OFFICE, moment) in (True, False)

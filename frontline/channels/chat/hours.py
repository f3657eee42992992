"""Is the chat open right now? A weekly schedule in the widget's time zone, plus holidays.

Pure: no database, so it is easy to test every edge (midnight, DST, overnight shifts).
The SLA calendars will replace this schedule with a shared business-hours calendar.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ScheduleError(ValueError):
    pass


def _clock(value: str) -> time:
    try:
        hours, minutes = (int(part) for part in value.split(":"))
    except (ValueError, AttributeError):
        raise ScheduleError(f"{value!r} is not HH:MM") from None
    if hours == 24 and minutes == 0:
        return time.max
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ScheduleError(f"{value!r} is not a time of day")
    return time(hours, minutes)


def schedule_validate(schedule: dict[str, Any]) -> None:
    """Raise ScheduleError naming the first problem; an empty schedule means always open."""
    if not schedule:
        return
    try:
        ZoneInfo(schedule.get("timezone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {schedule.get('timezone')!r}") from None
    days = schedule.get("days", {})
    if not isinstance(days, dict) or set(days) - set(DAYS):
        raise ScheduleError(f"days must be keyed by {', '.join(DAYS)}")
    for day, spans in days.items():
        for span in spans:
            if len(span) != 2:
                raise ScheduleError(f"{day}: each span is [start, end]")
            start, end = _clock(span[0]), _clock(span[1])
            if start == end:
                raise ScheduleError(f"{day}: a span cannot be empty")
    for holiday in schedule.get("holidays", []):
        try:
            date.fromisoformat(holiday)
        except (TypeError, ValueError):
            raise ScheduleError(f"holiday {holiday!r} is not YYYY-MM-DD") from None


def is_open(schedule: dict[str, Any], now: datetime) -> bool:
    """True when `now` (aware) falls in a span. A span whose end is before its start runs
    past midnight into the next day (["22:00", "06:00"])."""
    if not schedule or not schedule.get("days"):
        return True
    local = now.astimezone(ZoneInfo(schedule.get("timezone") or "UTC"))
    days = schedule["days"]
    today = DAYS[local.weekday()]
    yesterday = DAYS[(local.weekday() - 1) % 7]
    holidays = set(schedule.get("holidays", []))
    clock = local.time()
    if local.date().isoformat() not in holidays:
        for start_s, end_s in days.get(today, []):
            start, end = _clock(start_s), _clock(end_s)
            if start < end and start <= clock < end:
                return True
            if start > end and clock >= start:
                return True
    # the tail of yesterday's overnight span (a holiday yesterday closes its night too)

    if (local.date() - timedelta(days=1)).isoformat() not in holidays:
        for start_s, end_s in days.get(yesterday, []):
            start, end = _clock(start_s), _clock(end_s)
            if start > end and clock < end:
                return True
    return False

"""The global event feed, GET /api/events?after=<cursor>: ordered, resumable, no duplicates.

These tests commit for real (transactional): on PostgreSQL the feed serves only events of
transactions that have finished, so events written inside a test's own open transaction
would (rightly) never show.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from frontline.core.models import DomainEvent
from frontline.customers import services as customer_services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def feed(api_for, admin_user):
    client = api_for(admin_user)

    def get(after: str | None = None, limit: int | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if after is not None:
            params["after"] = after
        if limit is not None:
            params["limit"] = limit
        response = client.get("/api/events", params)
        assert response.status_code == 200, response.content
        return response.json()

    return get


def walk(feed, after: str | None = None, limit: int = 4) -> tuple[list[dict[str, Any]], str]:
    """Follow next_cursor until a page comes back empty."""
    events: list[dict[str, Any]] = []
    for _ in range(100):
        page = feed(after, limit)
        if not page["events"]:
            assert page["next_cursor"] == after or after is None
            return events, page["next_cursor"]
        assert len(page["events"]) <= limit
        events.extend(page["events"])
        after = page["next_cursor"]
    raise AssertionError("the feed never ran dry")


def make_events(count: int, prefix: str = "c") -> None:
    for i in range(count):
        customer_services.customer_create(name=f"{prefix}{i}")  # one customer.created each


def test_feed_is_ordered_and_following_the_cursor_gives_each_event_once(feed, api_for, agent):
    make_events(5)
    client = api_for(agent)
    ticket = client.post(
        "/api/tickets",
        {
            "subject": "Hello",
            "text": "First message",
            "requester": {"identities": [{"kind": "email", "value": "ana@example.com"}]},
        },
    )
    assert ticket.status_code == 201
    ticket_id = ticket.json()["id"]
    client.patch(f"/api/tickets/{ticket_id}", {"priority": "high"})
    client.post(f"/api/tickets/{ticket_id}/messages", {"text": "On it"})

    events, _ = walk(feed, limit=4)
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids)), "duplicates"
    expected = list(DomainEvent.objects.order_by("txid", "id").values_list("id", flat=True))
    assert ids == expected  # every event, in commit order
    names = [e["name"] for e in events]
    assert names[:5] == ["customer.created"] * 5
    ticket_events = [(e["name"], e["ticket_id"]) for e in events if e["ticket_id"]]
    assert ticket_events[:4] == [
        ("ticket.created", ticket_id),
        ("message.received", ticket_id),
        ("ticket.updated", ticket_id),
        ("message.created", ticket_id),
    ]
    # then whatever the outbound delivery of the reply reported
    assert {name for name, _ in ticket_events[4:]} <= {"message.delivery_updated"}
    updated = next(e for e in events if e["name"] == "ticket.updated")
    assert updated["actor"] == f"user:{agent.pk}"
    assert updated["payload"]["changes"] == {"priority": {"old": "normal", "new": "high"}}
    assert updated["created_at"]

    # resuming from any cursor gives exactly the rest
    first_page = feed(None, 3)
    rest, _ = walk(feed, after=first_page["next_cursor"], limit=100)
    assert [e["id"] for e in first_page["events"]] + [e["id"] for e in rest] == expected


def test_empty_page_keeps_the_cursor_and_new_events_follow_it(feed):
    start = feed()
    assert start["events"] == []
    cursor = start["next_cursor"]
    assert feed(cursor)["next_cursor"] == cursor  # nothing new: same cursor, again and again
    assert feed(cursor) == {"events": [], "next_cursor": cursor}

    make_events(3, "first")
    page = feed(cursor)
    assert [e["name"] for e in page["events"]] == ["customer.created"] * 3
    held = page["next_cursor"]
    assert held != cursor
    assert feed(held) == {"events": [], "next_cursor": held}

    make_events(2, "second")
    later = feed(held)
    assert len(later["events"]) == 2
    assert {e["id"] for e in later["events"]}.isdisjoint({e["id"] for e in page["events"]})
    assert feed(later["next_cursor"])["events"] == []


def test_limit_is_clamped(feed):
    make_events(3)
    assert len(feed(limit=0)["events"]) == 1
    assert len(feed(limit=-5)["events"]) == 1
    assert len(feed(limit=2)["events"]) == 2
    assert len(feed(limit=10_000)["events"]) == 3


def test_rolled_back_work_publishes_nothing(feed, api_for, admin_user):
    cursor = feed()["next_cursor"]
    refused = api_for(admin_user).post(
        "/api/users", {"username": "ghost", "role": "agent", "skills": {"x": 6}}
    )
    assert refused.status_code == 422
    assert feed(cursor)["events"] == []
    made = api_for(admin_user).post("/api/users", {"username": "real", "role": "agent"})
    assert made.status_code == 201
    assert [e["name"] for e in feed(cursor)["events"]] == ["user.created"]


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "after",
    [
        "garbage!!",
        "////",
        _cursor(["a", "b"]),
        _cursor([1]),
        _cursor([1, 2, 3]),
        _cursor({"txid": 1, "id": 2}),
        _cursor([1, None]),
        _cursor([1.5, 2]),
        _cursor([-1, 2]),
        _cursor([1, 10**30]),
        _cursor("12"),
    ],
)
def test_malformed_cursor_is_422(api_for, admin_user, after):
    response = api_for(admin_user).get("/api/events", {"after": after})
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["fields"] == {"after": ["malformed cursor"]}

"""The event bus: stored with the change, delivered after commit, never on rollback."""

from __future__ import annotations

import pytest
from django.db import transaction

from frontline.core import bus
from frontline.core.models import DomainEvent
from frontline.core.selectors import event_feed

received: list[bus.Event] = []


def remember(event: bus.Event) -> None:
    received.append(event)


def explode(event: bus.Event) -> None:
    raise RuntimeError("handler bug")


@pytest.fixture
def handlers():
    saved = {name: list(entries) for name, entries in bus._handlers.items()}
    saved_conditions = dict(bus._conditions)
    received.clear()
    yield
    bus._handlers.clear()
    bus._handlers.update(saved)
    bus._conditions.clear()
    bus._conditions.update(saved_conditions)


@pytest.mark.django_db(transaction=True)
def test_delivered_after_commit_only(handlers):
    bus.subscribe("thing.happened", remember, mode="inline")
    with transaction.atomic():
        bus.publish(bus.Event(name="thing.happened", data={"n": 1}))
        assert received == []  # not before commit
    assert [e.data for e in received] == [{"n": 1}]
    assert received[0].id is not None


@pytest.mark.django_db(transaction=True)
def test_rolled_back_events_are_neither_stored_nor_delivered(handlers):
    bus.subscribe("thing.happened", remember, mode="inline")
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        bus.publish(bus.Event(name="thing.happened"))
        1 / 0  # noqa: B018
    assert received == []
    assert not DomainEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_failing_handler_does_not_stop_the_others(handlers):
    bus.subscribe("thing.happened", explode, mode="inline")
    bus.subscribe("thing.happened", remember, mode="inline")
    bus.subscribe("thing.happened", remember, mode="inline")  # idempotent subscription
    with transaction.atomic():
        bus.publish(bus.Event(name="thing.happened"))
    assert len(received) == 1


order: list[str] = []


def first_task(event: bus.Event) -> None:
    order.append("task")


def then_inline(event: bus.Event) -> None:
    order.append("inline")


@pytest.mark.django_db(transaction=True)
def test_inline_handlers_run_before_tasks_are_queued(handlers):
    order.clear()
    bus.subscribe("thing.happened", first_task, mode="task")  # subscribed first
    bus.subscribe("thing.happened", then_inline, mode="inline")
    with transaction.atomic():
        bus.publish(bus.Event(name="thing.happened"))
    assert order == ["inline", "task"]


@pytest.mark.django_db(transaction=True)
def test_when_filters_before_queuing_and_a_broken_filter_still_delivers(handlers):
    bus.subscribe("thing.happened", remember, mode="task", when=lambda e: e.data.get("ok"))
    with transaction.atomic():
        bus.publish(bus.Event(name="thing.happened", data={"ok": False}))
        bus.publish(bus.Event(name="thing.happened", data={"ok": True}))
    assert [e.data for e in received] == [{"ok": True}]
    received.clear()
    bus.subscribe("thing.happened", remember, mode="task", when=lambda e: 1 / 0)
    with transaction.atomic():
        bus.publish(bus.Event(name="thing.happened", data={"ok": False}))
    assert len(received) == 1


@pytest.mark.django_db(transaction=True)
def test_task_handlers_run_through_celery(handlers):
    bus.subscribe("thing.happened", remember, mode="task")  # eager in tests
    with transaction.atomic():
        bus.publish(bus.Event(name="thing.happened", ticket_id=7))
    assert received[0].ticket_id == 7


@pytest.mark.django_db(transaction=True)
def test_feed_is_ordered_and_resumable():
    """(transaction=True: on PostgreSQL the feed serves only committed transactions.)"""
    for n in range(5):
        bus.publish(bus.Event(name="thing.happened", data={"n": n}))
    first = event_feed(after=None, limit=3)
    rest = event_feed(after=first.next_cursor, limit=10)
    assert [e.payload["n"] for e in first.events + rest.events] == [0, 1, 2, 3, 4]
    empty = event_feed(after=rest.next_cursor, limit=10)
    assert empty.events == [] and empty.next_cursor == rest.next_cursor


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_feed_never_serves_past_a_transaction_still_running():
    """A slow transaction that wrote first must not be skipped by a cursor taken meanwhile."""
    import threading

    from django.db import connection

    started, release = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with transaction.atomic():
            bus.publish(bus.Event(name="slow"))
            started.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    started.wait(10)
    with transaction.atomic():
        bus.publish(bus.Event(name="fast"))
    page = event_feed(after=None, limit=10)
    assert [e.name for e in page.events] == []  # "fast" waits behind the running "slow"
    release.set()
    thread.join()
    page = event_feed(after=page.next_cursor, limit=10)
    assert [e.name for e in page.events] == ["slow", "fast"]


@pytest.mark.django_db(transaction=True)
def test_one_handler_on_two_events_keeps_each_filter(handlers):
    bus.subscribe("a.done", remember, mode="inline", when=lambda e: e.data.get("ok"))
    bus.subscribe("b.done", remember, mode="inline")
    with transaction.atomic():
        bus.publish(bus.Event(name="a.done", data={"ok": False}))
        bus.publish(bus.Event(name="b.done"))
    assert [e.name for e in received] == ["b.done"]

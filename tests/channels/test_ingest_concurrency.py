"""Duplicates racing each other on a real PostgreSQL still give one message, one customer."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from frontline.channels.services import inbound_message_ingest
from frontline.channels.types import InboundMessage, SenderIdentity
from frontline.customers.models import Customer
from frontline.tickets.models import Message

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(messages: list[InboundMessage]) -> list[object]:
    barrier = threading.Barrier(len(messages))
    results: list[object] = []
    lock = threading.Lock()

    def work(message: InboundMessage) -> None:
        try:
            barrier.wait(5)
            outcome: object = inbound_message_ingest(message)
        except Exception as exc:  # collected and asserted on below
            outcome = exc
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=work, args=(m,)) for m in messages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_the_same_message_delivered_four_times_at_once():
    message = InboundMessage(
        channel="sms",
        sender=SenderIdentity(kind="phone", value="+14155550123"),
        text="hello",
        provider_message_id="SM-race-1",
    )
    results = _race([message] * 4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Message.objects.filter(provider_message_id="SM-race-1").count() == 1
    assert sum(1 for r in results if not getattr(r, "duplicate", True)) == 1


def test_a_new_sender_writing_twice_at_once_becomes_one_customer():
    messages = [
        InboundMessage(
            channel="email",
            sender=SenderIdentity(kind="email", value="new.person@example.com"),
            text=f"message {n}",
            provider_message_id=f"<race-{n}@x>",
        )
        for n in range(3)
    ]
    results = _race(messages)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Customer.objects.count() == 1
    assert Message.objects.count() == 3

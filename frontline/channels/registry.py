"""Channel adapters register here; the domain finds them by channel name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from frontline.channels.types import InboundMessage, OutboundMessage, SendResult


class ChannelAdapter(Protocol):
    channel: str

    def parse(
        self, body: bytes, headers: dict[str, str]
    ) -> InboundMessage | Sequence[InboundMessage]:
        """Turn a stored raw payload into an InboundMessage, or several (a webhook may batch
        them). Raise ValueError if malformed, UnsupportedPayload for a kind it does not know,
        PayloadHandled when it held no customer message."""
        ...

    def send(self, message: OutboundMessage) -> SendResult:
        """Deliver a reply. Raise to have the outbound task retry with backoff."""
        ...


class PayloadHandled(Exception):
    """Raised by `parse` when the payload was fully dealt with and holds no customer message
    (a delivery report about one of our own messages, for instance). Its text says what was
    done; the payload is marked processed with that note."""


class UnsupportedPayload(Exception):
    """Raised by `parse` for a well-formed payload of a kind this adapter does not handle
    (a new webhook field, an event type we do not use). The payload is kept raw with status
    `unsupported` and reported on the admin page, never dropped."""


_adapters: dict[str, ChannelAdapter] = {}


def adapter_register(adapter: ChannelAdapter) -> None:
    _adapters[adapter.channel] = adapter


def adapter_get(channel: str) -> ChannelAdapter | None:
    return _adapters.get(channel)

"""Channel adapters register here; the domain finds them by channel name."""

from __future__ import annotations

from typing import Protocol

from frontline.channels.types import InboundMessage, OutboundMessage, SendResult


class ChannelAdapter(Protocol):
    channel: str

    def parse(self, body: bytes, headers: dict[str, str]) -> InboundMessage:
        """Turn a stored raw payload into an InboundMessage (raise ValueError if malformed)."""
        ...

    def send(self, message: OutboundMessage) -> SendResult:
        """Deliver a reply. Raise to have the outbound task retry with backoff."""
        ...


class PayloadHandled(Exception):
    """Raised by `parse` when the payload was fully dealt with and holds no customer message
    (a delivery report about one of our own messages, for instance). Its text says what was
    done; the payload is marked processed with that note."""


_adapters: dict[str, ChannelAdapter] = {}


def adapter_register(adapter: ChannelAdapter) -> None:
    _adapters[adapter.channel] = adapter


def adapter_get(channel: str) -> ChannelAdapter | None:
    return _adapters.get(channel)

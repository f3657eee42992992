"""The Messenger (`facebook`) and Instagram (`instagram`) channel adapters.

Both speak Meta's webhook and Graph formats; they differ in the payload's `object`, the
identity network, the text limit and how a public comment is answered.
"""

from __future__ import annotations

from frontline.channels.meta.events import parse_payload
from frontline.channels.meta.send import send_reply
from frontline.channels.registry import ChannelAdapter
from frontline.channels.types import Channel, InboundMessage, OutboundMessage, SendResult


class MetaChannelAdapter:
    channel: str

    def parse(self, body: bytes, headers: dict[str, str]) -> list[InboundMessage]:
        return parse_payload(self.channel, body, headers)

    def send(self, message: OutboundMessage) -> SendResult:
        return send_reply(self.channel, message)


class MessengerChannelAdapter(MetaChannelAdapter):
    channel = Channel.FACEBOOK.value


class InstagramChannelAdapter(MetaChannelAdapter):
    channel = Channel.INSTAGRAM.value


# The adapters this package registers (apps.py registers every package's ADAPTERS).
ADAPTERS: list[ChannelAdapter] = [MessengerChannelAdapter(), InstagramChannelAdapter()]

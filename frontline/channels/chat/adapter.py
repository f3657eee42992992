"""The chat channel's adapter. Delivery to the visitor's browser is the realtime push on
commit (frontline.realtime.push); a visitor who is not connected gets the message from the
history when the widget reconnects. So `send` only confirms; it never pushes a second copy."""

from __future__ import annotations

import json

from frontline.channels.types import Channel, InboundMessage, OutboundMessage, SendResult


class ChatChannelAdapter:
    channel = Channel.CHAT.value

    def parse(self, body: bytes, headers: dict[str, str]) -> InboundMessage:
        """Rebuild a stored chat payload (they are stored already processed; this is for
        a manual replay)."""
        from frontline.channels.chat.services import thread_key_for
        from frontline.channels.types import SenderIdentity

        try:
            data = json.loads(body)
            uid, client_id = str(data["uid"]), str(data["client_id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"not a chat payload: {exc}") from exc
        return InboundMessage(
            channel=self.channel,
            sender=SenderIdentity(kind="chat", value=uid),
            sender_name=str(data.get("name", "")),
            text=str(data.get("text", "")),
            provider_message_id=f"{uid}:{client_id}",
            thread_key=thread_key_for(uid),
        )

    def send(self, message: OutboundMessage) -> SendResult:
        if message.recipient.kind != "chat" or not message.recipient.value:
            raise ValueError("this customer has no chat visitor to answer")
        return SendResult(state="sent")

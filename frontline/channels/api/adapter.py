"""The `api` channel: tickets and messages posted through the REST API.

Its raw payload is the JSON the client sent; replies are not pushed anywhere (integrations
read them from the event feed), so sending just records the reply as sent.
"""

from __future__ import annotations

import base64
import json

from frontline.channels.types import (
    Channel,
    InboundAttachment,
    InboundMessage,
    OutboundMessage,
    SenderIdentity,
    SendResult,
)


class ApiChannelAdapter:
    channel = Channel.API.value

    def parse(self, body: bytes, headers: dict[str, str]) -> InboundMessage:
        data = json.loads(body)
        requester = data.get("requester") or {}
        identities = [
            SenderIdentity(kind=i["kind"], value=i["value"], network=i.get("network", ""))
            for i in requester.get("identities") or []
        ]
        customer_id = data.get("customer_id") or requester.get("id")
        if not identities and not customer_id:
            raise ValueError("requester needs an id or at least one identity")
        return InboundMessage(
            channel=self.channel,
            customer_id=customer_id,
            sender=identities[0] if identities else None,
            other_identities=tuple(identities[1:]),
            sender_name=requester.get("name", ""),
            subject=data.get("subject", ""),
            text=data.get("text", ""),
            html=data.get("html", ""),
            provider_message_id=data.get("external_id", "") or "",
            ticket_fields=data.get("ticket_fields", {}),
            attachments=tuple(
                InboundAttachment(
                    filename=a["filename"],
                    content_type=a.get("content_type", ""),
                    content=base64.b64decode(a["content_base64"], validate=True),
                )
                for a in data.get("attachments", [])
            ),
        )

    def send(self, message: OutboundMessage) -> SendResult:
        return SendResult(state="sent")

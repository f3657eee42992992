"""The visitor's websocket. One JSON object per frame; see docs/channels/chat.md.

Nothing is acknowledged before it is committed: `ack` carries the server id of the stored
message, and a resend with the same client id gets the same id back (never a second copy).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from django.utils import timezone

from frontline.channels.chat import services
from frontline.channels.models import ChatWidget
from frontline.core.errors import DomainError
from frontline.core.ratelimit import rate_limit_exceeded
from frontline.realtime.base import FrontlineConsumer, db
from frontline.realtime.push import ticket_group
from frontline.realtime.tailer import tailer_ensure_started


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


class VisitorConsumer(FrontlineConsumer):
    widget: ChatWidget
    uid: str = ""
    ticket_id: int | None = None

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        site_key = (query.get("site_key") or [""])[0]
        widget = await db(services.widget_for_site_key)(site_key)
        origin = _header(self.scope, b"origin")
        if widget is None or not services.origin_allowed(widget, origin):
            await self.close(code=4403)
            return
        self.widget = widget
        await self.accept()
        tailer_ensure_started()

    async def disconnect(self, code: int) -> None:
        if self.uid:
            await self.channel_layer.group_discard(
                services.visitor_group(self.uid), self.channel_name
            )
            if self.ticket_id:
                await self._typing_to_agents(False)

    async def _error(self, code: str, message: str, **extra: Any) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, **extra})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self._error("invalid", "Send one JSON object per frame.")
            return
        kind = content.get("type")
        if kind == "ping":
            await self.send_json({"type": "pong"})
            return
        if kind == "hello":
            await self._hello(content)
            return
        if not self.uid:
            await self._error("hello_first", "Say hello first.")
            return
        if kind == "message":
            await self._message(content)
            return
        if rate_limit_exceeded(f"chat-frames:{self.uid}", limit=240, window=60):
            await self._error("rate_limited", "Slow down.", retry_after=5)
            return
        if kind == "typing":
            await self._typing_to_agents(bool(content.get("state", True)))
        elif kind == "read" and isinstance(content.get("up_to"), int):
            await db(services.chat_mark_read_by_visitor)(self.uid, content["up_to"])
        elif kind == "identify":
            await self._identify(content)
        elif kind == "transcript":
            try:
                email = await db(services.chat_transcript_request)(widget=self.widget, uid=self.uid)
            except DomainError as exc:
                await self._error("invalid", exc.message, fields=exc.fields)
                return
            await self.send_json({"type": "transcript_sent", "email": email})
        else:
            await self._error("invalid", f"Unknown frame type {kind!r}.")

    async def _hello(self, content: dict[str, Any]) -> None:
        token = content.get("token") if isinstance(content.get("token"), str) else ""
        uid = services.visitor_token_read(self.widget, token) if token else None
        if uid is None:
            uid, token = services.visitor_token_issue(self.widget)
        if self.uid and self.uid != uid:
            await self.channel_layer.group_discard(
                services.visitor_group(self.uid), self.channel_name
            )
        self.uid = uid
        await self.channel_layer.group_add(services.visitor_group(uid), self.channel_name)
        page = str(content.get("page") or "")[:1000]
        self.page_url = page
        welcome = await db(self._welcome)(uid, page)
        await self.send_json({"type": "welcome", "token": token, "uid": uid, **welcome})

    def _welcome(self, uid: str, page: str) -> dict[str, Any]:
        from frontline.channels.models import ChatVisitor

        visitor = ChatVisitor.objects.filter(uid=uid).first()
        if visitor is not None:
            services.visitor_touch(
                widget=self.widget,
                uid=uid,
                page_url=page,
                user_agent=_header(self.scope, b"user-agent"),
            )
        self.ticket_id = services.chat_current_ticket_id(uid)
        return {
            "config": services.widget_public_config(self.widget),
            "visitor": {"name": visitor.name, "email": visitor.email} if visitor else None,
            "messages": services.chat_history(uid),
        }

    async def _message(self, content: dict[str, Any]) -> None:
        client_id = str(content.get("client_id") or "")
        retry = rate_limit_exceeded(
            f"chat-visitor:{self.uid}", limit=self.widget.visitor_messages_per_minute
        ) or rate_limit_exceeded(
            f"chat-site:{self.widget.pk}", limit=self.widget.site_messages_per_minute
        )
        if retry:
            await self._error(
                "rate_limited",
                "Too many messages; retrying shortly.",
                client_id=client_id,
                retry_after=retry,
            )
            return
        try:
            result = await db(services.chat_message_receive)(
                widget=self.widget,
                uid=self.uid,
                client_id=client_id,
                text=str(content.get("text") or ""),
                page_url=getattr(self, "page_url", ""),
            )
        except DomainError as exc:
            await self._error("invalid", exc.message, client_id=client_id, fields=exc.fields)
            return
        self.ticket_id = result.ticket_id
        await self.send_json(
            {
                "type": "ack",
                "client_id": client_id,
                "id": result.message_id,
                "ticket": result.ticket_id,
                "duplicate": result.duplicate,
            }
        )
        if not result.duplicate:  # the visitor's other tabs show it too
            await self.group_push(
                services.visitor_group(self.uid),
                {
                    "type": "message",
                    "id": result.message_id,
                    "ticket": result.ticket_id,
                    "from": "visitor",
                    "name": "",
                    "text": str(content.get("text") or "").strip(),
                    "client_id": client_id,
                    "state": "received",
                    "created_at": timezone.now().isoformat(),
                    "attachments": [],
                },
            )

    async def _identify(self, content: dict[str, Any]) -> None:
        try:
            visitor = await db(services.visitor_identify)(
                widget=self.widget,
                uid=self.uid,
                name=str(content.get("name") or ""),
                email=str(content.get("email") or ""),
            )
        except DomainError as exc:
            await self._error("invalid", exc.message, fields=exc.fields)
            return
        await self.send_json({"type": "identified", "name": visitor.name, "email": visitor.email})

    async def _typing_to_agents(self, state: bool) -> None:
        if not self.ticket_id:
            return
        await self.group_push(
            ticket_group(self.ticket_id),
            {
                "type": "typing",
                "from": "visitor",
                "ticket": self.ticket_id,
                "state": state,
            },
        )

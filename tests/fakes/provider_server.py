"""A local stand-in for providers' HTTP APIs (Twilio, Meta's Graph API, a bridge's webhook).

The only fake in the channel tests: it listens on 127.0.0.1, records every request Frontline
makes, and answers in the provider's real response shapes (tests/fixtures/). Tests add
routes for anything else, serve media files for MMS and attachments, and can make the next
requests fail to prove retries.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"{}"
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200) -> Reply:
        return cls(status=status, body=json.dumps(data).encode())


Handler = Callable[[RecordedRequest, "re.Match[str]"], Reply]


def _twilio_message(request: RecordedRequest, match: re.Match[str]) -> Reply:
    """Twilio's answer to POST /2010-04-01/Accounts/{sid}/Messages.json (trimmed real shape)."""
    form = {k: v[-1] for k, v in request.form.items()}
    sid = "SM" + secrets.token_hex(16)
    return Reply.json(
        {
            "account_sid": match["account"],
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": "Tue, 24 Nov 2026 09:00:00 +0000",
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From", ""),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": str(len(request.form.get("MediaUrl", []))),
            "num_segments": "1",
            "price": None,
            "sid": sid,
            "status": "queued",
            "to": form.get("To", ""),
            "uri": f"/2010-04-01/Accounts/{match['account']}/Messages/{sid}.json",
        },
        status=201,
    )


def _meta_send(request: RecordedRequest, match: re.Match[str]) -> Reply:
    """The Send API's answer to POST /{version}/me/messages (or /{page-id}/messages)."""
    data = request.json() if request.body else {}
    return Reply.json(
        {
            "recipient_id": str(data.get("recipient", {}).get("id", "")),
            "message_id": "m_" + secrets.token_urlsafe(24),
        }
    )


def _graph_object(request: RecordedRequest, match: re.Match[str]) -> Reply:
    """Graph API answer to a comment reply: the new object's id."""
    return Reply.json({"id": f"{secrets.randbelow(10**15)}_{secrets.randbelow(10**15)}"})


DEFAULT_ROUTES: list[tuple[str, str, Handler]] = [
    ("POST", r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages\.json$", _twilio_message),
    ("POST", r"^/v\d+\.\d+/(me|\d+)/messages$", _meta_send),
    ("POST", r"^/v\d+\.\d+/[\w]+/(comments|replies)$", _graph_object),
]


class FakeProvider:
    """One server; `url` is its base URL, `requests` what it received."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = [
            (m, re.compile(p), h) for m, p, h in DEFAULT_ROUTES
        ]
        self.media: dict[str, tuple[bytes, str]] = {}
        self._failures: list[Reply] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def start(self) -> FakeProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def route(self, method: str, pattern: str, handler: Handler | Reply) -> None:
        """Answer `method` on paths matching `pattern` (checked before the defaults)."""
        fixed = handler

        def answer(request: RecordedRequest, match: re.Match[str]) -> Reply:
            return fixed if isinstance(fixed, Reply) else fixed(request, match)

        self.routes.insert(0, (method.upper(), re.compile(pattern), answer))

    def serve_media(self, name: str, content: bytes, content_type: str) -> str:
        """Serve `content` at /media/<name>; returns its URL (for MediaUrl0, attachment urls)."""
        self.media[name] = (content, content_type)
        return f"{self.url}/media/{name}"

    def fail_next(self, count: int = 1, status: int = 500, body: bytes = b"{}") -> None:
        """The next `count` API calls (not media downloads) answer `status`."""
        with self._lock:
            self._failures.extend(Reply(status=status, body=body) for _ in range(count))

    def received(self, method: str = "", path_pattern: str = "") -> list[RecordedRequest]:
        pattern = re.compile(path_pattern) if path_pattern else None
        with self._lock:
            found = list(self.requests)
        return [
            r
            for r in found
            if (not method or r.method == method.upper())
            and (pattern is None or pattern.search(r.path))
        ]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._failures.clear()

    def _dispatch(self, request: RecordedRequest) -> Reply:
        if request.method == "GET" and request.path.startswith("/media/"):
            found = self.media.get(request.path.removeprefix("/media/"))
            if found is None:
                return Reply(status=404, body=b"not found", content_type="text/plain")
            return Reply(body=found[0], content_type=found[1])
        with self._lock:
            self.requests.append(request)
            if self._failures:
                return self._failures.pop(0)
        for method, pattern, handler in self.routes:
            match = pattern.search(request.path)
            if method == request.method and match:
                return handler(request, match)
        return Reply.json({"error": f"no fake route for {request.method} {request.path}"}, 404)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = RecordedRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k: v for k, v in self.headers.items()},
                    body=body,
                )
                reply = provider._dispatch(request)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                return

        return RequestHandler


@pytest.fixture
def fake_provider() -> Iterator[FakeProvider]:
    server = FakeProvider().start()
    try:
        yield server
    finally:
        server.stop()

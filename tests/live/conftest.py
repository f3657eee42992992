"""A real server for browser and websocket tests: uvicorn serving config.asgi in a thread of the
test process, on 127.0.0.1 and a free port, against the test database."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    host: str
    port: int
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def start(self) -> None:
        from config.asgi import application

        config = uvicorn.Config(
            application,
            host=self.host,
            port=self.port,
            lifespan="off",
            log_level="warning",
            ws="websockets-sansio",
            ws_ping_interval=None,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)

    def _run(self) -> None:
        assert self.server is not None
        asyncio.run(self.server.serve())

    def stop(self) -> None:
        """Stop accepting and drop every open connection (what a crash or a cut looks like to
        the clients)."""
        if self.server is None:
            return
        self.server.should_exit = True
        self.server.force_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)
        self.server = None


@pytest.fixture
def live_server_asgi(transactional_db) -> Iterator[LiveServer]:
    live = LiveServer(host="127.0.0.1", port=free_port())
    live.start()
    yield live
    live.stop()

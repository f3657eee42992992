"""The Redis channel layer as configured in settings, against a real redis-server on
127.0.0.1: an idle websocket must still get its push (redis-py's default 5 s read timeout
used to drop every socket idle for 5-10 s)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers

from tests.realtime.test_agent_socket import agent_socket, frame_of

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_url(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is missing: run `bash scripts/test-deps.sh` first")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


async def test_idle_socket_on_redis_still_gets_pushes(settings, redis_url, monkeypatch):
    import importlib

    import config.settings as real_settings

    monkeypatch.setenv("REDIS_URL", redis_url)
    fresh = importlib.reload(real_settings)
    try:
        settings.CHANNEL_LAYERS = fresh.CHANNEL_LAYERS
        assert settings.CHANNEL_LAYERS["default"]["BACKEND"].startswith("channels_redis")
        channel_layers.backends.clear()
        from frontline.accounts.models import Role
        from tests.factories import UserFactory

        agent = await database_sync_to_async(UserFactory)(role=Role.AGENT)
        comm, connected, _ = await agent_socket(agent)
        assert connected
        await asyncio.sleep(7)  # idle longer than redis-py's old 5 s read timeout
        await channel_layers["default"].group_send(
            f"user.{agent.pk}", {"type": "push", "payload": {"type": "notification", "text": "hi"}}
        )
        pushed = await frame_of(comm, "notification", timeout=5)
        assert pushed["text"] == "hi"
        await comm.disconnect()
    finally:
        monkeypatch.delenv("REDIS_URL")
        importlib.reload(real_settings)
        channel_layers.backends.clear()

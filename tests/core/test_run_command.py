"""`frontline run` starts the web server and the worker on embedded defaults and stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_run(
    tmp_path: Path, *args: str, quiet: bool = False, **extra_env: str
) -> subprocess.Popen:
    """`frontline run` on embedded defaults in its own data directory and process group."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"}
    }
    env.update(FRONTLINE_DATA_DIR=str(tmp_path), **extra_env)
    frontline = Path(sys.executable).with_name("frontline")
    return subprocess.Popen(
        [str(frontline), "run", "--host", "127.0.0.1", *args],
        env=env,
        stdout=subprocess.DEVNULL if quiet else subprocess.PIPE,
        stderr=subprocess.DEVNULL if quiet else subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.mark.skipif(os.environ.get("DATABASE_URL") is not None, reason="embedded mode only")
def test_run_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    proc = _start_run(tmp_path, "--port", str(port))
    try:
        deadline = time.monotonic() + 90
        body = b""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = r.read()
                    break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.5)
        assert body == b'{"status": "ok"}', proc.stdout.read() if proc.poll() is not None else ""
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as r:
            assert r.status == 200
        assert (tmp_path / "frontline.sqlite3").exists()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        output = proc.stdout.read().decode() if proc.stdout else ""
        assert code == 0, output
        assert "Frontline is running" in output and "Frontline stopped." in output
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.skipif(os.environ.get("DATABASE_URL") is not None, reason="embedded mode only")
def test_run_starts_the_smtp_receiver_when_smtp_listen_is_set(tmp_path: Path) -> None:
    port, smtp_port = _free_port(), _free_port()
    proc = _start_run(
        tmp_path,
        "--no-worker",
        "--port",
        str(port),
        quiet=True,
        SMTP_LISTEN=f"127.0.0.1:{smtp_port}",
    )
    try:
        import smtplib

        deadline = time.monotonic() + 60
        banner = b""
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with smtplib.SMTP("127.0.0.1", smtp_port, timeout=2) as smtp:
                    banner = smtp.ehlo()[1]
                    break
            except OSError:
                time.sleep(0.5)
        assert b"SIZE" in banner  # our receiver announces its size limit
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)

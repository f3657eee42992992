"""Kill the importer (SIGKILL) in the middle of a batch, start it again: every message is
imported exactly once. Real processes, a real Dovecot, a real SQLite file."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.channels.email.test_imap import Imap, customer_mail

pytestmark = pytest.mark.skipif(
    os.environ.get("DATABASE_URL") is not None, reason="uses its own SQLite file"
)
FRONTLINE = str(Path(sys.executable).with_name("frontline"))
TOTAL = 80


def _env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"}
    }
    # processing runs inside the importer, so each message takes a while: the kill lands
    # mid-batch
    env.update(FRONTLINE_DATA_DIR=str(data_dir), CELERY_TASK_ALWAYS_EAGER="1")
    return env


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db, timeout=30) as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_sigkill_mid_batch_then_restart_imports_each_message_once(dovecot, tmp_path):
    env = _env(tmp_path)
    db = tmp_path / "frontline.sqlite3"
    subprocess.run([FRONTLINE, "migrate", "-v", "0"], env=env, check=True, timeout=180)
    folder = f"K{uuid.uuid4().hex[:10]}"
    imap = Imap(dovecot)
    imap.create(folder)
    imap.append(folder, *(customer_mail(n, tag=folder) for n in range(1, TOTAL + 1)))
    setup = (
        "from frontline.core import crypto; from frontline.channels.models import Mailbox; "
        f"Mailbox.objects.create(name='Support', address='support@example.test', "
        f"imap_host='{dovecot.host}', imap_port={dovecot.port}, imap_security='none', "
        f"imap_username='{dovecot.user}', imap_folder='{folder}', "
        f"imap_password_encrypted=crypto.encrypt('{dovecot.password}'))"
    )
    subprocess.run([FRONTLINE, "shell", "-c", setup], env=env, check=True, timeout=120)
    poll = [FRONTLINE, "email", "poll", "--mailbox", "support@example.test", "--once"]

    importer = subprocess.Popen(poll, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and importer.poll() is None:
        stored = _count(db, "SELECT count(*) FROM frontline_channels_rawpayload")
        if stored >= 5:
            break
        time.sleep(0.05)
    importer.send_signal(signal.SIGKILL)
    importer.wait(timeout=30)
    killed_at = _count(db, "SELECT count(*) FROM frontline_channels_rawpayload")
    assert 0 < killed_at < TOTAL, f"the kill should land mid-batch (stored {killed_at})"

    # The dead importer's lease on the mailbox runs out (here: at once), and it starts again.
    with sqlite3.connect(db, timeout=30) as conn:
        conn.execute("UPDATE frontline_channels_mailbox SET imap_next_attempt_at = NULL")
    for _ in range(3):
        subprocess.run(poll, env=env, timeout=300, capture_output=True)
        if _count(db, "SELECT count(*) FROM frontline_channels_rawpayload") >= TOTAL:
            break

    assert _count(db, "SELECT count(*) FROM frontline_channels_rawpayload") == TOTAL
    assert (
        _count(db, "SELECT count(DISTINCT provider_message_id) FROM frontline_channels_rawpayload")
        == TOTAL
    )
    # a payload stored just before the kill but not yet processed is picked up by the sweeper;
    # run it the way beat would
    sweep = (
        "from frontline.channels.services import raw_payloads_pending, raw_payload_process; "
        "from datetime import timedelta; "
        "[raw_payload_process(p) for p in raw_payloads_pending(older_than=timedelta(0))]"
    )
    subprocess.run([FRONTLINE, "shell", "-c", sweep], env=env, check=True, timeout=120)
    assert (
        _count(db, "SELECT count(*) FROM frontline_channels_rawpayload WHERE status = 'processed'")
        == TOTAL
    )
    assert _count(db, "SELECT count(*) FROM tickets_message WHERE direction = 'inbound'") == TOTAL

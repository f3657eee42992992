"""IMAP importing against a real Dovecot (see conftest.py): import, no duplicates, crash
mid-batch, UIDVALIDITY change, processed folder / \\Seen, errors with backoff, XOAUTH2 refresh,
IDLE, the beat task, the `frontline email poll` command and the admin form."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from datetime import timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import StringIO
from urllib.parse import parse_qs

import pytest
from django.core.management import call_command
from django.utils import timezone
from imap_tools import MailBoxUnencrypted

from frontline.channels import tasks
from frontline.channels.admin import MailboxForm
from frontline.channels.email import imap, oauth
from frontline.channels.models import Mailbox, PayloadStatus, RawPayload
from frontline.core import crypto
from frontline.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def customer_mail(n: int, *, tag: str, sender: str = "Ana Lima <Ana@Example.org>") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@example.test"
    msg["Subject"] = f"Order {n} problem {tag}"
    msg["Message-ID"] = f"<m{n}.{tag}@example.org>"
    msg.set_content(f"Order number {n} arrived broken.\n")
    return msg.as_bytes()


class Imap:
    """The customer's side: puts mail into a folder of the Dovecot account."""

    def __init__(self, server) -> None:
        self.server = server

    def client(self) -> MailBoxUnencrypted:
        return MailBoxUnencrypted(self.server.host, port=self.server.port).login(
            self.server.user, self.server.password, initial_folder=None
        )

    def append(self, folder: str, *raws: bytes) -> None:
        with self.client() as mb:
            for raw in raws:
                mb.append(raw, folder, dt=None, flag_set=())

    def create(self, folder: str) -> None:
        with self.client() as mb:
            mb.folder.create(folder)

    def delete(self, folder: str) -> None:
        with self.client() as mb:
            mb.folder.delete(folder)

    def flags(self, folder: str) -> list[tuple[str, ...]]:
        with self.client() as mb:
            mb.folder.set(folder)
            return [m.flags for m in mb.fetch(mark_seen=False, headers_only=True)]

    def count(self, folder: str) -> int:
        with self.client() as mb:
            return int(mb.folder.status(folder, ["MESSAGES"])["MESSAGES"])

    def exists(self, folder: str) -> bool:
        with self.client() as mb:
            return mb.folder.exists(folder)


@pytest.fixture
def server(dovecot):
    return Imap(dovecot)


@pytest.fixture
def folder(server):
    """A fresh folder per test, so the tests share the account without seeing each other."""
    name = f"T{uuid.uuid4().hex[:12]}"
    server.create(name)
    return name


@pytest.fixture
def mailbox(dovecot, folder):
    return Mailbox.objects.create(
        name="Support",
        address="support@example.test",
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_security="none",
        imap_username=dovecot.user,
        imap_password_encrypted=crypto.encrypt(dovecot.password),
        imap_folder=folder,
    )


def make_due(mailbox: Mailbox) -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(
        imap_next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_poll_imports_new_mail_once(server, folder, mailbox):
    server.append(folder, customer_mail(1, tag="a"), customer_mail(2, tag="a"))

    result = imap.mailbox_poll(mailbox.pk)

    assert result.ok and (result.fetched, result.imported) == (2, 2), result
    tickets = list(Ticket.objects.order_by("pk"))
    assert [t.subject for t in tickets] == ["Order 1 problem a", "Order 2 problem a"]
    for n, ticket in enumerate(tickets, start=1):
        assert ticket.channel == "email"
        assert ticket.requester.identities.get().value == "ana@example.org"
        assert ticket.messages.get().text.startswith(f"Order number {n} arrived broken.")
    payload = RawPayload.objects.order_by("pk").first()
    assert payload.headers == {"recipients": "support@example.test", "via": "imap"}
    assert payload.provider_message_id == "<m1.a@example.org>"
    assert payload.status == PayloadStatus.PROCESSED
    assert bytes(payload.body).replace(b"\r\n", b"\n") == customer_mail(1, tag="a").replace(
        b"\r\n", b"\n"
    )
    mailbox.refresh_from_db()
    assert mailbox.imap_last_uid == 2 and mailbox.imap_uidvalidity
    assert mailbox.imap_last_polled_at is not None and mailbox.imap_next_attempt_at is None
    assert mailbox.imap_error_count == 0 and mailbox.imap_last_error == ""

    again = imap.mailbox_poll(mailbox.pk)
    assert again.ok and (again.fetched, again.imported) == (0, 0)
    assert Ticket.objects.count() == 2 and RawPayload.objects.count() == 2

    server.append(folder, customer_mail(3, tag="a"))
    third = imap.mailbox_poll(mailbox.pk)
    assert (third.fetched, third.imported) == (1, 1)
    assert Message.objects.count() == 3


def test_no_processed_folder_flags_mail_seen(server, folder, mailbox):
    server.append(folder, customer_mail(1, tag="seen"))
    assert ["\\Seen" in flags for flags in server.flags(folder)] == [False]

    imap.mailbox_poll(mailbox.pk)

    assert ["\\Seen" in flags for flags in server.flags(folder)] == [True]


def test_processed_mail_moves_to_a_folder_created_on_demand(server, folder, mailbox):
    done = f"{folder}-done"
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_processed_folder=done)
    server.append(folder, customer_mail(1, tag="mv"), customer_mail(2, tag="mv"))
    assert not server.exists(done)

    result = imap.mailbox_poll(mailbox.pk)

    assert result.ok and result.imported == 2
    assert server.count(folder) == 0 and server.count(done) == 2
    assert Ticket.objects.count() == 2
    assert imap.mailbox_poll(mailbox.pk).fetched == 0


def test_crash_mid_batch_imports_every_message_exactly_once(server, folder, mailbox, monkeypatch):
    server.append(folder, *(customer_mail(n, tag="crash") for n in range(1, 6)))
    real_store = imap.raw_payload_store
    calls = {"n": 0}

    def store_then_crash_on_third(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        return real_store(**kwargs)

    monkeypatch.setattr(imap, "raw_payload_store", store_then_crash_on_third)
    started = timezone.now()

    result = imap.mailbox_poll(mailbox.pk)

    assert result.error == "RuntimeError: worker killed" and result.imported == 2
    mailbox.refresh_from_db()
    assert mailbox.imap_last_uid == 2
    assert mailbox.imap_error_count == 1 and "worker killed" in mailbox.imap_last_error
    assert started + timedelta(minutes=2) <= mailbox.imap_next_attempt_at
    assert mailbox.imap_next_attempt_at <= timezone.now() + timedelta(minutes=2)
    assert imap.mailbox_poll(mailbox.pk).skipped == "not due"  # backing off

    make_due(mailbox)
    again = imap.mailbox_poll(mailbox.pk)

    assert again.ok and again.imported == 3, again
    assert RawPayload.objects.count() == 5 and Message.objects.count() == 5
    subjects = sorted(Ticket.objects.values_list("subject", flat=True))
    assert subjects == [f"Order {n} problem crash" for n in range(1, 6)]
    mailbox.refresh_from_db()
    assert mailbox.imap_error_count == 0 and mailbox.imap_last_error == ""
    assert mailbox.imap_next_attempt_at is None and mailbox.imap_last_uid == 5


def test_crash_after_storing_before_saving_the_uid_reimports_nothing(
    server, folder, mailbox, monkeypatch
):
    """The payload is committed but the process dies before imap_last_uid is saved (and before
    the processing task is enqueued): the next poll reads the message again, finds it stored,
    and processes it once."""
    server.append(folder, *(customer_mail(n, tag="late") for n in range(1, 4)))
    real_store = imap.raw_payload_store
    calls = {"n": 0}

    def crash_after_second_store(**kwargs):
        stored = real_store(**kwargs)
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed after commit")
        return stored

    monkeypatch.setattr(imap, "raw_payload_store", crash_after_second_store)
    assert imap.mailbox_poll(mailbox.pk).error
    assert RawPayload.objects.count() == 2 and Message.objects.count() == 1

    make_due(mailbox)
    again = imap.mailbox_poll(mailbox.pk)

    assert again.ok and (again.fetched, again.imported) == (2, 1)
    assert RawPayload.objects.count() == 3 and Message.objects.count() == 3
    assert set(RawPayload.objects.values_list("status", flat=True)) == {PayloadStatus.PROCESSED}


def test_uidvalidity_change_rereads_the_folder_without_duplicates(server, folder, mailbox):
    server.append(folder, customer_mail(1, tag="uv"), customer_mail(2, tag="uv"))
    imap.mailbox_poll(mailbox.pk)
    mailbox.refresh_from_db()
    old_validity = mailbox.imap_uidvalidity
    # The folder is recreated (a server migration, a restore): same mail, new UIDs.
    server.delete(folder)
    server.create(folder)
    server.append(folder, customer_mail(1, tag="uv"), customer_mail(2, tag="uv"))
    server.append(folder, customer_mail(3, tag="uv"))

    result = imap.mailbox_poll(mailbox.pk)

    assert result.ok and result.uidvalidity_reset
    assert (result.fetched, result.imported) == (3, 1)
    mailbox.refresh_from_db()
    assert mailbox.imap_uidvalidity != old_validity and mailbox.imap_last_uid == 3
    assert RawPayload.objects.count() == 3 and Ticket.objects.count() == 3


def test_stored_uidvalidity_mismatch_resets_last_uid(server, folder, mailbox):
    server.append(folder, customer_mail(1, tag="uv2"))
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_uidvalidity=1, imap_last_uid=99)

    result = imap.mailbox_poll(mailbox.pk)

    assert result.uidvalidity_reset and result.imported == 1
    mailbox.refresh_from_db()
    assert mailbox.imap_last_uid == 1 and mailbox.imap_uidvalidity != 1


def test_mail_delivered_by_dovecot_lda_is_imported(dovecot, folder, mailbox, tmp_path):
    raw = customer_mail(7, tag="lda")
    delivered = subprocess.run(
        [
            "/usr/lib/dovecot/dovecot-lda",
            "-c",
            str(dovecot.conf),
            "-d",
            dovecot.user,
            "-f",
            "ana@example.org",
            "-m",
            folder,
        ],
        input=raw,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert delivered.returncode == 0, delivered.stderr

    assert imap.mailbox_poll(mailbox.pk).imported == 1
    assert Ticket.objects.get().subject == "Order 7 problem lda"


def test_wrong_password_records_the_error_and_backs_off(mailbox):
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_password_encrypted=crypto.encrypt("nope"))

    first = imap.mailbox_poll(mailbox.pk)

    assert first.error and "Login" in first.error
    mailbox.refresh_from_db()
    assert mailbox.imap_error_count == 1
    delay = mailbox.imap_next_attempt_at - timezone.now()
    assert timedelta(minutes=1, seconds=50) < delay <= timedelta(minutes=2)

    make_due(mailbox)
    imap.mailbox_poll(mailbox.pk)
    mailbox.refresh_from_db()
    assert mailbox.imap_error_count == 2
    delay = mailbox.imap_next_attempt_at - timezone.now()
    assert timedelta(minutes=3, seconds=50) < delay <= timedelta(minutes=4)
    assert imap.backoff_delay(6) == imap.backoff_delay(20) == timedelta(minutes=60)


def test_beat_task_polls_due_mailboxes_and_survives_a_broken_one(server, folder, mailbox):
    broken = Mailbox.objects.create(
        name="Broken",
        address="broken@example.test",
        imap_host="127.0.0.1",
        imap_port=1,  # nothing listens there
        imap_security="none",
        imap_password_encrypted=crypto.encrypt("x"),
    )
    Mailbox.objects.create(name="No IMAP", address="plain@example.test")
    server.append(folder, customer_mail(1, tag="beat"))

    assert tasks.imap_poll_due.delay().get() == 2

    assert Ticket.objects.get().subject == "Order 1 problem beat"
    broken.refresh_from_db()
    assert broken.imap_error_count == 1 and broken.imap_next_attempt_at is not None
    assert broken.imap_next_attempt_at > timezone.now()
    assert imap.mailboxes_due() == [mailbox.pk]
    assert tasks.imap_poll_mailbox.delay(broken.pk).get()["skipped"] == "not due"


def test_poll_command_once(server, folder, mailbox):
    server.append(folder, customer_mail(1, tag="cmd"))
    out = StringIO()

    call_command("email", "poll", "--once", "--mailbox", "Support@Example.test", stdout=out)

    assert "support@example.test: 1 new, 1 read" in out.getvalue()
    assert Ticket.objects.count() == 1


def test_idle_loop_imports_new_mail_promptly(server, folder, mailbox):
    stop = threading.Event()
    loop = threading.Thread(
        target=imap.mailbox_idle_loop,
        args=(mailbox.pk, stop),
        kwargs={"idle_seconds": 1.0, "max_interval": 60.0},
        daemon=True,
    )
    loop.start()
    try:
        time.sleep(1.0)  # the first poll has run; the loop now IDLEs
        server.append(folder, customer_mail(1, tag="idle"))
        deadline = time.monotonic() + 15
        while not Ticket.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert Ticket.objects.get().subject == "Order 1 problem idle"
    finally:
        stop.set()
        loop.join(timeout=15)
    assert not loop.is_alive()


# --- OAuth2 ------------------------------------------------------------------------------------


class TokenEndpoint:
    """A tiny stand-in for the provider's token endpoint, answering what Microsoft answers."""

    def __init__(self) -> None:
        self.requests: list[dict[str, list[str]]] = []
        self.status = 200
        self.answer: dict[str, object] = {
            "token_type": "Bearer",
            "scope": "https://outlook.office.com/IMAP.AccessAsUser.All",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": "new-access-token",
            "refresh_token": "new-refresh-token",
        }
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                endpoint.requests.append(parse_qs(self.rfile.read(length).decode()))
                body = json.dumps(endpoint.answer).encode()
                self.send_response(endpoint.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/common/oauth2/v2.0/token"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def token_endpoint(settings):
    endpoint = TokenEndpoint()
    settings.OAUTH_TOKEN_URLS = {"microsoft": endpoint.url}
    yield endpoint
    endpoint.close()


@pytest.fixture
def oauth_mailbox(mailbox):
    Mailbox.objects.filter(pk=mailbox.pk).update(
        imap_auth="oauth2",
        imap_password_encrypted="",
        oauth_provider="microsoft",
        oauth_client_id="client-123",
        oauth_client_secret_encrypted=crypto.encrypt("client-secret"),
        oauth_refresh_token_encrypted=crypto.encrypt("old-refresh-token"),
        oauth_access_token_encrypted=crypto.encrypt("expired-access-token"),
        oauth_expires_at=timezone.now() - timedelta(minutes=5),
    )
    mailbox.refresh_from_db()
    return mailbox


def test_token_refresh_stores_new_encrypted_tokens(token_endpoint, oauth_mailbox):
    token = oauth.access_token_refresh(oauth_mailbox)

    assert token == "new-access-token"
    sent = token_endpoint.requests[0]
    assert sent["grant_type"] == ["refresh_token"]
    assert sent["refresh_token"] == ["old-refresh-token"]
    assert sent["client_id"] == ["client-123"] and sent["client_secret"] == ["client-secret"]
    stored = Mailbox.objects.get(pk=oauth_mailbox.pk)
    assert "new-access-token" not in stored.oauth_access_token_encrypted
    assert crypto.decrypt(stored.oauth_access_token_encrypted) == "new-access-token"
    assert crypto.decrypt(stored.oauth_refresh_token_encrypted) == "new-refresh-token"
    expected = timezone.now() + timedelta(seconds=3599)
    assert stored.oauth_expires_at is not None
    assert abs((stored.oauth_expires_at - expected).total_seconds()) < 30

    # Still valid: no second request.
    assert oauth.access_token_get(stored) == "new-access-token"
    assert len(token_endpoint.requests) == 1


def test_token_refresh_refused(token_endpoint, oauth_mailbox):
    token_endpoint.status = 400
    token_endpoint.answer = {
        "error": "invalid_grant",
        "error_description": "AADSTS70008: The refresh token has expired.",
    }

    with pytest.raises(oauth.OAuthError, match="invalid_grant"):
        oauth.access_token_refresh(oauth_mailbox)

    result = imap.mailbox_poll(oauth_mailbox.pk)
    assert "invalid_grant" in result.error
    assert Mailbox.objects.get(pk=oauth_mailbox.pk).imap_error_count == 1


def test_poll_with_oauth2_logs_in_with_the_refreshed_token(
    dovecot, server, folder, token_endpoint, oauth_mailbox, monkeypatch
):
    """Dovecot's minimal config has no XOAUTH2: only the client's xoauth2() is replaced, by one
    that records the token and logs in with the password; everything else is real."""
    seen: list[tuple[str, str]] = []

    class RecordingMailBox(MailBoxUnencrypted):
        def xoauth2(self, username, access_token, initial_folder="INBOX"):
            seen.append((username, access_token))
            return self.login(username, dovecot.password, initial_folder)

    monkeypatch.setitem(imap.MAILBOX_CLASSES, "none", RecordingMailBox)
    server.append(folder, customer_mail(1, tag="oauth"))

    result = imap.mailbox_poll(oauth_mailbox.pk)

    assert result.ok and result.imported == 1, result
    assert seen == [(dovecot.user, "new-access-token")]
    assert Ticket.objects.get().subject == "Order 1 problem oauth"


# --- Admin -------------------------------------------------------------------------------------


def test_admin_form_encrypts_secrets_and_blank_keeps_them(mailbox):
    data = {
        "name": "Support",
        "address": "support@example.test",
        "aliases": "[]",
        "is_active": "on",
        "imap_host": "imap.example.test",
        "imap_port": "993",
        "imap_security": "ssl",
        "imap_username": "support",
        "imap_auth": "password",
        "imap_folder": "INBOX",
        "imap_last_uid": "0",
        "password": "hunter2",
    }
    form = MailboxForm(data=data, instance=mailbox)
    assert form.is_valid(), form.errors
    saved = form.save()
    assert "hunter2" not in saved.imap_password_encrypted
    assert crypto.decrypt(saved.imap_password_encrypted) == "hunter2"
    assert "hunter2" not in str(MailboxForm(instance=saved)["password"])

    form = MailboxForm(data={**data, "password": ""}, instance=saved)
    assert form.is_valid(), form.errors
    assert crypto.decrypt(form.save().imap_password_encrypted) == "hunter2"


def test_admin_changelist_shows_health(client, admin_user, mailbox):
    Mailbox.objects.filter(pk=mailbox.pk).update(
        imap_error_count=3,
        imap_last_error="MailboxLoginError: " + "x" * 300,
        imap_password_encrypted=crypto.encrypt("pw-Plain-123"),
    )
    mailbox.refresh_from_db()
    client.force_login(admin_user)

    page = client.get("/admin/frontline_channels/mailbox/").content.decode()

    assert "127.0.0.1" in page and "MailboxLoginError" in page
    assert "x" * 100 not in page
    change = client.get(f"/admin/frontline_channels/mailbox/{mailbox.pk}/change/").content.decode()
    assert "pw-Plain-123" not in change
    assert "secrets stored" in change.lower() and "password" in change
    assert mailbox.imap_password_encrypted not in change


def test_poll_once_skips_the_backoff_but_not_a_running_poll(mailbox):
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_password_encrypted=crypto.encrypt("nope"))
    imap.mailbox_poll(mailbox.pk)
    assert imap.mailbox_poll(mailbox.pk).skipped == "not due"

    forced = imap.mailbox_poll(mailbox.pk, force=True)
    assert forced.error and not forced.skipped
    assert Mailbox.objects.get(pk=mailbox.pk).imap_error_count == 2

    # A poll in progress holds a lease: even a forced poll leaves it alone.
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_next_attempt_at=timezone.now() + imap.LEASE)
    assert imap.mailbox_poll(mailbox.pk, force=True).skipped == "not due"


def test_first_poll_keeps_a_last_uid_set_to_skip_old_mail(server, folder, mailbox):
    server.append(folder, customer_mail(1, tag="old"), customer_mail(2, tag="old"))
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_last_uid=1)

    result = imap.mailbox_poll(mailbox.pk)

    assert result.ok and result.imported == 1 and not result.uidvalidity_reset
    assert Ticket.objects.get().subject == "Order 2 problem old"

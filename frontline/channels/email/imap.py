"""IMAP importing: fetch new mail from a mailbox's IMAP folder into the ingest pipeline.

For each mailbox with `imap_host` set, `mailbox_poll()`:
  log in (password, or XOAUTH2 with a refreshed access token) -> select `imap_folder`
  -> if UIDVALIDITY changed: start again from UID 0 (the Message-ID dedupe of
     `raw_payload_store` makes the re-read mail no-ops)
  -> for each UID > imap_last_uid, ascending, one at a time:
       exact RFC822 bytes (BODY.PEEK[]: the message is not marked read by the fetch)
       -> RawPayload committed -> imap_last_uid saved -> processing task enqueued on commit
       -> moved to `imap_processed_folder` (created if missing), or flagged \\Seen
A crash between two messages re-imports nothing and skips nothing. Errors are recorded on the
mailbox (`imap_last_error`, `imap_error_count`) with exponential backoff in
`imap_next_attempt_at` (2, 4, 8, ... up to 60 minutes); nothing is raised to the caller.

While a poll runs, `imap_next_attempt_at` is a lease (now + LEASE, renewed per message), so the
beat task and `frontline email poll` never poll the same mailbox at the same time.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone
from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted

from frontline.channels.email import oauth
from frontline.channels.email.adapter import provider_id_for
from frontline.channels.email.parser import MESSAGE_ID_RE
from frontline.channels.models import Mailbox, PayloadStatus
from frontline.channels.services import raw_payload_store
from frontline.core import crypto

logger = logging.getLogger(__name__)

# The imap-tools client class for each `Mailbox.imap_security` value.
MAILBOX_CLASSES: dict[str, Callable[..., BaseMailBox]] = {
    "ssl": MailBox,
    "starttls": MailBoxStartTls,
    "none": MailBoxUnencrypted,
}
MAX_PER_POLL = 200  # the next poll (right away when IDLE-ing) continues after these
LEASE = timedelta(minutes=10)
BACKOFF_MAX_MINUTES = 60
CONNECT_TIMEOUT = 60.0


@dataclass
class PollResult:
    mailbox_id: int
    fetched: int = 0  # messages read from the server
    imported: int = 0  # new RawPayloads (the rest were already stored: duplicates)
    uidvalidity_reset: bool = False
    more: bool = False  # more than MAX_PER_POLL were waiting
    skipped: str = ""  # why nothing was attempted: "not due", "inactive", "no imap_host"
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and not self.skipped

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ImapError(Exception):
    """The server answered something we cannot use."""


def backoff_delay(error_count: int) -> timedelta:
    return timedelta(minutes=min(2 ** min(error_count, 10), BACKOFF_MAX_MINUTES))


def mailboxes_due(now: datetime | None = None) -> list[int]:
    """Active IMAP mailboxes whose next attempt is not in the future."""
    now = now or timezone.now()
    return list(
        Mailbox.objects.filter(is_active=True)
        .exclude(imap_host="")
        .filter(Q(imap_next_attempt_at__isnull=True) | Q(imap_next_attempt_at__lte=now))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def mailbox_connect(mailbox: Mailbox, *, timeout: float = CONNECT_TIMEOUT) -> BaseMailBox:
    """A logged-in imap-tools client for `mailbox` (no folder selected yet)."""
    cls = MAILBOX_CLASSES.get(mailbox.imap_security)
    if cls is None:
        raise ImapError(f"unknown IMAP security {mailbox.imap_security!r}")
    client = cls(mailbox.imap_host, port=mailbox.imap_port, timeout=timeout)
    username = mailbox.imap_username or mailbox.address
    try:
        if mailbox.imap_auth == "oauth2":
            client.xoauth2(username, oauth.access_token_get(mailbox), initial_folder=None)
        else:
            password = crypto.decrypt(mailbox.imap_password_encrypted)
            client.login(username, password, initial_folder=None)
    except BaseException:
        _close(client)
        raise
    _refresh_capabilities(client)
    return client


def mailbox_poll(mailbox_id: int, *, force: bool = False) -> PollResult:
    """Import new mail of one mailbox. Never raises; errors are recorded on the mailbox.

    Skipped while the mailbox is backing off after an error (or another poll of it runs),
    unless `force` (still skipped while another poll holds the lease).
    """
    result = PollResult(mailbox_id=mailbox_id)
    try:
        mailbox = _claim(mailbox_id, force=force, result=result)
        if mailbox is None:
            return result
    except Exception as exc:
        logger.exception("IMAP poll of mailbox %s could not start", mailbox_id)
        result.error = _describe(exc)
        return result
    try:
        _poll(mailbox, result)
    except Exception as exc:
        result.error = _describe(exc)
        logger.warning("IMAP poll of %s failed: %s", mailbox.address, result.error)
        try:
            _record_error(mailbox_id, result.error)
        except Exception:
            logger.exception("could not record the IMAP error of mailbox %s", mailbox_id)
        return result
    Mailbox.objects.filter(pk=mailbox_id).update(
        imap_last_polled_at=timezone.now(),
        imap_last_error="",
        imap_error_count=0,
        imap_next_attempt_at=None,
    )
    return result


def _claim(mailbox_id: int, *, force: bool, result: PollResult) -> Mailbox | None:
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    if mailbox is None or not mailbox.is_active:
        result.skipped = "inactive"
        return None
    if not mailbox.imap_host:
        result.skipped = "no imap_host"
        return None
    now = timezone.now()
    free = Q(imap_next_attempt_at__isnull=True) | Q(imap_next_attempt_at__lte=now)
    backing_off = (
        mailbox.imap_error_count > 0
        and mailbox.imap_last_polled_at is not None
        and mailbox.imap_next_attempt_at
        == mailbox.imap_last_polled_at + backoff_delay(mailbox.imap_error_count)
    )
    if force and backing_off:
        # Skip the backoff (but never a running poll's lease), unless someone else just did.
        free |= Q(imap_next_attempt_at=mailbox.imap_next_attempt_at)
    claimed = Mailbox.objects.filter(free, pk=mailbox_id).update(imap_next_attempt_at=now + LEASE)
    if not claimed:
        result.skipped = "not due"
        return None
    mailbox.refresh_from_db()
    return mailbox


def _record_error(mailbox_id: int, error: str) -> None:
    count = (
        Mailbox.objects.filter(pk=mailbox_id).values_list("imap_error_count", flat=True).first()
        or 0
    ) + 1
    now = timezone.now()
    Mailbox.objects.filter(pk=mailbox_id).update(
        imap_last_error=error[:2000],
        imap_error_count=count,
        imap_next_attempt_at=now + backoff_delay(count),
        imap_last_polled_at=now,
    )


def _poll(mailbox: Mailbox, result: PollResult) -> None:
    client = mailbox_connect(mailbox)
    try:
        processed_folder = mailbox.imap_processed_folder.strip()
        if processed_folder and not client.folder.exists(processed_folder):
            client.folder.create(processed_folder)
        uidvalidity, uidnext = _select(client, mailbox.imap_folder or "INBOX")
        last_uid = mailbox.imap_last_uid
        if mailbox.imap_uidvalidity is None:
            # First poll: keep imap_last_uid (an admin may have set it to skip old mail).
            Mailbox.objects.filter(pk=mailbox.pk).update(imap_uidvalidity=uidvalidity)
        elif mailbox.imap_uidvalidity != uidvalidity:
            logger.warning(
                "UIDVALIDITY of %s/%s changed (%s -> %s): reading the folder again",
                mailbox.address,
                mailbox.imap_folder,
                mailbox.imap_uidvalidity,
                uidvalidity,
            )
            result.uidvalidity_reset = True
            last_uid = 0
            Mailbox.objects.filter(pk=mailbox.pk).update(
                imap_uidvalidity=uidvalidity, imap_last_uid=0
            )
        # "UID n:*" always matches the newest message, even when its UID is below n.
        uids = sorted(
            u for u in (int(x) for x in client.uids(f"UID {last_uid + 1}:*")) if u > last_uid
        )
        result.more = len(uids) > MAX_PER_POLL
        for uid in uids[:MAX_PER_POLL]:
            _import_one(client, mailbox, uid, processed_folder, result)
        if not result.more and uidnext is not None and uidnext - 1 > max(uids, default=last_uid):
            # Every UID below UIDNEXT-at-SELECT was searched: the rest were expunged already.
            Mailbox.objects.filter(pk=mailbox.pk, imap_last_uid__lt=uidnext - 1).update(
                imap_last_uid=uidnext - 1
            )
    finally:
        _close(client)


def _import_one(
    client: BaseMailBox, mailbox: Mailbox, uid: int, processed_folder: str, result: PollResult
) -> None:
    from frontline.channels.tasks import raw_payload_process_task

    raw = _fetch_raw(client, uid)
    if raw is not None:
        result.fetched += 1
        payload, created = raw_payload_store(
            channel="email",
            body=raw,
            provider_message_id=provider_id_for(raw, _message_id(raw)),
            content_type="message/rfc822",
            headers={"recipients": mailbox.address, "via": "imap"},
        )
        if created:
            result.imported += 1
    # The payload is committed: from here on this UID is never read again.
    Mailbox.objects.filter(pk=mailbox.pk).update(
        imap_last_uid=uid, imap_next_attempt_at=timezone.now() + LEASE
    )
    if raw is None:
        return  # expunged by someone else between SEARCH and FETCH
    if payload.status == PayloadStatus.PENDING:
        payload_id = payload.pk

        def enqueue() -> None:
            _enqueue(raw_payload_process_task, payload_id)

        transaction.on_commit(enqueue)
    if processed_folder:
        client.move(str(uid), processed_folder)
    else:
        _check(client.client.uid("STORE", str(uid), "+FLAGS", r"(\Seen)"), "STORE")


def _enqueue(task: Any, payload_id: int) -> None:
    try:
        task.delay(payload_id)
    except Exception:  # the sweeper retries pending payloads; the mail is safe
        logger.exception("could not enqueue processing of payload %s", payload_id)


def _select(client: BaseMailBox, folder: str) -> tuple[int, int | None]:
    """Select `folder` read-write; return its UIDVALIDITY and UIDNEXT (None if not sent)."""
    client.folder.set(folder)
    untagged = client.client.untagged_responses
    validity, uidnext = _untagged_int(untagged, "UIDVALIDITY"), _untagged_int(untagged, "UIDNEXT")
    if validity is None:
        status = client.folder.status(folder, ["UIDVALIDITY"])
        if "UIDVALIDITY" not in status:
            raise ImapError(f"the server gave no UIDVALIDITY for {folder!r}")
        validity = int(status["UIDVALIDITY"])
    return validity, uidnext


def _untagged_int(untagged: dict[str, Any], name: str) -> int | None:
    values = untagged.get(name) or []
    try:
        return int(values[-1]) if values and values[-1] else None
    except (TypeError, ValueError):
        return None


def _fetch_raw(client: BaseMailBox, uid: int) -> bytes | None:
    """The message's exact bytes, without setting \\Seen; None if it no longer exists."""
    typ, data = client.client.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if typ != "OK":
        raise ImapError(f"FETCH of UID {uid} failed: {data!r}"[:500])
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and b"BODY[]" in item[0].upper():
            return bytes(item[1])
    return None


def _message_id(raw: bytes) -> str:
    """The Message-ID as the SMTP receiver reads it, so the same mail dedupes across both."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:262144], headersonly=True)
    value = str(headers.get("Message-ID", "") or "")
    found = MESSAGE_ID_RE.search(value)
    return found.group(0) if found else ""


def _check(response: tuple[str, Any], what: str) -> None:
    typ, data = response
    if typ != "OK":
        raise ImapError(f"{what} failed: {data!r}"[:500])


def _refresh_capabilities(client: BaseMailBox) -> None:
    """Servers announce more (MOVE, UIDPLUS) after login than in the greeting."""
    try:
        typ, data = client.client.capability()
    except Exception:  # an optional refinement
        return
    if typ == "OK" and data and isinstance(data[-1], bytes):
        client.client.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())


def _close(client: BaseMailBox) -> None:
    try:
        client.logout()
    except Exception:  # already gone: just drop the socket
        with contextlib.suppress(Exception):
            client.client.shutdown()


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or repr(exc)
    return f"{type(exc).__name__}: {text}"[:2000]


# --- IDLE -------------------------------------------------------------------------------------


def mailbox_idle_loop(
    mailbox_id: int,
    stop_event: threading.Event,
    *,
    idle_seconds: float = 30.0,
    max_interval: float = 300.0,
    fallback_interval: float = 60.0,
) -> None:
    """Poll `mailbox_id` whenever its folder changes, until `stop_event` is set.

    With IDLE (RFC 2177) the server announces new mail at once; the loop still polls at least
    every `max_interval` seconds. Without IDLE it polls every `fallback_interval` seconds.
    `idle_seconds` bounds each IDLE, i.e. how long a stop request can take to be noticed.
    """
    try:
        while not stop_event.is_set():
            close_old_connections()
            result = mailbox_poll(mailbox_id)
            if result.more:
                continue
            if not result.ok:
                stop_event.wait(_seconds_until_due(mailbox_id, fallback_interval))
                continue
            try:
                _wait_for_activity(
                    mailbox_id, stop_event, idle_seconds, max_interval, fallback_interval
                )
            except Exception as exc:
                logger.warning("IMAP IDLE on mailbox %s failed: %s", mailbox_id, _describe(exc))
                stop_event.wait(fallback_interval)
    finally:
        connection.close()


def _seconds_until_due(mailbox_id: int, default: float) -> float:
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    if mailbox is None or not mailbox.is_active or not mailbox.imap_host:
        return default
    if mailbox.imap_next_attempt_at is None:
        return 1.0
    wait = (mailbox.imap_next_attempt_at - timezone.now()).total_seconds()
    return min(max(wait, 1.0), BACKOFF_MAX_MINUTES * 60.0)


def _wait_for_activity(
    mailbox_id: int,
    stop_event: threading.Event,
    idle_seconds: float,
    max_interval: float,
    fallback_interval: float,
) -> None:
    """Return when the folder may have new mail, after `max_interval`, or on stop."""
    mailbox = Mailbox.objects.get(pk=mailbox_id)
    connection.close()  # do not hold a database connection while waiting
    client = mailbox_connect(mailbox)
    try:
        if "IDLE" not in client.client.capabilities:
            stop_event.wait(fallback_interval)
            return
        validity, uidnext = _select(client, mailbox.imap_folder or "INBOX")
        if validity != mailbox.imap_uidvalidity or (
            uidnext is not None and uidnext > mailbox.imap_last_uid + 1
        ):
            return  # mail arrived since the poll
        deadline = time.monotonic() + max_interval
        while not stop_event.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            client.client.untagged_responses.clear()
            idle: Any = client.idle  # imap-tools leaves start/stop unannotated
            idle.start()
            try:
                responses = idle.poll(timeout=max(1.0, min(idle_seconds, remaining)))
            finally:
                # A notice arriving between the poll's timeout and DONE lands here.
                idle.stop()
            if client.client.untagged_responses.get("EXISTS") or any(
                b"EXISTS" in r.upper() for r in responses if isinstance(r, bytes)
            ):
                return
    finally:
        _close(client)

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from frontline.channels.email import addressing
from frontline.channels.email.parser import parse_email
from frontline.channels.email.quotes import split_reply, split_reply_html


class Command(BaseCommand):
    help = (
        "Email tools. `parse FILE`: print a .eml (or a bare text/HTML body) as parsed JSON. "
        "`poll [--mailbox ADDRESS] [--once]`: import new mail from the IMAP mailboxes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        parse = sub.add_parser("parse", help="parse a .eml file, or a plain-text or HTML body")
        parse.add_argument("file", type=Path)
        poll = sub.add_parser(
            "poll", help="import new mail over IMAP (IDLE when the server supports it)"
        )
        poll.add_argument("--mailbox", help="only this mailbox address (default: all with IMAP)")
        poll.add_argument(
            "--once", action="store_true", help="poll once (ignoring any error backoff) and exit"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "poll":
            self._poll(options.get("mailbox") or "", once=bool(options.get("once")))
            return
        self._parse(options)

    def _poll(self, address: str, *, once: bool) -> None:
        import signal
        import threading

        from frontline.channels.email.addressing import base_address
        from frontline.channels.email.imap import mailbox_idle_loop, mailbox_poll
        from frontline.channels.models import Mailbox

        mailboxes = Mailbox.objects.filter(is_active=True).exclude(imap_host="").order_by("pk")
        if address:
            mailboxes = mailboxes.filter(address=base_address(address))
        found = list(mailboxes.values_list("pk", "address"))
        if not found:
            raise CommandError(
                f"No active mailbox {address} with an IMAP host."
                if address
                else "No active mailbox has an IMAP host."
            )
        if once:
            failed = 0
            for pk, mailbox_address in found:
                result = mailbox_poll(pk, force=True)
                if result.error:
                    failed += 1
                    self.stderr.write(f"{mailbox_address}: {result.error}")
                elif result.skipped:
                    self.stdout.write(f"{mailbox_address}: skipped ({result.skipped})")
                else:
                    self.stdout.write(
                        f"{mailbox_address}: {result.imported} new, {result.fetched} read"
                        + (", UIDVALIDITY changed" if result.uidvalidity_reset else "")
                    )
            if failed:
                raise CommandError(f"{failed} mailbox(es) failed")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *a: stop.set())
        signal.signal(signal.SIGINT, lambda *a: stop.set())
        threads = [
            threading.Thread(
                target=mailbox_idle_loop, args=(pk, stop), name=f"imap-{pk}", daemon=True
            )
            for pk, _ in found
        ]
        for thread in threads:
            thread.start()
        self.stdout.write(f"Polling {', '.join(a for _, a in found)} (Ctrl-C to stop)")
        while not stop.is_set():
            stop.wait(1.0)
        for thread in threads:
            thread.join(timeout=60)

    def _parse(self, options: dict[str, Any]) -> None:
        path: Path = options["file"]
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        head = raw[:4096].decode("latin-1")
        looks_like_mime = any(
            line.lower().startswith(
                ("from:", "subject:", "received:", "message-id:", "mime-version:")
            )
            for line in head.splitlines()[:30]
        )
        if looks_like_mime:
            parsed = parse_email(raw)
            result = parsed.to_dict()
            body_text, body_html = parsed.text, parsed.html
        else:
            text = raw.decode("utf-8", errors="replace")
            is_html = "<html" in text.lower() or "<div" in text.lower() or "<p" in text.lower()
            body_text, body_html = ("", text) if is_html else (text, "")
            result = {"text": body_text, "html": body_html}
        parts = split_reply(body_text) if body_text else split_reply_html(body_html)
        result["reply"] = parts.reply
        result["quoted"] = parts.quoted
        result["signature"] = parts.signature
        if looks_like_mime:
            refs = [*result["references"], *result["in_reply_to"]]
            result["threading"] = {
                "ticket_from_references": addressing.ticket_from_references(refs),
                "ticket_from_subject": addressing.ticket_from_subject(result["subject"]),
                "ticket_from_recipients": [
                    t for t in (addressing.ticket_from_plus_tag(a) for a in result["to"]) if t
                ],
            }
        self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))

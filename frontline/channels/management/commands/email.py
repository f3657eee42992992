from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from frontline.channels.email import addressing
from frontline.channels.email.parser import parse_email
from frontline.channels.email.quotes import split_reply, split_reply_html


class Command(BaseCommand):
    help = "Email tools. `parse FILE`: print a .eml (or a bare text/HTML body) as parsed JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        parse = sub.add_parser("parse", help="parse a .eml file, or a plain-text or HTML body")
        parse.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
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

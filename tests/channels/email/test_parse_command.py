"""`frontline email parse FILE` prints the parsed message as JSON (for admins and tests)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from django.core.management import call_command

REPLY = (
    b"From: Ana <ana@example.org>\r\nTo: support+t42@example.com\r\n"
    b"Subject: Re: Broken pole [#42]\r\nMessage-ID: <r1@example.org>\r\n"
    b"In-Reply-To: <frontline.t42.m7.abc@example.com>\r\n\r\n"
    b"It works now, thanks!\r\n\r\n"
    b"On Mon, Nov 23, 2026 at 9:00 AM Support <support@example.com> wrote:\r\n"
    b"> Try the spare pole.\r\n"
)


def run(path: Path) -> dict:
    out = io.StringIO()
    call_command("email", "parse", str(path), stdout=out)
    return json.loads(out.getvalue())


def test_parse_eml(tmp_path):
    path = tmp_path / "reply.eml"
    path.write_bytes(REPLY)
    result = run(path)
    assert result["from"] == {"address": "ana@example.org", "name": "Ana"}
    assert result["reply"] == "It works now, thanks!"
    assert "Try the spare pole" in result["quoted"]
    assert result["threading"] == {
        "ticket_from_references": 42,
        "ticket_from_subject": 42,
        "ticket_from_recipients": [42],
    }


def test_parse_bare_bodies(tmp_path):
    text = tmp_path / "body.txt"
    text.write_text("Thanks!\n\n-- \nAna Lima\nTrailpeak fan\n")
    result = run(text)
    assert result["reply"] == "Thanks!" and "Ana Lima" in result["signature"]
    html = tmp_path / "body.html"
    html.write_text(
        '<div>Yes please</div><div class="gmail_quote">On Mon X wrote:'
        "<blockquote>old</blockquote></div>"
    )
    assert run(html)["reply"] == "Yes please"

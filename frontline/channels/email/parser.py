"""MIME parsing for inbound email. Pure: bytes in, a ParsedEmail out, no ORM.

Never raises on bad input: whatever cannot be decoded is decoded leniently and noted in
`problems`, so the message is still stored and an agent can read it.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

from frontline.channels.types import InboundAttachment

# Parts kept whole as attachments, never interpreted (signed/encrypted mail, TNEF).
OPAQUE_TYPES = {
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pkcs7-mime",
    "application/x-pkcs7-mime",
    "application/pgp-signature",
    "application/pgp-encrypted",
    "application/ms-tnef",
}
MESSAGE_ID_RE = re.compile(r"<[^<>\s]+>")
FALLBACK_CHARSETS = ("utf-8", "cp1252", "latin-1")
CHARSET_ALIASES = {
    "unknown-8bit": "cp1252",
    "x-unknown": "cp1252",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "utf8": "utf-8",
    "ansi_x3.4-1968": "ascii",
}


@dataclass
class ParsedEmail:
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_address: str = ""
    from_name: str = ""
    reply_to: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    date: str = ""
    text: str = ""
    html: str = ""
    attachments: list[InboundAttachment] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    auto_submitted: bool = False
    bulk: bool = False
    bounce: bool = False
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "in_reply_to": self.in_reply_to,
            "references": self.references,
            "subject": self.subject,
            "from": {"address": self.from_address, "name": self.from_name},
            "reply_to": self.reply_to,
            "to": self.to,
            "cc": self.cc,
            "date": self.date,
            "text": self.text,
            "html": self.html,
            "attachments": [
                {
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "size": len(a.content),
                    "content_id": a.content_id,
                    "inline": a.inline,
                }
                for a in self.attachments
            ],
            "auto_submitted": self.auto_submitted,
            "bulk": self.bulk,
            "bounce": self.bounce,
            "problems": self.problems,
        }


def decode_bytes(payload: bytes, charset: str | None) -> tuple[str, bool]:
    """Decode with the declared charset, else the usual suspects. Returns (text, was_clean)."""
    declared = (charset or "").strip().strip('"').lower()
    declared = CHARSET_ALIASES.get(declared, declared)
    candidates = [c for c in (declared, *FALLBACK_CHARSETS) if c]
    payload = payload.replace(b"\x00", b"")
    for name in candidates:
        try:
            return payload.decode(name), name == declared or (not declared and name == "utf-8")
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode(
        "utf-8", errors="replace"
    ), False  # pragma: no cover (latin-1 never fails)


def _header(msg: Message, name: str) -> str:
    """A header's decoded value. The strict parser can raise on mangled headers (even
    IndexError inside the standard library): fall back to the raw value, decoded leniently."""
    try:
        raw = msg.get(name)
        return "" if raw is None else str(raw).replace("\x00", "").strip()
    except Exception:  # noqa: S110 (the raw value below is the fallback)
        pass
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            try:
                return str(make_header(decode_header(str(value)))).replace("\x00", "").strip()
            except Exception:
                return str(value).replace("\x00", "").strip()
    return ""


def _addresses(value: str) -> list[tuple[str, str]]:
    try:
        pairs = email.utils.getaddresses([value])
    except Exception:
        return []
    return [(name.strip(), addr.strip()) for name, addr in pairs if "@" in addr]


def _message_ids(value: str) -> list[str]:
    return MESSAGE_ID_RE.findall(value or "")


def _part_payload(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", errors="surrogateescape")
    return b""


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    return (name or "").replace("\x00", "").strip()


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse a raw RFC 5322 message. Never raises. NUL characters are dropped from every
    decoded value (no database text column can hold them; no mail means them)."""
    parsed = ParsedEmail()
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as exc:  # pragma: no cover - the parser is very lenient already
        parsed.problems.append(f"unparseable message: {exc}")
        parsed.text = raw.decode("utf-8", errors="replace")
        return parsed
    for defect in getattr(msg, "defects", [])[:5]:
        parsed.problems.append(type(defect).__name__)
    for key in (
        "Message-ID",
        "In-Reply-To",
        "References",
        "Subject",
        "From",
        "Reply-To",
        "To",
        "Cc",
        "Date",
        "Auto-Submitted",
        "Precedence",
        "X-Autoreply",
        "X-Autorespond",
        "List-Id",
        "List-Unsubscribe",
        "Return-Path",
        "Content-Type",
        "X-Failed-Recipients",
    ):
        value = _header(msg, key)
        if value:
            parsed.headers[key] = value[:2000]
    parsed.message_id = next(iter(_message_ids(parsed.headers.get("Message-ID", ""))), "")
    parsed.in_reply_to = _message_ids(parsed.headers.get("In-Reply-To", ""))
    parsed.references = _message_ids(parsed.headers.get("References", ""))
    parsed.subject = " ".join(parsed.headers.get("Subject", "").split())[:255]
    senders = _addresses(parsed.headers.get("From", ""))
    if senders:
        parsed.from_name, parsed.from_address = senders[0]
    else:
        parsed.problems.append("no usable From address")
    reply_to = _addresses(parsed.headers.get("Reply-To", ""))
    parsed.reply_to = reply_to[0][1] if reply_to else ""
    parsed.to = [a for _, a in _addresses(parsed.headers.get("To", ""))]
    parsed.cc = [a for _, a in _addresses(parsed.headers.get("Cc", ""))]
    parsed.date = parsed.headers.get("Date", "")
    try:
        _classify(parsed, msg)
    except Exception as exc:
        parsed.problems.append(f"could not classify: {type(exc).__name__}")
    try:
        _walk(parsed, msg)
    except Exception as exc:
        parsed.problems.append(f"could not read the body: {type(exc).__name__}")
        if not parsed.text and not parsed.html:
            parsed.text = raw.decode("utf-8", errors="replace")
    return parsed


def _classify(parsed: ParsedEmail, msg: Message) -> None:
    headers = {k.lower(): v.lower() for k, v in parsed.headers.items()}
    auto = headers.get("auto-submitted", "no")
    parsed.auto_submitted = (
        (auto != "" and not auto.startswith("no"))
        or "x-autoreply" in headers
        or "x-autorespond" in headers
    )
    parsed.bulk = headers.get("precedence", "") in {"bulk", "list", "junk"} or "list-id" in headers
    content_type = msg.get_content_type()
    parsed.bounce = (
        content_type == "multipart/report"
        and "delivery-status" in str(msg.get_param("report-type", "")).lower()
    ) or "x-failed-recipients" in headers


def _walk(parsed: ParsedEmail, msg: Message) -> None:
    texts: list[str] = []
    htmls: list[str] = []
    parts = msg.walk() if msg.is_multipart() else [msg]
    for index, part in enumerate(parts, start=1):
        if index > 500:
            parsed.problems.append("more than 500 MIME parts; the rest was not read")
            break
        try:
            _read_part(parsed, part, index, texts, htmls)
        except Exception as exc:
            parsed.problems.append(f"part {index} unreadable: {type(exc).__name__}")
    parsed.text = "\n".join(t.strip("\n") for t in texts).strip()
    parsed.html = "\n".join(htmls).strip()


def _read_part(
    parsed: ParsedEmail, part: Message, index: int, texts: list[str], htmls: list[str]
) -> None:
    content_type = part.get_content_type().replace("\x00", "").strip()
    if part.is_multipart():
        # Containers hold nothing themselves; for multipart/signed and /encrypted the
        # signature or ciphertext children are kept below as attachments, intact.
        return
    disposition = (part.get_content_disposition() or "").lower()
    filename = _filename(part)
    payload = _part_payload(part)
    is_body_type = content_type in ("text/plain", "text/html")
    if is_body_type and disposition != "attachment" and not filename:
        text, clean = decode_bytes(payload, part.get_content_charset())
        if not clean:
            parsed.problems.append(
                f"{content_type} charset {part.get_content_charset()!r} repaired"
            )
        (texts if content_type == "text/plain" else htmls).append(text)
        return
    if content_type == "message/rfc822" and not filename:
        filename = "forwarded-message.eml"
    if not filename:
        ext = {"text/calendar": ".ics", "message/delivery-status": ".txt"}.get(content_type, ".bin")
        filename = f"part-{index}{ext}"
    content_id = (part.get("Content-ID") or "").strip().strip("<>")
    parsed.attachments.append(
        InboundAttachment(
            filename=filename,
            content_type=content_type,
            content=payload,
            content_id=content_id,
            inline=disposition == "inline"
            or bool(content_id and content_type.startswith("image/")),
        )
    )


def message_id_of(raw: bytes) -> str:
    """The Message-ID header of a raw message (headers only, unfolded lines are enough)."""
    head = raw[:65536].decode("latin-1")
    for line in head.splitlines():
        if not line.strip():
            break
        if line.lower().startswith("message-id:"):
            found = MESSAGE_ID_RE.search(line)
            return found.group(0) if found else ""
    return ""

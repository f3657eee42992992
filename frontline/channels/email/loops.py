"""Auto-replies, mail loops, floods, bounces (DSNs) and agent forwards.

Everything here is pure (headers, bytes and text in; facts out) except `own_addresses()`,
which reads the configured mailboxes.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from email.message import Message

from frontline.channels.email.addressing import base_address
from frontline.channels.email.parser import MESSAGE_ID_RE, decode_bytes
from frontline.channels.registry import PayloadHandled

FLOOD_WINDOW_MINUTES = 10
DEFAULT_FLOOD_LIMIT = 20


class MailLoop(ValueError):
    """Mail from one of our own addresses: never a ticket (the payload ends `failed`)."""


class BounceHandled(PayloadHandled):
    """A bounce of one of our outbound messages was recorded on it: no ticket to make (the
    payload ends `processed`, with this as its note)."""


# --- auto-replies and bulk -------------------------------------------------------------------


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): (v or "").strip().lower() for k, v in headers.items()}


def is_auto_generated(headers: Mapping[str, str]) -> bool:
    """RFC 3834 Auto-Submitted (anything but "no"), X-Autoreply/X-Autorespond, or the null
    reverse path `Return-Path: <>` that bounces and other machine mail use."""
    h = _lower(headers)
    auto = h.get("auto-submitted", "no")
    return (
        (auto != "" and not auto.startswith("no"))
        or "x-autoreply" in h
        or "x-autorespond" in h
        or h.get("return-path", "").replace(" ", "") == "<>"
    )


def is_bulk(headers: Mapping[str, str]) -> bool:
    h = _lower(headers)
    return h.get("precedence", "") in {"bulk", "junk", "list"} or "list-id" in h


def is_own_address(address: str, own: Iterable[str]) -> bool:
    wanted = base_address(address)
    return any(wanted == base_address(a) for a in own if a)


def is_flood(recent_count: int, limit: int) -> bool:
    """`recent_count` earlier messages in the window: this one is over the limit?"""
    return recent_count + 1 > limit


def own_addresses() -> set[str]:
    """Every address we send from or receive at: mailboxes, their aliases, EMAIL_FROM_ADDRESS."""
    from django.conf import settings

    from frontline.channels.models import Mailbox

    found = {base_address(settings.EMAIL_FROM_ADDRESS)} if settings.EMAIL_FROM_ADDRESS else set()
    for address, aliases in Mailbox.objects.values_list("address", "aliases"):
        found.add(base_address(address))
        found.update(base_address(a) for a in aliases or [] if isinstance(a, str))
    return found


# --- bounces ---------------------------------------------------------------------------------


@dataclass
class BounceInfo:
    """What a delivery status notification says about the message it returns."""

    message_ids: list[str] = field(default_factory=list)
    final_recipient: str = ""
    action: str = ""
    status: str = ""
    diagnostic: str = ""

    @property
    def is_failure(self) -> bool:
        """Only permanent failures fail the message; "delayed" notices and 4.x.x do not."""
        if self.action in {"delayed", "relayed", "delivered", "expanded"}:
            return False
        return not self.status.startswith(("2", "4"))

    def reason(self) -> str:
        parts = [
            p
            for p in (
                f"status {self.status}" if self.status else "",
                self.diagnostic,
                f"recipient {self.final_recipient}" if self.final_recipient else "",
            )
            if p
        ]
        return "bounced: " + ("; ".join(parts) if parts else "delivery failed")


DSN_FIELD_RE = re.compile(r"^([A-Za-z-]+)\s*:\s*(.*)$")
MESSAGE_ID_LINE_RE = re.compile(r"^\s*message-id\s*:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)


def _parse(raw: bytes) -> Message | None:
    try:
        return email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception:  # pragma: no cover - the parser is very lenient already
        return None


def _dsn_fields(part: Message) -> Iterator[tuple[str, str]]:
    payload = part.get_payload()
    if isinstance(payload, list):
        for block in payload:
            if isinstance(block, Message):
                for key, value in block.items():
                    yield key.lower(), " ".join(str(value).split())
        return
    raw = part.get_payload(decode=True)
    text = raw.decode("latin-1") if isinstance(raw, bytes) else str(payload)
    key = ""
    for line in text.splitlines():
        if line[:1] in (" ", "\t") and key:
            yield key, line.strip()
            continue
        match = DSN_FIELD_RE.match(line)
        if match:
            key = match.group(1).lower()
            yield key, " ".join(match.group(2).split())


def _header_message_ids(msg: Message) -> list[str]:
    return MESSAGE_ID_RE.findall(str(msg.get("Message-ID", "") or ""))


def bounce_info(raw: bytes) -> BounceInfo:
    """The returned message's ids (embedded message/rfc822 or text/rfc822-headers part, the
    Original-Message-ID field, else Message-ID lines quoted in the text) and the diagnosis."""
    info = BounceInfo()
    msg = _parse(raw)
    if msg is None:
        return info
    ids: list[str] = []
    quoted: list[str] = []
    for part in msg.walk():
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            for key, value in _dsn_fields(part):
                if key in ("original-message-id", "x-original-message-id"):
                    ids.extend(MESSAGE_ID_RE.findall(value))
                elif key == "final-recipient" and not info.final_recipient:
                    info.final_recipient = value.rpartition(";")[2].strip()
                elif key == "action" and not info.action:
                    info.action = value.lower()
                elif key == "status" and not info.status:
                    info.status = value
                elif key == "diagnostic-code" and not info.diagnostic:
                    info.diagnostic = value.partition(";")[2].strip() or value
        elif content_type == "message/rfc822":
            inner = part.get_payload()
            for child in inner if isinstance(inner, list) else []:
                if isinstance(child, Message):
                    ids.extend(_header_message_ids(child))
        elif content_type == "text/rfc822-headers":
            body = part.get_payload(decode=True)
            if isinstance(body, bytes):
                headers = _parse(body)
                if headers is not None:
                    ids.extend(_header_message_ids(headers))
        elif content_type == "text/plain":
            body = part.get_payload(decode=True)
            if isinstance(body, bytes):
                quoted.extend(MESSAGE_ID_LINE_RE.findall(body.decode("latin-1")))
    outer = set(_header_message_ids(msg))
    info.message_ids = list(dict.fromkeys(i for i in [*ids, *quoted] if i not in outer))
    info.diagnostic = info.diagnostic[:1000]
    return info


# --- agent forwards --------------------------------------------------------------------------

FORWARD_SUBJECT_RE = re.compile(r"^\s*(?:(?:fwd?|fw|wg|tr|rv|enc|doorst)\s*:\s*)+", re.IGNORECASE)
FORWARD_MARKER_RE = re.compile(
    r"^[ \t>]*(?:"
    r"-{2,}\s*(?:Forwarded message|Weitergeleitete Nachricht|Message transf[ée]r[ée]|"
    r"Mensaje reenviado|Mensagem encaminhada|Messaggio inoltrato|Doorgestuurd bericht|"
    r"Vidarebefordrat meddelande|Videresendt meddelelse|Original Message|"
    r"Urspr[üu]ngliche Nachricht|Message d'origine|Mensaje original|Mensagem original|"
    r"Messaggio originale|Oorspronkelijk bericht)\s*-{2,}"
    r"|Begin forwarded message\s*:|D[ée]but du message r[ée]exp[ée]di[ée]\s*:"
    r"|Anfang der weitergeleiteten Nachricht\s*:|Inicio del mensaje reenviado\s*:"
    r"|_{20,}"
    r")[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
FROM_KEYS = {"from", "von", "de", "da", "van", "från", "fra", "od", "от"}
SUBJECT_KEYS = {
    "subject", "betreff", "objet", "asunto", "assunto", "oggetto", "onderwerp", "ämne", "emne",
}  # fmt: skip
HEADER_LINE_RE = re.compile(r"^[ \t>]*\**([^\s:*][^:*]{0,30}?)\**\s*:\**\s*(.*)$")
ADDRESS_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


@dataclass(frozen=True)
class Forwarded:
    """The original message inside an agent's forward."""

    address: str
    name: str = ""
    subject: str = ""
    text: str = ""
    note: str = ""


def forward_subject(subject: str) -> str:
    """'Fwd: FW: Broken tent' -> 'Broken tent'."""
    return FORWARD_SUBJECT_RE.sub("", subject or "").strip()


def _name_and_address(value: str) -> tuple[str, str]:
    match = ADDRESS_RE.search(value)
    if not match:
        return "", ""
    name = value[: match.start()]
    name = re.sub(r"(\[mailto:|<|\(|mailto:)\s*$", "", name.strip()).strip()
    return name.strip(" \"'*"), match.group(0).lower()


def forwarded_in_text(text: str) -> Forwarded | None:
    """A forwarded block in a plain-text body: a marker line, then header lines with a From."""
    for marker in FORWARD_MARKER_RE.finditer(text or ""):
        after = text[marker.end() :].lstrip("\r\n").splitlines()
        name = address = subject = ""
        index = 0
        seen_header = False
        while index < len(after) and index < 20:
            line = after[index].strip().lstrip(">").strip()
            index += 1
            if not line:
                if seen_header:
                    break
                continue
            match = HEADER_LINE_RE.match(line)
            if not match:
                if seen_header:
                    index -= 1
                break
            seen_header = True
            key, value = match.group(1).strip().lower(), match.group(2).strip()
            if key in FROM_KEYS and not address:
                name, address = _name_and_address(value)
            elif key in SUBJECT_KEYS and not subject:
                subject = value
        if not address:
            continue
        body = "\n".join(line.removeprefix("> ").removeprefix(">") for line in after[index:])
        return Forwarded(
            address=address,
            name=name,
            subject=forward_subject(subject),
            text=body.strip(),
            note=text[: marker.start()].strip(),
        )
    return None


def _text_of(msg: Message, *, skip_messages: bool) -> str:
    texts: list[str] = []
    htmls: list[str] = []
    stack: list[Message] = [msg]
    while stack:
        part = stack.pop(0)
        content_type = part.get_content_type()
        if content_type == "message/rfc822" and skip_messages and part is not msg:
            continue
        if part.is_multipart():
            children = part.get_payload()
            stack[0:0] = [c for c in children if isinstance(c, Message)]
            continue
        if (part.get("Content-Disposition") or "").lower().startswith("attachment"):
            continue
        if content_type in ("text/plain", "text/html"):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                text, _ = decode_bytes(payload, part.get_content_charset())
                (texts if content_type == "text/plain" else htmls).append(text)
    if texts:
        return "\n".join(texts).strip()
    if htmls:
        from frontline.tickets.sanitize import html_to_text

        return html_to_text("\n".join(htmls)).strip()
    return ""


def forwarded_attachment(raw: bytes) -> Forwarded | None:
    """A forward sent as an attached message/rfc822 part."""
    msg = _parse(raw)
    if msg is None:
        return None
    for part in msg.walk():
        if part.get_content_type() != "message/rfc822" or part is msg:
            continue
        inner = part.get_payload()
        child = inner[0] if isinstance(inner, list) and inner else None
        if not isinstance(child, Message):
            continue
        try:
            from email.header import decode_header, make_header

            sender = str(make_header(decode_header(str(child.get("From", "")))))
            subject = str(make_header(decode_header(str(child.get("Subject", "")))))
        except Exception:
            sender, subject = str(child.get("From", "")), str(child.get("Subject", ""))
        name, address = _name_and_address(sender)
        if not address:
            continue
        return Forwarded(
            address=address,
            name=name,
            subject=forward_subject(" ".join(subject.split())),
            text=_text_of(child, skip_messages=False),
            note=_text_of(msg, skip_messages=True),
        )
    return None


def forwarded_original(text: str, raw: bytes) -> Forwarded | None:
    """The forwarded original in an agent's mail: an inline block first, else an attachment."""
    return forwarded_in_text(text) or forwarded_attachment(raw)

"""SMS length rules: how many segments a text costs, and how a long reply is cut for Twilio.

A single SMS carries 140 bytes: 160 characters of the GSM 03.38 7-bit alphabet, or 70 UTF-16
code units (UCS-2) as soon as one character is outside that alphabet. A concatenated message
spends 6 bytes of each part on the header, leaving 153 (GSM-7) or 67 (UCS-2) per part. The
characters of the GSM extension table (`{}[]~\\^|€`, form feed) are sent as an escape plus a
character, two units each, and neither an escape pair nor a surrogate pair (emoji) is split
across two parts, so the count here packs parts the way handsets reassemble them.

Twilio refuses a Body over 1600 characters, so a longer reply is sent as several API calls,
cut on word boundaries by `body_parts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# GSM 03.38 basic character set (the escape code 0x1B is not a character of its own).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each costs the escape plus itself.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

SINGLE_LIMIT = {"GSM-7": 160, "UCS-2": 70}
PART_LIMIT = {"GSM-7": 153, "UCS-2": 67}

# Twilio's limit on one API call's Body (it counts characters as UTF-16 code units do).
TWILIO_BODY_MAX = 1600

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class SegmentInfo:
    """What a text costs as SMS. `characters` counts encoding units (septets for GSM-7,
    UTF-16 code units for UCS-2), which is what the limits apply to; `per_segment` is the
    limit that applied (160/70 for one segment, 153/67 per part when concatenated)."""

    encoding: Encoding
    characters: int
    segments: int
    per_segment: int


def _utf16_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def _unit_widths(text: str) -> tuple[Encoding, list[int]]:
    if is_gsm7(text):
        return "GSM-7", [2 if c in GSM7_EXTENSION else 1 for c in text]
    return "UCS-2", [_utf16_units(c) for c in text]


def _parts_needed(widths: list[int], per_part: int) -> int:
    """Parts needed when no character may straddle two parts (greedy packing is optimal
    for keeping order)."""
    parts, used = 1, 0
    for width in widths:
        if used + width > per_part:
            parts += 1
            used = 0
        used += width
    return parts


def sms_segments(text: str) -> SegmentInfo:
    """The encoding, length and number of segments of `text` sent as SMS (0 for no text)."""
    encoding, widths = _unit_widths(text)
    characters = sum(widths)
    single = SINGLE_LIMIT[encoding]
    if characters == 0:
        return SegmentInfo(encoding, 0, 0, single)
    if characters <= single:
        return SegmentInfo(encoding, characters, 1, single)
    per_part = PART_LIMIT[encoding]
    return SegmentInfo(encoding, characters, _parts_needed(widths, per_part), per_part)


def utf16_length(text: str) -> int:
    return sum(_utf16_units(c) for c in text)


def _fitting_prefix(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-16 code units."""
    used = 0
    for index, char in enumerate(text):
        used += _utf16_units(char)
        if used > limit:
            return index
    return len(text)


def _break_at(window: str) -> int:
    """Where to end a part inside `window` (which fits): after the last line break, else after
    the last space, when that keeps at least half of the window; else at its end (a word
    longer than half a part, like a long link, is the only thing ever cut)."""
    half = len(window) // 2
    newline = window.rfind("\n", half)
    if newline != -1:
        return newline + 1
    for index in range(len(window) - 1, half - 1, -1):
        if window[index].isspace():
            return index + 1
    return len(window)


def body_parts(text: str, limit: int = TWILIO_BODY_MAX) -> list[str]:
    """Cut `text` into bodies Twilio accepts (each at most `limit` UTF-16 code units), on line
    or word boundaries. Joined together, the parts are exactly `text`: nothing is trimmed,
    dropped or reordered (the space at a break ends the earlier part)."""
    if limit < 2:
        raise ValueError("a part must hold at least two code units")
    parts: list[str] = []
    rest = text
    while utf16_length(rest) > limit:
        window = rest[: _fitting_prefix(rest, limit)]
        cut = _break_at(window)
        parts.append(rest[:cut])
        rest = rest[cut:]
    if rest or not parts:
        parts.append(rest)
    return parts

"""Split an email body into the author's new text, the quoted history and the signature.

Pure: no ORM, no network, standard library only. Works line by line; every regular expression
here is applied to a single line (or a window of at most three short lines) and is free of
nested quantifiers over overlapping classes, so the running time stays linear in the input.

The text rules, in order:

1. Lines inside ``` fences are content, never quotes, headers or signatures.
2. `>`-quoted blocks are quoted history. Text *between* quoted blocks is kept (inline replies),
   except for wrapped lines of the quote that lost their `>` (a line directly between two quoted
   lines that starts in lower case or follows a long quoted line).
3. A quote header ("On <date>, X wrote:", "Le … a écrit :", "Am … schrieb …:", "<date>, X <a@b>:"
   …, possibly wrapped over three lines) is history. When `>`-quoted lines follow it, only the
   header and the quoted block go (inline replies after it survive); otherwise it ends the reply.
4. An Outlook-style header block (From/Sent/To/Subject in many languages), an
   "-----Original Message-----" or "Begin forwarded message" line, or a helpdesk marker ("Please
   type your reply above this line") ends the reply; a separator line (`____`, `-----`) just
   above one of them goes with it.
5. A device footer ("Sent from my iPhone", "Von meinem iPhone gesendet", "Get Outlook for iOS" …)
   that ends its paragraph ends the reply: it is the signature, whatever follows is history.
6. At the end of what remains: a `-- ` delimiter (or a run of `__` / `——`) with a short block
   after it, a trailing "Sent from …" line, and — when the sender is known — a last short
   paragraph naming them (with a "Thanks," just above) are the signature. Sign-offs alone
   ("Best regards,\\nJohn") are kept.

`split_reply_html` renders HTML to text (blockquotes become `>` lines; Gmail/Yahoo/Thunderbird
attribution blocks and Outlook's reply header are set aside structurally) and applies the rules.
"""

# Multilingual patterns: Cyrillic, Greek, CJK letters and typographic dashes are intended.
# ruff: noqa: RUF001

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

__all__ = ["ReplyParts", "split_reply", "split_reply_html"]


@dataclass(frozen=True)
class ReplyParts:
    reply: str  # the new text the author wrote
    quoted: str  # what was removed as quoted history ("" if none)
    signature: str  # the removed signature / device footer ("" if none)


# --------------------------------------------------------------------------------------------
# Line classification
# --------------------------------------------------------------------------------------------

_BLANK, _TEXT, _QUOTED, _CODE = 0, 1, 2, 3

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"))

# Lines longer than this are never headers, footers or delimiters (keeps the regexes cheap).
_MAX_MARKER_LINE = 300


def _clean(line: str) -> str:
    if line.isascii():
        return line.strip()
    return line.translate(_INVISIBLE).replace("\xa0", " ").strip()


def _classify(clean: list[str]) -> list[int]:
    """The kind of every (cleaned) line: blank, text, `>`-quoted, or inside a ``` fence."""
    fences = [i for i, line in enumerate(clean) if line.startswith(("```", "~~~"))]
    in_code = [False] * len(clean)
    for start, end in zip(fences[0::2], fences[1::2], strict=False):
        for k in range(start, end + 1):
            in_code[k] = True
    kinds = []
    for line, code in zip(clean, in_code, strict=True):
        if code:
            kinds.append(_CODE)
        elif not line:
            kinds.append(_BLANK)
        elif line.startswith((">", "&gt;")):
            kinds.append(_QUOTED)
        else:
            kinds.append(_TEXT)
    return kinds


# --------------------------------------------------------------------------------------------
# Quote headers ("On <date>, X wrote:" and friends)
# --------------------------------------------------------------------------------------------

# Verbs of attribution lines. A verb must start a word (after a space, `>`, a quote or bracket)
# and must not run into further letters.
_VERB_WORDS = (
    r"wrote|writes|has written|schrieb|schreibt|hat geschrieben|geschrieben|a écrit|écrit|ecrit"
    r"|escribió|escribio|ha escrito|escreveu|escrevi|ha scritto|scritto|schreef|geschreven|skrev"
    r"|skriver|kirjoitti|pisze|napisał\(a\)|napisała|napisał|napisal|napsal\(a\)|napsala|napsal"
    r"|napísal\(a\)|napísala|napísal|írta|yazdı|написал\(а\)|написала|написал|пишет|написав"
    r"|написа|έγραψε|a scris|napisao|napisala|rašė|rakstīja|kirjutas|skrifaði|kirjoittaa"
)
_VERB_FIRST_LETTERS = "".join(sorted({word[0] for word in _VERB_WORDS.split("|")}))
_VERB = re.compile(
    # The leading lookahead lets the scan skip most positions cheaply.
    r"(?=[" + _VERB_FIRST_LETTERS + r"写寫작の])"
    r"(?:(?:^|(?<=[\s>\"'()\[\],;]))(?:" + _VERB_WORDS + r")(?![^\W\d_])"
    r"|写道|寫道|작성|のメッセージ)",
    re.IGNORECASE,
)
# How an attribution starts: an opener word, a weekday or month name, or a digit.
_OPENER_WORDS = (
    r"on|le|am|el|em|il|op|den|på|dne|dňa|dnia|w dniu|il giorno|in data|στις|vào|ngày|в|во|u"
    r"|el día"
)
_DAY_MONTH_WORDS = (
    r"mon|monday|tue|tues|tuesday|wed|wednesday|thu|thur|thurs|thursday|fri|friday|sat|saturday"
    r"|sun|sunday|jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august"
    r"|sep|sept|september|oct|october|nov|november|dec|december"
    r"|lun|lundi|mardi|mer|mercredi|jeu|jeudi|ven|vendredi|sam|samedi|dim|dimanche"
    r"|mo|montag|di|dienstag|mi|mittwoch|do|donnerstag|fr|freitag|sa|samstag|so|sonntag"
    r"|mié|miércoles|jue|jueves|vie|viernes|sáb|sábado|dom|domingo|lunes|martes"
    r"|seg|segunda|ter|terça|qua|quarta|qui|quinta|sex|sexta"
    r"|gio|giovedì|lunedì|martedì|mercoledì|venerdì|sab|sabato|domenica"
    r"|ma|wo|vr|za|zo|maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag"
    r"|man|tir|ons|tor|fre|lør|søn|mandag|tirsdag|onsdag|torsdag|fredag|lørdag|søndag"
    r"|mån|tis|tors|lör|sön|måndag|tisdag|lördag|söndag"
    r"|ti|ke|to|pe|su|maanantai|tiistai|keskiviikko|torstai|perjantai|lauantai|sunnuntai"
    r"|pon|wt|śr|czw|pt|sob|niedz|poniedziałek|wtorek|środa|czwartek|piątek|sobota|niedziela"
    r"|пн|вт|ср|чт|пт|сб|вс|понедельник|вторник|среда|четверг|пятница|суббота|воскресенье"
)
_ATTRIBUTION_START = re.compile(
    r"(?:\d|在|(?:" + _OPENER_WORDS + "|" + _DAY_MONTH_WORDS + r")(?![^\W\d_]))",
    re.IGNORECASE,
)
_OPENER_START = re.compile(r"(?:" + _OPENER_WORDS + r")(?![^\W\d_])", re.IGNORECASE)
_ENDS_WITH_ADDRESS = re.compile(r"(?:[>\])]|&gt;|@[\w.-]+)\s*[:：]$")
_TIME_OR_YEAR = re.compile(r"\d{1,2}[:.h]\d{2}|(?<!\d)(?:19|20)\d{2}(?!\d)")
_DECORATION = " \t*_-=—–"
_DIGIT_OR_AT = re.compile(r"[\d@]")


def _core(cleaned: str) -> tuple[str, bool]:
    """The (cleaned) line without surrounding decoration, and whether it had dashes around it."""
    core = cleaned.strip(_DECORATION)
    return core, cleaned.startswith("--") or cleaned.endswith("--")


def _is_attribution(text: str, decorated: bool, *, before_quote: bool = False) -> bool:
    """Is `text` (one to three lines joined by spaces) a complete attribution line?

    It needs a date or an address, unless `>`-quoted lines follow it directly.
    """
    if len(text) > 500 or not (before_quote or _DIGIT_OR_AT.search(text)):
        return False
    ends_colon = text.endswith((":", "："))
    verb = _VERB.search(text)
    if verb and (ends_colon or (decorated and verb.end() == len(text))):
        return True
    # "<date>, <time>, Name <a@b.c>:" (Yandex, Mail.ru, Gmail in some locales)
    return bool(
        ends_colon
        and "@" in text
        and _ENDS_WITH_ADDRESS.search(text)
        and _TIME_OR_YEAR.search(text)
    )


def _attribution_ending_at(lines: list[str], kinds: list[int], j: int, floor: int) -> int:
    """The first line of an attribution header that ends on line j, or -1."""
    core_j, decorated = _core(lines[j])
    if not core_j or len(core_j) > _MAX_MARKER_LINE:
        return -1
    if not (core_j.endswith((":", "：")) or decorated):
        return -1
    # Cheap rejection: no verb and no address anywhere in the (up to) three lines.
    lowest = j
    while lowest > max(floor, j - 2) and kinds[lowest - 1] == _TEXT:
        lowest -= 1
    if not any("@" in lines[k] or _VERB.search(lines[k]) for k in range(lowest, j + 1)):
        return -1
    nxt = j + 1
    while nxt < len(lines) and kinds[nxt] == _BLANK:
        nxt += 1
    before_quote = nxt < len(lines) and kinds[nxt] == _QUOTED
    window: list[str] = [core_j]
    start = -1
    s = j
    while True:
        if _ATTRIBUTION_START.match(window[0]) and _is_attribution(
            " ".join(window), decorated, before_quote=before_quote
        ):
            start = s
            break
        if s - 1 < max(floor, j - 2) or kinds[s - 1] != _TEXT:
            break
        prev = _core(lines[s - 1])[0]
        if not prev or len(prev) > _MAX_MARKER_LINE:
            break
        s -= 1
        window.insert(0, prev)
    if start < 0:
        # "Name <a@b.c> wrote:" on its own line (or "…, Name <a@b.c>:" right above a quote)
        if (
            "@" in core_j
            and (before_quote or _VERB.search(core_j))
            and _is_attribution(core_j, decorated)
        ):
            return j
        return -1
    # "On Mon, Aug 26, 2019 at\n4:37 PM Name <a@b> wrote:": take the opener line too.
    if (
        start > max(floor, j - 2)
        and kinds[start - 1] == _TEXT
        and not _OPENER_START.match(_core(lines[start])[0])
    ):
        prev = _core(lines[start - 1])[0]
        if prev and len(prev) <= 100 and _OPENER_START.match(prev) and prev[-1] not in ".!?":
            start -= 1
    return start


# --------------------------------------------------------------------------------------------
# Outlook header blocks, "Original Message" and forward markers, separators
# --------------------------------------------------------------------------------------------

_HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "from": (
        "from",
        "von",
        "de",
        "van",
        "da",
        "fra",
        "från",
        "od",
        "от",
        "від",
        "lähettäjä",
        "feladó",
        "kimden",
        "afzender",
        "remetente",
        "mittente",
        "expéditeur",
        "absender",
        "nadawca",
        "odesílatel",
        "από",
        "发件人",
        "寄件者",
        "差出人",
        "보낸 사람",
        "de la",
        "van de",
        "αποστολέας",
    ),
    "date": (
        "sent",
        "date",
        "gesendet",
        "datum",
        "envoyé",
        "envoyé le",
        "verzonden",
        "inviato",
        "data",
        "enviado",
        "enviada",
        "fecha",
        "sendt",
        "skickat",
        "wysłano",
        "wysłane",
        "отправлено",
        "дата",
        "lähetetty",
        "päivämäärä",
        "elküldve",
        "dátum",
        "tarih",
        "odesláno",
        "gönderildi",
        "发送时间",
        "日期",
        "送信日時",
        "보낸 날짜",
        "enviado el",
        "enviada el",
        "enviado em",
        "enviada em",
        "inviato il",
        "verzonden op",
        "gesendet am",
        "sent on",
        "data de envio",
        "fecha de envío",
        "στάλθηκε",
        "ημερομηνία",
        "trimis",
        "寄件日期",
        "送信日",
        "datum odeslání",
    ),
    "to": (
        "to",
        "an",
        "à",
        "a",
        "aan",
        "para",
        "til",
        "till",
        "do",
        "кому",
        "vastaanottaja",
        "címzett",
        "kime",
        "komu",
        "destinataire",
        "empfänger",
        "收件人",
        "宛先",
        "받는 사람",
        "către",
        "προς",
        "收件者",
        "címzettek",
    ),
    "cc": ("cc", "bcc", "kopie", "copie", "kopia", "копия", "cci", "kopio", "másolat"),
    "subject": (
        "subject",
        "betreff",
        "objet",
        "onderwerp",
        "oggetto",
        "asunto",
        "assunto",
        "emne",
        "ämne",
        "temat",
        "тема",
        "aihe",
        "tárgy",
        "konu",
        "předmět",
        "sujet",
        "主题",
        "主旨",
        "件名",
        "제목",
        "θέμα",
        "subiect",
        "tema",
    ),
}
_HEADER_CATEGORY = {name: cat for cat, names in _HEADER_NAMES.items() for name in names}
_HEADER_KEY = re.compile(
    r"[*_]{0,2}[ \t]*(?P<key>"
    + "|".join(
        re.escape(name).replace(r"\ ", r"[ \t]+")
        for name in sorted(_HEADER_CATEGORY, key=len, reverse=True)
    )
    + r")[ \t]*[*_]{0,2}[ \t]*[:：]",
    re.IGNORECASE,
)

_ORIGINAL_MESSAGE = re.compile(
    r"(?:original message|original e-?mail|ursprüngliche nachricht|originalnachricht"
    r"|message d'origine|message original|mensaje original|mensagem original"
    r"|messaggio originale|oorspronkelijk bericht|origineel bericht|oprindelig meddelelse"
    r"|oprindelig besked|opprinnelig melding|originalmeddelande|ursprungligt meddelande"
    r"|alkuperäinen viesti|wiadomość oryginalna|oryginalna wiadomość|исходное сообщение"
    r"|původní zpráva|pôvodná správa|eredeti üzenet|orijinal mesaj|forwarded message"
    r"|message transféré|message réexpédié|weitergeleitete nachricht|mensaje reenviado"
    r"|mensagem encaminhada|messaggio inoltrato|doorgestuurd bericht|videresendt meddelelse"
    r"|videresendt melding|vidarebefordrat meddelande|välitetty viesti|przekazana wiadomość"
    r"|wiadomość przekazana|пересылаемое сообщение|пересланное сообщение"
    r"|begin forwarded message|début du message réexpédié|début du message transféré"
    r"|anfang der weitergeleiteten nachricht|inicio del mensaje reenviado"
    r"|início da mensagem encaminhada|inizio messaggio inoltrato|begin doorgestuurd bericht)"
    r"[ \t]*:?",
    re.IGNORECASE,
)
_REPLY_ABOVE = re.compile(
    r"(?:reply|write|respond|type your (?:reply|response))\s+above\s+this\s+line"
    r"|(?:do not|don't|please do not)\s+(?:write|reply|type)\s+below\s+this\s+line"
    r"|au-dessus de cette ligne|über dieser zeile|oberhalb dieser zeile"
    r"|por encima de esta línea|acima desta linha|sopra questa riga|boven deze lijn",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"(?:[-_=—–*]|\s){5,}")


def _header_category(cleaned: str) -> str | None:
    if len(cleaned) > _MAX_MARKER_LINE * 2:
        return None
    m = _HEADER_KEY.match(cleaned)
    if not m:
        return None
    return _HEADER_CATEGORY.get(" ".join(m.group("key").lower().split()))


def _outlook_block_end(categories_of: list[str | None], usable: list[bool], i: int) -> int:
    """End (exclusive) of an Outlook-style header block starting on line i, or -1.

    `categories_of[k]` is the header category of line k ("from", "date", …) or None;
    `usable[k]` says whether line k may be part of a block at all (short, unquoted text).
    """
    if categories_of[i] is None:
        return -1
    categories: set[str] = set()
    last_key = i
    continuation = 0
    j = i
    while j < len(usable) and j - i < 16 and usable[j]:
        category = categories_of[j]
        if category is not None:
            categories.add(category)
            last_key = j
            continuation = 0
        else:
            continuation += 1  # a wrapped value ("<a-long-address@example.com>", "PM")
            if continuation > 2:
                break
        j += 1
    if len(categories) >= 3 or ("from" in categories and categories & {"date", "subject"}):
        return last_key + 1
    return -1


def _is_original_message(cleaned: str) -> bool:
    core, _ = _core(cleaned)
    if not core or len(core) > 80:
        return False
    m = _ORIGINAL_MESSAGE.match(core)
    return bool(m and m.end() == len(core))


def _is_separator(cleaned: str) -> bool:
    return len(cleaned) <= _MAX_MARKER_LINE and bool(_SEPARATOR.fullmatch(cleaned))


def _is_reply_above_marker(cleaned: str) -> bool:
    """Helpdesk markers: "##- Please type your reply above this line -##" and the like."""
    return len(cleaned) <= 160 and bool(_REPLY_ABOVE.search(cleaned))


# Header kinds
_ATTRIB, _BLOCK, _CUT = "attribution", "block", "cut"


@dataclass(frozen=True)
class _Header:
    end: int  # exclusive
    kind: str


def _find_headers(lines: list[str], kinds: list[int]) -> dict[int, _Header]:
    headers: dict[int, _Header] = {}
    usable = [kind == _TEXT and len(line) <= 200 for line, kind in zip(lines, kinds, strict=True)]
    categories_of = [
        _header_category(line) if ok else None for line, ok in zip(lines, usable, strict=True)
    ]
    covered = 0
    for j in range(len(lines)):
        if j < covered or kinds[j] != _TEXT:
            continue
        start, end, kind = -1, -1, ""
        if _is_original_message(lines[j]) or _is_reply_above_marker(lines[j]):
            start, end, kind = j, j + 1, _CUT
        else:
            block_end = _outlook_block_end(categories_of, usable, j)
            if block_end > 0:
                start, end, kind = j, block_end, _BLOCK
            else:
                s = _attribution_ending_at(lines, kinds, j, covered)
                if s >= 0:
                    start, end, kind = s, j + 1, _ATTRIB
        if start < 0:
            continue
        # A separator line just above (blank lines allowed) belongs to the history.
        k = start - 1
        while k >= covered and kinds[k] == _BLANK:
            k -= 1
        if k >= covered and kinds[k] == _TEXT and _is_separator(lines[k]):
            start = k
        headers[start] = _Header(end, kind)
        covered = end
    return headers


# --------------------------------------------------------------------------------------------
# Signatures and device footers
# --------------------------------------------------------------------------------------------

_FOOTER_VERB = (
    r"sent|envoyé|envoye|enviado|enviada|inviato|gesendet|verzonden|verstuurd|sendt|skickat"
    r"|lähetetty|wysłane|wysłano|отправлено|odesláno|poslano|küldve|gönderildi|trimis"
)
_FOOTER_PREP = (
    r"from|with|via|using|on|de|depuis|à partir de|desde|do|da|dal|dalla|von|vom|mit|vanaf|met"
    r"|fra|från|med|z|ze|с|со|из|iz|от|din|il mio|mon|ma|mi|mein|meinem|mijn|min|mitt|moje|mého"
)
_DEVICE = re.compile(
    r"(?<![^\W\d_])(?:iphone|ipad|ipod|blackberry|android|samsung|galaxy|mobile|mobil|móvil"
    r"|movil|celular|cellulare|handy|smartphone|outlook|windows|mail|e-?mail|yahoo|aol|gmail"
    r"|sparrow|airmail|spark|huawei|xiaomi|pixel|nokia|motorola|oneplus|tablet|phone|telefon"
    r"|téléphone|telefone|teléfono|telefono|portable|superhuman|proton\w*|bluemail|newton"
    r"|edison|fairemail|tutanota|thunderbird|mailbird|hey|zoho|fastmail|mobilní|телефона?"
    r"|iphone\w*|ipad\w*)(?![^\W\d_])",
    re.IGNORECASE,
)
_STRONG_FOOTER = re.compile(
    r"(?:(?:" + _FOOTER_VERB + r")[ \t]+(?:" + _FOOTER_PREP + r")(?![^\W\d_])"
    r"|(?:get|télécharger|obtenir|descargar|descarga|scarica|baixe|baixar|pobierz|скачайте"
    r"|hol dir|holen sie sich|download)[ \t]+outlook(?![^\W\d_])"
    r"|von meinem[ \t]|lähetetty[ \t]|wysłane[ \t]|verstuurd[ \t]|verzonden[ \t])",
    re.IGNORECASE,
)
# "iPhone'umdan gönderildi", "从我的iPhone发送", "iPhoneから送信" (only applied to short lines)
_DEVICE_FIRST_FOOTER = re.compile(
    r"\S{0,10}(?:iphone|ipad|android)\S{0,10} ?(?:gönderildi|发送|送信)$", re.IGNORECASE
)
_WEAK_FOOTER = re.compile(r"sent (?:from|with|via|using) \S", re.IGNORECASE)
_TRAILING_LINK = re.compile(r"\s*(?:<[^<>\s]*>|\([^()\s]*\)|\[[^\[\]\s]*\])\s*$")


def _footer_text(cleaned: str) -> str:
    text = cleaned
    if len(text) > _MAX_MARKER_LINE:
        return ""
    return _TRAILING_LINK.sub("", text).strip()


def _is_strong_footer(line: str) -> bool:
    text = _footer_text(line)
    words = text.split()
    if not text or len(text) > 80 or len(words) > 12 or text[-1] in "!?;,:":
        return False
    if text[-1] == "." and (len(words) > 8 or "," in text):
        return False  # reads like a sentence
    # The device or app is named early: "Sent from my Verizon Wireless BlackBerry".
    if _STRONG_FOOTER.match(text) and _DEVICE.search(" ".join(words[:6])):
        return True
    return bool(_DEVICE_FIRST_FOOTER.match(text))


def _is_weak_footer(line: str) -> bool:
    text = _footer_text(line)
    if not text or len(text) > 60 or len(text.split()) > 8 or text[-1] in ".!?;,":
        return False
    return bool(_WEAK_FOOTER.match(text))


_SIG_RULE = re.compile(r"[—–]{2,}|_{2,}")  # "——————" and "__" runs
_SIGN_OFF = re.compile(
    r"(?:\w+[ \t]+){0,2}(?:thanks|thank you|many thanks|thx|cheers|best|regards|best regards"
    r"|kind regards|warm regards|sincerely|yours|yours truly|all the best|br|mfg"
    r"|mit freundlichen grüßen|mit freundlichen grüssen|viele grüße|grüße|gruß|lg|cordialement"
    r"|bien à vous|merci|saludos|atentamente|un saludo|cumprimentos|atenciosamente|obrigado"
    r"|obrigada|grazie|cordiali saluti|saluti|met vriendelijke groet|groeten|hälsningar"
    r"|med vänliga hälsningar|mvh|med venlig hilsen|hilsen|pozdrawiam|с уважением|спасибо)"
    r"[ \t]*[,.!]?[ \t]*",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


# Words of role addresses and display names that are no person's name.
_NOT_A_NAME = {
    "admin",
    "contact",
    "do",
    "hello",
    "help",
    "info",
    "mail",
    "no",
    "noreply",
    "not",
    "office",
    "reply",
    "sales",
    "service",
    "support",
    "team",
    "the",
}


def _names_sender(line: str, addresses: list[str], names: set[str]) -> bool:
    """Does the (short) line carry the sender's address or a capitalised part of their name?"""
    lowered = line.lower()
    if any(address in lowered for address in addresses):
        return True
    if len(line) > 60 or len(line.split()) > 6 or line[-1:] in "?!:":
        return False
    return any(
        word[:1].isupper() and word.lower() in names for word in re.findall(r"[^\W\d_]+", line)
    )


def _sender_parts(sender: str) -> tuple[list[str], set[str]]:
    """The sender's addresses and the words of their name (from the display name and address)."""
    sender = sender.strip().lower()
    addresses = _EMAIL.findall(sender)
    names = set(re.findall(r"[^\W\d_]{2,}", _EMAIL.sub(" ", sender)))
    for address in addresses:
        local = address.split("@", 1)[0]
        names |= {w for w in re.split(r"[._+-]", local) if len(w) >= 3 and w.isalpha()}
    return addresses, names - _NOT_A_NAME


def _signature_start(lines: list[str], kinds: list[int], reply: list[int], sender: str) -> int:
    """Position in `reply` where the trailing signature starts, or len(reply)."""
    end = len(reply)
    while end > 0 and kinds[reply[end - 1]] == _BLANK:
        end -= 1
    if end == 0:
        return len(reply)
    candidates = [len(reply)]

    first_text = next(k for k in range(end) if kinds[reply[k]] != _BLANK)

    def has_text_before(pos: int) -> bool:
        return first_text < pos

    last = reply[end - 1]
    if kinds[last] == _TEXT and (_is_strong_footer(lines[last]) or _is_weak_footer(lines[last])):
        candidates.append(end - 1)
        end -= 1
        while end > 0 and kinds[reply[end - 1]] == _BLANK:
            end -= 1

    # Delimiters: the earliest one with a short enough block below it.
    nonblank_after = 0
    chars_after = 0
    for pos in range(end - 1, -1, -1):
        idx = reply[pos]
        if kinds[idx] == _BLANK:
            continue
        cleaned = lines[idx]
        if kinds[idx] == _TEXT and has_text_before(pos):
            standard = cleaned == "--" and nonblank_after <= 20 and chars_after <= 2500
            rule = (
                nonblank_after <= 12
                and chars_after <= 1200
                and kinds[reply[pos - 1]] == _BLANK  # a rule under a heading is content
                and _SIG_RULE.fullmatch(cleaned)
            )
            if standard or rule:
                candidates.append(pos)
        nonblank_after += 1
        chars_after += len(cleaned)
        if nonblank_after > 20 or chars_after > 2500:
            break

    # Sender-aware: the last short paragraph naming the sender (and a sign-off just above).
    addresses, names = _sender_parts(sender)
    if addresses or names:
        para_start = end
        while para_start > 0 and kinds[reply[para_start - 1]] != _BLANK:
            para_start -= 1
        if 0 < end - para_start <= 8 and has_text_before(para_start):
            for pos in range(para_start, end):
                if _names_sender(lines[reply[pos]], addresses, names):
                    start = pos
                    if start > para_start and _SIGN_OFF.fullmatch(lines[reply[start - 1]]):
                        start -= 1
                    if has_text_before(start):
                        candidates.append(start)
                    break
    return min(candidates)


# --------------------------------------------------------------------------------------------
# The text algorithm
# --------------------------------------------------------------------------------------------


def _ends_paragraph(
    clean: list[str], kinds: list[int], headers: dict[int, _Header], i: int
) -> bool:
    """Does nothing but a blank line, a quote, a separator or a quote header follow line i?"""
    nxt = i + 1
    return (
        nxt >= len(kinds)
        or kinds[nxt] in (_BLANK, _QUOTED)
        or nxt in headers
        or (kinds[nxt] == _TEXT and _is_separator(clean[nxt]))
    )


def _quoted_block_end(lines: list[str], kinds: list[int], i: int) -> int:
    """End (exclusive) of the `>`-quoted block starting on line i."""
    n = len(lines)
    j = i
    while j < n:
        kind = kinds[j]
        if kind == _QUOTED:
            j += 1
            continue
        if kind == _BLANK:
            t = j
            while t < n and kinds[t] == _BLANK:
                t += 1
            if t < n and kinds[t] == _QUOTED:
                j = t
                continue
            break
        if kind == _TEXT and kinds[j - 1] == _QUOTED:
            # Wrapped lines of the quote that lost their ">": between two quoted lines, and
            # either starting in lower case or following a long quoted line.
            t = j
            while t < n and kinds[t] == _TEXT and t - j < 3:
                t += 1
            wrapped = lines[j][:1].islower() or len(lines[j - 1]) >= 68
            if t < n and kinds[t] == _QUOTED and wrapped:
                j = t
                continue
        break
    return j


def _join(lines: list[str], indexes: list[int]) -> str:
    out: list[str] = []
    previous = -2
    for idx in indexes:
        if out and idx != previous + 1 and out[-1].strip():
            out.append("")  # keep separate segments apart
        out.append(lines[idx].rstrip())
        previous = idx
    text = "\n".join(out).strip("\n")
    return re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", text).strip()


def split_reply(text: str, *, sender: str = "") -> ReplyParts:
    """Split a plain-text email body into reply, quoted history and signature."""
    if not text or not text.strip():
        return ReplyParts("", "", "")
    lines = text.splitlines()
    clean = [_clean(line) for line in lines]
    kinds = _classify(clean)
    headers = _find_headers(clean, kinds)
    n = len(lines)
    reply: list[int] = []
    quoted: list[int] = []
    footer: list[int] = []
    i = 0
    while i < n:
        kind = kinds[i]
        if kind == _QUOTED:
            j = _quoted_block_end(clean, kinds, i)
            quoted.extend(range(i, j))
            i = j
            continue
        if kind == _TEXT:
            header = headers.get(i)
            if header is not None:
                if header.kind == _ATTRIB:
                    nxt = header.end
                    while nxt < n and kinds[nxt] == _BLANK:
                        nxt += 1
                    if nxt < n and kinds[nxt] == _QUOTED:
                        quoted.extend(range(i, header.end))
                        i = header.end
                        continue
                quoted.extend(range(i, n))
                break
            if _is_strong_footer(clean[i]) and _ends_paragraph(clean, kinds, headers, i):
                footer.append(i)
                quoted.extend(range(i + 1, n))
                break
        reply.append(i)
        i += 1

    cut = _signature_start(clean, kinds, reply, sender)
    signature = reply[cut:] + footer
    reply = reply[:cut]
    return ReplyParts(
        reply=_join(lines, reply),
        quoted=_join(lines, [q for q in quoted if kinds[q] != _BLANK]),
        signature=_join(lines, [s for s in signature if kinds[s] != _BLANK]),
    )


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

_SKIP_TAGS = {"head", "style", "script", "title", "template", "noscript", "xml"}
_VOID_TAGS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "param",
    "source",
    "track",
    "wbr",
}
_BLOCK_TAGS = {
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "tfoot",
    "thead",
    "tr",
    "ul",
}
# Containers holding a quote header or the whole quoted history (set aside, not rendered).
_QUOTE_CLASSES = {
    "gmail_attr",
    "gmail_quote_attribution",
    "yahoo_quoted",
    "moz-cite-prefix",
    "protonmail_quote",
    "zmail_extra",
    "x_gmail_attr",
    "x_yahoo_quoted",
    "x_moz-cite-prefix",
}
# Markers after which everything is the quoted history (Outlook's reply header).
_CUT_IDS = ("divrplyfwdmsg", "appendonsend")
_CUT_CLASSES = {"outlookmessageheader", "x_outlookmessageheader"}
_WS = re.compile(r"\s+")


class _HtmlToText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.main: list[str] = []
        self.quoted: list[str] = []
        self._line: list[str] = []
        self._line_depth = 0
        self._line_quoted = False
        self._skip: list[str] = []
        self._container: list[str] = []  # stack of tag names while inside a quote container
        self._container_tag = ""
        self._cut = False
        self._blockquote = 0
        self._pre = 0
        self._paragraph_has_text = False

    # -- output ----------------------------------------------------------------------------
    def _target_quoted(self) -> bool:
        return self._cut or bool(self._container)

    def _add(self, text: str) -> None:
        if not self._line:
            self._line_depth = self._blockquote
            self._line_quoted = self._target_quoted()
        self._line.append(text)

    def _flush(self, *, force_blank: bool = False) -> None:
        text = "".join(self._line)
        text = text.rstrip() if self._pre else text.strip()
        quoted = self._line_quoted if self._line else self._target_quoted()
        depth = self._line_depth if self._line else self._blockquote
        self._line = []
        if not text and not force_blank:
            return
        if depth and not quoted:
            text = ("> " * depth + text).rstrip()
        (self.quoted if quoted else self.main).append(text)

    # -- parser callbacks --------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip:
            if tag == self._skip[0] and tag not in _VOID_TAGS:
                self._skip.append(tag)
            return
        if tag in _SKIP_TAGS:
            self._skip.append(tag)
            return
        values = {k.lower(): (v or "") for k, v in attrs}
        classes = set(values.get("class", "").lower().split())
        element_id = values.get("id", "").lower()
        if tag in _BLOCK_TAGS or tag == "br":
            self._flush(force_blank=tag == "br" and not self._line)
        if tag == "p":
            self._paragraph_has_text = False
        if self._container:
            if tag == self._container_tag and tag not in _VOID_TAGS:
                self._container.append(tag)
        elif not self._cut:
            if any(marker in element_id for marker in _CUT_IDS) or classes & _CUT_CLASSES:
                self._flush()
                self._cut = True
            elif classes & _QUOTE_CLASSES and tag not in _VOID_TAGS:
                self._flush()
                self._container = [tag]
                self._container_tag = tag
        if tag == "blockquote":
            self._blockquote += 1
        elif tag == "pre":
            self._pre += 1
        elif tag in ("td", "th") and self._line:
            self._add(" ")
        elif tag == "hr":
            self._flush(force_blank=True)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if tag == self._skip[-1]:
                self._skip.pop()
            return
        if tag in _BLOCK_TAGS:
            self._flush()
            if tag == "p" and self._paragraph_has_text:
                self._flush(force_blank=True)
                self._paragraph_has_text = False
        if tag == "blockquote" and self._blockquote:
            self._blockquote -= 1
        elif tag == "pre" and self._pre:
            self._pre -= 1
        if self._container and tag == self._container_tag:
            self._container.pop()
            if not self._container:
                self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        data = data.translate(_INVISIBLE).replace("\xa0", " ")
        if self._pre:
            parts = data.split("\n")
            for k, part in enumerate(parts):
                if k:
                    self._flush(force_blank=True)
                if part:
                    self._add(part)
            return
        data = _WS.sub(" ", data)
        if data.strip():
            self._paragraph_has_text = True
        if data.strip() or self._line:
            self._add(data)

    def close(self) -> None:
        super().close()
        self._flush()


def _html_to_text(html: str) -> tuple[str, str]:
    parser = _HtmlToText()
    parser.feed(html)
    parser.close()
    return "\n".join(parser.main), "\n".join(parser.quoted)


def split_reply_html(html: str, *, sender: str = "") -> ReplyParts:
    """Split an HTML email body: set quote containers aside, render to text, apply the rules."""
    if not html or not html.strip():
        return ReplyParts("", "", "")
    main, structural_quoted = _html_to_text(html)
    parts = split_reply(main, sender=sender)
    quoted = "\n\n".join(p for p in (parts.quoted, structural_quoted.strip()) if p)
    return ReplyParts(reply=parts.reply, quoted=quoted, signature=parts.signature)

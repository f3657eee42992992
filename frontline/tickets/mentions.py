"""@mentions in internal notes: `@username` or `@"First Last"`.

Parsing is pure; `mentioned_users` resolves the names to active staff in one query. An
address such as a@b.com is not a mention: the `@` must not follow a word character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q, Value
from django.db.models.functions import Concat, Lower

from frontline.accounts.models import STAFF_ROLES, User

# A mention starts where no word, dot, plus, minus or @ precedes the @ (so emails are out).
_MENTION = re.compile(
    r"""(?<![\w.+@-])@(?:"(?P<name>[^"\n]{1,100})"|(?P<username>[\w][\w.+-]{0,149}))"""
)
MENTIONS_MAX = 20  # more names than this in one note: only the first ones count


@dataclass(frozen=True)
class MentionTokens:
    usernames: tuple[str, ...]  # lower-case
    names: tuple[str, ...]  # lower-case, single spaces


def mention_tokens(text: str) -> MentionTokens:
    """The usernames and quoted names mentioned in `text`, in order, without repeats."""
    usernames: list[str] = []
    names: list[str] = []
    for match in _MENTION.finditer(text or ""):
        if match.group("name") is not None:
            name = " ".join(match.group("name").split()).lower()
            if name and name not in names:
                names.append(name)
        else:
            # "@bob." at the end of a sentence mentions bob
            username = match.group("username").rstrip(".-+").lower()
            if username and username not in usernames:
                usernames.append(username)
        if len(usernames) + len(names) >= MENTIONS_MAX:
            break
    return MentionTokens(tuple(usernames), tuple(names))


def mentioned_users(text: str, *, exclude: User | None = None) -> list[User]:
    """Active staff users mentioned in `text` (ordered by id); unknown names are ignored."""
    tokens = mention_tokens(text)
    if not tokens.usernames and not tokens.names:
        return []
    condition = Q()
    if tokens.usernames:
        condition |= Q(username_lower__in=tokens.usernames)
    if tokens.names:
        condition |= Q(display_lower__in=tokens.names) | Q(full_lower__in=tokens.names)
    qs = (
        User.objects.filter(is_active=True, role__in=list(STAFF_ROLES))
        .annotate(
            username_lower=Lower("username"),
            display_lower=Lower("display_name"),
            full_lower=Lower(Concat("first_name", Value(" "), "last_name")),
        )
        .filter(condition)
        .order_by("pk")
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return list(qs[:MENTIONS_MAX])

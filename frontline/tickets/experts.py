"""Who could help on a ticket: agents whose skills match it and agents who recently solved
similar tickets. A read (selector) with a fixed number of queries, whatever the team size."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from frontline.accounts.models import AgentSkill, Role, User
from frontline.tickets.lifecycle import Status
from frontline.tickets.models import Ticket

SIMILAR_WINDOW = timedelta(days=180)
SIMILAR_SCAN_MAX = 2000  # candidate solved tickets read per suggestion
SOLVED_POINTS = 2  # per similar ticket solved; a skill scores its level (1-5)
MIN_SHARED_WORDS = 2
_STOP_WORDS_TEXT = """a about after again all also am an and any are as at be because been
    before being
    but by can cannot could did do does doing for from get got had has have having he her
    here hi hello his how i if in into is it its just me more my no not now of on once only
    or other our out over please re fw fwd she should so some still such than thank thanks
    that the their them then there these they this those through to too under until up us
    very was we were what when where which while who why will with would you your"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
_WORD = re.compile(r"[^\W_]+")
AGENT_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT)


def significant_words(text: str) -> set[str]:
    """Lower-case words of 3+ letters that are not stop words or plain numbers."""
    return {
        w
        for w in _WORD.findall(text.lower())
        if len(w) >= 3 and w not in STOP_WORDS and not w.isdigit()
    }


@dataclass(frozen=True)
class ExpertSuggestion:
    user: User
    score: int
    reasons: list[str]


def experts_for_ticket(ticket: Ticket, limit: int = 5) -> list[ExpertSuggestion]:
    """Active agents ranked by score (skill levels matching the ticket's tags or subject
    words, plus SOLVED_POINTS per similar ticket they solved in the last 180 days), then by
    username and id, so the same data always gives the same list. The current assignee is
    left out. Five queries."""
    tags = set(ticket.tags.values_list("name", flat=True))
    words = significant_words(ticket.subject)
    terms = tags | words
    if not terms:
        return []
    scores: dict[int, int] = defaultdict(int)
    reasons: dict[int, list[str]] = defaultdict(list)

    skill_rows = (
        AgentSkill.objects.annotate(skill_lower=Lower("skill__name"))
        .filter(skill_lower__in=sorted(terms))
        .values_list("profile__user_id", "skill_lower", "level")
        .order_by("profile__user_id", "-level", "skill_lower")
    )
    for user_id, skill, level in skill_rows:
        scores[user_id] += level
        reasons[user_id].append(f"skill {skill} (level {level})")

    solved = Ticket.objects.filter(
        status__in=[Status.SOLVED, Status.CLOSED],
        solved_at__gte=timezone.now() - SIMILAR_WINDOW,
        assignee__isnull=False,
        merged_into__isnull=True,
    ).exclude(pk=ticket.pk)
    similar: dict[int, set[int]] = defaultdict(set)  # assignee -> ticket ids
    if tags:
        for ticket_id, assignee_id in (
            solved.filter(tags__name__in=sorted(tags)).values_list("pk", "assignee_id").distinct()
        ):
            similar[assignee_id].add(ticket_id)
    if len(words) >= MIN_SHARED_WORDS:
        any_word = Q()
        for word in sorted(words):
            any_word |= Q(subject__icontains=word)
        candidates = solved.filter(any_word).order_by("-solved_at", "-pk")
        for ticket_id, assignee_id, subject in candidates.values_list(
            "pk", "assignee_id", "subject"
        )[:SIMILAR_SCAN_MAX]:
            if len(words & significant_words(subject)) >= MIN_SHARED_WORDS:
                similar[assignee_id].add(ticket_id)
    for user_id, ticket_ids in similar.items():
        scores[user_id] += SOLVED_POINTS * len(ticket_ids)
        reasons[user_id].append(f"solved {len(ticket_ids)} similar ticket(s) recently")

    scores.pop(ticket.assignee_id or 0, None)
    if not scores:
        return []
    users = User.objects.filter(pk__in=list(scores), is_active=True, role__in=AGENT_ROLES)
    ranked = sorted(users, key=lambda u: (-scores[u.pk], u.username.lower(), u.pk))
    return [ExpertSuggestion(u, scores[u.pk], reasons[u.pk]) for u in ranked[: max(0, limit)]]

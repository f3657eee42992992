"""Reads for the agent workspace: queue views and their counts, list filters, sorts, pages.

A *view* is a named set of filters (plus a sort) in the left navigation: the built-in ones in
the `VIEWS` registry, one queue per team the user can see, and the user's saved views. The list
page applies a view's filters, which the filter form may then replace.

Filters wrap `tickets.selectors.ticket_filter` and add what it lacks (several priorities, an
assignee named "me", a requester named by email).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Case, F, IntegerField, Prefetch, Q, QuerySet, Value, When

from frontline.accounts.models import Role, Team, User
from frontline.channels.types import Channel
from frontline.core.errors import ValidationFailed
from frontline.customers.models import Identity
from frontline.customers.services import IdentityInput, identity_normalize
from frontline.tickets import permissions
from frontline.tickets.lifecycle import Status
from frontline.tickets.models import Priority, Tag, Ticket
from frontline.tickets.selectors import Page, TicketFilters, ticket_filter, ticket_page
from frontline.web.models import SavedView

UNSOLVED = ("new", "open", "pending", "on_hold")
AGENT_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT)
PAGE_SIZE = 50
MAX_OFFSET_PAGES = 20  # sorts other than "updated" page by offset, up to 1,000 rows

# --------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class WorkspaceFilters:
    """What the filter form and saved views can express. Empty fields do not filter."""

    status: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    channel: str = ""
    tag: str = ""
    assignee: str = ""  # "me", "unassigned" or a user id
    team: str = ""  # a team id
    requester: str = ""  # a customer id or an email address
    q: str = ""
    swarm: str = ""  # "1": tickets that asked colleagues for help

    def as_json(self) -> dict[str, Any]:
        """The non-empty fields, lists for the multi-valued ones (stored in SavedView.filters)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items() if v}

    def as_query(self) -> list[tuple[str, str]]:
        """GET parameters that reproduce these filters."""
        pairs: list[tuple[str, str]] = []
        for key, value in asdict(self).items():
            values = value if isinstance(value, tuple) else (value,)
            pairs.extend((key, v) for v in values if v)
        return pairs

    def describe(self) -> list[str]:
        """ "status: new, open", "assignee: me", ... for a summary line."""
        return [
            f"{k}: {', '.join(v) if isinstance(v, list) else v}" for k, v in self.as_json().items()
        ]

    @property
    def is_empty(self) -> bool:
        return not self.as_json()


FILTER_FIELDS = tuple(f.name for f in fields(WorkspaceFilters))
MULTI_FIELDS = ("status", "priority")


def _values(raw: Any) -> list[str]:
    """A list of stripped, non-empty strings from a str (comma separated), a list, or None."""
    if raw is None:
        return []
    items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _one(raw: Any) -> str:
    values = _values(raw) if isinstance(raw, list | tuple) else [str(raw or "").strip()]
    return values[-1] if values else ""


def filters_clean(
    data: Mapping[str, Any], *, strict: bool = False, check_refs: bool = True
) -> WorkspaceFilters:
    """Validate raw filters (a form's or a saved view's) into WorkspaceFilters.

    Raises ValidationFailed naming each bad field. `strict`: unknown keys are errors too
    (saved views); a GET request may carry other parameters (view, sort, cursor).
    `check_refs`: the assignee and team must exist (one query each); off for stored views,
    which were checked when saved.
    """
    errors: dict[str, list[str]] = {}
    if strict:
        for key in sorted(set(data) - set(FILTER_FIELDS)):
            errors[key] = ["not a filter"]
    statuses = _values(data.get("status"))
    if bad := [s for s in statuses if s not in [x.value for x in Status]]:
        errors["status"] = [f"unknown status {', '.join(bad)}"]
    priorities = _values(data.get("priority"))
    if bad := [p for p in priorities if p not in Priority.values]:
        errors["priority"] = [f"unknown priority {', '.join(bad)}"]
    channel = _one(data.get("channel"))
    if channel and channel not in [c.value for c in Channel]:
        errors["channel"] = [f"unknown channel {channel}"]
    tag = _one(data.get("tag")).lower()
    if len(tag) > 64:
        errors["tag"] = ["at most 64 characters"]
    assignee = _one(data.get("assignee"))
    assignee_known = assignee in ("", "me", "unassigned") or (
        assignee.isdigit()
        and (not check_refs or User.objects.filter(pk=int(assignee), role__in=AGENT_ROLES).exists())
    )
    if not assignee_known:
        errors["assignee"] = [f"no agent with id {assignee}"]
    team = _one(data.get("team"))
    if team and (
        not team.isdigit() or (check_refs and not Team.objects.filter(pk=int(team)).exists())
    ):
        errors["team"] = [f"no team with id {team}"]
    requester = _one(data.get("requester"))
    if requester and not requester.isdigit():
        try:
            requester = identity_normalize(IdentityInput(kind="email", value=requester))[2]
        except Exception:
            errors["requester"] = ["a customer id or an email address"]
    q = _one(data.get("q"))
    if len(q) > 200:
        errors["q"] = ["at most 200 characters"]
    swarm = _one(data.get("swarm"))
    if swarm not in ("", "1"):
        errors["swarm"] = ["1 or empty"]
    if errors:
        raise ValidationFailed("Some filters are not valid.", fields=errors)
    return WorkspaceFilters(
        status=tuple(dict.fromkeys(statuses)),
        priority=tuple(dict.fromkeys(priorities)),
        channel=channel,
        tag=tag,
        assignee=assignee,
        team=team,
        requester=requester,
        q=q,
        swarm=swarm,
    )


def _assignee_id(filters: WorkspaceFilters, user: User) -> int | None:
    if filters.assignee == "me":
        return user.pk
    return int(filters.assignee) if filters.assignee.isdigit() else None


def _requester_ids(value: str) -> list[int]:
    if value.isdigit():
        return [int(value)]
    return list(
        Identity.objects.filter(kind="email", network="", value=value).values_list(
            "customer_id", flat=True
        )
    )


def tickets_filter(
    qs: QuerySet[Ticket], filters: WorkspaceFilters, *, user: User
) -> QuerySet[Ticket]:
    """`ticket_filter` plus several priorities, "me", and a requester given by email."""
    requester_id = int(filters.requester) if filters.requester.isdigit() else None
    qs = ticket_filter(
        qs,
        TicketFilters(
            status=list(filters.status) or None,
            assignee_id=_assignee_id(filters, user),
            unassigned=filters.assignee == "unassigned",
            team_id=int(filters.team) if filters.team else None,
            tag=filters.tag or None,
            channel=filters.channel or None,
            requester_id=requester_id,
            query=filters.q or None,
            swarm=True if filters.swarm else None,
        ),
    )
    if filters.priority:
        qs = qs.filter(priority__in=filters.priority)
    if filters.requester and requester_id is None:
        qs = qs.filter(requester_id__in=_requester_ids(filters.requester))
    return qs


def _count_q(filters: WorkspaceFilters, user: User) -> Q:
    """The same tickets as `tickets_filter`, as a condition for one conditional COUNT.

    Views built from plain columns (status, priority, channel, assignee, team) become a direct
    condition; anything else goes through `tickets_filter` as a sub-query, so the count can
    never disagree with the list.
    """
    if filters.tag or filters.q or filters.requester:
        matching = tickets_filter(Ticket.objects.all(), filters, user=user)
        return Q(pk__in=matching.values("pk"))
    q = Q()
    if filters.status:
        q &= Q(status__in=filters.status)
    if filters.priority:
        q &= Q(priority__in=filters.priority)
    if filters.channel:
        q &= Q(channel=filters.channel)
    if filters.assignee == "unassigned":
        q &= Q(assignee__isnull=True)
    elif (assignee_id := _assignee_id(filters, user)) is not None:
        q &= Q(assignee_id=assignee_id)
    if filters.team:
        q &= Q(team_id=int(filters.team))
    if filters.swarm:
        q &= Q(swarm_requested_at__isnull=False)
    return q


# --------------------------------------------------------------------------- sorts and pages

SORTS: dict[str, str] = {
    "updated": "Recently updated",
    "waiting": "Longest waiting",
    "priority": "Priority (urgent first)",
    "created": "Newest first",
}

_PRIORITY_RANK = Case(
    When(priority=Priority.URGENT, then=Value(0)),
    When(priority=Priority.HIGH, then=Value(1)),
    When(priority=Priority.NORMAL, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


def sort_clean(value: str | None) -> str:
    value = (value or "").strip()
    if value and value not in SORTS:
        raise ValidationFailed("Unknown sort.", fields={"sort": [f"one of {', '.join(SORTS)}"]})
    return value or "updated"


@dataclass(frozen=True)
class ListPage:
    items: list[Ticket]
    next_cursor: str | None = None  # keyset ("updated" sort)
    page: int = 1  # offset (other sorts)
    has_next: bool = False


def ticket_list_page(
    qs: QuerySet[Ticket], *, sort: str, cursor: str | None = None, page: int = 1
) -> ListPage:
    """One page of a queue. "updated" uses the keyset `ticket_page` (constant cost at any
    depth); the other sorts page by offset, capped at MAX_OFFSET_PAGES pages."""
    if sort == "updated":
        keyset: Page = ticket_page(qs, cursor=cursor, limit=PAGE_SIZE)
        return ListPage(
            items=keyset.items, next_cursor=keyset.next_cursor, has_next=bool(keyset.next_cursor)
        )
    page = min(max(page, 1), MAX_OFFSET_PAGES)
    ordered = {
        "created": qs.order_by("-created_at", "-id"),
        "priority": qs.alias(rank=_PRIORITY_RANK).order_by("rank", "-updated_at", "-id"),
        "waiting": qs.order_by(F("last_customer_message_at").asc(nulls_last=True), "id"),
    }[sort]
    start = (page - 1) * PAGE_SIZE
    rows = list(
        ordered.select_related("requester", "assignee", "team").prefetch_related(
            Prefetch("tags", queryset=Tag.objects.only("id", "name"))
        )[start : start + PAGE_SIZE + 1]
    )
    has_next = len(rows) > PAGE_SIZE and page < MAX_OFFSET_PAGES
    return ListPage(items=rows[:PAGE_SIZE], page=page, has_next=has_next)


# --------------------------------------------------------------------------- the view registry


@dataclass(frozen=True)
class QueueView:
    """A view in the left navigation. `filters` is computed per user (e.g. "me")."""

    key: str
    label: str
    icon: str
    filters: WorkspaceFilters
    sort: str = "updated"
    section: str = "views"  # "views" (top), "teams", "status" (bottom), "saved"
    saved_view: SavedView | None = None

    @property
    def query(self) -> str:
        return f"view={self.key}"


VIEWS: dict[str, QueueView] = {}


def view_register(view: QueueView) -> QueueView:
    """Add a built-in view (e.g. a colleague's "Swarm"). Keys are unique; order is insertion."""
    VIEWS[view.key] = view
    return view


for _view in (
    QueueView("mine", "My open tickets", "user", WorkspaceFilters(status=UNSOLVED, assignee="me")),
    QueueView(
        "unassigned",
        "Unassigned",
        "user-x",
        WorkspaceFilters(status=("new", "open"), assignee="unassigned"),
    ),
    QueueView("open", "Open", "inbox", WorkspaceFilters(status=("new", "open"))),
    # An agent handles several chats at once: theirs, the longest-waiting first.
    QueueView(
        "chats",
        "My live chats",
        "message-circle",
        WorkspaceFilters(status=UNSOLVED, channel="chat", assignee="me"),
        "waiting",
    ),
    QueueView(
        "swarm",
        "Asking for help",
        "users",
        WorkspaceFilters(status=UNSOLVED, swarm="1"),
    ),
    QueueView(
        "pending",
        "Pending",
        "circle-pause",
        WorkspaceFilters(status=("pending", "on_hold")),
        "updated",
        "status",
    ),
    QueueView(
        "solved",
        "Solved",
        "circle-check",
        WorkspaceFilters(status=("solved", "closed")),
        "updated",
        "status",
    ),
    QueueView("all", "All tickets", "layers", WorkspaceFilters(), "updated", "status"),
):
    view_register(_view)

DEFAULT_VIEW = "open"
SECTIONS = (("views", "Views"), ("teams", "Team queues"), ("status", ""), ("saved", "Saved views"))


def teams_visible_to(user: User) -> list[Team]:
    """The teams whose queue `user` gets in the navigation."""
    if user.role in (Role.ADMIN, Role.SUPERVISOR) or (
        user.role == Role.AGENT and settings.AGENTS_SEE_ALL_TICKETS
    ):
        return list(Team.objects.order_by("name").only("id", "name"))
    if user.role == Role.AGENT:
        return list(user.teams.order_by("name").only("id", "name"))
    return []


def saved_views_for(user: User) -> list[SavedView]:
    """The user's own saved views and the shared ones."""
    return list(SavedView.objects.filter(Q(owner=user) | Q(owner__isnull=True)))


def _saved_queue_view(saved: SavedView) -> QueueView:
    try:
        filters = filters_clean(saved.filters, strict=True, check_refs=False)
    except ValidationFailed:  # edited by hand into something invalid: match nothing
        filters = WorkspaceFilters(team="0")
    return QueueView(
        key=f"saved-{saved.pk}",
        label=saved.name,
        icon="users" if saved.is_shared else "bookmark",
        filters=filters,
        sort=saved.sort if saved.sort in SORTS else "updated",
        section="saved",
        saved_view=saved,
    )


def views_for(user: User, *, teams: list[Team] | None = None) -> list[QueueView]:
    """Every view `user` has, in navigation order (`teams`: teams_visible_to, if known)."""
    team_views = [
        QueueView(
            key=f"team-{team.pk}",
            label=team.name,
            icon="users",
            filters=WorkspaceFilters(status=("new", "open"), team=str(team.pk)),
            section="teams",
        )
        for team in (teams_visible_to(user) if teams is None else teams)
    ]
    saved = [_saved_queue_view(s) for s in saved_views_for(user)]
    views = [*VIEWS.values(), *team_views, *saved]
    order = [key for key, _ in SECTIONS]
    return sorted(views, key=lambda v: order.index(v.section))


@dataclass
class NavSection:
    title: str
    views: list[tuple[QueueView, int]] = field(default_factory=list)


COUNT_CAP = 999  # a view holding more shows "999+"


def view_counts(
    user: User, views: Iterable[QueueView], visible: QuerySet[Ticket] | None = None
) -> dict[str, int]:
    """How many visible tickets each view holds, in one query, each count capped.

    One SELECT of scalar sub-queries, one per view, each counting at most COUNT_CAP + 1 rows:
    the cost stays flat however many tickets a view holds (an aggregate with a FILTER per view
    would scan every visible ticket on every page view). A result above COUNT_CAP means "more".
    """
    views = list(views)
    if not views:
        return {}
    visible = permissions.tickets_visible_to(user) if visible is None else visible
    parts: list[str] = []
    params: list[Any] = []
    for i, view in enumerate(views):
        capped = visible.filter(_count_q(view.filters, user)).order_by().values("pk")
        sql, sub_params = capped[: COUNT_CAP + 1].query.sql_with_params()
        # only SQL that Django compiled; its parameters stay separate
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS view_{i})")  # noqa: S608
        params.extend(sub_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return {view.key: int(row[i] or 0) for i, view in enumerate(views)}


def nav_sections(user: User, views: list[QueueView], counts: Mapping[str, int]) -> list[NavSection]:
    sections = {key: NavSection(title) for key, title in SECTIONS}
    for view in views:
        sections[view.section].views.append((view, counts.get(view.key, 0)))
    return [s for key, s in sections.items() if s.views or key == "saved"]


def view_find(views: list[QueueView], key: str | None) -> QueueView | None:
    return next((v for v in views if v.key == key), None)

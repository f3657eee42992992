"""The ticket page: one timeline (messages, notes, events), the composer, and the sidebar
(properties and custom fields, customer 360, collaborators and swarm, side conversations,
links and merge, time tracking); attachment downloads.

Every write is a plain form POST that redirects back with a flash message; the sidebar's
forms also work through htmx, which swaps the sidebar, the timeline and the flash region from
the page the redirect leads to. Writes go through frontline.tickets.services, behind the
checks of frontline.tickets.permissions; a refusal of the domain becomes a flash message.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from frontline.accounts.models import STAFF_ROLES, Role, Team, User
from frontline.channels import replies
from frontline.core.errors import DomainError
from frontline.customers import services as customer_services
from frontline.customers import suggestions as customer_suggestions
from frontline.customers.models import Customer, Identity
from frontline.customers.selectors import customer_order_totals
from frontline.tickets import permissions, selectors, services
from frontline.tickets.actors import Actor
from frontline.tickets.canned import canned_render
from frontline.tickets.experts import ExpertSuggestion, experts_for_ticket
from frontline.tickets.lifecycle import ACTIVE, ALLOWED, Status
from frontline.tickets.models import (
    Attachment,
    CannedResponse,
    CustomField,
    CustomFieldType,
    LinkKind,
    Message,
    Priority,
    SideConversation,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketType,
    TimeEntry,
)
from frontline.web.common import staff_user, visible_ticket
from frontline.web.templatetags.ticket_page import duration

AGENT_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT)
OTHER_TICKETS_SHOWN = 10
CUSTOMER_NOTES_MAX = 10_000

# --------------------------------------------------------------------------- the timeline


@dataclass(frozen=True)
class EventLine:
    """One timeline event as a sentence: who did what, with an icon and maybe a ticket link."""

    icon: str
    text: str
    actor: str
    ticket_id: int | None = None  # a ticket the sentence points at ("merged into #12")


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    message: Message | None = None
    event: EventLine | None = None


FIELD_ICONS = {"status": "circle-check", "assignee": "user-check", "team": "users", "tags": "tag"}


def _event_line(event: TicketEvent, people: dict[int, User]) -> EventLine | None:
    """How the page tells `event`; None for the ones the timeline shows otherwise (a message
    added is the message itself)."""
    data = event.data or {}

    def person(raw: Any) -> str:
        found = people.get(int(raw)) if str(raw).isdigit() else None
        return found.label if found else "a colleague"

    kind = event.kind
    if kind == "message_added":
        return None
    if kind == "created":
        return EventLine("inbox", f"created the ticket ({data.get('channel', '')})", "")
    if kind == "field_changed":
        if event.field == "merged_into":
            return EventLine("layers", "merged this ticket into", "", int(event.new_value))
        name = event.field.replace("_", " ")
        if event.field == "custom_fields":
            return EventLine("sliders-horizontal", "updated the custom fields", "")
        old = data.get("old_label", event.old_value) or "—"
        new = data.get("new_label", event.new_value) or "—"
        if event.field == "status":
            old, new = old.replace("_", "-"), new.replace("_", "-")
        icon = FIELD_ICONS.get(event.field, "sliders-horizontal")
        return EventLine(icon, f"changed {name}: {old} → {new}", "")
    simple: dict[str, tuple[str, str]] = {
        "reopened": ("inbox", "reopened the ticket"),
        "timer_started": ("clock", "started a timer"),
        "time_tracked": ("clock", f"logged {duration(data.get('seconds'))}"),
        "time_entry_deleted": (
            "trash-2",
            f"deleted a time entry ({duration(data.get('seconds'))})",
        ),
        "swarm_requested": (
            "users",
            "asked for help" + (f": “{data['note']}”" if data.get("note") else ""),
        ),
        "swarm_resolved": ("circle-check", "ended the swarm"),
        "side_conversation_started": (
            "message-square",
            f"started the side conversation “{data.get('subject', '')}”",
        ),
        "side_message_added": ("message-square", "wrote in a side conversation"),
        "side_conversation_closed": ("message-square", "closed a side conversation"),
        "delivery_failed": ("triangle-alert", f"delivery failed: {data.get('error', '')}"),
        "task_added": (
            "phone-missed" if data.get("task_kind") == "callback" else "list-todo",
            f"added the task “{data.get('title', '')}”",
        ),
        "task_done": ("square-check", f"completed the task “{data.get('title', '')}”"),
        "task_reopened": ("square", f"reopened the task “{data.get('title', '')}”"),
        "collaborator_added": ("user-check", f"added {person(event.new_value)} as collaborator"),
        "collaborator_removed": ("user-x", f"removed {person(event.old_value)} as collaborator"),
        "incidents_solved": (
            "circle-check",
            "solved the incidents " + ", ".join(f"#{i}" for i in data.get("ticket_ids", [])),
        ),
    }
    if kind in simple:
        return EventLine(*simple[kind], actor="")
    linked: dict[str, tuple[str, str, str]] = {
        "merged": ("layers", "merged", "source_id"),
        "split_from": ("share-2", "split this ticket off", "ticket_id"),
        "message_split": ("share-2", "split a message into", "new_ticket_id"),
        "followup_created": ("inbox", "opened the follow-up", "followup_id"),
    }
    if kind in linked:
        icon, text, key = linked[kind]
        if kind == "merged":
            text = f"merged {data.get('messages_moved', 0)} message(s) here from"
        return EventLine(icon, text, "", data.get(key))
    if kind == "merged_into":
        target = int(event.new_value) if event.new_value.isdigit() else None
        return EventLine("layers", "merged this ticket into", "", target)
    if kind in ("link_added", "link_removed"):
        what = "linked" if kind == "link_added" else "unlinked"
        how = "as related" if data.get("link_kind") == LinkKind.RELATED else "(problem/incident)"
        return EventLine("share-2", f"{what} {how}", "", data.get("ticket_id"))
    return EventLine("info", kind.replace("_", " "), "")


def _actor_name(event: TicketEvent, ticket: Ticket) -> str:
    if event.actor_user is not None:
        return event.actor_user.label
    if event.actor.startswith("customer:"):
        return ticket.requester.name or "The customer"
    if event.actor.startswith("automation:"):
        return "Automation " + event.actor.split(":", 1)[1]
    return event.actor.capitalize() or "System"


def _timeline(
    ticket: Ticket, messages_: list[Message], events: list[TicketEvent], people: dict[int, User]
) -> list[TimelineEntry]:
    """Messages and events in one chronological list (a message before the events recorded
    with it)."""
    entries: list[tuple[datetime, int, int, TimelineEntry]] = [
        (m.created_at, 0, m.pk, TimelineEntry(at=m.created_at, message=m)) for m in messages_
    ]
    for event in events:
        line = _event_line(event, people)
        if line is None:
            continue
        line = EventLine(line.icon, line.text, _actor_name(event, ticket), line.ticket_id)
        entries.append((event.created_at, 1, event.pk, TimelineEntry(event.created_at, None, line)))
    entries.sort(key=lambda row: row[:3])
    return [row[3] for row in entries]


# --------------------------------------------------------------------------- the page


OTHER_CHANNEL_MESSAGES_SHOWN = 6


def _other_channel_messages(user: User, ticket: Ticket) -> list[Message]:
    """The customer's latest messages in their other tickets (any channel), for the sidebar:
    what they said elsewhere lately, without leaving this ticket."""
    others = permissions.tickets_visible_to(
        user, Ticket.objects.filter(requester_id=ticket.requester_id).exclude(pk=ticket.pk)
    )
    return selectors.customer_conversation(
        others, include_internal=False, limit=OTHER_CHANNEL_MESSAGES_SHOWN
    )


def _reply_context(
    ticket: Ticket, identities: list[Identity], messages_: list[Any]
) -> dict[str, Any]:
    """The composer's channel choice: where the customer can be answered, which channel is
    selected first, and each channel's rules (WhatsApp's window, public replies, SMS)."""
    available = replies.reply_channels(ticket, identities)
    last_public = next((m.channel for m in reversed(messages_) if m.visibility == "public"), "")
    return {
        "reply_channels": available,
        "reply_default": replies.reply_default_channel(
            ticket, available, last_public_channel=last_public
        ),
        "reply_rules": [replies.reply_rules(ticket, c.channel) for c in available],
    }


@dataclass(frozen=True)
class FieldInput:
    """A custom field as the properties form shows it."""

    definition: CustomField
    value: Any

    @property
    def name(self) -> str:
        return f"cf_{self.definition.key}"

    @property
    def text(self) -> str:
        return "" if self.value is None else str(self.value)


@login_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = staff_user(request)
    return _ticket_page(request, user, visible_ticket(user, ticket_id))


def _ticket_page(
    request: HttpRequest, user: User, ticket: Ticket, *, status: int = 200, **extra: Any
) -> HttpResponse:
    """The whole page. A fixed number of queries, whatever the length of the conversation."""
    requester: Customer = ticket.requester
    can_update = permissions.can_update_ticket(user, ticket)
    can_note = permissions.can_add_note(user, ticket)
    is_agent = permissions.is_staff_agent(user)
    staff = list(
        User.objects.filter(role__in=list(STAFF_ROLES), is_active=True).order_by("username")
    )
    people = {u.pk: u for u in staff}
    messages_ = selectors.ticket_timeline(
        ticket, include_internal=permissions.can_see_internal(user)
    )
    events = list(selectors.ticket_events(ticket))
    identities = list(requester.identities.order_by("kind", "network", "value"))
    other_tickets = list(
        permissions.tickets_visible_to(user, requester.tickets.exclude(pk=ticket.pk))
        .only("id", "subject", "status", "custom_fields", "created_at", "requester_id")
        .order_by("-id")[:OTHER_TICKETS_SHOWN]
    )
    active = {s.value for s in ACTIVE}
    time_entries = selectors.ticket_time_entries(ticket)
    definitions = selectors.custom_fields_list(active_only=True)
    swarming = ticket.swarm_requested_at is not None
    collaborator_ids = {u.pk for u in ticket.collaborators.all()}
    context: dict[str, Any] = {
        "ticket": ticket,
        "timeline": _timeline(ticket, messages_, events, people),
        "last_message_id": max((m.pk for m in messages_), default=0),
        "requester": requester,
        "cc_customers": list(ticket.cc_customers.all()),
        "identities": identities,
        "memberships": list(requester.memberships.select_related("organisation")),
        "orders": list(requester.orders.all()[:10]),
        "order_totals": customer_order_totals(requester),
        "open_tickets": [t for t in other_tickets if t.status in active],
        "past_tickets": [t for t in other_tickets if t.status not in active],
        "satisfaction": [
            (t, t.custom_fields["csat"])
            for t in [ticket, *other_tickets]
            if (t.custom_fields or {}).get("csat")
        ],
        "can_update": can_update,
        "can_reply": permissions.can_reply_publicly(user, ticket),
        "can_note": can_note,
        "is_agent": is_agent,
        "is_open": ticket.status != Status.CLOSED,
        "statuses": [ticket.status, *sorted(s.value for s in ALLOWED[Status(ticket.status)])],
        "priorities": Priority.values,
        "types": TicketType.values,
        "teams": Team.objects.all(),
        "agents": [u for u in staff if u.role in AGENT_ROLES],
        "colleagues": staff,
        "tags": ", ".join(t.name for t in ticket.tags.all()),
        "custom_fields": [
            FieldInput(d, (ticket.custom_fields or {}).get(d.key)) for d in definitions
        ],
        **_reply_context(ticket, identities, messages_),
        "tasks": list(ticket.tasks.select_related("assignee", "done_by")),
        "other_channel_messages": _other_channel_messages(user, ticket),
        "merge_suggestions": customer_suggestions.suggestions_open_for(requester).count(),
        "canned": selectors.canned_responses_for(user) if can_note else [],
        "collaborators": list(ticket.collaborators.all()),
        "invitable": [u for u in staff if u.pk not in collaborator_ids],
        "swarming": swarming,
        "swarm_by": people.get(ticket.swarm_requested_by_id or 0),
        "experts": _experts(ticket, collaborator_ids)
        if is_agent and (swarming or request.GET.get("experts"))
        else None,
        "side_conversations": selectors.side_conversations_for(ticket) if can_note else [],
        "links": selectors.ticket_links(ticket, visible=permissions.tickets_visible_to(user)),
        "time_entries": [e for e in time_entries if not e.running],
        "my_timer": next((e for e in time_entries if e.running and e.user_id == user.pk), None),
        "time_totals": selectors.time_totals_for_ticket(ticket),
        "deletable_entries": {
            e.pk for e in time_entries if permissions.can_delete_time_entry(user, e)
        },
        "can_track_time": can_note,
        **extra,
    }
    context["note_mode"] = context.get("draft_visibility") == "internal" or not context["can_reply"]
    return render(request, "web/ticket_detail.html", context, status=status)


def _experts(ticket: Ticket, collaborator_ids: set[int]) -> list[tuple[ExpertSuggestion, bool]]:
    """Who could help, each with whether they already collaborate."""
    return [(e, e.user.pk in collaborator_ids) for e in experts_for_ticket(ticket)]


@login_required
@require_GET
def ticket_experts(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Who could help (for the collapsed "Who could help" card, loaded when opened)."""
    user = staff_user(request)
    ticket = visible_ticket(user, ticket_id)
    if not permissions.is_staff_agent(user):
        raise DjangoPermissionDenied("Staff only.")
    collaborator_ids = {u.pk for u in ticket.collaborators.all()}
    return render(
        request,
        "web/ticket/_experts.html",
        {
            "ticket": ticket,
            "experts": _experts(ticket, collaborator_ids),
            "can_update": permissions.can_update_ticket(user, ticket),
        },
    )


@login_required
def ticket_message_partial(request: HttpRequest, ticket_id: int, message_id: int) -> HttpResponse:
    """One message, rendered as on the ticket page: what the live view appends."""
    user = staff_user(request)
    ticket = visible_ticket(user, ticket_id)
    message = next(
        (
            m
            for m in selectors.ticket_timeline(
                ticket, include_internal=permissions.can_see_internal(user)
            )
            if m.pk == message_id
        ),
        None,
    )
    if message is None:
        raise Http404("No such message")
    context = {
        "m": message,
        "ticket": ticket,
        "can_update": permissions.can_update_ticket(user, ticket),
        "is_open": ticket.status != Status.CLOSED,
    }
    return render(request, "web/ticket/_message.html", context)


# --------------------------------------------------------------------------- the composer


def _collision(ticket: Ticket, user: User, seen_message_id: str) -> str:
    """Someone else wrote to the customer (or the customer wrote) since this agent's page
    showed the conversation: say who, so they can read it before sending."""
    try:
        seen = int(seen_message_id)
    except (TypeError, ValueError):
        return ""
    newer = (
        ticket.messages.filter(pk__gt=seen, visibility="public")
        .exclude(author_user=user)
        .select_related("author_user", "author_customer")[:20]
    )
    names = sorted(
        {
            m.author_user.label
            if m.author_user
            else str(m.author_customer or ticket.requester)
            if m.author_type == "customer"
            else m.get_author_type_display()
            for m in newer
        }
    )
    if not names:
        return ""
    return f"{', '.join(names)} wrote on this ticket while you were writing."


def _draft(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    """What the composer held, to show it again."""
    return {
        "draft": request.POST.get("text", ""),
        "draft_visibility": request.POST.get("visibility", ""),
        "draft_channel": request.POST.get("channel", ""),
        **extra,
    }


@login_required
@require_POST
def ticket_message_post(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = staff_user(request)
    ticket = visible_ticket(user, ticket_id)
    visibility = "internal" if request.POST.get("visibility") == "internal" else "public"
    allowed = (
        permissions.can_add_note(user, ticket)
        if visibility == "internal"
        else permissions.can_reply_publicly(user, ticket)
    )
    if not allowed:
        raise DjangoPermissionDenied("You may not write here.")
    channel: str | None = None
    text = request.POST.get("text", "")
    metadata: dict[str, Any] = {}
    if visibility == "public":
        channel = request.POST.get("channel") or ticket.channel
        reachable = replies.reply_channels(ticket, list(ticket.requester.identities.all()))
        if channel not in {c.channel for c in reachable}:
            label = replies.channel_label(channel)
            messages.error(request, f"The customer cannot be reached by {label} on this ticket.")
            return _ticket_page(request, user, ticket, status=422, **_draft(request))
        try:
            template_id = request.POST.get("template", "")
            if template_id:
                text, metadata = replies.reply_template(
                    ticket, channel, template_id, _template_variables(request, template_id)
                )
            replies.reply_check(ticket, channel, template=metadata.get("template"))
        except DomainError as exc:
            messages.error(request, _describe(exc))
            return _ticket_page(request, user, ticket, status=422, **_draft(request))
    if visibility == "public" and not request.POST.get("confirm_collision"):
        collision = _collision(ticket, user, request.POST.get("seen_message_id", ""))
        if collision:
            return _ticket_page(
                request, user, ticket, status=409, **_draft(request, collision=collision)
            )
    uploads = [
        services.AttachmentInput(
            filename=f.name or "file", content=f.read(), content_type=f.content_type or ""
        )
        for f in request.FILES.getlist("attachments")
    ]
    try:
        services.attachments_validate(uploads)
        services.message_add(
            ticket=ticket,
            actor=Actor.for_user(user),
            text=text,
            visibility=visibility,
            channel=channel,
            attachments=uploads,
            metadata=metadata,
        )
        if channel and channel != ticket.channel:
            replies.preferred_channel_remember(
                ticket.requester, channel, actor=Actor.for_user(user).label
            )
        new_status = request.POST.get("status")
        # Only a status the agent chose: the composer may show one the ticket has since left
        # (a call logged from the sidebar opened it), and sending that back is no choice.
        if new_status == request.POST.get("status_shown"):
            new_status = None
        ticket.refresh_from_db(fields=["status"])
        if (
            new_status
            and new_status != ticket.status
            and permissions.can_update_ticket(user, ticket)
        ):
            services.ticket_update(ticket=ticket, actor=Actor.for_user(user), status=new_status)
    except DomainError as exc:
        messages.error(request, _describe(exc))
    return redirect("web:ticket_detail", ticket_id=ticket.pk)


def _template_variables(request: HttpRequest, template_id: str) -> dict[str, str]:
    """The values filled in for template `template_id`: fields `tvar-<id>-<n>` -> {"n": value}."""
    prefix = f"tvar-{template_id}-"
    return {
        key.removeprefix(prefix): request.POST.get(key, "").strip()
        for key in request.POST
        if key.startswith(prefix)
    }


def _canned_find(user: User, request: HttpRequest) -> CannedResponse | None:
    """The canned response asked for by id, else the best match of `q` (title, shortcut),
    among those `user` may use; None if there is none."""
    raw_id = request.GET.get("id") or request.POST.get("canned_id") or ""
    query = (request.GET.get("q") or request.POST.get("canned") or "").strip().lstrip("/")
    if raw_id.isdigit():
        return next((c for c in selectors.canned_responses_for(user) if str(c.pk) == raw_id), None)
    if not query:
        return None
    found = selectors.canned_responses_for(user, query)
    exact = [c for c in found if query.lower() in (c.title.lower(), c.shortcut.lower())]
    best = exact or found
    return best[0] if best else None


# MACROS: macros will plug in beside canned responses here: a macro's "reply" action renders
# its text through the same canned_render (frontline/tickets/canned.py) and fills the composer
# the same way; its other actions go through ticket_update.


@login_required
@require_GET
def ticket_canned_render(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """A canned response (?id= or ?q=) rendered for this ticket, as plain text, for the
    composer to insert."""
    user = staff_user(request)
    ticket = visible_ticket(user, ticket_id)
    canned = _canned_find(user, request)
    if canned is None:
        raise Http404("No such canned response")
    text = canned_render(canned.body, ticket, user)
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["X-Canned-Title"] = canned.title.encode("ascii", "replace").decode()
    return response


@login_required
@require_POST
def ticket_canned_insert_post(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Without JavaScript: the composer's "Insert" button posts the draft here, and the page
    comes back with the canned response added to it (nothing is sent)."""
    user = staff_user(request)
    ticket = visible_ticket(user, ticket_id)
    canned = _canned_find(user, request)
    if canned is None:
        messages.error(request, "No canned response matches that.")
        return _ticket_page(request, user, ticket, **_draft(request))
    draft = request.POST.get("text", "")
    rendered = canned_render(canned.body, ticket, user)
    text = f"{draft.rstrip()}\n\n{rendered}" if draft.strip() else rendered
    return _ticket_page(request, user, ticket, **_draft(request, draft=text))


# --------------------------------------------------------------------------- properties


def _custom_changes(post: Any, ticket: Ticket) -> dict[str, Any]:
    """The custom fields the form changed: typed values (the service checks them), None to
    clear one. Unchanged fields are left out, so saving the form records only real edits."""
    current = ticket.custom_fields or {}
    changes: dict[str, Any] = {}
    for definition in selectors.custom_fields_list(active_only=True):
        name = f"cf_{definition.key}"
        old = current.get(definition.key)
        if definition.type == CustomFieldType.CHECKBOX:
            new: Any = post.get(name) == "on"
            if new == bool(old):
                continue
        else:
            new = post.get(name, "").strip() or None
            if (None if old in (None, "") else str(old)) == new:
                continue
        changes[definition.key] = new
    return changes


@login_required
@require_POST
def ticket_update_post(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = staff_user(request)
    ticket = visible_ticket(user, ticket_id)
    if not permissions.can_update_ticket(user, ticket):
        raise DjangoPermissionDenied("You may not change this ticket.")
    post = request.POST
    changes: dict[str, Any] = {}
    for field in ("status", "priority", "type"):
        if post.get(field):
            changes[field] = post[field]
    if "assignee" in post:
        changes["assignee"] = (
            User.objects.filter(pk=post["assignee"]).first() if post["assignee"].isdigit() else None
        )
    if "team" in post:
        changes["team"] = (
            Team.objects.filter(pk=post["team"]).first() if post["team"].isdigit() else None
        )
    if "tags" in post:
        changes["tags"] = [t for t in post["tags"].replace(";", ",").split(",") if t.strip()]
    if post.get("custom_fields_form"):
        custom = _custom_changes(post, ticket)
        if custom:
            changes["custom_fields"] = custom
    try:
        services.ticket_update(ticket=ticket, actor=Actor.for_user(user), **changes)
        messages.success(request, "Ticket updated.")
    except DomainError as exc:
        messages.error(request, _describe(exc))
    return redirect("web:ticket_detail", ticket_id=ticket.pk)


def _describe(exc: DomainError) -> str:
    details = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.fields.items())
    return f"{exc.message} {details}".strip()


# --------------------------------------------------------------------------- sidebar actions

ActionBody = Callable[..., HttpResponse | None]


def ticket_action(
    allowed: Callable[[User, Ticket], bool],
) -> Callable[[ActionBody], Callable[..., HttpResponse]]:
    """A POST-only view on a ticket the staff user can see and may do this to (else 404 or
    403). The body gets (request, user, ticket, **url kwargs); it returns a response, or None
    to go back to the ticket page."""

    def wrap(body: ActionBody) -> Callable[..., HttpResponse]:
        @functools.wraps(body)
        def view(request: HttpRequest, ticket_id: int, **kwargs: Any) -> HttpResponse:
            user = staff_user(request)
            ticket = visible_ticket(user, ticket_id)
            if not allowed(user, ticket):
                raise DjangoPermissionDenied("You may not do this on this ticket.")
            return body(request, user, ticket, **kwargs) or _back(ticket)

        return login_required(require_POST(view))

    return wrap


def _back(ticket: Ticket) -> HttpResponse:
    return redirect("web:ticket_detail", ticket_id=ticket.pk)


def _attempt(request: HttpRequest, action: Callable[[], Any], success: str) -> Any:
    """Run a service call and return what it returned, with `success` as a flash message;
    on the domain's refusal, its reason as an error message and None."""
    try:
        result = action()
    except DomainError as exc:
        messages.error(request, _describe(exc))
        return None
    if success:
        messages.success(request, success)
    return True if result is None else result


def _number(raw: str | None) -> int | None:
    """A ticket number typed by a person: "42", "#42", " 42 "."""
    text = (raw or "").strip().lstrip("#").strip()
    return int(text) if text.isdigit() and len(text) < 19 else None


def _other_ticket(request: HttpRequest, user: User, raw: str | None) -> Ticket | None:
    """The ticket a person typed the number of, if they may see it (else a flash error)."""
    number = _number(raw)
    found = None
    if number is not None:
        found = permissions.tickets_visible_to(user, Ticket.objects.filter(pk=number)).first()
    if found is None:
        shown = (raw or "").strip().lstrip("#")
        messages.error(request, f"There is no ticket #{shown} you can see.")
    return found


def _colleague(request: HttpRequest, raw: str | None) -> User | None:
    found = None
    if raw and raw.isdigit() and len(raw) < 19:
        found = User.objects.filter(pk=int(raw), is_active=True, role__in=STAFF_ROLES).first()
    if found is None:
        messages.error(request, "Choose a colleague.")
    return found


@ticket_action(permissions.can_update_ticket)
def ticket_collaborator_add_post(request: HttpRequest, user: User, ticket: Ticket) -> None:
    invited = _colleague(request, request.POST.get("user"))
    if invited is not None:
        _attempt(
            request,
            lambda: services.ticket_collaborator_add(
                ticket=ticket, user=invited, actor=Actor.for_user(user)
            ),
            f"{invited.label} can now work on this ticket.",
        )


@ticket_action(permissions.can_update_ticket)
def ticket_collaborator_remove_post(
    request: HttpRequest, user: User, ticket: Ticket, user_id: int
) -> None:
    removed = ticket.collaborators.filter(pk=user_id).first()
    if removed is None:
        messages.error(request, "That person is not a collaborator.")
        return
    _attempt(
        request,
        lambda: services.ticket_collaborator_remove(
            ticket=ticket, user=removed, actor=Actor.for_user(user)
        ),
        f"{removed.label} is no longer a collaborator.",
    )


@ticket_action(permissions.can_update_ticket)
def ticket_swarm_post(request: HttpRequest, user: User, ticket: Ticket) -> None:
    note = request.POST.get("note", "")
    _attempt(
        request,
        lambda: services.swarm_request(ticket=ticket, actor=Actor.for_user(user), note=note),
        "Your team was asked for help.",
    )


@ticket_action(permissions.can_update_ticket)
def ticket_swarm_resolve_post(request: HttpRequest, user: User, ticket: Ticket) -> None:
    _attempt(
        request,
        lambda: services.swarm_resolve(ticket=ticket, actor=Actor.for_user(user)),
        "The swarm is resolved.",
    )


def _conversation(ticket: Ticket, conversation_id: int) -> SideConversation:
    found = SideConversation.objects.filter(pk=conversation_id, ticket=ticket).first()
    if found is None:
        raise Http404("No such side conversation")
    return found


@ticket_action(permissions.can_use_side_conversations)
def ticket_side_start_post(request: HttpRequest, user: User, ticket: Ticket) -> None:
    ids = {int(v) for v in request.POST.getlist("participants") if v.isdigit() and len(v) < 19}
    people = list(User.objects.filter(pk__in=ids))
    if len(people) != len(ids):
        messages.error(request, "Some of those people do not exist.")
        return
    _attempt(
        request,
        lambda: services.side_conversation_start(
            ticket=ticket,
            actor=Actor.for_user(user),
            subject=request.POST.get("subject", ""),
            participants=people,
            text=request.POST.get("text", ""),
        ),
        "Side conversation started.",
    )


@ticket_action(permissions.can_use_side_conversations)
def ticket_side_message_post(
    request: HttpRequest, user: User, ticket: Ticket, conversation_id: int
) -> None:
    conversation = _conversation(ticket, conversation_id)
    text = request.POST.get("text", "")
    _attempt(
        request,
        lambda: services.side_message_post(
            conversation=conversation, actor=Actor.for_user(user), text=text
        ),
        "",
    )


@ticket_action(permissions.can_use_side_conversations)
def ticket_side_close_post(
    request: HttpRequest, user: User, ticket: Ticket, conversation_id: int
) -> None:
    conversation = _conversation(ticket, conversation_id)
    _attempt(
        request,
        lambda: services.side_conversation_close(
            conversation=conversation, actor=Actor.for_user(user)
        ),
        "Side conversation closed.",
    )


LINK_KINDS = ("related", "incident_of", "problem_of")  # problem_of: the other is the incident


@ticket_action(permissions.can_update_ticket)
def ticket_link_post(request: HttpRequest, user: User, ticket: Ticket) -> None:
    kind = request.POST.get("kind", "related")
    if kind not in LINK_KINDS:
        messages.error(request, "Choose how the tickets are linked.")
        return
    other = _other_ticket(request, user, request.POST.get("number"))
    if other is None:
        return
    source, target = (other, ticket) if kind == "problem_of" else (ticket, other)
    link_kind = LinkKind.RELATED if kind == "related" else LinkKind.INCIDENT_OF
    _attempt(
        request,
        lambda: services.ticket_link(
            from_ticket=source, to_ticket=target, kind=link_kind, actor=Actor.for_user(user)
        ),
        f"Linked to #{other.pk}.",
    )


@ticket_action(permissions.can_update_ticket)
def ticket_unlink_post(request: HttpRequest, user: User, ticket: Ticket, link_id: int) -> None:
    link = TicketLink.objects.filter(
        Q(from_ticket=ticket) | Q(to_ticket=ticket), pk=link_id
    ).first()
    if link is None:
        raise Http404("No such link")
    _attempt(
        request,
        lambda: services.ticket_unlink(link=link, actor=Actor.for_user(user)),
        "Link removed.",
    )


@ticket_action(permissions.can_update_ticket)
def ticket_merge_post(request: HttpRequest, user: User, ticket: Ticket) -> HttpResponse | None:
    """Merge this ticket into the one whose number was typed; go there when it worked."""
    target = _other_ticket(request, user, request.POST.get("target"))
    if target is None:
        return None
    merged = _attempt(
        request,
        lambda: services.ticket_merge(source=ticket, target=target, actor=Actor.for_user(user)),
        f"Ticket #{ticket.pk} was merged into this one.",
    )
    return _back(merged) if merged else None


@ticket_action(permissions.can_update_ticket)
def ticket_message_split_post(
    request: HttpRequest, user: User, ticket: Ticket, message_id: int
) -> HttpResponse | None:
    """Move a customer's message into a new ticket, and open that ticket."""
    message = Message.objects.filter(pk=message_id, ticket=ticket).first()
    if message is None:
        raise Http404("No such message")
    created = _attempt(
        request,
        lambda: services.message_split(message=message, actor=Actor.for_user(user)),
        f"The message was split off from #{ticket.pk} into this new ticket.",
    )
    return _back(created) if created else None


# --------------------------------------------------------------------------- time tracking


@ticket_action(permissions.can_track_time)
def ticket_timer_start_post(request: HttpRequest, user: User, ticket: Ticket) -> None:
    note = request.POST.get("note", "")
    _attempt(
        request,
        lambda: services.timer_start(ticket=ticket, actor=Actor.for_user(user), note=note),
        "Timer started.",
    )


@ticket_action(permissions.can_track_time)
def ticket_timer_stop_post(request: HttpRequest, user: User, ticket: Ticket) -> None:
    entry = _attempt(
        request, lambda: services.timer_stop(ticket=ticket, actor=Actor.for_user(user)), ""
    )
    if entry:
        messages.success(request, f"Timer stopped: {duration(entry.seconds)} logged.")


@ticket_action(permissions.can_track_time)
def ticket_time_add_post(request: HttpRequest, user: User, ticket: Ticket) -> None:
    raw = request.POST.get("minutes", "").strip()
    minutes = int(raw) if raw.isdigit() and len(raw) < 9 else 0
    note = request.POST.get("note", "")
    _attempt(
        request,
        lambda: services.time_entry_add(
            ticket=ticket, actor=Actor.for_user(user), minutes=minutes, note=note
        ),
        f"{minutes} min logged.",
    )


@ticket_action(permissions.can_track_time)
def ticket_time_delete_post(
    request: HttpRequest, user: User, ticket: Ticket, entry_id: int
) -> None:
    entry = TimeEntry.objects.filter(pk=entry_id, ticket=ticket).first()
    if entry is None:
        raise Http404("No such time entry")
    if not permissions.can_delete_time_entry(user, entry):
        raise DjangoPermissionDenied("You may delete only your own time entries.")
    _attempt(
        request,
        lambda: services.time_entry_delete(entry=entry, actor=Actor.for_user(user)),
        "Time entry deleted.",
    )


# --------------------------------------------------------------------------- the customer


def _may_edit_customers(user: User, ticket: Ticket) -> bool:
    return permissions.is_staff_agent(user)


@ticket_action(_may_edit_customers)
def ticket_customer_notes_post(request: HttpRequest, user: User, ticket: Ticket) -> None:
    """Notes about the requester (the customer's profile, shown on all their tickets)."""
    notes = request.POST.get("notes", "").replace("\r\n", "\n").strip()
    if len(notes) > CUSTOMER_NOTES_MAX:
        messages.error(request, f"Notes are at most {CUSTOMER_NOTES_MAX} characters.")
        return
    _attempt(
        request,
        lambda: customer_services.customer_update(
            customer=ticket.requester, actor=Actor.for_user(user).label, notes=notes
        ),
        "Customer notes saved.",
    )


# --------------------------------------------------------------------------- tasks


@ticket_action(permissions.can_update_ticket)
def ticket_task_add_post(request: HttpRequest, user: User, ticket: Ticket) -> None:
    due = request.POST.get("due_at", "").strip()
    due_at = None
    if due:
        try:
            due_at = timezone.make_aware(datetime.fromisoformat(due))
        except ValueError:
            messages.error(request, "The due time is not a date and time.")
            return
    _attempt(
        request,
        lambda: services.ticket_task_add(
            ticket=ticket,
            actor=Actor.for_user(user),
            title=request.POST.get("title", ""),
            due_at=due_at,
        ),
        "Task added.",
    )


@ticket_action(permissions.can_update_ticket)
def ticket_task_done_post(request: HttpRequest, user: User, ticket: Ticket, task_id: int) -> None:
    task = ticket.tasks.filter(pk=task_id).first()
    if task is None:
        raise Http404("No such task")
    done = request.POST.get("done", "1") == "1"
    _attempt(
        request,
        lambda: services.ticket_task_complete(task=task, actor=Actor.for_user(user), done=done),
        "Task done." if done else "Task reopened.",
    )


# --------------------------------------------------------------------------- attachments

INLINE_SAFE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "audio/mpeg"}


@login_required
def attachment_download(request: HttpRequest, attachment_id: int, filename: str) -> FileResponse:
    """Attachments are only served through the ticket permission layer, never as public media."""
    user: User = request.user  # type: ignore[assignment]
    attachment = (
        Attachment.objects.select_related("message", "message__ticket")
        .filter(pk=attachment_id, status="stored")
        .first()
    )
    if attachment is None or not attachment.file:
        raise Http404("No such attachment")
    message = attachment.message
    if message.is_internal and not permissions.can_see_internal(user):
        raise Http404("No such attachment")
    if not permissions.can_view_ticket(user, message.ticket):
        raise Http404("No such attachment")
    inline = attachment.content_type in INLINE_SAFE_TYPES
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not inline,
        filename=attachment.filename,
        content_type=attachment.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response

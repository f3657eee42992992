"""Tickets (one conversation on any channel), messages, attachments and the event timeline."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from frontline.accounts.models import Team
from frontline.channels.types import Channel
from frontline.core.models import TimeStampedModel
from frontline.customers.models import Customer
from frontline.tickets.lifecycle import Status


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class TicketType(models.TextChoices):
    QUESTION = "question", "Question"
    INCIDENT = "incident", "Incident"
    PROBLEM = "problem", "Problem"
    TASK = "task", "Task"


STATUS_CHOICES = [(s.value, s.value.replace("_", "-")) for s in Status]


class Tag(models.Model):
    name = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Ticket(TimeStampedModel):
    """A conversation with a customer. Its id is the human-friendly number (#1042)."""

    subject = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=Status.NEW)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    type = models.CharField(max_length=10, choices=TicketType.choices, default=TicketType.QUESTION)
    channel = models.CharField(max_length=16, choices=Channel.choices(), default=Channel.WEB)
    requester = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    collaborators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="collaborating_tickets"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    custom_fields = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=16, blank=True)
    thread_key = models.CharField(max_length=255, blank=True)
    # A public social conversation (a comment under a post): replies are visible to everyone.
    is_public = models.BooleanField(default=False)
    followup_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="followups"
    )
    # Extra requesters (CC), e.g. the requester of a duplicate merged into this ticket.
    cc_customers = models.ManyToManyField(Customer, blank=True, related_name="cc_tickets")
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    swarm_requested_at = models.DateTimeField(null=True, blank=True)
    swarm_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="swarm_requests",
    )
    swarm_note = models.TextField(blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    message_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            # keyset pagination of queues: status (+ team/assignee) then recency
            models.Index(fields=["status", "-updated_at", "-id"], name="ticket_status_upd_idx"),
            models.Index(
                fields=["team", "status", "-updated_at", "-id"], name="ticket_team_status_idx"
            ),
            models.Index(
                fields=["assignee", "status", "-updated_at", "-id"],
                name="ticket_assignee_status_idx",
            ),
            models.Index(fields=["-updated_at", "-id"], name="ticket_updated_idx"),
            models.Index(fields=["requester", "status"], name="ticket_requester_idx"),
            models.Index(fields=["channel", "thread_key"], name="ticket_thread_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def number(self) -> int:
        return self.pk


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public reply"
    INTERNAL = "internal", "Internal note"


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"
    INTERNAL = "internal", "Internal"


class AuthorType(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    AGENT = "agent", "Agent"
    SYSTEM = "system", "System"
    BOT = "bot", "Bot"


class DeliveryState(models.TextChoices):
    RECEIVED = "received", "Received"
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"
    NOT_SENT = "not_sent", "Not sent (internal)"


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    direction = models.CharField(max_length=10, choices=Direction.choices)
    author_type = models.CharField(max_length=10, choices=AuthorType.choices)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    author_customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices())
    subject = models.CharField(max_length=255, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True, help_text="sanitised HTML")
    provider_message_id = models.CharField(max_length=255, blank=True)
    delivery_state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.RECEIVED
    )
    delivery_error = models.TextField(blank=True)
    raw_payload_id = models.BigIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # The dedupe key of the ingest service: a provider's retry never makes a 2nd message.
            models.UniqueConstraint(
                fields=["channel", "provider_message_id"],
                condition=~models.Q(provider_message_id=""),
                name="message_provider_id_unique",
            ),
        ]
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="message_ticket_idx")]

    def __str__(self) -> str:
        return f"message {self.pk} on #{self.ticket_id}"

    @property
    def is_internal(self) -> bool:
        return self.visibility == Visibility.INTERNAL


class AttachmentStatus(models.TextChoices):
    STORED = "stored", "Stored"
    REJECTED = "rejected", "Rejected (kept as a record only)"


def attachment_path(instance: Attachment, filename: str) -> str:
    digest = instance.sha256 or "unknown"
    return f"attachments/{digest[:2]}/{digest[2:4]}/{digest}/{filename}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=500, blank=True)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=127, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    content_id = models.CharField(max_length=255, blank=True)
    inline = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=AttachmentStatus.choices, default=AttachmentStatus.STORED
    )
    rejection_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.filename


class TicketEvent(models.Model):
    """The ticket timeline: every change, who made it, old -> new. Written with the change."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    actor = models.CharField(max_length=100, blank=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    field = models.CharField(max_length=64, blank=True)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["ticket", "id"], name="ticketevent_ticket_idx")]

    def __str__(self) -> str:
        return f"{self.kind} on #{self.ticket_id}"


class LinkKind(models.TextChoices):
    RELATED = "related", "Related"
    INCIDENT_OF = "incident_of", "Incident of (from the incident to its problem)"


class TicketLink(models.Model):
    """A link between two tickets. `related` is stored once for both directions;
    `incident_of` points from an incident to its problem."""

    from_ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    to_ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=16, choices=LinkKind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["from_ticket", "to_ticket", "kind"], name="ticketlink_unique"
            ),
            # an incident has one problem
            models.UniqueConstraint(
                fields=["from_ticket"],
                condition=models.Q(kind="incident_of"),
                name="ticketlink_one_problem",
            ),
            models.CheckConstraint(
                condition=~models.Q(from_ticket=models.F("to_ticket")), name="ticketlink_no_self"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.from_ticket_id} {self.kind} #{self.to_ticket_id}"


class TimeEntry(models.Model):
    """Time an agent spent on a ticket: a running timer or a finished/manual entry."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="time_entries")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_entries"
    )
    started_at = models.DateTimeField()
    seconds = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=500, blank=True)
    running = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name_plural = "time entries"
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "user"],
                condition=models.Q(running=True),
                name="timeentry_one_running",
            ),
        ]
        indexes = [
            models.Index(fields=["started_at", "id"], name="timeentry_started_idx"),
            models.Index(fields=["user", "started_at"], name="timeentry_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.seconds}s on #{self.ticket_id}"


class SideConversation(models.Model):
    """A staff-only thread beside a ticket (ask a colleague or specialist without the
    customer seeing it)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="side_conversations")
    subject = models.CharField(max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="side_conversations_started",
    )
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="side_conversations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.subject} (#{self.ticket_id})"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class SideMessage(models.Model):
    conversation = models.ForeignKey(
        SideConversation, on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"side message {self.pk}"


class CannedResponse(models.Model):
    """A reusable reply. No owner and no team: shared with everyone; a team: that team's;
    an owner: personal."""

    title = models.CharField(max_length=200)
    body = models.TextField()
    shortcut = models.CharField(max_length=32, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_responses",
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="canned_responses"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title


class CustomFieldType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    CHECKBOX = "checkbox", "Checkbox"
    DROPDOWN = "dropdown", "Dropdown"
    DATE = "date", "Date"


class CustomField(models.Model):
    """The definition of one key of `Ticket.custom_fields`."""

    key = models.SlugField(max_length=64, unique=True)
    label = models.CharField(max_length=100)
    type = models.CharField(max_length=10, choices=CustomFieldType.choices)
    options = models.JSONField(default=list, blank=True, help_text="dropdown values")
    required_on_solve = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.key


class TaskKind(models.TextChoices):
    TODO = "todo", "To do"
    CALLBACK = "callback", "Call back"


class TicketTask(models.Model):
    """Something to do on a ticket, with an optional due time: a call-back after a missed
    call or a voicemail, or an agent's own reminder."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=10, choices=TaskKind.choices, default=TaskKind.TODO)
    title = models.CharField(max_length=255)
    phone = models.CharField(max_length=32, blank=True, help_text="the number to call back")
    due_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ticket_tasks",
    )
    created_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["done_at", "due_at", "id"]
        indexes = [models.Index(fields=["ticket", "done_at"], name="task_ticket_open_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

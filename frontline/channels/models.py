"""Raw inbound payloads: stored durably before a provider is answered, so nothing is lost."""

from __future__ import annotations

from django.db import models


class PayloadStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSED = "processed", "Processed"
    DUPLICATE = "duplicate", "Duplicate"
    FAILED = "failed", "Failed"


class RawPayload(models.Model):
    channel = models.CharField(max_length=16)
    provider_message_id = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=127, blank=True)
    body = models.BinaryField()
    headers = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=10, choices=PayloadStatus.choices, default=PayloadStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    ticket_id = models.BigIntegerField(null=True, blank=True)
    message_id = models.BigIntegerField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_message_id"],
                condition=~models.Q(provider_message_id=""),
                name="rawpayload_provider_id_unique",
            )
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="rawpayload_status_idx")]

    def __str__(self) -> str:
        return f"{self.channel} payload {self.pk} ({self.status})"


class Mailbox(models.Model):
    """An email address customers write to (support@, billing@), and how replies go out."""

    name = models.CharField(max_length=100)
    address = models.EmailField(unique=True, help_text="lower case, e.g. support@example.com")
    aliases = models.JSONField(default=list, blank=True, help_text="other addresses it receives")
    from_name = models.CharField(max_length=100, blank=True)
    team_id = models.BigIntegerField(null=True, blank=True, help_text="new tickets go to it")
    inbound_secret_hash = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the raw-MIME endpoint secret"
    )
    auto_acknowledge = models.BooleanField(
        default=False, help_text="answer new tickets with their number and expected reply time"
    )
    acknowledge_text = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # IMAP polling (optional). Secrets are encrypted at rest (frontline.core.crypto).
    imap_host = models.CharField(max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(default=993)
    imap_security = models.CharField(
        max_length=10,
        choices=[("ssl", "SSL/TLS"), ("starttls", "STARTTLS"), ("none", "None (local only)")],
        default="ssl",
    )
    imap_username = models.CharField(max_length=255, blank=True)
    imap_auth = models.CharField(
        max_length=10, choices=[("password", "Password"), ("oauth2", "OAuth2")], default="password"
    )
    imap_password_encrypted = models.TextField(blank=True)
    oauth_provider = models.CharField(
        max_length=10, blank=True, choices=[("microsoft", "Microsoft 365"), ("google", "Google")]
    )
    oauth_client_id = models.CharField(max_length=255, blank=True)
    oauth_client_secret_encrypted = models.TextField(blank=True)
    oauth_refresh_token_encrypted = models.TextField(blank=True)
    oauth_access_token_encrypted = models.TextField(blank=True)
    oauth_expires_at = models.DateTimeField(null=True, blank=True)
    imap_folder = models.CharField(max_length=255, default="INBOX")
    imap_processed_folder = models.CharField(
        max_length=255, blank=True, help_text="move imported mail here; empty: flag it instead"
    )
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True)
    imap_last_uid = models.BigIntegerField(default=0)
    imap_last_polled_at = models.DateTimeField(null=True, blank=True)
    imap_last_error = models.TextField(blank=True)
    imap_error_count = models.PositiveIntegerField(default=0)
    imap_next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["address"]

    def __str__(self) -> str:
        return self.address

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


class ChatWidget(models.Model):
    """One embeddable chat widget: a public site key, where it may run, how it looks."""

    name = models.CharField(max_length=100)
    site_key = models.CharField(max_length=64, unique=True, help_text="public; in the <script> tag")
    allowed_origins = models.JSONField(
        default=list,
        blank=True,
        help_text='sites allowed to embed it, e.g. ["https://shop.example.com"]; empty = none',
    )
    color = models.CharField(max_length=7, default="#0b6bcb", help_text="#rrggbb")
    greeting = models.CharField(max_length=300, default="Hi! How can we help?")
    offline_message = models.CharField(
        max_length=300,
        default="We're away right now. Leave a message and we'll answer by email.",
    )
    pre_chat_form = models.BooleanField(default=False, help_text="ask name and email first")
    require_email = models.BooleanField(default=False)
    business_hours = models.JSONField(
        default=dict,
        blank=True,
        help_text='{"timezone": "Europe/Berlin", "days": {"mon": [["09:00", "17:00"]], ...},'
        ' "holidays": ["2026-12-25"]}; empty = always open',
    )
    require_online_agent = models.BooleanField(
        default=False, help_text="offline when no agent of the team is online"
    )
    team_id = models.BigIntegerField(null=True, blank=True, help_text="new chats go to it")
    visitor_messages_per_minute = models.PositiveIntegerField(default=30)
    site_messages_per_minute = models.PositiveIntegerField(default=3000)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.site_key})"


class ChatVisitor(models.Model):
    """A browser that opened a widget. `uid` is the public part of its signed visitor token
    and the value of its `chat` identity on the customer."""

    widget = models.ForeignKey(ChatWidget, on_delete=models.CASCADE, related_name="visitors")
    uid = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    customer_id = models.BigIntegerField(null=True, blank=True)
    page_url = models.URLField(max_length=1000, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name or self.email or f"visitor {self.uid[:8]}"

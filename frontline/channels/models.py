"""Raw inbound payloads: stored durably before a provider is answered, so nothing is lost."""

from __future__ import annotations

from django.db import models


class PayloadStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSED = "processed", "Processed"
    DUPLICATE = "duplicate", "Duplicate"
    FAILED = "failed", "Failed"
    # Kept raw and reported: a payload type this version does not understand (yet).
    UNSUPPORTED = "unsupported", "Unsupported"


class RawPayload(models.Model):
    channel = models.CharField(max_length=16)
    provider_message_id = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=127, blank=True)
    body = models.BinaryField()
    headers = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=12, choices=PayloadStatus.choices, default=PayloadStatus.PENDING
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


class Provider(models.TextChoices):
    TWILIO_SMS = "twilio_sms", "SMS (Twilio)"
    TWILIO_WHATSAPP = "twilio_whatsapp", "WhatsApp (Twilio)"
    TWILIO_VOICE = "twilio_voice", "Phone (Twilio Voice)"
    META_MESSENGER = "meta_messenger", "Facebook Messenger"
    META_INSTAGRAM = "meta_instagram", "Instagram"
    GENERIC = "generic", "Messaging webhook"


# The channel each provider's messages arrive on (and replies go out on).
PROVIDER_CHANNEL = {
    Provider.TWILIO_SMS: "sms",
    Provider.TWILIO_WHATSAPP: "whatsapp",
    Provider.TWILIO_VOICE: "phone",
    Provider.META_MESSENGER: "facebook",
    Provider.META_INSTAGRAM: "instagram",
    Provider.GENERIC: "webhook",
}


class MessagingAccount(models.Model):
    """A connected provider account: a Twilio number, a Facebook page, an Instagram account,
    a bridged network. Its `key` names it in the webhook URL; its secrets (auth token, app
    secret, page token, HMAC secret) are encrypted at rest in `secrets_encrypted`."""

    provider = models.CharField(max_length=20, choices=Provider.choices)
    name = models.CharField(max_length=100)
    key = models.SlugField(max_length=64, unique=True, help_text="public; in the webhook URL")
    address = models.CharField(
        max_length=255,
        blank=True,
        help_text="our side: E.164 number, page id, Instagram account id, or network name",
    )
    account_sid = models.CharField(
        max_length=64, blank=True, help_text="Twilio account SID or Meta app id"
    )
    secrets_encrypted = models.TextField(blank=True, help_text="encrypted JSON of secrets")
    api_base_url = models.URLField(
        max_length=500, blank=True, help_text="provider API; empty = the provider's public one"
    )
    outbound_url = models.URLField(
        max_length=500, blank=True, help_text="generic webhook: where replies are posted"
    )
    public_url = models.URLField(
        max_length=500,
        blank=True,
        help_text="this account's webhook URL as the provider calls it (signatures cover it)",
    )
    team_id = models.BigIntegerField(null=True, blank=True, help_text="new tickets go to it")
    options = models.JSONField(default=dict, blank=True, help_text="provider-specific settings")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["provider", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_provider_display()})"

    @property
    def channel(self) -> str:
        return PROVIDER_CHANNEL[Provider(self.provider)]


class DeliveryReceipt(models.Model):
    """A provider's status report on one of our outbound messages. Reports may arrive before
    we know the provider's id for the message (the send's answer is still on its way): they
    are kept here and applied once the message is known."""

    channel = models.CharField(max_length=16)
    provider_message_id = models.CharField(max_length=255)
    state = models.CharField(max_length=10)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    message_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["channel", "provider_message_id"], name="receipt_provider_idx"),
            models.Index(fields=["applied_at", "received_at"], name="receipt_pending_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.provider_message_id} {self.state}"


class MessageTemplate(models.Model):
    """A provider-approved template (WhatsApp): the only messages allowed outside the 24-hour
    customer-service window. `body` shows the text with {{1}}, {{2}} placeholders."""

    account = models.ForeignKey(
        MessagingAccount, on_delete=models.CASCADE, related_name="templates"
    )
    name = models.CharField(max_length=100)
    language = models.CharField(max_length=16, default="en")
    content_sid = models.CharField(max_length=64, help_text="the provider's template id")
    body = models.TextField()
    variables = models.JSONField(
        default=list, blank=True, help_text='labels of the placeholders, e.g. ["name", "order"]'
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "name", "language"], name="template_unique_per_account"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

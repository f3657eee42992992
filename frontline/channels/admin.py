from typing import Any

from django import forms
from django.contrib import admin

from frontline.channels.models import (
    ChatVisitor,
    ChatWidget,
    DeliveryReceipt,
    Mailbox,
    MessageTemplate,
    MessagingAccount,
    RawPayload,
)
from frontline.core import crypto


@admin.register(RawPayload)
class RawPayloadAdmin(admin.ModelAdmin):
    """Every accepted payload; filter by status `failed` or `unsupported` to see what needs a
    look (unsupported ones are kept raw for when a newer version understands them)."""

    list_display = (
        "id", "channel", "provider_message_id", "status", "attempts", "short_error", "received_at",
    )  # fmt: skip
    list_filter = ("channel", "status")
    search_fields = ("provider_message_id", "error")
    readonly_fields = ("body",)
    actions = ["reprocess"]

    @admin.display(description="error")
    def short_error(self, obj: RawPayload) -> str:
        return obj.error if len(obj.error) <= 80 else obj.error[:79] + "…"

    @admin.action(description="Process again (failed or unsupported payloads)")
    def reprocess(self, request: Any, queryset: Any) -> None:
        from frontline.channels.models import PayloadStatus
        from frontline.channels.webhooks import payload_enqueue

        retry = queryset.filter(status__in=[PayloadStatus.FAILED, PayloadStatus.UNSUPPORTED])
        ids = list(retry.values_list("pk", flat=True))
        retry.update(status=PayloadStatus.PENDING, error="")
        for payload_id in ids:
            payload_enqueue(payload_id)
        self.message_user(request, f"{len(ids)} payload(s) queued for processing.")


# Write-only secret fields of the form -> the encrypted model field they are stored in.
SECRET_FIELDS = {
    "password": "imap_password_encrypted",
    "oauth_client_secret": "oauth_client_secret_encrypted",
    "oauth_refresh_token": "oauth_refresh_token_encrypted",
}


def _secret_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="stored encrypted; leave blank to keep the current value",
    )


class MailboxForm(forms.ModelForm):
    password = _secret_field("IMAP password")
    oauth_client_secret = _secret_field("OAuth client secret")
    oauth_refresh_token = _secret_field("OAuth refresh token")

    class Meta:
        model = Mailbox
        fields = [
            "name",
            "address",
            "aliases",
            "from_name",
            "team_id",
            "auto_acknowledge",
            "acknowledge_text",
            "is_active",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_username",
            "imap_auth",
            "password",
            "oauth_provider",
            "oauth_client_id",
            "oauth_client_secret",
            "oauth_refresh_token",
            "imap_folder",
            "imap_processed_folder",
            "imap_last_uid",
            "imap_next_attempt_at",
        ]

    def save(self, commit: bool = True) -> Any:
        mailbox = super().save(commit=False)
        for form_field, model_field in SECRET_FIELDS.items():
            value = self.cleaned_data.get(form_field) or ""
            if value:  # blank keeps the stored value
                setattr(mailbox, model_field, crypto.encrypt(value))
                if form_field == "oauth_refresh_token":
                    mailbox.oauth_access_token_encrypted = ""
                    mailbox.oauth_expires_at = None
        if commit:
            mailbox.save()
            self.save_m2m()
        return mailbox


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = (
        "address",
        "name",
        "is_active",
        "imap_host",
        "imap_last_polled_at",
        "imap_error_count",
        "last_error",
        "imap_next_attempt_at",
    )
    list_filter = ("is_active", "imap_security", "imap_auth")
    search_fields = ("address", "name", "imap_host")
    readonly_fields = (
        "inbound_secret_hash",
        "secrets_set",
        "imap_uidvalidity",
        "imap_last_polled_at",
        "imap_error_count",
        "imap_last_error",
        "oauth_expires_at",
    )

    @admin.display(description="last error")
    def last_error(self, obj: Mailbox) -> str:
        error = obj.imap_last_error
        return error if len(error) <= 80 else error[:79] + "…"

    @admin.display(description="secrets stored")
    def secrets_set(self, obj: Mailbox) -> str:
        stored = [name for name, field in SECRET_FIELDS.items() if getattr(obj, field)]
        return ", ".join(stored) or "none"


class ChatWidgetForm(forms.ModelForm):
    class Meta:
        model = ChatWidget
        fields = (
            "name", "site_key", "allowed_origins", "color", "greeting", "offline_message",
            "pre_chat_form", "require_email", "business_hours", "require_online_agent",
            "team_id", "visitor_messages_per_minute", "site_messages_per_minute", "is_active",
        )  # fmt: skip

    def clean_business_hours(self) -> Any:
        from frontline.channels.chat.hours import ScheduleError, schedule_validate

        value = self.cleaned_data.get("business_hours") or {}
        try:
            schedule_validate(value)
        except ScheduleError as exc:
            raise forms.ValidationError(str(exc)) from None
        return value


@admin.register(ChatWidget)
class ChatWidgetAdmin(admin.ModelAdmin):
    form = ChatWidgetForm
    list_display = ("name", "site_key", "is_active", "pre_chat_form", "team_id")
    readonly_fields = ("created_at",)


@admin.register(ChatVisitor)
class ChatVisitorAdmin(admin.ModelAdmin):
    list_display = ("uid", "widget", "name", "email", "customer_id", "last_seen_at")
    search_fields = ("uid", "name", "email")
    list_filter = ("widget",)


# Write-only secrets of a messaging account, by provider: form field -> label.
ACCOUNT_SECRETS = {
    "auth_token": "Twilio auth token",
    "app_secret": "Meta app secret",
    "verify_token": "Meta webhook verify token",
    "page_token": "Meta page (or Instagram) access token",
    "signing_secret": "Webhook signing secret",
    "previous_signing_secret": "Webhook signing secret being retired (rotation)",
}


class MessagingAccountForm(forms.ModelForm):
    auth_token = _secret_field(ACCOUNT_SECRETS["auth_token"])
    app_secret = _secret_field(ACCOUNT_SECRETS["app_secret"])
    verify_token = _secret_field(ACCOUNT_SECRETS["verify_token"])
    page_token = _secret_field(ACCOUNT_SECRETS["page_token"])
    signing_secret = _secret_field(ACCOUNT_SECRETS["signing_secret"])
    previous_signing_secret = _secret_field(ACCOUNT_SECRETS["previous_signing_secret"])
    clear_secrets = forms.MultipleChoiceField(
        choices=list(ACCOUNT_SECRETS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="remove these stored secrets (e.g. the retired signing secret after rotation)",
    )
    api_base_url = forms.URLField(
        required=False, assume_scheme="https", help_text="empty = the provider's public API"
    )
    public_url = forms.URLField(
        required=False,
        assume_scheme="https",
        help_text="this server as the provider calls it, when behind a proxy",
    )
    outbound_url = forms.URLField(
        required=False, assume_scheme="https", help_text="generic webhook: where replies go"
    )

    class Meta:
        model = MessagingAccount
        fields = (
            "provider", "name", "key", "address", "account_sid", "api_base_url", "public_url",
            "outbound_url", "team_id", "options", "is_active",
        )  # fmt: skip

    def clean(self) -> dict[str, Any]:
        from frontline.customers.normalize import InvalidIdentity, normalize_network

        cleaned = super().clean() or {}
        if cleaned.get("provider") == "generic":
            try:
                cleaned["address"] = normalize_network(cleaned.get("address") or "")
            except InvalidIdentity:
                self.add_error(
                    "address",
                    "The network name: lower-case letters, digits, . _ - (e.g. telegram).",
                )
        return cleaned

    def save(self, commit: bool = True) -> Any:
        from frontline.channels.accounts import account_secrets_set

        account = super().save(commit=False)
        if commit:
            account.save()
            self.save_m2m()
        changed = {name: self.cleaned_data.get(name) or "" for name in ACCOUNT_SECRETS}
        changed = {name: value for name, value in changed.items() if value}
        for name in self.cleaned_data.get("clear_secrets") or []:
            changed.setdefault(name, "")  # an empty value removes it
        if changed:
            if account.pk is None:
                account.save()
            account_secrets_set(account, **changed)  # the others are kept
        return account


class MessageTemplateInline(admin.TabularInline):
    model = MessageTemplate
    extra = 0
    fields = ("name", "language", "content_sid", "body", "variables", "is_active")


@admin.register(MessagingAccount)
class MessagingAccountAdmin(admin.ModelAdmin):
    form = MessagingAccountForm
    list_display = ("name", "provider", "address", "key", "webhook_path", "is_active")
    list_filter = ("provider", "is_active")
    search_fields = ("name", "address", "key")
    readonly_fields = ("secrets_stored", "webhook_path", "created_at")
    inlines = [MessageTemplateInline]

    @admin.display(description="secrets stored")
    def secrets_stored(self, obj: MessagingAccount) -> str:
        from frontline.channels.accounts import account_secrets

        return ", ".join(sorted(account_secrets(obj))) or "none"

    @admin.display(description="webhook path")
    def webhook_path(self, obj: MessagingAccount) -> str:
        paths = {
            "twilio_sms": "/channels/twilio/{key}/messages (status: …/status)",
            "twilio_whatsapp": "/channels/twilio/{key}/messages (status: …/status)",
            "twilio_voice": "/channels/phone/{key}/calls (transcription: …/transcription)",
            "meta_messenger": "/channels/meta/{key}",
            "meta_instagram": "/channels/meta/{key}",
            "generic": "/channels/webhook/{key}/messages",
        }
        return paths.get(obj.provider, "").format(key=obj.key) if obj.key else ""


@admin.register(DeliveryReceipt)
class DeliveryReceiptAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "provider_message_id", "state", "applied_at", "received_at")
    list_filter = ("channel", "state")
    search_fields = ("provider_message_id",)


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "language", "account", "content_sid", "is_active")
    list_filter = ("account", "is_active")

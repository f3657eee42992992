from typing import Any

from django import forms
from django.contrib import admin

from frontline.channels.models import ChatVisitor, ChatWidget, Mailbox, RawPayload
from frontline.core import crypto


@admin.register(RawPayload)
class RawPayloadAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "provider_message_id", "status", "attempts", "received_at")
    list_filter = ("channel", "status")
    search_fields = ("provider_message_id",)
    readonly_fields = ("body",)


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

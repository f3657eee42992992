"""SMS and WhatsApp through Twilio: one adapter class, one instance per channel.

`parse` turns a stored webhook form (an incoming message, or a status callback of one of our
replies) into an InboundMessage or a delivery report; `send` creates Messages through Twilio's
REST API. Which channel a payload belongs to was decided by the account its URL named.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from frontline.channels.accounts import account_get
from frontline.channels.models import MessagingAccount
from frontline.channels.outbound import parts_record
from frontline.channels.registry import ChannelAdapter, UnsupportedPayload
from frontline.channels.twilio.client import (
    TwilioApiError,
    api_base,
    basic_auth,
    message_create,
)
from frontline.channels.twilio.media import MediaItem, media_fetch
from frontline.channels.twilio.sms import body_parts
from frontline.channels.twilio.status import status_apply
from frontline.channels.types import (
    Channel,
    InboundMessage,
    OutboundMessage,
    SenderIdentity,
    SendResult,
)
from frontline.customers.normalize import InvalidIdentity, normalize_phone

WHATSAPP_PREFIX = "whatsapp:"
# The stored payload's headers saying which of the two URLs it came to, and when.
WEBHOOK_HEADER = "twilio_webhook"
RECEIVED_AT_HEADER = "received_at"
# How long a media download failing with a network error or a 5xx holds its message back
# (the payload's task retries); after that the message arrives with the failure noted.
MEDIA_RETRY_FOR = timedelta(hours=1)
# The message metadata key recording the sids of a long reply's parts, in order.
PARTS_METADATA = "twilio_parts"

# Optional inbound fields kept in the message metadata, as given (Twilio's webhook request).
OPTIONAL_FIELDS = {
    "MessagingServiceSid": "messaging_service_sid",
    "MessageType": "message_type",
    "Forwarded": "forwarded",
    "FrequentlyForwarded": "frequently_forwarded",
    "OriginalRepliedMessageSid": "replied_to_sid",
    "ButtonPayload": "button_payload",
    "ButtonText": "button_text",
    "OptOutType": "opt_out_type",
    "FromCity": "from_city",
    "FromState": "from_state",
    "FromCountry": "from_country",
}
REFERRAL_FIELDS = {
    "ReferralSourceUrl": "source_url",
    "ReferralSourceType": "source_type",
    "ReferralSourceId": "source_id",
    "ReferralHeadline": "headline",
    "ReferralBody": "body",
    "ReferralCtwaClid": "ctwa_clid",
}


def form_decode(body: bytes) -> dict[str, str]:
    """Twilio's form body as a dict (the last value of a repeated name). ValueError if it is
    not a UTF-8 `application/x-www-form-urlencoded` body."""
    text = body.decode("utf-8")
    return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))


def without_channel_prefix(address: str) -> str:
    if address[: len(WHATSAPP_PREFIX)].lower() == WHATSAPP_PREFIX:
        return address[len(WHATSAPP_PREFIX) :]
    return address


def status_callback_url(
    account: MessagingAccount, *, part: int = 1, parts: int = 1, first_sid: str = ""
) -> str:
    """The absolute status URL given to Twilio with each Message. Behind a proxy, the host
    Twilio must call is the account's `public_url`, else the site's `SITE_URL`."""
    path = reverse("channels:twilio:status", kwargs={"key": account.key})
    if account.public_url:
        public = urlsplit(account.public_url)
        base = f"{public.scheme}://{public.netloc}"
    else:
        base = str(settings.SITE_URL).rstrip("/")
    query: dict[str, str | int] = {}
    if parts > 1:
        query = {"part": part, "parts": parts}
        if first_sid:
            query["first"] = first_sid
    return f"{base}{path}" + (f"?{urlencode(query)}" if query else "")


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    value = count / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


class TwilioMessagingAdapter:
    """Twilio Programmable Messaging for one channel (`sms` or `whatsapp`)."""

    def __init__(self, channel: str) -> None:
        if channel not in (Channel.SMS, Channel.WHATSAPP):
            raise ValueError(f"Twilio messaging carries sms or whatsapp, not {channel!r}")
        self.channel = channel

    @property
    def is_whatsapp(self) -> bool:
        return self.channel == Channel.WHATSAPP

    # Inbound ---------------------------------------------------------------------------

    def parse(self, body: bytes, headers: dict[str, str]) -> InboundMessage:
        form = form_decode(body)
        if headers.get(WEBHOOK_HEADER) == "status":
            status_apply(channel=self.channel, form=form, headers=headers)
        account = account_get(_int_or_none(headers.get("account_id")))
        received_at = _datetime_or_none(headers.get(RECEIVED_AT_HEADER))
        retry_media = received_at is None or timezone.now() - received_at < MEDIA_RETRY_FOR
        return self._inbound(form, account, retry_media=retry_media)

    def _inbound(
        self, form: dict[str, str], account: MessagingAccount | None, *, retry_media: bool
    ) -> InboundMessage:
        if form.get("EventType"):
            event = form["EventType"]
            raise UnsupportedPayload(f"a Twilio {event!r} event, not an incoming message")
        sid = form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid") or ""
        sender = form.get("From", "")
        if not sid or not sender:
            raise UnsupportedPayload("a Twilio form without MessageSid or From: not a message")
        try:
            number = normalize_phone(
                without_channel_prefix(sender), default_region=settings.PHONE_DEFAULT_REGION
            )
        except InvalidIdentity as exc:
            raise UnsupportedPayload(
                f"a message from {sender!r}, which is not a phone number (a short code or an "
                "alphanumeric sender id): no customer can be answered there"
            ) from exc
        num_media = int(form.get("NumMedia") or 0)
        if not 0 <= num_media <= 100:
            raise ValueError(f"NumMedia {num_media} is out of range")
        items = [
            MediaItem(url=form[f"MediaUrl{n}"], content_type=form.get(f"MediaContentType{n}", ""))
            for n in range(num_media)
            if form.get(f"MediaUrl{n}")
        ]
        fetched = media_fetch(
            items,
            auth=basic_auth(account) if account and account.account_sid else None,
            auth_host=(urlsplit(api_base(account)).hostname or "") if account else "",
            max_bytes=int(settings.ATTACHMENT_MAX_BYTES),
            retry_failures=retry_media,
        )
        metadata = self._metadata(form, account, items)
        lines = [form.get("Body", "") or form.get("ButtonText", "")]
        location = _location(form)
        if location:
            metadata["location"] = location
            lines.append(_location_text(location))
        if fetched.skipped:
            metadata["media_skipped"] = fetched.skipped
            lines += [_skipped_text(item) for item in fetched.skipped]
        text = "\n\n".join(line for line in lines if line)
        if not text.strip() and not fetched.attachments:
            raise UnsupportedPayload(
                f"a {self.channel} message with no text, media or location "
                f"(MessageType {form.get('MessageType', 'not given')!r})"
            )
        return InboundMessage(
            channel=self.channel,
            sender=SenderIdentity(kind="phone", value=number),
            sender_name=form.get("ProfileName", "").strip(),
            text=text,
            attachments=tuple(fetched.attachments),
            provider_message_id=sid,
            metadata=metadata,
            ticket_fields={"team": account.team_id} if account and account.team_id else {},
        )

    def _metadata(
        self, form: dict[str, str], account: MessagingAccount | None, items: list[MediaItem]
    ) -> dict[str, Any]:
        metadata: dict[str, Any] = {
            "account_id": account.pk if account else None,
            "to": form.get("To", ""),
            "from": form.get("From", ""),
            "num_segments": form.get("NumSegments", ""),
            "num_media": form.get("NumMedia", ""),
            "media_urls": [item.url for item in items],
        }
        if form.get("WaId"):
            metadata["wa_id"] = form["WaId"]
        if form.get("ProfileName"):
            metadata["profile_name"] = form["ProfileName"]
        for field, key in OPTIONAL_FIELDS.items():
            if form.get(field):
                metadata[key] = form[field]
        referral = {key: form[field] for field, key in REFERRAL_FIELDS.items() if form.get(field)}
        if referral:
            metadata["referral"] = referral
        return metadata

    # Outbound --------------------------------------------------------------------------

    def send(self, message: OutboundMessage) -> SendResult:
        account = account_get(_int_or_none(message.metadata.get("account_id")))
        if account is None or not account.is_active:
            raise TwilioApiError(
                f"No active Twilio account sends on {self.channel}: connect one under "
                "Messaging accounts in the admin.",
                permanent=True,
            )
        if not account.address:
            raise TwilioApiError(
                f"The account {account.name!r} has no address (its Twilio number).",
                permanent=True,
            )
        base_form = {
            "To": self._address(self._recipient(message)),
            "From": self._address(account.address),
        }
        reply: dict[str, Any] = dict(message.metadata.get("message") or {})
        template = reply.get("template")
        if template:
            return self._send_template(account, base_form, template)
        links = list(message.attachment_links)
        if not message.text.strip() and not links:
            raise ValueError("A Twilio message needs text or a file.")
        # MMS takes up to 10 files with one message, WhatsApp one file a message.
        per_message = 1 if self.is_whatsapp else MMS_MAX_MEDIA
        media, rest = links[:per_message], links[per_message:]
        result = self._send_text(
            account, base_form, message.message_id, message.text, reply, media=media
        )
        if rest:
            names = ", ".join(a.filename for a in message.attachments[per_message:])
            return SendResult(
                provider_message_id=result.provider_message_id,
                state="sent",
                error=f"Sent with {len(media)} file(s); {self.channel} took no more: {names}",
            )
        return result

    def _address(self, number: str) -> str:
        bare = without_channel_prefix(number.strip())
        return f"{WHATSAPP_PREFIX}{bare}" if self.is_whatsapp else bare

    def _recipient(self, message: OutboundMessage) -> str:
        """The number the customer last wrote from on this channel in the ticket, else their
        phone identity."""
        inbound: Mapping[str, Any] = message.metadata.get("inbound") or {}
        number = without_channel_prefix(str(inbound.get("from") or ""))
        if not number and message.recipient.kind == "phone":
            number = message.recipient.value
        if not number:
            raise ValueError(f"This customer has no phone number to answer on {self.channel}.")
        return number

    def _send_template(
        self, account: MessagingAccount, base_form: dict[str, str], template: Mapping[str, Any]
    ) -> SendResult:
        content_sid = str(template.get("content_sid") or "").strip()
        if not content_sid:
            raise ValueError("The template to send has no Content SID.")
        variables = {str(k): str(v) for k, v in dict(template.get("variables") or {}).items()}
        form = {
            **base_form,
            "ContentSid": content_sid,
            "StatusCallback": status_callback_url(account),
        }
        if variables:
            form["ContentVariables"] = json.dumps(variables, ensure_ascii=False)
        answer = message_create(account, form)
        return SendResult(provider_message_id=str(answer["sid"]), state="sent")

    def _send_text(
        self,
        account: MessagingAccount,
        base_form: dict[str, str],
        message_id: int,
        text: str,
        reply: dict[str, Any],
        *,
        media: list[str] | None = None,
    ) -> SendResult:
        """One Message per part of at most 1600 characters. The sids of the parts sent so far
        are recorded on the reply, so a retry after a failed part sends only the rest; the
        first sid is the reply's provider id."""
        parts = body_parts(text) or [""]  # files alone: one message without a body
        sent = [str(s) for s in reply.get(PARTS_METADATA) or []][: len(parts)]
        for index in range(len(sent), len(parts)):
            form: dict[str, Any] = {
                **base_form,
                "Body": parts[index],
                "StatusCallback": status_callback_url(
                    account,
                    part=index + 1,
                    parts=len(parts),
                    first_sid=sent[0] if sent else "",
                ),
            }
            if index == 0 and media:
                form["MediaUrl"] = list(media)  # repeated form field, as Twilio takes it
            if not form["Body"]:
                del form["Body"]
            answer = message_create(account, form)
            sent.append(str(answer["sid"]))
            if len(parts) > 1:
                parts_record(message_id, PARTS_METADATA, sent)
        return SendResult(provider_message_id=sent[0], state="sent")


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _datetime_or_none(value: str | None) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


def _location(form: Mapping[str, str]) -> dict[str, str]:
    if not (form.get("Latitude") and form.get("Longitude")):
        return {}
    fields = {"Latitude": "latitude", "Longitude": "longitude", "Address": "address"}
    location = {key: form[field] for field, key in fields.items() if form.get(field)}
    if form.get("Label"):
        location["label"] = form["Label"]
    return location


def _location_text(location: Mapping[str, str]) -> str:
    place = ", ".join(v for v in (location.get("label"), location.get("address")) if v)
    where = f"{location['latitude']}, {location['longitude']}"
    return f"Shared a location: {place} ({where})" if place else f"Shared a location: {where}"


def _skipped_text(item: Mapping[str, Any]) -> str:
    kind = item.get("content_type") or "file"
    size = f", {_size(int(item['size']))}" if item.get("size") else ""
    return f"[Attachment not kept: {kind}{size}, {item['reason']}]"


MMS_MAX_MEDIA = 10

ADAPTERS: list[ChannelAdapter] = [
    TwilioMessagingAdapter(Channel.SMS.value),
    TwilioMessagingAdapter(Channel.WHATSAPP.value),
]

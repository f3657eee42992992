"""Incoming SMS, MMS and WhatsApp messages through Twilio's webhook, end to end."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from frontline.channels.accounts import account_create
from frontline.channels.models import PayloadStatus, RawPayload
from frontline.channels.services import raw_payload_process
from frontline.customers.models import Identity
from frontline.tickets.models import Attachment, Message, Ticket
from tests.channels.twilio.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CUSTOMER_NUMBER,
    OUR_NUMBER,
    message_form,
    new_sid,
)
from tests.factories import TeamFactory
from tests.fakes.provider_server import Reply

pytestmark = pytest.mark.django_db

TWIML_EMPTY = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def test_an_sms_opens_a_ticket_on_sms_with_the_senders_phone(sms_account, twilio_post):
    data = message_form("inbound_sms")
    response = twilio_post(sms_account, data)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content == TWIML_EMPTY
    ticket = Ticket.objects.get()
    assert ticket.channel == "sms"
    message = ticket.messages.get()
    assert message.text == data["Body"]
    assert message.provider_message_id == data["MessageSid"]
    assert message.direction == "inbound"
    assert message.metadata["account_id"] == sms_account.pk
    assert message.metadata["from"] == CUSTOMER_NUMBER
    assert message.metadata["to"] == OUR_NUMBER
    assert message.metadata["num_segments"] == "1"
    assert message.metadata["num_media"] == "0"
    assert message.metadata["from_city"] == "SAN FRANCISCO"
    identity = Identity.objects.get(customer=ticket.requester)
    assert (identity.kind, identity.value) == ("phone", CUSTOMER_NUMBER)
    payload = RawPayload.objects.get()
    assert payload.status == PayloadStatus.PROCESSED
    assert payload.channel == "sms"
    assert payload.provider_message_id == data["MessageSid"]
    assert payload.message_id == message.pk


def test_a_second_sms_from_the_same_number_continues_the_open_ticket(sms_account, twilio_post):
    twilio_post(sms_account, message_form("inbound_sms", Body="My parcel is late"))
    twilio_post(sms_account, message_form("inbound_sms", Body="It was due Monday"))

    ticket = Ticket.objects.get()
    assert list(ticket.messages.values_list("text", flat=True)) == [
        "My parcel is late",
        "It was due Monday",
    ]


def test_whatsapp_from_the_same_number_is_the_same_customer_as_sms(
    sms_account, whatsapp_account, twilio_post
):
    twilio_post(sms_account, message_form("inbound_sms"))
    data = message_form("inbound_whatsapp")
    twilio_post(whatsapp_account, data)

    sms_ticket = Ticket.objects.get(channel="sms")
    whatsapp_ticket = Ticket.objects.get(channel="whatsapp")
    assert whatsapp_ticket.requester_id == sms_ticket.requester_id
    assert Identity.objects.filter(kind="phone", value=CUSTOMER_NUMBER).count() == 1
    message = whatsapp_ticket.messages.get()
    assert message.text == data["Body"]
    assert message.metadata["wa_id"] == "14155550123"
    assert message.metadata["profile_name"] == "Ana Souza"
    assert message.metadata["from"] == f"whatsapp:{CUSTOMER_NUMBER}"
    assert message.metadata["account_id"] == whatsapp_account.pk
    assert message.metadata["message_type"] == "text"


def test_a_whatsapp_sender_gets_their_profile_name(whatsapp_account, twilio_post):
    twilio_post(whatsapp_account, message_form("inbound_whatsapp"))

    assert Ticket.objects.get().requester.name == "Ana Souza"


def test_a_shared_location_becomes_readable_text(whatsapp_account, twilio_post):
    twilio_post(whatsapp_account, message_form("inbound_whatsapp_location"))

    message = Message.objects.get()
    assert "The Harrow Club, 187 Freston Road" in message.text
    assert "51.51322977399644, -0.2197976373036567" in message.text
    assert message.metadata["location"]["label"] == "The Harrow Club"


def _twilio_media_route(fake_provider, name: str, content: bytes, content_type: str) -> str:
    """A media URL shaped like Twilio's, answering with a redirect to the stored file (as
    Twilio redirects to its media storage)."""
    storage_url = fake_provider.serve_media(name, content, content_type)
    media_sid = new_sid("ME")
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM0/Media/{media_sid}"
    fake_provider.route(
        "GET",
        f"^{re.escape(path)}$",
        Reply(status=302, body=b"", headers={"Location": storage_url}),
    )
    return fake_provider.url + path


def test_mms_media_is_downloaded_with_basic_auth_and_attached(
    sms_account, twilio_post, fake_provider
):
    photo = b"\xff\xd8\xff\xe0 a JPEG of a damaged box"
    invoice = b"%PDF-1.7 invoice 4411"
    data = message_form(
        "inbound_mms",
        MediaUrl0=_twilio_media_route(fake_provider, "box.jpg", photo, "image/jpeg"),
        MediaUrl1=_twilio_media_route(fake_provider, "invoice.pdf", invoice, "application/pdf"),
    )
    twilio_post(sms_account, data)

    message = Message.objects.get()
    assert message.text == "Here is the damaged box"
    stored = {a.content_type: a.file.read() for a in message.attachments.all()}
    assert stored == {"image/jpeg": photo, "application/pdf": invoice}
    names = {a.content_type: a.filename for a in message.attachments.all()}
    assert re.fullmatch(r"ME[0-9a-f]{32}\.jpg", names["image/jpeg"])
    assert re.fullmatch(r"ME[0-9a-f]{32}\.pdf", names["application/pdf"])
    assert message.metadata["media_urls"] == [data["MediaUrl0"], data["MediaUrl1"]]
    downloads = fake_provider.received("GET", r"/Media/ME")
    assert len(downloads) == 2
    expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert {r.headers["Authorization"] for r in downloads} == {f"Basic {expected}"}


def test_oversized_media_is_left_out_and_noted(sms_account, twilio_post, fake_provider, settings):
    settings.ATTACHMENT_MAX_BYTES = 1000
    data = message_form(
        "inbound_mms",
        MediaUrl0=fake_provider.serve_media("small.jpg", b"x" * 500, "image/jpeg"),
        MediaUrl1=fake_provider.serve_media("huge.pdf", b"y" * 5000, "application/pdf"),
    )
    twilio_post(sms_account, data)

    message = Message.objects.get()
    assert [a.content_type for a in message.attachments.all()] == ["image/jpeg"]
    assert "Here is the damaged box" in message.text
    assert "[Attachment not kept: application/pdf, 4.9 KB, larger than the 1000 bytes limit]" in (
        message.text
    )
    (skipped,) = message.metadata["media_skipped"]
    assert skipped["url"] == data["MediaUrl1"]
    assert skipped["size"] == 5000
    assert RawPayload.objects.get().status == PayloadStatus.PROCESSED


def test_media_that_is_gone_is_noted_and_the_message_still_arrives(
    sms_account, twilio_post, fake_provider
):
    data = message_form(
        "inbound_mms",
        NumMedia="1",
        MediaUrl0=f"{fake_provider.url}/media/deleted.jpg",
    )
    twilio_post(sms_account, data)

    message = Message.objects.get()
    assert "could not be downloaded (HTTP 404)" in message.text
    assert not Attachment.objects.exists()


def test_a_media_server_error_leaves_the_payload_for_a_retry_that_then_works(
    sms_account, twilio_post, fake_provider
):
    url = _twilio_media_route(fake_provider, "box.jpg", b"jpeg bytes", "image/jpeg")
    fake_provider.fail_next(1, status=503)
    twilio_post(sms_account, message_form("inbound_mms", NumMedia="1", MediaUrl0=url))

    payload = RawPayload.objects.get()
    assert payload.status == PayloadStatus.PENDING  # kept: the task retries it later
    assert not Message.objects.exists()

    raw_payload_process(payload.pk)  # the retry (or the sweeper)

    message = Message.objects.get()
    assert message.attachments.get().file.read() == b"jpeg bytes"
    assert len(fake_provider.received("GET", r"/Media/ME")) == 2
    payload.refresh_from_db()
    assert payload.status == PayloadStatus.PROCESSED
    assert payload.attempts == 2


def test_media_still_failing_after_an_hour_no_longer_holds_the_message_back(
    sms_account, twilio_post, fake_provider
):
    url = _twilio_media_route(fake_provider, "box.jpg", b"jpeg bytes", "image/jpeg")
    fake_provider.fail_next(1, status=503)
    twilio_post(sms_account, message_form("inbound_mms", NumMedia="1", MediaUrl0=url))
    payload = RawPayload.objects.get()
    assert payload.status == PayloadStatus.PENDING
    an_hour_ago = (timezone.now() - timedelta(minutes=61)).isoformat()
    RawPayload.objects.filter(pk=payload.pk).update(
        headers={**payload.headers, "received_at": an_hour_ago}
    )
    fake_provider.fail_next(1, status=503)

    raw_payload_process(payload.pk)

    message = Message.objects.get()
    assert message.text == (
        "Here is the damaged box\n\n"
        "[Attachment not kept: image/jpeg, could not be downloaded (HTTP 503)]"
    )
    assert not message.attachments.exists()
    assert message.metadata["media_skipped"][0]["url"] == url


@pytest.mark.parametrize(
    "case", ["missing", "wrong token", "body changed after signing", "other url"]
)
def test_forged_or_missing_signatures_are_refused_and_nothing_is_stored(
    sms_account, twilio_post, case
):
    from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

    data = message_form("inbound_sms")
    before = RawPayload.objects.count()
    if case == "missing":
        response = twilio_post(sms_account, data, signature="")
    elif case == "wrong token":
        response = twilio_post(sms_account, data, token="not-the-token")
    elif case == "body changed after signing":
        path_url = "http://testserver/channels/twilio/support-sms/messages"
        signature = RequestValidator(AUTH_TOKEN).compute_signature(path_url, data)
        response = twilio_post(sms_account, {**data, "Body": "forged"}, signature=signature)
    else:
        response = twilio_post(
            sms_account, data, signed_url="https://evil.example/channels/twilio/x/messages"
        )

    assert response.status_code == 403
    assert RawPayload.objects.count() == before
    assert not Message.objects.exists()


def test_a_payload_of_another_twilio_account_is_refused(sms_account, twilio_post):
    data = message_form("inbound_sms", AccountSid="AC" + "0" * 32)

    response = twilio_post(sms_account, data)

    assert response.status_code == 403
    assert not RawPayload.objects.exists()


def test_an_unknown_account_key_is_not_found(sms_account, client):
    response = client.post(
        "/channels/twilio/no-such-account/messages",
        data="From=%2B1",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 404


def test_the_signature_covers_the_public_url_behind_a_proxy(fake_provider, twilio_post):
    account = account_create(
        provider="twilio_sms", name="Proxied", key="proxied", address=OUR_NUMBER,
        account_sid=ACCOUNT_SID, api_base_url=fake_provider.url,
        public_url="https://help.example.com", secrets={"auth_token": AUTH_TOKEN},
    )  # fmt: skip
    data = message_form("inbound_sms")

    assert twilio_post(account, data).status_code == 403  # signed for the internal host
    public = "https://help.example.com/channels/twilio/proxied/messages"
    assert twilio_post(account, data, signed_url=public).status_code == 200
    assert Message.objects.get().provider_message_id == data["MessageSid"]


def test_the_same_webhook_posted_five_times_gives_one_message(sms_account, twilio_post):
    data = message_form("inbound_sms")

    responses = [twilio_post(sms_account, data) for _ in range(5)]

    assert {r.status_code for r in responses} == {200}
    assert RawPayload.objects.count() == 1
    assert Message.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_a_team_account_puts_new_tickets_in_its_team(fake_provider, twilio_post):
    team = TeamFactory()
    account = account_create(
        provider="twilio_sms", name="Billing SMS", key="billing-sms", address="+14155550199",
        account_sid=ACCOUNT_SID, api_base_url=fake_provider.url, team_id=team.pk,
        secrets={"auth_token": AUTH_TOKEN},
    )  # fmt: skip
    twilio_post(account, message_form("inbound_sms", To="+14155550199"))

    ticket = Ticket.objects.get()
    assert ticket.team_id == team.pk
    assert ticket.messages.get().metadata["account_id"] == account.pk


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"EventType": "onMessageAdded", "ConversationSid": "CH" + "1" * 32}, "onMessageAdded"),
        ({"AccountSid": ACCOUNT_SID, "Body": "no sender"}, "without MessageSid or From"),
        ({"MessageSid": "SM" + "2" * 32, "From": "TWILIO", "Body": "hi"}, "not a phone number"),
        (
            {"MessageSid": "SM" + "3" * 32, "From": CUSTOMER_NUMBER, "Body": "", "NumMedia": "0"},
            "no text, media or location",
        ),
    ],
)
def test_an_unknown_payload_is_kept_as_unsupported(sms_account, twilio_post, data, reason):
    response = twilio_post(sms_account, {"AccountSid": ACCOUNT_SID, **data})

    assert response.status_code == 200
    payload = RawPayload.objects.get()
    assert payload.status == PayloadStatus.UNSUPPORTED
    assert reason in payload.error
    assert not Message.objects.exists()


def test_a_malformed_payload_is_kept_as_failed(sms_account, twilio_post):
    twilio_post(sms_account, message_form("inbound_sms", NumMedia="two"))

    payload = RawPayload.objects.get()
    assert payload.status == PayloadStatus.FAILED
    assert "unparseable" in payload.error
    assert not Message.objects.exists()


def test_a_payload_is_parsed_again_the_same_way_when_replayed(sms_account, twilio_post):
    data = message_form("inbound_sms")
    twilio_post(sms_account, data)
    payload = RawPayload.objects.get()
    RawPayload.objects.filter(pk=payload.pk).update(status=PayloadStatus.PENDING)

    raw_payload_process(payload.pk)

    assert Message.objects.count() == 1
    assert RawPayload.objects.get().status == PayloadStatus.DUPLICATE


def test_the_account_credentials_go_only_to_twilio_s_own_host(fake_provider):
    """A media URL on another host is fetched without the auth token, which would leak."""
    import httpx

    from frontline.channels.twilio.media import MediaItem, media_fetch
    from tests.fakes.provider_server import Reply

    fake_provider.route("GET", r"^/files/cat\.jpg$", Reply(body=b"jpeg", content_type="image/jpeg"))
    on_twilio = f"{fake_provider.url}/files/cat.jpg"
    elsewhere = on_twilio.replace("127.0.0.1", "localhost")
    fetched = media_fetch(
        [MediaItem(url=on_twilio), MediaItem(url=elsewhere)],
        auth=httpx.BasicAuth("AC1", "secret-token"),
        auth_host="127.0.0.1",
        max_bytes=1000,
    )
    assert [a.content for a in fetched.attachments] == [b"jpeg", b"jpeg"]
    first, second = fake_provider.received("GET", r"^/files/")
    assert first.headers.get("Authorization", "").startswith("Basic ")
    assert "Authorization" not in second.headers

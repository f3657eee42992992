"""The raw-MIME HTTPS endpoint: POST /channels/email/inbound/<mailbox address>."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from frontline.channels.email.handlers import mailbox_inbound_secret_set
from frontline.channels.models import Mailbox, RawPayload
from frontline.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/channels/email/inbound/support@example.com"


def raw_mail(
    *, message_id: str = "<h1@example.org>", body: str = "My stove leaks.", to: str = ""
) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Ana Lima <ana@example.org>"
    msg["To"] = to or "support@example.com"
    msg["Subject"] = "Leaking stove"
    msg["Message-ID"] = message_id
    msg.set_content(body)
    return msg.as_bytes()


@pytest.fixture
def secret():
    mailbox = Mailbox.objects.create(name="Support", address="support@example.com")
    return mailbox_inbound_secret_set(mailbox)


def post(data: bytes, *, secret: str = "", url: str = URL, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    return Client(enforce_csrf_checks=True).post(
        url, data=data, content_type="message/rfc822", **headers, **extra
    )


def test_secret_is_stored_hashed_only(secret):
    mailbox = Mailbox.objects.get()
    assert mailbox.inbound_secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in mailbox.inbound_secret_hash
    assert len(secret) >= 40


def test_good_secret_makes_a_ticket(secret):
    response = post(raw_mail(), secret=secret)
    assert response.status_code == 202
    body = response.json()
    assert body["duplicate"] is False
    payload = RawPayload.objects.get(pk=body["payload_id"])
    assert payload.status == "processed"
    assert payload.headers["via"] == "https"
    ticket = Ticket.objects.get()
    assert ticket.subject == "Leaking stove" and ticket.channel == "email"
    assert ticket.requester.identities.get().value == "ana@example.org"
    assert payload.ticket_id == ticket.pk


def test_secret_in_the_query_string(secret):
    response = Client().post(
        f"{URL}?secret={secret}", data=raw_mail(), content_type="application/octet-stream"
    )
    assert response.status_code == 202
    assert Ticket.objects.count() == 1


def test_plus_address_reaches_the_mailbox(secret):
    response = post(raw_mail(), secret=secret, url="/channels/email/inbound/support+x@example.com")
    assert response.status_code == 202


def test_wrong_or_missing_secret_is_401(secret):
    assert post(raw_mail(), secret="nope").status_code == 401
    response = post(raw_mail())
    assert response.status_code == 401
    assert "secret" in response.json()["error"]
    assert RawPayload.objects.count() == 0


def test_mailbox_without_a_secret_refuses_everything():
    Mailbox.objects.create(name="Support", address="support@example.com")
    assert post(raw_mail(), secret="anything").status_code == 401


def test_unknown_mailbox_is_404(secret):
    response = post(raw_mail(), secret=secret, url="/channels/email/inbound/nobody@example.com")
    assert response.status_code == 404


def test_too_big_is_413(secret, settings):
    settings.SMTP_MAX_MESSAGE_BYTES = 2000
    response = post(raw_mail(body="x" * 5000), secret=secret)
    assert response.status_code == 413
    assert RawPayload.objects.count() == 0


def test_get_is_not_allowed(secret):
    assert Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 405


def test_retry_returns_the_same_payload(secret):
    first = post(raw_mail(), secret=secret).json()
    second = post(raw_mail(), secret=secret)
    assert second.status_code == 202
    assert second.json() == {"payload_id": first["payload_id"], "duplicate": True}
    assert RawPayload.objects.count() == 1 and Ticket.objects.count() == 1


def test_retry_without_message_id_dedupes_by_content(secret):
    raw = b"From: ana@example.org\r\nTo: support@example.com\r\nSubject: hi\r\n\r\nHello\r\n"
    first = post(raw, secret=secret).json()
    second = post(raw, secret=secret).json()
    assert second == {"payload_id": first["payload_id"], "duplicate": True}


def test_garbage_is_stored_and_failed_with_a_reason(secret):
    response = post(b"this is not an email at all\x00\xff", secret=secret)
    assert response.status_code == 202
    payload = RawPayload.objects.get(pk=response.json()["payload_id"])
    assert payload.status == "failed"
    assert "no usable From address" in payload.error
    assert bytes(payload.body).startswith(b"this is not an email")
    assert Ticket.objects.count() == 0


def test_empty_body_is_400(secret):
    assert post(b"", secret=secret).status_code == 400


def test_multipart_form_field(secret):
    client = Client()
    response = client.post(
        URL,
        data={"email": raw_mail(message_id="<form@example.org>").decode(), "to": "x"},
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 202
    assert Ticket.objects.get().messages.get().provider_message_id == "<form@example.org>"


def test_multipart_file_upload(secret):
    upload = SimpleUploadedFile(
        "mail.eml", raw_mail(message_id="<file@example.org>"), "message/rfc822"
    )
    response = Client().post(URL, data={"email": upload}, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 202
    assert Ticket.objects.get().messages.get().provider_message_id == "<file@example.org>"


def test_multipart_without_the_field_is_400(secret):
    response = Client().post(URL, data={"other": "x"}, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 400

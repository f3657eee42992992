"""Outgoing replies are DKIM-signed when configured, and the signature verifies on arrival."""

from __future__ import annotations

import base64
import smtplib

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from frontline.channels.email import backend
from frontline.tickets.actors import Actor
from frontline.tickets.models import Ticket
from frontline.tickets.services import message_add
from tests.channels.email.test_smtp_roundtrip import customer_mail
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dkim_key(settings):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings.DKIM_SELECTOR = "fl1"
    settings.DKIM_PRIVATE_KEY = pem
    settings.DKIM_DOMAIN = ""
    backend._private_key.cache_clear()
    yield b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    backend._private_key.cache_clear()


def test_signed_reply_verifies(receiver, sink, dkim_key, settings):
    settings.EMAIL_BACKEND = "frontline.channels.email.backend.EmailBackend"
    raws: list[bytes] = []
    original = sink.handle_DATA

    async def keep_raw(server, session, envelope):
        raws.append(envelope.original_content)
        return await original(server, session, envelope)

    sink.handle_DATA = keep_raw
    with smtplib.SMTP("127.0.0.1", receiver, timeout=10) as smtp:
        smtp.send_message(customer_mail("Hello", message_id="<d1@example.org>", subject="Hi"))
    ticket = Ticket.objects.get()
    message_add(ticket=ticket, actor=Actor.for_user(UserFactory()), text="Signed answer.")
    assert sink.arrived.wait(10)
    raw = raws[0]
    assert raw.startswith(b"DKIM-Signature:") and b"d=example.com" in raw and b"s=fl1" in raw

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"fl1._domainkey.example.com."
        return dkim_key

    assert dkim.verify(raw, dnsfunc=dns)
    tampered = raw.replace(b"Signed answer.", b"Changed answer.")
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_unsigned_without_configuration(settings):
    settings.DKIM_SELECTOR = ""
    assert backend.dkim_sign(b"From: a@x.com\r\n\r\nhi", from_address="a@x.com") == (
        b"From: a@x.com\r\n\r\nhi"
    )

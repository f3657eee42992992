"""Mutated MIME through the whole inbound path: the raw message is always stored, processing
never raises, and a message that cannot become a ticket says why."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frontline.channels.models import RawPayload
from frontline.channels.services import raw_payload_process, raw_payload_store

pytestmark = pytest.mark.django_db


def _seed() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Ana <ana@example.org>"
    msg["To"] = "support@example.com"
    msg["Subject"] = "Re: order 1042 [#7]"
    msg["Message-ID"] = "<seed@example.org>"
    msg.set_content("Where is it?\n\nOn Mon, Ana wrote:\n> old")
    msg.add_alternative("<p>Where is it?</p><blockquote>old</blockquote>", subtype="html")
    msg.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="a.pdf")
    return msg.as_bytes()


SEED = _seed()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.integers(min_value=0, max_value=len(SEED) - 1),
    st.binary(min_size=1, max_size=30),
    st.sampled_from(["insert", "replace", "truncate", "garbage"]),
)
def test_whatever_arrives_is_kept_and_accounted_for(position, noise, how):
    if how == "insert":
        raw = SEED[:position] + noise + SEED[position:]
    elif how == "replace":
        raw = SEED[:position] + noise + SEED[position + len(noise) :]
    elif how == "truncate":
        raw = SEED[:position]
    else:
        raw = noise
    raw = raw.replace(b"<seed@example.org>", b"")  # each variant is its own message
    payload, _ = raw_payload_store(channel="email", body=raw, content_type="message/rfc822")
    raw_payload_process(payload.pk)
    payload.refresh_from_db()
    assert bytes(payload.body) == raw
    assert payload.status in {"processed", "duplicate", "failed"}
    if payload.status == "failed":
        assert payload.error.strip()
    else:
        assert payload.message_id is not None
    assert RawPayload.objects.filter(pk=payload.pk).exists()

"""The MIME parser: real-world shapes, broken charsets, and fuzzed input that never crashes."""

from __future__ import annotations

from email.message import EmailMessage

from hypothesis import given, settings
from hypothesis import strategies as st

from frontline.channels.email.parser import decode_bytes, parse_email

SIMPLE = (
    b"From: =?utf-8?q?Jos=C3=A9_P=C3=A9rez?= <Jose@Example.org>\r\n"
    b"To: support@example.com\r\n"
    b"Subject: =?iso-8859-1?q?Cancelaci=F3n?=\r\n"
    b"Message-ID: <abc@example.org>\r\n"
    b"In-Reply-To: <frontline.t12.m34.xyz@example.com>\r\n"
    b"References: <a@x> <frontline.t12.m34.xyz@example.com>\r\n"
    b"Content-Type: text/plain; charset=iso-8859-1\r\n"
    b"\r\n"
    b"Quiero cancelar mi pedido, por favor. Gracias, Jos\xe9\r\n"
)


def test_headers_and_latin1_body():
    parsed = parse_email(SIMPLE)
    assert parsed.from_address == "Jose@Example.org"
    assert parsed.from_name == "José Pérez"
    assert parsed.subject == "Cancelación"
    assert parsed.message_id == "<abc@example.org>"
    assert parsed.references == ["<a@x>", "<frontline.t12.m34.xyz@example.com>"]
    assert parsed.in_reply_to == ["<frontline.t12.m34.xyz@example.com>"]
    assert parsed.text.endswith("Gracias, José")
    assert parsed.problems == []


def test_mislabelled_charset_is_repaired_not_fatal():
    raw = SIMPLE.replace(b"charset=iso-8859-1", b"charset=utf-8")
    parsed = parse_email(raw)
    assert "Gracias, Jos" in parsed.text
    assert any("charset" in p for p in parsed.problems)
    unknown = SIMPLE.replace(b"charset=iso-8859-1", b"charset=x-klingon")
    assert "Gracias" in parse_email(unknown).text


def test_decode_bytes_fallbacks():
    assert decode_bytes("żółw".encode(), "utf-8") == ("żółw", True)
    assert decode_bytes(b"\x93quoted\x94", "unknown-8bit")[0] == "\u201cquoted\u201d"
    text, clean = decode_bytes(b"caf\xe9", None)
    assert text == "café" and not clean


def _multipart() -> bytes:
    msg = EmailMessage()
    msg["From"] = "bob@example.com"
    msg["To"] = "support@example.com"
    msg["Subject"] = "Photo of the damage"
    msg.set_content("See the photo.")
    msg.add_alternative('<p>See the photo: <img src="cid:photo1"></p>', subtype="html")
    html_part = msg.get_payload()[1]  # type: ignore[index]
    html_part.add_related(b"\x89PNG fake", maintype="image", subtype="png", cid="<photo1>")
    msg.add_attachment(b"TNEF", maintype="application", subtype="ms-tnef", filename="winmail.dat")
    msg.add_attachment(
        b"sig", maintype="application", subtype="pkcs7-signature", filename="smime.p7s"
    )
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="invoice.pdf")
    return msg.as_bytes()


def test_multipart_alternative_related_and_attachments():
    parsed = parse_email(_multipart())
    assert parsed.text == "See the photo."
    assert 'src="cid:photo1"' in parsed.html
    by_name = {a.filename: a for a in parsed.attachments}
    assert set(by_name) >= {"winmail.dat", "smime.p7s", "invoice.pdf"}
    inline = [a for a in parsed.attachments if a.content_id == "photo1"]
    assert inline and inline[0].inline and inline[0].content == b"\x89PNG fake"
    assert by_name["winmail.dat"].content == b"TNEF"


def test_auto_reply_bulk_and_bounce_flags():
    auto = b"From: a@x.com\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\n\r\nAway"
    assert parse_email(auto).auto_submitted
    human = b"From: a@x.com\r\nAuto-Submitted: no\r\nSubject: hi\r\n\r\nhi"
    assert not parse_email(human).auto_submitted
    bulk = b"From: news@x.com\r\nPrecedence: bulk\r\nList-Id: <n.x.com>\r\n\r\nnews"
    assert parse_email(bulk).bulk
    dsn = (
        b"From: MAILER-DAEMON@x.com\r\nContent-Type: multipart/report; "
        b'report-type=delivery-status; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
        b"Delivery failed\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Status: 5.1.1\r\n--b--\r\n"
    )
    assert parse_email(dsn).bounce


def test_no_from_is_reported():
    parsed = parse_email(b"Subject: who am I\r\n\r\nbody")
    assert parsed.from_address == "" and "no usable From address" in parsed.problems


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash(raw):
    parsed = parse_email(raw)
    assert isinstance(parsed.text, str)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0, max_value=len(_multipart()) - 1),
    st.binary(min_size=1, max_size=40),
    st.sampled_from(["insert", "replace", "truncate"]),
)
def test_mutated_mime_never_crashes(position, noise, how):
    raw = _multipart()
    if how == "insert":
        mutated = raw[:position] + noise + raw[position:]
    elif how == "replace":
        mutated = raw[:position] + noise + raw[position + len(noise) :]
    else:
        mutated = raw[:position]
    parsed = parse_email(mutated)
    assert isinstance(parsed.to_dict(), dict)

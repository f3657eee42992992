"""Identity normalisation, hammered with hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from frontline.customers.normalize import (
    InvalidIdentity,
    normalize_email,
    normalize_handle,
    normalize_identity,
    normalize_phone,
)

local_part = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,20}", fullmatch=True)
domain = st.from_regex(r"[A-Za-z0-9]{1,12}\.(com|org|net|DE|Io)", fullmatch=True)


@given(local_part, domain)
def test_email_casefold_is_idempotent_and_case_insensitive(local, dom):
    raw = f"{local}@{dom}"
    once = normalize_email(raw)
    assert once == normalize_email(once)
    assert once == normalize_email(raw.upper())
    assert once == normalize_email(f"  <{raw}>  ")
    assert once == once.lower()


@pytest.mark.parametrize(
    "bad", ["", "no-at-sign", "a@b", "a b@c.com", "a@@b.com", "<>", "@example.com"]
)
def test_bad_emails_are_refused(bad):
    with pytest.raises(InvalidIdentity):
        normalize_email(bad)


def test_idn_domain_becomes_punycode():
    assert normalize_email("José@Bücher.de") == "josé@xn--bcher-kva.de"


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(415) 555-0100", "US", "+14155550100"),
        ("+1 415 555 0100", "US", "+14155550100"),
        ("001 415 555 0100", "DE", "+14155550100"),
        ("whatsapp:+447700900123", "US", "+447700900123"),
        ("030 1234567", "DE", "+49301234567"),
        ("+49 30 1234567", "US", "+49301234567"),
    ],
)
def test_phones_to_e164(raw, region, expected):
    assert normalize_phone(raw, default_region=region) == expected


@given(st.integers(min_value=2012000000, max_value=9899999999))
def test_us_numbers_in_any_format_agree(number):
    digits = str(number)
    assume(digits[0] not in "01" and digits[3] not in "01")
    plain = normalize_phone(digits, default_region="US")
    formatted = normalize_phone(f"({digits[:3]}) {digits[3:6]}-{digits[6:]}", default_region="US")
    international = normalize_phone(f"+1 {digits}", default_region="DE")
    assert plain == formatted == international == f"+1{digits}"
    assert normalize_phone(plain) == plain


@given(st.text(max_size=40))
def test_phone_normaliser_never_crashes(raw):
    try:
        result = normalize_phone(raw)
    except InvalidIdentity:
        return
    assert result.startswith("+") and result[1:].isdigit()


@given(st.text(max_size=60))
def test_identity_normaliser_either_accepts_idempotently_or_refuses(raw):
    for kind, network in (("email", ""), ("chat", ""), ("social", "twitter"), ("external", "shop")):
        try:
            normalized = normalize_identity(kind, raw, network)
        except InvalidIdentity:
            continue
        kind_, network_, value_ = normalized
        assert normalize_identity(kind_, value_, network_) == normalized


def test_handles_drop_at_and_case():
    assert normalize_handle("@OutdoorFan") == "outdoorfan"
    assert normalize_identity("social", "@Ana", "Instagram") == ("social", "instagram", "ana")
    with pytest.raises(InvalidIdentity):
        normalize_identity("social", "ana")  # network required
    with pytest.raises(InvalidIdentity):
        normalize_identity("fax", "123")

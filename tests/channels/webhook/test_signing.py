"""The X-Frontline-Signature scheme: HMAC-SHA256 over "<t>." + body, with replay protection
and several v1 values during a secret rotation."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from frontline.channels.webhook.signing import SignatureInvalid, sign, verify

NOW = 1_795_000_000
secrets_ = st.text(min_size=1, max_size=64)
bodies = st.binary(max_size=2048)


def test_the_header_is_the_documented_hmac():
    body = b'{"type":"message"}'
    header = sign("s3cret", body, NOW)
    expected = hmac.new(b"s3cret", f"{NOW}.".encode() + body, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"


@settings(max_examples=200, deadline=None)
@given(secret=secrets_, body=bodies, now=st.integers(min_value=0, max_value=2**40))
def test_sign_then_verify_round_trips(secret, body, now):
    verify(secret, body, sign(secret, body, now), now)


@settings(max_examples=300, deadline=None)
@given(secret=secrets_, body=bodies.filter(bool), data=st.data())
def test_any_changed_byte_of_the_body_fails(secret, body, data):
    header = sign(secret, body, NOW)
    index = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    replacement = data.draw(
        st.integers(min_value=0, max_value=255).filter(lambda b: b != body[index])
    )
    tampered = body[:index] + bytes([replacement]) + body[index + 1 :]
    with pytest.raises(SignatureInvalid, match="does not match"):
        verify(secret, tampered, header, NOW)


@settings(max_examples=300, deadline=None)
@given(secret=secrets_, body=bodies, data=st.data())
def test_any_changed_character_of_the_signature_fails(secret, body, data):
    header = sign(secret, body, NOW)
    digest_start = header.index("v1=") + 3
    index = data.draw(st.integers(min_value=digest_start, max_value=len(header) - 1))
    replacement = data.draw(
        st.sampled_from("0123456789abcdef").filter(lambda c: c != header[index])
    )
    with pytest.raises(SignatureInvalid):
        verify(secret, body, header[:index] + replacement + header[index + 1 :], NOW)


@settings(max_examples=100, deadline=None)
@given(secret=secrets_, other=secrets_, body=bodies)
def test_another_secret_fails(secret, other, body):
    assume(secret != other)
    with pytest.raises(SignatureInvalid):
        verify(other, body, sign(secret, body, NOW), NOW)


def test_a_changed_timestamp_fails_even_within_the_tolerance():
    header = sign("s", b"{}", NOW)
    moved = header.replace(f"t={NOW}", f"t={NOW + 1}")
    with pytest.raises(SignatureInvalid, match="does not match"):
        verify("s", b"{}", moved, NOW)


@pytest.mark.parametrize("age", [301, -301, 86_400])
def test_old_or_future_timestamps_are_refused(age):
    header = sign("s", b"{}", NOW - age)
    with pytest.raises(SignatureInvalid, match="tolerance"):
        verify("s", b"{}", header, NOW)


@pytest.mark.parametrize("age", [0, 300, -300])
def test_timestamps_within_the_tolerance_pass(age):
    verify("s", b"{}", sign("s", b"{}", NOW - age), NOW)


def test_a_custom_tolerance():
    header = sign("s", b"{}", NOW - 60)
    verify("s", b"{}", header, NOW, tolerance=60)
    with pytest.raises(SignatureInvalid):
        verify("s", b"{}", header, NOW, tolerance=59)


def test_rotation_the_sender_signs_with_both_secrets_and_either_is_accepted():
    header = sign(["old", "new"], b"{}", NOW)
    assert header.count("v1=") == 2
    verify("old", b"{}", header, NOW)
    verify("new", b"{}", header, NOW)
    with pytest.raises(SignatureInvalid):
        verify("other", b"{}", header, NOW)


def test_rotation_the_receiver_accepts_its_current_or_previous_secret():
    verify(["new", "old"], b"{}", sign("old", b"{}", NOW), NOW)
    verify(["new", "old"], b"{}", sign("new", b"{}", NOW), NOW)


def test_unknown_schemes_and_spaces_are_ignored():
    digest = sign("s", b"{}", NOW).split("v1=")[1]
    verify("s", b"{}", f"t={NOW}, v0=abc, v1={digest.upper()} , v2=zzz", NOW)


@pytest.mark.parametrize(
    "header, reason",
    [
        ("", "missing"),
        ("   ", "missing"),
        ("v1=" + "0" * 64, "exactly one t="),
        (f"t={NOW},t={NOW},v1=" + "0" * 64, "exactly one t="),
        ("t=soon,v1=" + "0" * 64, "exactly one t="),
        ("t=١٢٣,v1=" + "0" * 64, "exactly one t="),
        (f"t={NOW}", "no v1="),
        (f"t={NOW}," + ",".join(["v1=" + "0" * 64] * 9), "more than 8"),
        ("t=1," + "x" * 2000, "too long"),
    ],
)
def test_malformed_headers_are_refused_with_a_reason(header, reason):
    with pytest.raises(SignatureInvalid, match=reason):
        verify("s", b"{}", header, NOW)


def test_no_secret_configured_refuses_everything():
    with pytest.raises(SignatureInvalid, match="no signing secret"):
        verify("", b"{}", sign("s", b"{}", NOW), NOW)
    with pytest.raises(ValueError, match="secret is required"):
        sign([], b"{}", NOW)

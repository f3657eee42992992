"""Proof against Twilio's own Python package: its RequestValidator accepts what our signature
code accepts, and its REST client sends the same request as our adapter."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]

from frontline.channels.twilio.adapter import TwilioMessagingAdapter, status_callback_url
from frontline.channels.twilio.signature import twilio_signature
from frontline.channels.types import OutboundMessage, SenderIdentity
from tests.channels.twilio.conftest import ACCOUNT_SID, AUTH_TOKEN, CUSTOMER_NUMBER, OUR_NUMBER

pytestmark = pytest.mark.django_db

param_names = st.text(
    alphabet=st.characters(min_codepoint=48, max_codepoint=122, categories=["L", "N"]),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(
    params=st.dictionaries(param_names, st.text(max_size=40), max_size=8),
    path=st.sampled_from(["/channels/twilio/a/messages", "/channels/twilio/b/status?part=2"]),
)
def test_our_signature_is_the_one_twilios_validator_computes(params, path):
    url = f"https://help.example.com{path}"
    ours = twilio_signature(AUTH_TOKEN, url, params.items())
    assert ours == RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    assert RequestValidator(AUTH_TOKEN).validate(url, params, ours)


def _twilio_client(fake_provider) -> Client:
    """Twilio's client, with its API domain pointed at the fake server."""
    client = Client(ACCOUNT_SID, AUTH_TOKEN)
    client.api.base_url = fake_provider.url
    return client


def _outbound(account, text="", template=None) -> OutboundMessage:
    return OutboundMessage(
        channel=account.channel,
        message_id=0,
        ticket_id=0,
        recipient=SenderIdentity(kind="phone", value=CUSTOMER_NUMBER),
        text=text,
        metadata={
            "account_id": account.pk,
            "inbound": {},
            "message": {"template": template} if template else {},
        },
    )


def _request_shape(request) -> tuple:
    auth = request.headers["Authorization"]
    return (
        request.method,
        request.path,
        auth,
        {k: v for k, v in request.form.items()},
        request.headers["Content-Type"].split(";")[0],
    )


def test_the_twilio_client_and_our_adapter_send_the_same_sms(sms_account, fake_provider):
    callback = status_callback_url(sms_account)
    message = _twilio_client(fake_provider).messages.create(
        to=CUSTOMER_NUMBER,
        from_=OUR_NUMBER,
        body="Your refund is on its way.",
        status_callback=callback,
    )
    result = TwilioMessagingAdapter("sms").send(
        _outbound(sms_account, "Your refund is on its way.")
    )

    theirs, ours = fake_provider.received("POST")
    assert _request_shape(ours) == _request_shape(theirs)
    expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert ours.headers["Authorization"] == f"Basic {expected}"
    assert message.sid.startswith("SM") and result.provider_message_id.startswith("SM")
    assert result.state == "sent"


def test_the_twilio_client_and_our_adapter_send_the_same_whatsapp_template(
    whatsapp_account, fake_provider
):
    template = {"content_sid": "HX" + "b" * 32, "variables": {"1": "Ana", "2": "Tuesday"}}
    _twilio_client(fake_provider).messages.create(
        to=f"whatsapp:{CUSTOMER_NUMBER}",
        from_=f"whatsapp:{OUR_NUMBER}",
        content_sid=template["content_sid"],
        content_variables=json.dumps(template["variables"]),
        status_callback=status_callback_url(whatsapp_account),
    )
    TwilioMessagingAdapter("whatsapp").send(_outbound(whatsapp_account, "Hi Ana", template))

    theirs, ours = fake_provider.received("POST")
    assert _request_shape(ours) == _request_shape(theirs)
    assert "Body" not in ours.form

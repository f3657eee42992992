"""Agent replies on SMS and WhatsApp, sent through Twilio's Messages API (the fake)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from frontline.channels.accounts import account_create
from frontline.channels.outbound import OutboundRetry, outbound_message_send
from frontline.channels.tasks import outbound_message_send_task
from frontline.channels.twilio.client import TwilioApiError
from frontline.channels.twilio.whatsapp import whatsapp_reply_check
from frontline.core.errors import ValidationFailed
from frontline.tickets.models import Message
from tests.channels.twilio.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CUSTOMER_NUMBER,
    OUR_NUMBER,
    fixture_json,
    form,
    message_form,
    new_sid,
)
from tests.fakes.provider_server import Reply

pytestmark = pytest.mark.django_db

MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def _single(request) -> dict[str, str]:
    return {k: v[-1] for k, v in request.form.items()}


def _ticket_from(account, twilio_post, name="inbound_sms", **overrides):
    twilio_post(account, message_form(name, **overrides))
    return Message.objects.filter(direction="inbound").latest("id").ticket


def test_an_agent_reply_goes_to_twilio_and_becomes_sent_with_its_sid(
    sms_account, twilio_post, agent_reply, fake_provider, settings
):
    settings.SITE_URL = "https://desk.example.com"
    ticket = _ticket_from(sms_account, twilio_post)

    reply = agent_reply(ticket, "Your parcel arrives tomorrow.")

    (request,) = fake_provider.received("POST", r"Messages\.json$")
    assert request.path == MESSAGES_PATH
    expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert _single(request) == {
        "To": CUSTOMER_NUMBER,
        "From": OUR_NUMBER,
        "Body": "Your parcel arrives tomorrow.",
        "StatusCallback": "https://desk.example.com/channels/twilio/support-sms/status",
    }
    assert reply.delivery_state == "sent"
    assert reply.provider_message_id.startswith("SM") and len(reply.provider_message_id) == 34


def test_a_whatsapp_reply_prefixes_both_numbers_and_calls_back_the_public_url(
    fake_provider, twilio_post, agent_reply
):
    account = account_create(
        provider="twilio_whatsapp", name="WhatsApp", key="wa", address=OUR_NUMBER,
        account_sid=ACCOUNT_SID, api_base_url=fake_provider.url,
        public_url="https://help.example.com/anything", secrets={"auth_token": AUTH_TOKEN},
    )  # fmt: skip
    twilio_post(
        account,
        message_form("inbound_whatsapp"),
        signed_url="https://help.example.com/channels/twilio/wa/messages",
    )
    ticket = Message.objects.get().ticket

    reply = agent_reply(ticket, "Olá Ana! It ships today.")

    sent = _single(fake_provider.received("POST", r"Messages\.json$")[0])
    assert sent["To"] == f"whatsapp:{CUSTOMER_NUMBER}"
    assert sent["From"] == f"whatsapp:{OUR_NUMBER}"
    assert sent["Body"] == "Olá Ana! It ships today."
    assert sent["StatusCallback"] == "https://help.example.com/channels/twilio/wa/status"
    assert reply.delivery_state == "sent"


def test_a_reply_goes_to_the_number_the_customer_wrote_from(
    sms_account, twilio_post, agent_reply, fake_provider
):
    from frontline.customers.models import Identity
    from frontline.tickets.selectors import requester_identity

    ticket = _ticket_from(sms_account, twilio_post)
    # The customer is also known by another number, which comes first among their identities.
    Identity.objects.filter(customer=ticket.requester).update(id=9000)
    Identity.objects.create(id=5, customer=ticket.requester, kind="phone", value="+14155550999")
    assert requester_identity(ticket, kind="phone") == ("phone", "", "+14155550999")

    agent_reply(ticket, "Noted.")

    assert _single(fake_provider.received("POST")[0])["To"] == CUSTOMER_NUMBER


def test_a_template_reply_outside_the_window_sends_the_content_sid(
    whatsapp_account, twilio_post, agent_reply, fake_provider
):
    ticket = _ticket_from(whatsapp_account, twilio_post, "inbound_whatsapp")
    Message.objects.filter(ticket=ticket).update(created_at=timezone.now() - timedelta(hours=30))
    with pytest.raises(ValidationFailed, match="24 hours"):
        whatsapp_reply_check(ticket, template=None)
    template = {"content_sid": "HX" + "a" * 32, "variables": {"1": "Ana", "2": "4411"}}
    whatsapp_reply_check(ticket, template=template)  # templates are always allowed

    reply = agent_reply(
        ticket, "Hi Ana, your order 4411 has shipped.", metadata={"template": template}
    )

    sent = _single(fake_provider.received("POST", r"Messages\.json$")[0])
    assert sent["ContentSid"] == template["content_sid"]
    assert json.loads(sent["ContentVariables"]) == {"1": "Ana", "2": "4411"}
    assert "Body" not in sent
    assert sent["To"] == f"whatsapp:{CUSTOMER_NUMBER}"
    assert reply.delivery_state == "sent"


def test_a_provider_error_is_retried_then_sent(
    sms_account, twilio_post, agent_reply, fake_provider
):
    ticket = _ticket_from(sms_account, twilio_post)
    fake_provider.fail_next(1, status=500, body=b'{"code": 20500, "message": "Internal"}')

    reply = agent_reply(ticket, "Checking with the courier.")

    assert reply.delivery_state == "queued"  # the first attempt failed; the task retries
    outbound_message_send_task.delay(reply.pk)  # the retry

    reply.refresh_from_db()
    assert reply.delivery_state == "sent"
    requests = fake_provider.received("POST", r"Messages\.json$")
    assert len(requests) == 2
    assert _single(requests[0]) == _single(requests[1])
    assert reply.provider_message_id.startswith("SM")


def test_an_invalid_number_fails_with_a_clear_message(
    sms_account, twilio_post, agent_reply, fake_provider
):
    ticket = _ticket_from(sms_account, twilio_post)
    fake_provider.route(
        "POST",
        r"/Messages\.json$",
        Reply(status=400, body=json.dumps(fixture_json("error_21211")).encode()),
    )
    reply = agent_reply(ticket, "Hello?", deliver=False)

    with pytest.raises(OutboundRetry, match="21211"):
        outbound_message_send(reply.pk, final_attempt=False)
    outbound_message_send(reply.pk, final_attempt=True)

    reply.refresh_from_db()
    assert reply.delivery_state == "failed"
    assert reply.delivery_error == (
        "Twilio refused the message (HTTP 400): Twilio error 21211, the 'To' number is not a "
        "valid phone number. Retrying will not help until this is fixed."
    )


def test_the_refusal_is_marked_permanent_for_the_agent(sms_account, fake_provider):
    from frontline.channels.twilio.client import message_create

    fake_provider.route(
        "POST",
        r"/Messages\.json$",
        Reply(status=400, body=json.dumps(fixture_json("error_21211")).encode()),
    )
    with pytest.raises(TwilioApiError) as refused:
        message_create(sms_account, {"To": "+1555012", "From": OUR_NUMBER, "Body": "x"})
    assert refused.value.permanent and refused.value.code == 21211
    assert refused.value.status == 400


def test_a_long_reply_goes_out_in_parts_whose_statuses_land_on_the_reply(
    sms_account, twilio_post, agent_reply, fake_provider
):
    ticket = _ticket_from(sms_account, twilio_post)
    text = " ".join(f"Step {n}: check the label and the parcel number." for n in range(1, 80))
    assert len(text) > 3200

    reply = agent_reply(ticket, text)

    requests = fake_provider.received("POST", r"Messages\.json$")
    bodies = [_single(r)["Body"] for r in requests]
    assert len(bodies) == 3
    assert "".join(bodies) == text
    assert all(len(b) <= 1600 for b in bodies)
    assert all(b.endswith(" ") for b in bodies[:-1])  # cut between words
    sids = reply.metadata["twilio_parts"]
    assert len(sids) == 3
    assert reply.provider_message_id == sids[0]
    callbacks = [urlsplit(_single(r)["StatusCallback"]) for r in requests]
    assert {c.path for c in callbacks} == {"/channels/twilio/support-sms/status"}
    assert parse_qs(callbacks[0].query) == {"part": ["1"], "parts": ["3"]}
    assert parse_qs(callbacks[2].query) == {"part": ["3"], "parts": ["3"], "first": [sids[0]]}

    def status(sid, name, query):
        twilio_post(
            sms_account,
            form(name, MessageSid=sid, SmsSid=sid),
            endpoint="status",
            query=query,
        )

    status(sids[0], "status_delivered", callbacks[0].query)
    reply.refresh_from_db()
    assert reply.delivery_state == "sent"  # only its first part is delivered
    status(sids[2], "status_delivered", callbacks[2].query)
    reply.refresh_from_db()
    assert reply.delivery_state == "delivered"
    status(sids[1], "status_undelivered", callbacks[1].query)
    reply.refresh_from_db()
    assert reply.delivery_state == "failed"
    assert reply.delivery_error.startswith("Part 2 of 3: Undelivered: Twilio error 30003")


def test_a_long_reply_retried_after_a_failed_part_does_not_repeat_the_sent_parts(
    sms_account, twilio_post, agent_reply, fake_provider
):
    ticket = _ticket_from(sms_account, twilio_post)
    text = "word " * 700  # 3500 characters: three parts
    calls = []

    def flaky(request, match):
        calls.append(_single(request)["Body"])
        if len(calls) == 2:
            return Reply(status=503, body=b'{"code": 20503, "message": "Unavailable"}')
        sid = new_sid()
        return Reply.json({"sid": sid, "status": "queued"}, status=201)

    fake_provider.route("POST", r"/Messages\.json$", flaky)
    reply = agent_reply(ticket, text, deliver=False)

    with pytest.raises(OutboundRetry):
        outbound_message_send(reply.pk, final_attempt=False)
    reply.refresh_from_db()
    assert reply.delivery_state == "queued"
    assert len(reply.metadata["twilio_parts"]) == 1

    outbound_message_send(reply.pk, final_attempt=False)

    reply.refresh_from_db()
    assert reply.delivery_state == "sent"
    assert len(calls) == 4  # part 1, part 2 refused, then parts 2 and 3
    assert calls[1] == calls[2]
    assert calls[0] + calls[2] + calls[3] == text
    assert len(reply.metadata["twilio_parts"]) == 3
    assert reply.provider_message_id == reply.metadata["twilio_parts"][0]


def test_a_reply_without_an_account_fails_visibly(sms_account, twilio_post, agent_reply):
    ticket = _ticket_from(sms_account, twilio_post)
    sms_account.is_active = False
    sms_account.save()
    reply = agent_reply(ticket, "Anyone there?", deliver=False)

    outbound_message_send(reply.pk, final_attempt=True)

    reply.refresh_from_db()
    assert reply.delivery_state == "failed"
    assert "No active Twilio account sends on sms" in reply.delivery_error


def test_reply_files_go_as_signed_media_links_the_provider_can_fetch(
    sms_account, twilio_post, fake_provider, django_capture_on_commit_callbacks, client
):
    from urllib.parse import urlsplit

    from frontline.tickets.actors import Actor
    from frontline.tickets.services import AttachmentInput, message_add
    from tests.factories import UserFactory

    ticket = _ticket_from(sms_account, twilio_post)
    with django_capture_on_commit_callbacks(execute=True):
        reply = message_add(
            ticket=ticket,
            actor=Actor.for_user(UserFactory()),
            text="The label is attached.",
            attachments=[AttachmentInput(filename="label.pdf", content=b"%PDF-1.4 label")],
        )

    reply.refresh_from_db()
    (request,) = fake_provider.received("POST", r"Messages\.json$")
    assert _single(request)["Body"] == "The label is attached."
    (link,) = request.form["MediaUrl"]
    assert reply.delivery_state == "sent" and reply.delivery_error == ""
    fetched = client.get(urlsplit(link).path)  # as Twilio would, without a login
    assert fetched.status_code == 200
    assert b"".join(fetched.streaming_content) == b"%PDF-1.4 label"
    tampered = urlsplit(link).path.replace("/files/", "/files/x")
    assert client.get(tampered).status_code == 404

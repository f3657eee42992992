"""POST /channels/webhook/<key>/messages: signed JSON from a bridge becomes ticket messages."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime

import pytest

from frontline.channels.accounts import account_create, account_secrets_set
from frontline.channels.models import PayloadStatus, RawPayload
from frontline.channels.services import raw_payload_process
from frontline.channels.webhook.media import AttachmentUnavailable
from frontline.customers.models import Identity
from frontline.tickets.models import Attachment, Message, Ticket
from tests.channels.webhook.conftest import SECRET, fixture
from tests.factories import IdentityFactory
from tests.fakes.provider_server import Reply

pytestmark = pytest.mark.django_db


def message(**changes):
    payload = fixture("message_minimal.json")
    payload.update(changes)
    return payload


def test_a_message_creates_a_ticket_on_the_webhook_channel(bridge, account):
    response = bridge.post(fixture("message.json"))

    assert response.status_code == 202
    answer = response.json()
    assert answer["duplicate"] is False
    raw = RawPayload.objects.get(pk=answer["payload_id"])
    assert raw.status == PayloadStatus.PROCESSED
    assert raw.channel == "webhook"
    assert raw.headers["account_id"] == str(account.pk)
    stored = Message.objects.get(pk=raw.message_id)
    ticket = stored.ticket
    assert ticket.channel == "webhook"
    assert ticket.team_id == account.team_id
    assert ticket.is_public is False
    assert ticket.thread_key == f"{account.pk}:chat-48213307"
    assert stored.text == "Hi! My order #5531 arrived with a broken zipper."
    assert "<b>#5531</b>" in stored.html
    assert stored.provider_message_id == f"{account.pk}:in:msg-1001"
    assert stored.metadata == {
        "account_id": account.pk,
        "network": "myapp",
        "message_id": "msg-1001",
        "thread_id": "chat-48213307",
        "public": False,
        "sender_metadata": {"language_code": "pt", "bot": "support_bot"},
    }
    customer = ticket.requester
    assert customer.name == "Ana Lima"
    identities = set(customer.identities.values_list("kind", "network", "value"))
    assert identities == {
        ("external", "myapp", "48213307"),
        ("email", "", "ana@example.org"),
        ("phone", "", "+351912345678"),
    }


def test_the_timestamp_is_when_the_message_was_sent(bridge):
    bridge.post(fixture("message_public.json"))  # 10:02:44+01:00
    assert Message.objects.get().created_at == datetime(2026, 11, 24, 9, 2, 44, tzinfo=UTC)


def test_the_same_thread_continues_the_ticket_and_a_new_thread_opens_another(bridge):
    bridge.post(message(id="m1", thread_id="t-1", text="first"))
    bridge.post(message(id="m2", thread_id="t-1", text="second"))
    bridge.post(message(id="m3", thread_id="t-2", text="another topic"))

    first, second, third = Message.objects.order_by("id")
    assert first.ticket_id == second.ticket_id
    assert third.ticket_id != first.ticket_id
    assert third.ticket.requester_id == first.ticket.requester_id
    assert Ticket.objects.count() == 2


def test_without_a_thread_the_customers_open_ticket_continues(bridge):
    bridge.post(message(id="m1", text="hello"))
    bridge.post(message(id="m2", text="anyone there?"))
    assert Ticket.objects.count() == 1
    assert Message.objects.count() == 2


def test_an_email_in_from_finds_the_existing_email_customer(bridge):
    known = IdentityFactory(kind="email", value="ana@example.org").customer

    bridge.post(fixture("message.json"))

    ticket = Ticket.objects.get()
    assert ticket.requester_id == known.pk
    assert Identity.objects.get(kind="external", network="myapp").customer_id == known.pk


def test_a_phone_in_from_finds_the_existing_phone_customer(bridge):
    known = IdentityFactory(kind="phone", value="+351912345678").customer
    bridge.post(message(**{"from": {"id": "u-9", "phone": "+351 912 345 678"}}))
    assert Ticket.objects.get().requester_id == known.pk


def test_invalid_email_and_phone_are_dropped_not_fatal(bridge):
    bridge.post(message(**{"from": {"id": "u-5", "email": "not an email", "phone": "12"}}))

    ticket = Ticket.objects.get()
    assert list(ticket.requester.identities.values_list("kind", "value")) == [("external", "u-5")]
    assert RawPayload.objects.get().status == PayloadStatus.PROCESSED


def test_the_same_id_from_two_bridges_is_two_messages(bridge):
    account_create(
        provider="generic", name="Other app", address="otherapp", key="other-app",
        secrets={"signing_secret": SECRET},
    )  # fmt: skip
    bridge.post(message(id="42"))
    bridge.key = "other-app"
    bridge.post(message(id="42"))

    assert Message.objects.count() == 2
    assert set(Identity.objects.values_list("network", flat=True)) == {"myapp", "otherapp"}


def test_a_public_post_marks_the_ticket_public(bridge):
    bridge.post(fixture("message_public.json"))

    stored = Message.objects.get()
    assert stored.ticket.is_public is True
    assert stored.metadata["public"] is True
    assert stored.metadata["sender_metadata"] == {
        "post_url": "https://community.example.com/p/555#c9001"
    }


def test_attachments_by_url_and_by_base64_are_stored(bridge, fake_provider):
    photo = b"\x89PNG\r\n\x1a\n" + b"p" * 3000
    url = fake_provider.serve_media("zip.png", photo, "image/png")
    receipt = b"%PDF-1.4 receipt"
    bridge.post(
        message(
            text="See the photo",
            attachments=[
                {"filename": "zipper.png", "content_type": "image/png", "url": url},
                {  # no content type: guessed from the name
                    "filename": "receipt.pdf",
                    "content_base64": base64.b64encode(receipt).decode(),
                },
            ],
        )
    )

    files = {a.filename: a for a in Attachment.objects.all()}
    assert set(files) == {"zipper.png", "receipt.pdf"}
    assert files["zipper.png"].status == "stored"
    assert files["zipper.png"].content_type == "image/png"
    assert files["zipper.png"].file.read() == photo
    assert files["receipt.pdf"].file.read() == receipt
    assert files["receipt.pdf"].content_type == "application/pdf"
    assert files["receipt.pdf"].message.text == "See the photo"


def test_oversized_attachments_are_recorded_as_rejected_and_the_message_kept(
    bridge, fake_provider, settings
):
    settings.ATTACHMENT_MAX_BYTES = 1000
    url = fake_provider.serve_media("video.mp4", b"v" * 50_000, "video/mp4")
    bridge.post(
        message(
            text="two big files",
            attachments=[
                {"filename": "video.mp4", "content_type": "video/mp4", "url": url},
                {
                    "filename": "scan.tiff",
                    "content_type": "image/tiff",
                    "content_base64": base64.b64encode(b"t" * 1001).decode(),
                },
            ],
        )
    )

    stored = Message.objects.get()
    assert stored.text == "two big files"
    files = {a.filename: a for a in stored.attachments.all()}
    assert {a.status for a in files.values()} == {"rejected"}
    assert "byte limit" in files["video.mp4"].rejection_reason
    assert not files["video.mp4"].file
    assert files["scan.tiff"].size == 1001


def test_a_file_that_will_never_download_is_noted_and_the_message_kept(bridge, fake_provider):
    missing = f"{fake_provider.url}/media/gone.png"
    bridge.post(message(text="photo", attachments=[{"filename": "gone.png", "url": missing}]))

    stored = Message.objects.get()
    assert stored.attachments.count() == 0
    assert stored.metadata["attachments_refused"] == [
        {"filename": "gone.png", "reason": "the server answered 404"}
    ]


def test_a_download_that_fails_for_now_is_retried(bridge, fake_provider):
    fake_provider.route("GET", r"^/files/a\.png$", Reply(status=503, body=b"busy"))
    url = f"{fake_provider.url}/files/a.png"
    response = bridge.post(message(attachments=[{"filename": "a.png", "url": url}]), process=False)
    payload_id = response.json()["payload_id"]

    with pytest.raises(AttachmentUnavailable):
        raw_payload_process(payload_id)
    assert RawPayload.objects.get(pk=payload_id).status == PayloadStatus.PENDING
    assert Message.objects.count() == 0

    fake_provider.route("GET", r"^/files/a\.png$", Reply(body=b"png!", content_type="image/png"))
    raw_payload_process(payload_id)
    assert Attachment.objects.get().file.read() == b"png!"
    assert RawPayload.objects.get(pk=payload_id).status == PayloadStatus.PROCESSED


@pytest.mark.parametrize(
    "signature",
    [
        "",  # missing
        "t=1795000000,v1=" + "0" * 64,  # forged (and stale)
        "garbage",
    ],
)
def test_missing_or_forged_signatures_are_refused_and_nothing_stored(bridge, signature):
    response = bridge.post(fixture("message.json"), signature=signature)
    assert response.status_code == 403
    assert "error" in response.json()
    assert RawPayload.objects.count() == 0


def test_a_signature_with_another_secret_is_refused(bridge):
    response = bridge.post(fixture("message.json"), secret="guessed")
    assert response.status_code == 403
    assert response.json() == {"error": "signature does not match"}
    assert RawPayload.objects.count() == 0


def test_a_replayed_request_is_refused(bridge):
    response = bridge.post(fixture("message.json"), at=time.time() - 301)
    assert response.status_code == 403
    assert "tolerance" in response.json()["error"]
    assert RawPayload.objects.count() == 0


def test_a_body_changed_after_signing_is_refused(bridge, django_capture_on_commit_callbacks):
    from django.test import Client

    from frontline.channels.webhook.signing import sign

    body = json.dumps(fixture("message.json")).encode()
    header = sign(SECRET, body, time.time())
    response = Client().post(
        bridge.url,
        data=body.replace(b"broken", b"perfect"),
        content_type="application/json",
        HTTP_X_FRONTLINE_SIGNATURE=header,
    )
    assert response.status_code == 403
    assert RawPayload.objects.count() == 0


def test_rotation_two_v1_values_are_accepted(bridge):
    response = bridge.post(fixture("message.json"), secret=["retired-secret", SECRET])
    assert response.status_code == 202
    assert Message.objects.count() == 1


def test_rotation_on_our_side_the_previous_secret_still_works(bridge, account):
    account_secrets_set(account, signing_secret="new-secret", previous_signing_secret=SECRET)
    assert bridge.post(message(id="old"), secret=SECRET).status_code == 202
    assert bridge.post(message(id="new"), secret="new-secret").status_code == 202
    account_secrets_set(account, previous_signing_secret="")
    assert bridge.post(message(id="late"), secret=SECRET).status_code == 403
    assert Message.objects.count() == 2


def test_an_account_without_a_secret_accepts_nothing(bridge, account):
    account_secrets_set(account, signing_secret="")
    response = bridge.post(fixture("message.json"))
    assert response.status_code == 403
    assert RawPayload.objects.count() == 0


def test_the_same_delivery_five_times_is_one_message(bridge):
    answers = [bridge.post(fixture("message.json")).json() for _ in range(5)]

    assert [a["duplicate"] for a in answers] == [False, True, True, True, True]
    assert len({a["payload_id"] for a in answers}) == 1
    assert RawPayload.objects.count() == 1
    assert Message.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_a_retry_with_a_fresh_signature_is_still_a_duplicate(bridge):
    first = bridge.post(fixture("message.json"), at=time.time() - 200).json()
    again = bridge.post(fixture("message.json")).json()
    assert again == {"payload_id": first["payload_id"], "duplicate": True}


def test_the_id_is_required_even_with_an_idempotency_key_header(bridge):
    payload = fixture("message_minimal.json")
    del payload["id"]
    response = bridge.post(payload, IDEMPOTENCY_KEY="msg-2001")

    assert response.status_code == 400
    assert response.json()["fields"] == {"id": ["Field required"]}
    assert RawPayload.objects.count() == 0


def test_an_idempotency_key_header_must_match_the_id(bridge):
    assert bridge.post(message(id="a"), IDEMPOTENCY_KEY="a").status_code == 202
    response = bridge.post(message(id="b"), IDEMPOTENCY_KEY="c")
    assert response.status_code == 400
    assert "id" in response.json()["fields"]
    assert RawPayload.objects.count() == 1
    assert RawPayload.objects.get().headers["Idempotency-Key"] == "a"


def test_schema_errors_answer_400_with_the_fields(bridge):
    response = bridge.post(
        {
            "type": "message",
            "id": "bad-1",
            "from": {"name": "No id"},
            "text": "hi",
            "public": "yes",
            "timestamp": "2026-11-24 09:15",
            "attachments": [{"filename": "x.exe", "url": "file:///etc/passwd"}],
            "colour": "blue",
        }
    )

    assert response.status_code == 400
    answer = response.json()
    assert answer["error"] == "The payload does not match the schema."
    assert set(answer["fields"]) == {
        "from.id", "public", "timestamp", "attachments.0.url", "colour",
    }  # fmt: skip
    assert RawPayload.objects.count() == 0


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"type": "message", "id": "e", "from": {"id": "u"}}, "body"),
        (
            {"type": "message", "id": "e", "from": {"id": "u"}, "attachments": [{"filename": "a"}]},
            "attachments.0",
        ),
        (
            {
                "type": "message", "id": "e", "from": {"id": "u"},
                "attachments": [{"filename": "a", "content_base64": "%%%"}],
            },
            "attachments.0.content_base64",
        ),
        ({"type": "status", "id": "s", "message_id": "m", "status": "lost"}, "status"),
        ({"type": "status", "id": "s", "status": "read"}, "message_id"),
        ({"type": "message", "id": "e", "from": {"id": "  "}, "text": "hi"}, "from.id"),
        ({"type": "message", "id": "e", "from": {"id": "a\nb"}, "text": "hi"}, "from.id"),
        ({"id": "x"}, "type"),
        ({"type": "a:b", "id": "x"}, "type"),
        ({"type": "reaction"}, "id"),
    ],
)  # fmt: skip
def test_each_schema_rule_names_its_field(bridge, payload, field):
    response = bridge.post(payload)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert RawPayload.objects.count() == 0


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b""])
def test_a_body_that_is_not_a_json_object_is_refused(bridge, body):
    response = bridge.post(body)
    assert response.status_code == 400
    assert RawPayload.objects.count() == 0


def test_too_many_attachments_are_refused(bridge, settings):
    settings.ATTACHMENTS_MAX_PER_MESSAGE = 1
    files = [{"filename": f"{n}.txt", "content_base64": "aGk="} for n in range(2)]
    response = bridge.post(message(attachments=files))
    assert response.status_code == 400
    assert response.json()["fields"] == {"attachments": ["at most 1"]}


def test_a_body_over_the_limit_answers_413_and_stores_nothing(bridge, settings):
    settings.ATTACHMENT_MAX_BYTES = 0  # the limit is then the 1 MiB of JSON around files
    padded = message(text="x" * (1024 * 1024 + 10))
    response = bridge.post(padded)
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]
    assert RawPayload.objects.count() == 0


def test_an_unknown_type_is_accepted_and_kept_unsupported(bridge):
    response = bridge.post(fixture("reaction.json"))

    assert response.status_code == 202
    raw = RawPayload.objects.get(pk=response.json()["payload_id"])
    assert raw.status == PayloadStatus.UNSUPPORTED
    assert "'reaction'" in raw.error
    assert json.loads(bytes(raw.body))["emoji"] == "👍"
    assert Message.objects.count() == 0


def test_an_unknown_key_or_another_providers_account_is_404(bridge):
    account_create(provider="twilio_sms", name="SMS", key="sms-line", address="+14155550100")
    bridge.key = "nope"
    assert bridge.post(fixture("message.json")).status_code == 404
    bridge.key = "sms-line"
    assert bridge.post(fixture("message.json")).status_code == 404
    assert RawPayload.objects.count() == 0


def test_an_inactive_account_is_404(bridge, account):
    account.is_active = False
    account.save()
    assert bridge.post(fixture("message.json")).status_code == 404


def test_only_post_is_allowed(bridge):
    from django.test import Client

    assert Client().get(bridge.url).status_code == 405


def test_an_account_whose_address_is_not_a_network_name_fails_clearly(bridge, account):
    account.address = "My App!"
    account.save()
    response = bridge.post(fixture("message.json"))

    raw = RawPayload.objects.get(pk=response.json()["payload_id"])
    assert raw.status == PayloadStatus.FAILED
    assert "address must be the network name" in raw.error
    assert Message.objects.count() == 0

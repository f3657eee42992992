"""Agent replies: the Send API for private conversations, the comment endpoints for public
ones (what the fake Graph API received), long texts, files, and Graph errors."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from frontline.channels.meta.send import PARTS_SENT_KEY, split_text
from frontline.channels.outbound import OutboundRetry, outbound_message_send
from frontline.channels.tasks import outbound_message_send_task
from frontline.tickets.models import Message
from frontline.tickets.services import AttachmentInput
from tests.channels.meta.conftest import IG_ID, IGSID, PSID, fixture, inbound
from tests.fakes.provider_server import Reply

pytestmark = pytest.mark.django_db

SEND_PATH = r"^/v21\.0/me/messages$"


def _ticket(meta_post, account, name):
    meta_post(account, fixture(name))
    return inbound(account.channel)[-1].ticket


def test_a_reply_in_a_private_conversation_goes_to_the_send_api(
    meta_post, page_account, agent_reply, fake_provider
):
    ticket = _ticket(meta_post, page_account, "messenger_text")

    reply = agent_reply(ticket, "Your parcel arrives tomorrow.")

    (request,) = fake_provider.received("POST", SEND_PATH)
    assert request.json() == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Your parcel arrives tomorrow."},
    }
    assert request.headers["Authorization"] == "Bearer EAAtest-page-token"
    assert "access_token" not in request.query
    assert reply.delivery_state == "sent"
    assert reply.provider_message_id.startswith("m_")
    assert not fake_provider.received("POST", r"/(comments|replies)$")


def test_an_instagram_direct_reply_goes_to_the_send_api(
    meta_post, instagram_account, agent_reply, fake_provider
):
    ticket = _ticket(meta_post, instagram_account, "instagram_text")

    reply = agent_reply(ticket, "Yes, reply with the size you want.")

    (request,) = fake_provider.received("POST", SEND_PATH)
    assert request.json()["recipient"] == {"id": IGSID}
    assert request.json()["message"] == {"text": "Yes, reply with the size you want."}
    assert reply.delivery_state == "sent"


def test_a_long_reply_is_split_on_word_boundaries(
    meta_post, page_account, agent_reply, fake_provider
):
    ticket = _ticket(meta_post, page_account, "messenger_text")
    words = " ".join(f"word{i:04d}" for i in range(500))  # 4499 characters

    reply = agent_reply(ticket, words)

    sent = [r.json()["message"]["text"] for r in fake_provider.received("POST", SEND_PATH)]
    assert len(sent) == 3
    assert all(len(part) <= 2000 for part in sent)
    assert " ".join(sent) == words
    assert all(not part.startswith(" ") and not part.endswith(" ") for part in sent)
    assert reply.delivery_state == "sent"


def test_split_text_cuts_a_word_only_when_it_is_longer_than_the_limit():
    assert split_text("aaaa bbbb cc", 9) == ["aaaa bbbb", "cc"]
    assert split_text("x" * 12, 5) == ["xxxxx", "xxxxx", "xx"]
    assert split_text("line one\nline two", 10) == ["line one", "line two"]
    assert split_text("   ", 10) == []
    # Instagram counts UTF-8 bytes: four-byte emoji fill 1000 bytes with 250 of them.
    emoji = "\N{PACKAGE}" * 300
    assert [len(p) for p in split_text(emoji, 1000, in_bytes=True)] == [250, 50]
    assert split_text("héllo wörld", 8, in_bytes=True) == ["héllo", "wörld"]


def test_a_split_reply_retried_after_a_failure_sends_only_the_missing_parts(
    meta_post, page_account, agent_reply, fake_provider
):
    ticket = _ticket(meta_post, page_account, "messenger_text")
    words = " ".join(f"word{i:04d}" for i in range(300))  # two parts
    calls = {"count": 0}

    def second_part_fails_once(request, match):
        calls["count"] += 1
        if calls["count"] == 2:
            return Reply.json({"error": {"message": "Please retry", "code": 2}}, status=500)
        return Reply.json({"recipient_id": PSID, "message_id": f"m_part{calls['count']}"})

    fake_provider.route("POST", SEND_PATH, second_part_fails_once)
    reply = agent_reply(ticket, words)
    assert reply.delivery_state == "queued"
    assert reply.metadata[PARTS_SENT_KEY] == ["m_part1"]

    outbound_message_send_task.delay(reply.pk)

    reply.refresh_from_db()
    texts = [r.json()["message"]["text"] for r in fake_provider.received("POST", SEND_PATH)]
    assert len(texts) == 3
    assert texts[1] == texts[2]  # the failed part, once more; the first part only once
    assert reply.delivery_state == "sent"
    assert reply.provider_message_id == "m_part3"


def test_a_reply_on_a_facebook_comment_goes_to_its_comments(
    meta_post, page_account, agent_reply, fake_provider
):
    ticket = _ticket(meta_post, page_account, "facebook_comment")

    reply = agent_reply(ticket, "Green is back on Friday!")

    (request,) = fake_provider.received("POST")
    assert request.path == "/v21.0/122158301954000001_1029384756102938/comments"
    assert request.json() == {"message": "Green is back on Friday!"}
    assert request.headers["Authorization"] == "Bearer EAAtest-page-token"
    assert reply.delivery_state == "sent"
    assert reply.provider_message_id  # the new comment's id
    assert not fake_provider.received("POST", SEND_PATH)


def test_a_reply_on_an_instagram_comment_goes_to_its_replies(
    meta_post, instagram_account, agent_reply, fake_provider
):
    ticket = _ticket(meta_post, instagram_account, "instagram_comment")

    reply = agent_reply(ticket, "Restocking next week!")

    (request,) = fake_provider.received("POST")
    assert request.path == "/v21.0/17865799348089039/replies"
    assert request.json() == {"message": "Restocking next week!"}
    assert reply.delivery_state == "sent"


def test_a_reply_to_an_instagram_mention_goes_to_the_mentions_edge(
    meta_post, instagram_account, agent_reply, fake_provider
):
    fake_provider.route(
        "GET", rf"^/v21\.0/{IG_ID}$", Reply.json(fixture("instagram_mentioned_comment"))
    )
    fake_provider.route("POST", rf"^/v21\.0/{IG_ID}/mentions$", Reply.json({"id": "17846319838"}))
    ticket = _ticket(meta_post, instagram_account, "instagram_mention")

    reply = agent_reply(ticket, "So sorry! Please send us a DM with your order number.")

    (request,) = fake_provider.received("POST")
    assert request.path == f"/v21.0/{IG_ID}/mentions"
    assert request.json() == {
        "media_id": "17920112008063024",
        "comment_id": "17873440459141021",
        "message": "So sorry! Please send us a DM with your order number.",
    }
    assert reply.provider_message_id == "17846319838"


def test_a_graph_server_error_is_retried_then_sent(
    meta_post, page_account, agent_reply, fake_provider
):
    ticket = _ticket(meta_post, page_account, "messenger_text")
    error = json.dumps(fixture("graph_error_transient")).encode()
    fake_provider.fail_next(1, status=500, body=error)

    reply = agent_reply(ticket, "Checking with the warehouse.")

    assert reply.delivery_state == "queued"  # the first attempt failed; the task retries
    with pytest.raises(OutboundRetry, match="Service temporarily unavailable"):
        fake_provider.fail_next(1, status=500, body=error)
        outbound_message_send(reply.pk, final_attempt=False)
    outbound_message_send_task.delay(reply.pk)

    reply.refresh_from_db()
    assert reply.delivery_state == "sent"
    requests = fake_provider.received("POST", SEND_PATH)
    assert len(requests) == 3
    assert requests[0].json() == requests[2].json()


def test_a_refused_reply_fails_with_graphs_message_after_the_last_try(
    meta_post, page_account, agent_reply, fake_provider
):
    ticket = _ticket(meta_post, page_account, "messenger_text")
    fake_provider.route(
        "POST",
        SEND_PATH,
        Reply(status=400, body=json.dumps(fixture("graph_error_token")).encode()),
    )
    reply = agent_reply(ticket, "Hello?", deliver=False)

    outbound_message_send(reply.pk, final_attempt=True)

    reply.refresh_from_db()
    assert reply.delivery_state == "failed"
    assert "Error validating access token" in reply.delivery_error
    assert "code 190" in reply.delivery_error


def test_past_the_window_a_human_agent_page_tags_its_reply(
    meta_post, page_account, agent_reply, fake_provider
):
    page_account.options = {"human_agent_tag": True}
    page_account.save()
    ticket = _ticket(meta_post, page_account, "messenger_text")
    two_days_ago = int((timezone.now() - timedelta(days=2)).timestamp() * 1000)
    message = inbound()[0]
    message.metadata["timestamp"] = two_days_ago
    message.save()

    agent_reply(ticket, "Sorry for the wait.")

    (request,) = fake_provider.received("POST", SEND_PATH)
    assert request.json()["messaging_type"] == "MESSAGE_TAG"
    assert request.json()["tag"] == "HUMAN_AGENT"


def test_a_file_on_a_messenger_reply_is_uploaded_with_it(
    meta_post, page_account, agent_reply, fake_provider
):
    ticket = _ticket(meta_post, page_account, "messenger_text")
    received: list = []

    def accept_upload(request, match):
        received.append(request)
        return Reply.json({"recipient_id": PSID, "message_id": f"m_{len(received)}"})

    fake_provider.route("POST", SEND_PATH, accept_upload)
    label = AttachmentInput(
        filename="label.pdf", content=b"%PDF-1.4 label", content_type="application/pdf"
    )

    reply = agent_reply(ticket, "Here is your return label.", attachments=[label])

    text, upload = received
    assert text.json()["message"] == {"text": "Here is your return label."}
    assert upload.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="filedata"; filename="label.pdf"' in upload.body
    assert b"%PDF-1.4 label" in upload.body
    assert b'{"type": "file", "payload": {"is_reusable": false}}' in upload.body
    assert json.dumps({"id": PSID}).encode() in upload.body
    assert reply.delivery_state == "sent"
    assert reply.provider_message_id == "m_2"
    assert Message.objects.get(pk=reply.pk).metadata[PARTS_SENT_KEY] == ["m_1", "m_2"]


def test_an_instagram_reply_sends_its_pictures_by_signed_link(
    meta_post, instagram_account, agent_reply, fake_provider, client
):
    from urllib.parse import urlsplit

    ticket = _ticket(meta_post, instagram_account, "instagram_text")
    photo = AttachmentInput(filename="tent.png", content=b"\x89PNG tent", content_type="image/png")
    label = AttachmentInput(
        filename="label.pdf", content=b"%PDF-1.4 label", content_type="application/pdf"
    )

    reply = agent_reply(ticket, "Here it is.", attachments=[photo, label])

    text, picture = fake_provider.received("POST", SEND_PATH)
    assert text.json()["message"] == {"text": "Here it is."}
    attachment = picture.json()["message"]["attachment"]
    assert attachment["type"] == "image"
    fetched = client.get(urlsplit(attachment["payload"]["url"]).path)  # as Instagram would
    assert b"".join(fetched.streaming_content) == b"\x89PNG tent"
    assert reply.delivery_state == "sent"
    assert "label.pdf" in reply.delivery_error and "tent.png" not in reply.delivery_error

"""The widget's HTTP side: script, config with CORS for allowed origins only, uploads with the
email limits, the offline form, signed file links."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from frontline.channels.chat.services import (
    attachment_url,
    chat_message_receive,
    visitor_token_issue,
)
from frontline.tickets.models import Message, Ticket
from tests.channels.chat.conftest import ORIGIN

pytestmark = pytest.mark.django_db


def test_widget_script_is_served():
    response = Client().get("/chat/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert b"FrontlineChat" in response.content


def test_config_answers_allowed_origins_only(widget):
    client = Client()
    ok = client.get(f"/chat/{widget.site_key}/config", HTTP_ORIGIN=ORIGIN)
    assert ok.status_code == 200 and ok["Access-Control-Allow-Origin"] == ORIGIN
    assert ok.json()["open"] is True and ok.json()["name"] == "Shop"
    bad = client.get(f"/chat/{widget.site_key}/config", HTTP_ORIGIN="https://evil.example")
    assert bad.status_code == 403 and "Access-Control-Allow-Origin" not in bad
    assert client.get("/chat/nope/config", HTTP_ORIGIN=ORIGIN).status_code == 404
    preflight = client.options(f"/chat/{widget.site_key}/upload", HTTP_ORIGIN=ORIGIN)
    assert preflight.status_code == 204 and "POST" in preflight["Access-Control-Allow-Methods"]


def test_upload_is_a_message_with_the_file(widget):
    uid, token = visitor_token_issue(widget)
    response = Client().post(
        f"/chat/{widget.site_key}/upload",
        {
            "token": token,
            "client_id": "f1",
            "file": SimpleUploadedFile("photo.png", b"\x89PNG...", content_type="image/png"),
        },
        HTTP_ORIGIN=ORIGIN,
    )
    assert response.status_code == 201, response.content
    message = Message.objects.get(pk=response.json()["id"])
    assert message.attachments.get().filename == "photo.png"
    assert message.ticket.thread_key == f"chat:{uid}"


def test_upload_limits_and_forged_tokens(widget, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    _, token = visitor_token_issue(widget)
    client = Client()
    big = client.post(
        f"/chat/{widget.site_key}/upload",
        {"token": token, "client_id": "f1", "file": SimpleUploadedFile("a.txt", b"x" * 11)},
        HTTP_ORIGIN=ORIGIN,
    )
    assert big.status_code == 413
    exe = client.post(
        f"/chat/{widget.site_key}/upload",
        {"token": token, "client_id": "f2", "file": SimpleUploadedFile("a.exe", b"MZ")},
        HTTP_ORIGIN=ORIGIN,
    )
    assert exe.status_code == 400
    forged = client.post(
        f"/chat/{widget.site_key}/upload",
        {"token": token + "x", "client_id": "f3", "file": SimpleUploadedFile("a.txt", b"x")},
        HTTP_ORIGIN=ORIGIN,
    )
    assert forged.status_code == 403
    assert not Message.objects.exists()


def test_offline_form_becomes_an_email_ticket(widget):
    client = Client()
    response = client.post(
        f"/chat/{widget.site_key}/offline",
        json.dumps({"name": "Zoe", "email": "Zoe@Example.com", "message": "Open on Sunday?"}),
        content_type="application/json",
        HTTP_ORIGIN=ORIGIN,
    )
    assert response.status_code == 201
    ticket = Ticket.objects.get(pk=response.json()["ticket"])
    assert ticket.channel == "email"
    assert ticket.requester.identities.filter(kind="email", value="zoe@example.com").exists()
    bad = client.post(
        f"/chat/{widget.site_key}/offline",
        json.dumps({"email": "nope", "message": ""}),
        content_type="application/json",
        HTTP_ORIGIN=ORIGIN,
    )
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"email", "message"}
    garbage = client.post(
        f"/chat/{widget.site_key}/offline",
        b"\xff{",
        content_type="application/json",
        HTTP_ORIGIN=ORIGIN,
    )
    assert garbage.status_code == 400


def test_signed_file_links_open_only_the_visitors_own_files(widget):
    from frontline.channels.chat.services import ChatUpload

    uid, _ = visitor_token_issue(widget)
    other_uid, _ = visitor_token_issue(widget)
    result = chat_message_receive(
        widget=widget,
        uid=uid,
        client_id="1",
        text="",
        uploads=(ChatUpload(filename="r.txt", content_type="text/plain", content=b"hi"),),
    )
    attachment = Message.objects.get(pk=result.message_id).attachments.get()
    client = Client()
    mine = client.get(attachment_url(attachment, uid))
    assert mine.status_code == 200 and b"".join(mine.streaming_content) == b"hi"
    assert mine["Content-Type"] == "application/octet-stream"
    assert client.get(attachment_url(attachment, other_uid)).status_code == 404
    assert client.get("/chat/files/forged/r.txt").status_code == 404


def test_try_page_is_for_admins(widget, admin_user, agent):
    client = Client()
    client.force_login(agent)
    assert client.get(f"/chat/{widget.site_key}/try").status_code == 403
    client.force_login(admin_user)
    page = client.get(f"/chat/{widget.site_key}/try")
    assert page.status_code == 200 and widget.site_key in page.content.decode()


def test_the_page_a_visitor_writes_from_is_shown_to_agents_only_if_it_is_a_web_address(
    widget, agent
):
    uid, _ = visitor_token_issue(widget)
    good = chat_message_receive(
        widget=widget, uid=uid, client_id="1", text="hi", page_url="https://shop.example.com/p/42"
    )
    bad = chat_message_receive(
        widget=widget, uid=uid, client_id="2", text="hi", page_url="javascript:alert(1)"
    )
    assert Message.objects.get(pk=bad.message_id).metadata["page_url"] == ""
    client = Client()
    client.force_login(agent)
    html = client.get(f"/tickets/{good.ticket_id}/").content.decode()
    assert 'href="https://shop.example.com/p/42"' in html
    assert "javascript:" not in html

"""Private messages on Messenger and Instagram become ticket messages: text, postbacks,
files, batches, echoes, sender names, and events we do not handle."""

from __future__ import annotations

import json

import pytest

from frontline.accounts.models import Team
from frontline.channels.models import RawPayload
from frontline.channels.services import PAYLOAD_MAX_ATTEMPTS, raw_payload_process
from frontline.customers.models import Identity
from frontline.tickets.models import Attachment, Ticket
from tests.channels.meta.conftest import (
    IG_ID,
    IGSID,
    PAGE_ID,
    PSID,
    batch_of,
    fixture,
    inbound,
    messaging,
)
from tests.fakes.provider_server import Reply

pytestmark = pytest.mark.django_db

TEXT_MID = fixture("messenger_text")["entry"][0]["messaging"][0]["message"]["mid"]


def test_a_text_message_opens_a_facebook_ticket_for_a_social_identity(
    meta_post, page_account, fake_provider
):
    team = Team.objects.create(name="Social", slug="social")
    page_account.team_id = team.pk
    page_account.save()

    meta_post(page_account, fixture("messenger_text"))

    (message,) = inbound()
    assert message.text == "Hi, my order #4411 has not arrived yet."
    assert message.provider_message_id == TEXT_MID
    ticket = message.ticket
    assert ticket.channel == "facebook"
    assert ticket.team_id == team.pk
    assert ticket.is_public is False
    assert ticket.thread_key == f"dm:{PAGE_ID}:{PSID}"
    identity = Identity.objects.get(customer=ticket.requester)
    assert (identity.kind, identity.network, identity.value) == ("social", "facebook", PSID)
    assert message.metadata == {
        "account_id": page_account.pk,
        "page_id": PAGE_ID,
        "sender_id": PSID,
        "timestamp": 1795001234012,
        "mid": TEXT_MID,
        "quick_reply_payload": "ORDER_STATUS",
    }
    assert message.created_at.year == 2026


def test_the_sender_name_comes_from_the_profile_api_once(meta_post, page_account, fake_provider):
    fake_provider.route("GET", rf"^/v21\.0/{PSID}$", Reply.json(fixture("messenger_profile")))

    meta_post(page_account, fixture("messenger_text"))
    meta_post(page_account, fixture("messenger_batch"))

    assert inbound()[0].ticket.requester.name == "Peter Chang"
    (lookup,) = fake_provider.received("GET", rf"/{PSID}$")  # a known customer is not looked up
    assert lookup.query == {"fields": ["first_name,last_name"]}
    assert lookup.headers["Authorization"] == "Bearer EAAtest-page-token"


def test_a_profile_lookup_that_fails_does_not_hold_the_message_back(
    meta_post, page_account, fake_provider
):
    fake_provider.route("GET", rf"^/v21\.0/{PSID}$", Reply(status=500))

    meta_post(page_account, fixture("messenger_text"))

    (message,) = inbound()
    assert message.ticket.requester.name in ("", PSID)


def test_a_follow_up_message_continues_the_conversation(meta_post, page_account):
    meta_post(page_account, fixture("messenger_text"))
    meta_post(page_account, fixture("messenger_reply_to"))

    first, second = inbound()
    assert second.ticket_id == first.ticket_id
    assert second.metadata["reply_to_mid"] == "m_1fTq8oLumEyIp3Q2MR-aY7IfLZDamVrALniheU"
    assert Ticket.objects.count() == 1


def test_a_postback_is_the_title_the_customer_tapped(meta_post, page_account):
    meta_post(page_account, fixture("messenger_postback"))

    (message,) = inbound()
    assert message.text == "Track my order"
    postback = fixture("messenger_postback")["entry"][0]["messaging"][0]["postback"]
    assert message.provider_message_id == postback["mid"]
    assert message.metadata["postback_payload"] == "TRACK_ORDER"
    assert message.metadata["postback_title"] == "Track my order"
    assert message.metadata["sender_id"] == PSID


def test_an_attachment_is_downloaded_from_its_url(meta_post, page_account, fake_provider):
    photo = b"\xff\xd8\xff\xe0" + b"JFIF parcel photo" * 50
    payload = fixture("messenger_attachment")
    attachment = messaging(payload)["message"]["attachments"][0]
    attachment["payload"]["url"] = fake_provider.serve_media("parcel.jpg", photo, "image/jpeg")

    meta_post(page_account, payload)

    (message,) = inbound()
    (stored,) = Attachment.objects.filter(message=message)
    assert stored.status == "stored"
    assert stored.filename == "parcel.jpg"
    assert stored.content_type == "image/jpeg"
    assert stored.size == len(photo)
    with stored.file.open("rb") as handle:
        assert handle.read() == photo


def test_an_attachment_over_the_limit_is_left_out_and_said_so(
    meta_post, page_account, fake_provider, settings
):
    settings.ATTACHMENT_MAX_BYTES = 1000
    payload = fixture("messenger_attachment")
    attachment = messaging(payload)["message"]["attachments"][0]
    attachment["type"] = "video"
    attachment["payload"]["url"] = fake_provider.serve_media("clip.mp4", b"v" * 5000, "video/mp4")

    meta_post(page_account, payload)

    (message,) = inbound()
    assert not Attachment.objects.exists()
    assert "[video not kept: larger than the 1000-byte attachment limit]" in message.text
    (skipped,) = message.metadata["skipped_attachments"]
    assert skipped["size"] == 5000


def test_a_shared_link_is_kept_as_text_not_downloaded(meta_post, page_account, fake_provider):
    payload = fixture("messenger_attachment")
    url = "https://www.facebook.com/reel/1029384756"
    messaging(payload)["message"]["attachments"] = [{"type": "reel", "payload": {"url": url}}]

    meta_post(page_account, payload)

    (message,) = inbound()
    assert message.text == f"[reel] {url}"
    assert message.metadata["links"] == [{"type": "reel", "url": url, "title": ""}]
    assert not fake_provider.received("GET", "reel")


def test_an_attachment_address_that_is_not_a_web_address_is_not_fetched(meta_post, page_account):
    payload = fixture("messenger_attachment")
    attachment = messaging(payload)["message"]["attachments"][0]
    attachment["payload"]["url"] = "file:///etc/passwd"

    meta_post(page_account, payload)

    (message,) = inbound()
    assert not Attachment.objects.exists()
    assert message.text == "[image not kept: not a web address]"


def test_a_file_server_error_retries_then_the_last_attempt_goes_without_it(
    meta_post, page_account, fake_provider
):
    fake_provider.route("GET", r"^/cdn/photo\.jpg$", Reply(status=503, body=b"busy"))
    payload = fixture("messenger_attachment")
    attachment = messaging(payload)["message"]["attachments"][0]
    attachment["payload"]["url"] = f"{fake_provider.url}/cdn/photo.jpg"

    meta_post(page_account, payload)

    stored = RawPayload.objects.get()
    assert stored.status == "pending"  # the task retries later
    assert not inbound()
    RawPayload.objects.filter(pk=stored.pk).update(attempts=PAYLOAD_MAX_ATTEMPTS - 1)

    raw_payload_process(stored.pk)

    (message,) = inbound()
    assert not Attachment.objects.exists()
    assert "[image not kept: could not be downloaded" in message.text
    stored.refresh_from_db()
    assert stored.status == "processed"


def test_an_echo_of_our_own_message_is_ignored(meta_post, page_account):
    meta_post(page_account, fixture("messenger_echo"))

    assert not inbound()
    stored = RawPayload.objects.get()
    assert stored.status == "processed"
    assert "echo" in stored.error


def test_a_batched_payload_gives_each_message(meta_post, page_account):
    meta_post(page_account, fixture("messenger_batch"))

    first, second = inbound()
    assert [first.text, second.text] == ["Is the blue jacket back in stock?", "Size M please."]
    assert first.ticket_id == second.ticket_id
    assert RawPayload.objects.get().status == "processed"


def test_a_batch_of_entries_is_ingested_in_full_and_a_redelivered_one_once(meta_post, page_account):
    meta_post(page_account, fixture("messenger_text"))

    meta_post(page_account, batch_of(fixture("messenger_text"), fixture("messenger_batch")))

    assert len(inbound()) == 3
    assert Ticket.objects.count() == 1


def test_an_event_we_do_not_handle_is_kept_unsupported(meta_post, page_account):
    meta_post(page_account, fixture("messenger_reaction"))

    stored = RawPayload.objects.get()
    assert stored.status == "unsupported"
    assert "messaging:reaction" in stored.error
    assert not inbound()


def test_a_mixed_payload_ingests_what_it_can_and_records_the_rest(meta_post, page_account):
    payload = fixture("messenger_text")  # the message, then a reaction in the same entry
    payload["entry"][0]["messaging"].append(messaging(fixture("messenger_reaction")))

    meta_post(page_account, payload)

    (message,) = inbound()
    assert message.metadata["unhandled_events"] == ["messaging:reaction"]
    assert RawPayload.objects.get().status == "processed"


def test_an_entry_for_another_page_of_the_same_app_goes_to_that_page(
    meta_post, page_account, fake_provider
):
    from frontline.channels.accounts import account_create
    from tests.channels.meta.conftest import APP_SECRET, PAGE_TOKEN

    other = account_create(
        provider="meta_messenger", name="Northwind Outlet", key="outlet", address="998877665544",
        api_base_url=fake_provider.url,
        secrets={"app_secret": APP_SECRET, "page_token": PAGE_TOKEN},
    )  # fmt: skip
    stranger = account_create(
        provider="meta_messenger", name="Another app's page", key="stranger",
        address="112233445566", secrets={"app_secret": "not-our-app"},
    )  # fmt: skip
    for_outlet = fixture("messenger_batch")
    for_outlet["entry"][0]["id"] = other.address
    for_stranger = fixture("messenger_postback")
    for_stranger["entry"][0]["id"] = stranger.address

    meta_post(page_account, batch_of(fixture("messenger_text"), for_outlet, for_stranger))

    accounts = [m.metadata["account_id"] for m in inbound()]
    assert accounts == [page_account.pk, other.pk, other.pk]
    assert inbound()[0].metadata["unhandled_events"] == [
        "entry for 112233445566, which no account of this app has"
    ]


def test_a_malformed_body_fails_without_a_message(meta_post, page_account):
    meta_post(page_account, b'{"object": "page", "entry": "nope"}')

    stored = RawPayload.objects.get()
    assert stored.status == "failed"
    assert not inbound()


def test_an_instagram_direct_message(meta_post, instagram_account, fake_provider):
    fake_provider.route("GET", rf"^/v21\.0/{IGSID}$", Reply.json(fixture("instagram_profile")))

    meta_post(instagram_account, fixture("instagram_text"))

    (message,) = inbound("instagram")
    assert message.text == "Hello! Can I change the size of my order?"
    assert message.metadata["instagram_account_id"] == IG_ID
    assert message.metadata["account_id"] == instagram_account.pk
    assert message.metadata["sender_id"] == IGSID
    ticket = message.ticket
    assert (ticket.channel, ticket.is_public) == ("instagram", False)
    assert ticket.requester.name == "Mia Lindqvist"
    identities = set(
        Identity.objects.filter(customer=ticket.requester).values_list("kind", "network", "value")
    )
    assert identities == {
        ("social", "instagram", IGSID),
        ("social", "instagram", "mia.lindqvist"),
    }
    (lookup,) = fake_provider.received("GET", rf"/{IGSID}$")
    assert lookup.query == {"fields": ["name,username"]}


def test_the_stored_body_replays_to_the_same_messages(meta_post, page_account):
    """A payload replayed by hand (admin) ingests nothing twice."""
    meta_post(page_account, fixture("messenger_batch"))
    stored = RawPayload.objects.get()
    RawPayload.objects.filter(pk=stored.pk).update(status="pending")

    raw_payload_process(stored.pk)

    assert len(inbound()) == 2
    assert json.loads(bytes(stored.body))["object"] == "page"

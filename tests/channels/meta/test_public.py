"""Public comments, posts and mentions on Facebook and Instagram become public tickets,
threaded by post per customer; the page's own comments (our replies) are ignored."""

from __future__ import annotations

import copy

import pytest

from frontline.channels.models import RawPayload
from frontline.customers.models import Identity
from frontline.tickets.models import Ticket
from tests.channels.meta.conftest import IG_ID, PAGE_ID, batch_of, fixture, inbound
from tests.fakes.provider_server import Reply

pytestmark = pytest.mark.django_db

POST_ID = "106829374920485_122158301954000001"
COMMENT_ID = "122158301954000001_1029384756102938"


def _feed_value(payload):
    return payload["entry"][0]["changes"][0]["value"]


def _another_comment(comment_id, text, author_id="3982746519203847", post_id=POST_ID):
    payload = fixture("facebook_comment")
    value = _feed_value(payload)
    value.update({"comment_id": comment_id, "message": text, "post_id": post_id})
    value["from"]["id"] = author_id
    return payload


def test_a_facebook_comment_opens_a_public_ticket(meta_post, page_account, fake_provider):
    meta_post(page_account, fixture("facebook_comment"))

    (message,) = inbound()
    assert message.text == "Does this come in green? Ordered last week and still waiting."
    assert message.provider_message_id == COMMENT_ID
    ticket = message.ticket
    assert (ticket.channel, ticket.is_public, ticket.thread_key) == ("facebook", True, POST_ID)
    assert ticket.requester.name == "Dana Whitfield"
    identity = Identity.objects.get(customer=ticket.requester)
    assert (identity.kind, identity.network, identity.value) == (
        "social",
        "facebook",
        "3982746519203847",
    )
    assert message.metadata == {
        "account_id": page_account.pk,
        "page_id": PAGE_ID,
        "sender_id": "3982746519203847",
        "public": True,
        "item": "comment",
        "post_id": POST_ID,
        "comment_id": COMMENT_ID,
        "parent_id": POST_ID,
        "permalink": "https://www.facebook.com/106829374920485/posts/pfbid02Xk7wQm9hRtYbN3",
    }
    assert not fake_provider.received("GET")  # the name came with the comment


def test_comments_under_one_post_thread_together_per_customer(meta_post, page_account):
    meta_post(page_account, fixture("facebook_comment"))
    meta_post(page_account, _another_comment("122158301954000001_5", "Hello? Anyone?"))
    meta_post(
        page_account,
        _another_comment("122158301954000001_6", "Same question", author_id="4100000000000001"),
    )
    meta_post(
        page_account,
        _another_comment("999_7", "On another post", post_id=f"{PAGE_ID}_999"),
    )

    tickets = [m.ticket_id for m in inbound()]
    assert tickets[0] == tickets[1]
    assert len(set(tickets)) == 3
    assert Ticket.objects.filter(is_public=True).count() == 3


def test_a_public_comment_does_not_join_the_customers_private_conversation(meta_post, page_account):
    dm = fixture("messenger_text")
    comment = fixture("facebook_comment")
    _feed_value(comment)["from"]["id"] = "6574839201928374"  # the same person, by id

    meta_post(page_account, dm)
    meta_post(page_account, comment)

    private, public = inbound()
    assert private.ticket.requester_id == public.ticket.requester_id
    assert private.ticket_id != public.ticket_id
    assert (private.ticket.is_public, public.ticket.is_public) == (False, True)


def test_the_pages_own_comment_is_ignored(meta_post, page_account):
    payload = fixture("facebook_comment")
    _feed_value(payload)["from"] = {"id": PAGE_ID, "name": "Northwind Outfitters"}

    meta_post(page_account, payload)

    assert not inbound()
    stored = RawPayload.objects.get()
    assert stored.status == "processed"
    assert "the page's own comment, ignored" in stored.error


def test_an_edited_comment_or_a_like_is_not_a_message(meta_post, page_account):
    edited = fixture("facebook_comment")
    _feed_value(edited)["verb"] = "edited"
    liked = copy.deepcopy(edited)
    _feed_value(liked).update({"item": "reaction", "verb": "add", "reaction_type": "like"})

    meta_post(page_account, batch_of(edited, liked))

    assert not inbound()
    stored = RawPayload.objects.get()
    assert stored.status == "unsupported"
    assert "feed:comment:edited" in stored.error and "feed:reaction:add" in stored.error


def test_a_visitor_post_on_the_page_is_a_public_ticket(meta_post, page_account):
    payload = fixture("facebook_comment")
    value = _feed_value(payload)
    value.update({"item": "post", "message": "Your store on Main St was closed at noon?"})
    del value["comment_id"], value["parent_id"]

    meta_post(page_account, payload)

    (message,) = inbound()
    assert message.provider_message_id == POST_ID
    assert message.ticket.is_public is True
    assert "comment_id" not in message.metadata


def test_a_page_mention_is_a_public_ticket(meta_post, page_account):
    meta_post(page_account, fixture("facebook_mention"))

    (message,) = inbound()
    assert message.text == "Two weeks and no refund from Northwind Outfitters. Anyone else?"
    assert message.provider_message_id == "100064839201736_122190384756102938"
    assert message.metadata["mention"] is True
    assert message.ticket.is_public is True
    assert message.ticket.requester.name == "Ravi Menon"


def test_a_mention_without_its_text_is_looked_up(meta_post, page_account, fake_provider):
    payload = fixture("facebook_mention")
    value = payload["entry"][0]["changes"][0]["value"]
    del value["message"]
    fake_provider.route(
        "GET",
        r"^/v21\.0/100064839201736_122190384756102938$",
        Reply.json(
            {
                "from": {"id": "100064839201736", "name": "Ravi Menon"},
                "message": "Still no refund.",
                "permalink_url": "https://www.facebook.com/100064839201736/posts/1221903",
                "id": "100064839201736_122190384756102938",
            }
        ),
    )

    meta_post(page_account, payload)

    (message,) = inbound()
    assert message.text == "Still no refund."
    assert message.metadata["permalink"].endswith("/posts/1221903")
    (lookup,) = fake_provider.received("GET")
    assert lookup.query == {"fields": ["from,message,permalink_url"]}


def test_an_instagram_comment_opens_a_public_ticket(meta_post, instagram_account):
    meta_post(instagram_account, fixture("instagram_comment"))

    (message,) = inbound("instagram")
    assert message.text == "Is this restocking soon? @northwind"
    assert message.provider_message_id == "17865799348089039"
    ticket = message.ticket
    assert (ticket.channel, ticket.is_public) == ("instagram", True)
    assert ticket.thread_key == "18023847561029384"
    assert message.metadata == {
        "account_id": instagram_account.pk,
        "instagram_account_id": IG_ID,
        "sender_id": "7519283746501928",
        "public": True,
        "comment_id": "17865799348089039",
        "media_id": "18023847561029384",
        "media_product_type": "FEED",
        "username": "mia.lindqvist",
    }
    identities = set(Identity.objects.values_list("network", "value"))
    assert identities == {("instagram", "7519283746501928"), ("instagram", "mia.lindqvist")}


def test_the_accounts_own_instagram_reply_is_ignored(meta_post, instagram_account):
    payload = fixture("instagram_comment")
    payload["entry"][0]["changes"][0]["value"]["from"] = {"id": IG_ID, "username": "northwind"}

    meta_post(instagram_account, payload)

    assert not inbound("instagram")
    assert RawPayload.objects.get().status == "processed"


def test_an_instagram_mention_is_looked_up_and_opens_a_public_ticket(
    meta_post, instagram_account, fake_provider
):
    fake_provider.route(
        "GET", rf"^/v21\.0/{IG_ID}$", Reply.json(fixture("instagram_mentioned_comment"))
    )

    meta_post(instagram_account, fixture("instagram_mention"))

    (message,) = inbound("instagram")
    assert message.text == "@northwind my parcel arrived damaged, who do I talk to?"
    assert message.provider_message_id == "17873440459141021"
    assert message.ticket.is_public is True
    assert message.ticket.thread_key == "17920112008063024"
    assert message.ticket.requester.name == "oskar.berg"
    assert message.metadata["mention"] is True
    assert message.metadata["permalink"] == "https://www.instagram.com/p/DBx9q2LsT4k/"
    (lookup,) = fake_provider.received("GET")
    assert lookup.query["fields"] == [
        "mentioned_comment.comment_id(17873440459141021)"
        "{id,text,timestamp,username,media{permalink}}"
    ]


def test_an_instagram_mention_lookup_that_fails_for_now_is_retried(
    meta_post, instagram_account, fake_provider
):
    fake_provider.fail_next(1, status=503, body=b'{"error": {"message": "busy", "code": 2}}')

    meta_post(instagram_account, fixture("instagram_mention"))

    assert RawPayload.objects.get().status == "pending"
    assert not inbound("instagram")

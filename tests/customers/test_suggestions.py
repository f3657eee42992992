"""Probable duplicates are suggested, never merged silently; agents merge, undo or dismiss."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontline.channels.services import inbound_message_ingest
from frontline.channels.types import InboundMessage, SenderIdentity
from frontline.customers.models import Customer, MergeSuggestion, SuggestionStatus
from frontline.customers.services import customer_merge_revert, customer_organisation_add
from frontline.customers.suggestions import (
    contacts_in_text,
    own_words,
    suggestion_accept,
    suggestion_dismiss,
    suggestions_by_name,
    suggestions_from_message,
    suggestions_open_for,
)
from tests.factories import CustomerFactory, IdentityFactory, OrganisationFactory


def test_contacts_are_found_in_a_signature():
    text = "Thanks!\n--\nAna Lima\nMob: +44 7911 123456 | ana.lima@Example.org\nwww.example.org"
    assert set(contacts_in_text(text)) == {
        ("phone", "+447911123456"),
        ("email", "ana.lima@example.org"),
    }


@given(st.text(max_size=400))
def test_finding_contacts_never_fails(text):
    for kind, value in contacts_in_text(text):
        assert kind in ("email", "phone")
        assert value


def test_quoted_history_is_not_the_customer_own_words():
    full = (
        "See you\nAna +44 7911 123456\n\nOn Mon, 2 Nov 2026, Support wrote:\n"
        "> call +44 20 7946 0958"
    )
    words = own_words("See you", full)
    assert "+44 7911 123456" in words
    assert "7946" not in words


@pytest.mark.django_db
def test_a_phone_in_an_email_signature_suggests_the_sms_customer(
    django_capture_on_commit_callbacks,
):
    sms_customer = IdentityFactory(kind="phone", value="+447911123456").customer
    with django_capture_on_commit_callbacks(execute=True):
        result = inbound_message_ingest(
            InboundMessage(
                channel="email",
                sender=SenderIdentity(kind="email", value="ana@example.org"),
                sender_name="Ana Lima",
                subject="Order",
                text="Where is my order?\n\nAna\n+44 7911 123456",
                provider_message_id="<m1@example.org>",
            )
        )
    email_customer = Customer.objects.get(pk=result.customer_id)
    assert email_customer.pk != sms_customer.pk  # never merged silently
    (suggestion,) = suggestions_open_for(email_customer)
    assert {suggestion.customer_id, suggestion.other_id} == {sms_customer.pk, email_customer.pk}
    assert suggestion.reason == "phone_in_message"
    assert suggestion.evidence["value"] == "+447911123456"
    assert list(suggestions_open_for(sms_customer)) == [suggestion]


@pytest.mark.django_db
def test_the_customer_own_contacts_suggest_nothing_and_pairs_are_suggested_once():
    ana = IdentityFactory(kind="email", value="ana@example.org").customer
    ben = IdentityFactory(kind="email", value="ben@example.org").customer
    assert (
        suggestions_from_message(
            customer_id=ana.pk, text="me: ana@example.org", message_id=1, ticket_id=1
        )
        == 0
    )
    assert (
        suggestions_from_message(
            customer_id=ana.pk, text="cc ben@example.org", message_id=1, ticket_id=1
        )
        == 1
    )
    assert (
        suggestions_from_message(
            customer_id=ben.pk, text="ana@example.org", message_id=2, ticket_id=2
        )
        == 0
    )


@pytest.mark.django_db
def test_same_full_name_in_the_same_organisation(django_capture_on_commit_callbacks):
    acme = OrganisationFactory()
    first = CustomerFactory(name="Ana Lima")
    second = CustomerFactory(name="ana  lima")
    other_org = CustomerFactory(name="Ana Lima")
    with django_capture_on_commit_callbacks(execute=True):
        customer_organisation_add(customer=first, organisation=acme)
        customer_organisation_add(customer=second, organisation=acme)
        customer_organisation_add(customer=other_org, organisation=OrganisationFactory())
    (suggestion,) = MergeSuggestion.objects.all()
    assert (suggestion.customer_id, suggestion.other_id) == (first.pk, second.pk)
    assert suggestion.reason == "same_name_and_organisation"
    single = CustomerFactory(name="Ana")
    customer_organisation_add(customer=single, organisation=acme)
    assert suggestions_by_name(single) == 0  # a first name alone is no evidence


@pytest.mark.django_db
def test_accepting_merges_and_the_merge_can_be_undone(django_capture_on_commit_callbacks):
    ana = IdentityFactory(kind="email", value="ana@example.org").customer
    ana_sms = IdentityFactory(kind="phone", value="+447911123456").customer
    suggestions_from_message(customer_id=ana.pk, text="+44 7911 123456", message_id=1, ticket_id=1)
    suggestion = MergeSuggestion.objects.get()
    merge = suggestion_accept(suggestion=suggestion, keep=ana, actor="user:1")
    ana_sms.refresh_from_db()
    assert ana_sms.merged_into_id == ana.pk
    assert set(ana.identities.values_list("value", flat=True)) == {
        "ana@example.org",
        "+447911123456",
    }
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.MERGED
    with django_capture_on_commit_callbacks(execute=True):
        customer_merge_revert(merge=merge, actor="user:1")
    ana_sms.refresh_from_db()
    assert ana_sms.merged_into_id is None
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.OPEN  # to decide again, either way
    assert list(ana_sms.identities.values_list("value", flat=True)) == ["+447911123456"]


@pytest.mark.django_db
def test_dismissed_pairs_are_not_suggested_again():
    ana = IdentityFactory(kind="email", value="ana@example.org").customer
    IdentityFactory(kind="phone", value="+447911123456")
    suggestions_from_message(customer_id=ana.pk, text="+44 7911 123456", message_id=1, ticket_id=1)
    suggestion_dismiss(suggestion=MergeSuggestion.objects.get(), actor="user:1")
    assert list(suggestions_open_for(ana)) == []
    assert (
        suggestions_from_message(
            customer_id=ana.pk, text="+44 7911 123456", message_id=2, ticket_id=1
        )
        == 0
    )

"""Probable duplicates: two customer records that are likely one person.

Exact matches (the same email, E.164 phone or social id) already resolve to one customer at
ingest. What is only probable is offered to an agent as a suggested merge and never merged
silently: a phone number or email address written in a message (a signature: "call me on
+44 20 7946 0958") that belongs to another customer, or the same full name in the same
organisation. Agents merge (and can undo the merge) or dismiss; a dismissed pair is never
suggested again.
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from frontline.core.bus import Event, publish
from frontline.core.errors import Conflict, ValidationFailed
from frontline.customers.models import (
    Customer,
    CustomerEvent,
    CustomerMerge,
    Identity,
    MergeSuggestion,
    SuggestionStatus,
)
from frontline.customers.normalize import InvalidIdentity, normalize_email

# Where the quoted history of an email starts: what follows was written by others.
QUOTE_START = re.compile(r"^(>|On .{0,200}wrote:\s*$|-{2,} ?Original Message)", re.MULTILINE)
EMAIL_IN_TEXT = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# Text beyond this is not scanned (a pasted log is not a signature).
SCAN_LIMIT = 20_000
REASON_PHONE = "phone_in_message"
REASON_EMAIL = "email_in_message"
REASON_NAME = "same_name_and_organisation"
REASON_LABELS = {
    REASON_PHONE: "wrote a phone number that belongs to",
    REASON_EMAIL: "wrote an email address that belongs to",
    REASON_NAME: "has the same name and organisation as",
}


def contacts_in_text(text: str) -> list[tuple[str, str]]:
    """The (kind, normalised value) of email addresses and phone numbers written in `text`."""
    text = text[:SCAN_LIMIT]
    found: dict[tuple[str, str], None] = {}
    for match in EMAIL_IN_TEXT.finditer(text):
        try:
            found[("email", normalize_email(match.group(0).rstrip(".")))] = None
        except InvalidIdentity:
            continue
    region = settings.PHONE_DEFAULT_REGION
    matcher = phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID)
    for phone in matcher:
        number = phonenumbers.format_number(phone.number, phonenumbers.PhoneNumberFormat.E164)
        found[("phone", number)] = None
    return list(found)


def own_words(text: str, full_text: str = "") -> str:
    """What the customer wrote themselves, signature included: the shown text, plus the
    original email body (whose signature the reply stripper removed) up to its quoted part."""
    if not full_text:
        return text
    quote = QUOTE_START.search(full_text)
    return text + "\n" + (full_text[: quote.start()] if quote else full_text)


def _suggest(a: int, b: int, reason: str, evidence: dict[str, Any]) -> MergeSuggestion | None:
    """Record that `a` and `b` are probably one person, unless the pair is known already."""
    low, high = sorted((a, b))
    if low == high or MergeSuggestion.objects.filter(customer_id=low, other_id=high).exists():
        return None
    try:
        with transaction.atomic():
            suggestion = MergeSuggestion.objects.create(
                customer_id=low, other_id=high, reason=reason, evidence=evidence
            )
    except IntegrityError:  # suggested by a concurrent message just now
        return None
    publish(
        Event(
            name="customer.merge_suggested",
            customer_id=low,
            data={"suggestion_id": suggestion.pk, "other_id": high, "reason": reason},
        )
    )
    return suggestion


def suggestions_from_message(
    *, customer_id: int, text: str, message_id: int, ticket_id: int
) -> int:
    """Suggest merges with the customers owning the contacts written in a customer's message.
    Returns how many suggestions were made."""
    contacts = contacts_in_text(text)
    if not contacts:
        return 0
    query = Q()
    for kind, value in contacts:
        query |= Q(kind=kind, network="", value=value)
    made = 0
    owners = Identity.objects.filter(query, customer__merged_into__isnull=True).exclude(
        customer_id=customer_id
    )
    for identity in owners.only("customer_id", "kind", "value"):
        reason = REASON_PHONE if identity.kind == "phone" else REASON_EMAIL
        evidence = {
            "value": identity.value,
            "message_id": message_id,
            "ticket_id": ticket_id,
            "written_by": customer_id,
        }
        if _suggest(customer_id, identity.customer_id, reason, evidence):
            made += 1
    return made


def suggestions_by_name(customer: Customer) -> int:
    """Suggest merges with customers of the same full name in one of the same organisations."""
    name = " ".join(customer.name.split())
    if len(name.split()) < 2 or customer.merged_into_id is not None:
        return 0  # a first name alone is no evidence
    organisations = list(customer.memberships.values_list("organisation_id", flat=True))
    if not organisations:
        return 0
    namesakes = (
        Customer.objects.filter(
            name__iexact=name,
            merged_into__isnull=True,
            memberships__organisation_id__in=organisations,
        )
        .exclude(pk=customer.pk)
        .distinct()
    )
    made = 0
    for other in namesakes:
        shared = set(other.memberships.values_list("organisation_id", flat=True)) & set(
            organisations
        )
        if _suggest(
            customer.pk, other.pk, REASON_NAME, {"name": name, "organisations": sorted(shared)}
        ):
            made += 1
    return made


def on_message_received(event: Event) -> None:
    """Subscriber of message.received: look for contacts of other customers in the text.
    A failure is logged by the bus and costs only the suggestion."""
    from frontline.tickets.models import Message

    message_id = event.data.get("message_id")
    if not isinstance(message_id, int):
        return
    message = (
        Message.objects.filter(pk=message_id)
        .select_related("ticket")
        .only("text", "metadata", "ticket_id", "ticket__requester_id")
        .first()
    )
    if message is None:
        return
    suggestions_from_message(
        customer_id=message.ticket.requester_id,
        text=own_words(message.text, (message.metadata or {}).get("full_text", "")),
        message_id=message.pk,
        ticket_id=message.ticket_id,
    )


def on_customer_changed(event: Event) -> None:
    """Subscriber of customer.organisation_added and of name changes: namesakes in the same
    organisation."""
    if event.customer_id is None:
        return
    customer = Customer.objects.filter(pk=event.customer_id).first()
    if customer is not None:
        suggestions_by_name(customer)


def suggestions_open_for(customer: Customer) -> QuerySet[MergeSuggestion]:
    """Open suggestions involving `customer` whose both sides still exist unmerged."""
    return (
        MergeSuggestion.objects.filter(
            Q(customer=customer) | Q(other=customer), status=SuggestionStatus.OPEN
        )
        .filter(customer__merged_into__isnull=True, other__merged_into__isnull=True)
        .select_related("customer", "other")
        .prefetch_related("customer__identities", "other__identities")
        .order_by("-id")
    )


def suggestion_describe(suggestion: MergeSuggestion, viewer: Customer) -> str:
    """One line for the agent, from `viewer`'s side: "wrote a phone number that belongs to"."""
    return REASON_LABELS.get(suggestion.reason, "may be the same person as")


@transaction.atomic
def suggestion_accept(*, suggestion: MergeSuggestion, keep: Customer, actor: str) -> CustomerMerge:
    """Merge the pair, keeping `keep` (one of the two). The merge can be undone."""
    from frontline.customers.services import customer_merge

    suggestion = MergeSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.status != SuggestionStatus.OPEN:
        raise Conflict("This suggestion was already decided.")
    if keep.pk not in (suggestion.customer_id, suggestion.other_id):
        raise ValidationFailed("Keep one of the two customers.", fields={"keep": ["not in pair"]})
    source_id = suggestion.other_id if keep.pk == suggestion.customer_id else suggestion.customer_id
    source = Customer.objects.get(pk=source_id)
    merge = customer_merge(source=source, target=keep, actor=actor)
    suggestion.status = SuggestionStatus.MERGED
    suggestion.decided_at = timezone.now()
    suggestion.decided_by = actor
    suggestion.save(update_fields=["status", "decided_at", "decided_by"])
    return merge


@transaction.atomic
def suggestion_dismiss(*, suggestion: MergeSuggestion, actor: str) -> MergeSuggestion:
    """Not the same person: the pair is not suggested again."""
    suggestion = MergeSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.status != SuggestionStatus.OPEN:
        return suggestion
    suggestion.status = SuggestionStatus.DISMISSED
    suggestion.decided_at = timezone.now()
    suggestion.decided_by = actor
    suggestion.save(update_fields=["status", "decided_at", "decided_by"])
    for here, other in (
        (suggestion.customer_id, suggestion.other_id),
        (suggestion.other_id, suggestion.customer_id),
    ):
        CustomerEvent.objects.create(
            customer_id=here, kind="not_same_person", actor=actor, data={"other_id": other}
        )
    return suggestion


def on_merge_reverted(event: Event) -> None:
    """Subscriber of customer.merge_reverted: a suggestion that led to the undone merge is
    open again, so the agent can merge the other way or say they are not the same person."""
    source_id = event.data.get("source_id")
    if event.customer_id is None or not isinstance(source_id, int):
        return
    low, high = sorted((event.customer_id, source_id))
    MergeSuggestion.objects.filter(
        customer_id=low, other_id=high, status=SuggestionStatus.MERGED
    ).update(status=SuggestionStatus.OPEN, decided_at=None, decided_by="")

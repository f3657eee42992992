"""Customers, organisations, identities on every channel, orders, and the merge record."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from frontline.core.models import TimeStampedModel
from frontline.customers.normalize import IdentityKind


class Organisation(TimeStampedModel):
    name = models.CharField(max_length=200)
    domains = models.JSONField(default=list, blank=True, help_text="email domains, lower case")
    attributes = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True)
    shared_tickets = models.BooleanField(
        default=False, help_text="members may see each other's tickets in the portal"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Tier(models.TextChoices):
    STANDARD = "standard", "Standard"
    PREMIUM = "premium", "Premium"
    VIP = "vip", "VIP"


class Customer(TimeStampedModel):
    name = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=16, blank=True)
    preferred_channel = models.CharField(
        max_length=16, blank=True, help_text="where replies go by default; remembered"
    )
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.STANDARD)
    attributes = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True)
    organisations: models.ManyToManyField[Organisation, CustomerOrganisation] = (
        models.ManyToManyField(
            Organisation, through="CustomerOrganisation", related_name="customers", blank=True
        )
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customer",
        help_text="portal login, if any",
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name or f"Customer {self.pk}"


class CustomerOrganisation(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    is_primary = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "organisation"], name="customer_org_unique"
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_primary=True),
                name="customer_one_primary_org",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.organisation_id}"


class Identity(TimeStampedModel):
    KIND_CHOICES = [(k, k) for k in IdentityKind.ALL]

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=16, choices=KIND_CHOICES)
    network = models.CharField(max_length=32, blank=True, help_text="social network or system")
    value = models.CharField(max_length=254)
    verified = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "network", "value"], name="identity_unique"),
        ]
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return f"{self.kind}{':' + self.network if self.network else ''}:{self.value}"


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PAID = "paid", "Paid"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"
    RETURNED = "returned", "Returned"


class Order(TimeStampedModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    number = models.CharField(max_length=64, blank=True, help_text="the shop's order number")
    product = models.CharField(max_length=200)
    sku = models.CharField(max_length=64, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    ordered_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.PAID)

    class Meta:
        ordering = ["-ordered_at"]
        indexes = [models.Index(fields=["customer", "-ordered_at"], name="order_customer_idx")]

    def __str__(self) -> str:
        return f"{self.number or self.pk} {self.product}"


class CustomerEvent(models.Model):
    """The customer's own timeline (merges, identities added, profile changes)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    actor = models.CharField(max_length=100, blank=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} on customer {self.customer_id}"


class CustomerMerge(models.Model):
    """What a merge moved, precisely enough to move it back."""

    source = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merges_out")
    target = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merges_in")
    actor = models.CharField(max_length=100, blank=True)
    moved = models.JSONField(default=dict, help_text="ids of identities, tickets, orders, orgs")
    created_at = models.DateTimeField(auto_now_add=True)
    reverted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"merge {self.source_id} -> {self.target_id}"


class SuggestionStatus(models.TextChoices):
    OPEN = "open", "Open"
    MERGED = "merged", "Merged"
    DISMISSED = "dismissed", "Not the same person"


class MergeSuggestion(models.Model):
    """Two customers who are probably one person. Offered to agents, never merged silently.
    The pair is stored with the lower id first so it is found once whichever side asks."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=40)
    evidence = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "other"], name="merge_suggestion_pair"),
            models.CheckConstraint(
                condition=models.Q(customer__lt=models.F("other")),
                name="merge_suggestion_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} ~ {self.other_id} ({self.reason})"

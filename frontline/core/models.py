"""Shared base models and the domain-event outbox (the global event feed)."""

from __future__ import annotations

from django.db import models
from django.db.models.expressions import Func


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class CurrentTransactionId(Func):
    """The writing transaction's id on PostgreSQL (0 elsewhere).

    The event feed orders by (txid, id) and only serves transactions older than every
    transaction still running, so a consumer never skips an event that commits late.
    """

    template = "0"
    output_field = models.BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):  # type: ignore[no-untyped-def]
        return "pg_current_xact_id()::text::bigint", []


class DomainEvent(models.Model):
    """Every domain event, written in the same transaction as the change it describes."""

    id = models.BigAutoField(primary_key=True)
    txid = models.BigIntegerField(default=0)
    name = models.CharField(max_length=64, db_index=True)
    ticket_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor = models.CharField(max_length=100, blank=True, help_text="e.g. user:3, system, bot")
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["txid", "id"], name="core_event_feed_idx")]
        ordering = ["txid", "id"]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"

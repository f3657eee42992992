"""Who did something: a user, a customer, the system, the bot or an automation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from frontline.accounts.models import User
    from frontline.customers.models import Customer


@dataclass(frozen=True)
class Actor:
    kind: str  # user, customer, system, bot, automation
    user: User | None = None
    customer: Customer | None = None
    name: str = ""

    @property
    def label(self) -> str:
        if self.kind == "user" and self.user is not None:
            return f"user:{self.user.pk}"
        if self.kind == "customer" and self.customer is not None:
            return f"customer:{self.customer.pk}"
        return f"{self.kind}:{self.name}" if self.name else self.kind

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(kind="user", user=user)

    @classmethod
    def for_customer(cls, customer: Customer) -> Actor:
        return cls(kind="customer", customer=customer)


SYSTEM = Actor(kind="system")

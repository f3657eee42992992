from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "frontline.customers"
    label = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from frontline.core.bus import subscribe
        from frontline.customers.suggestions import (
            on_customer_changed,
            on_merge_reverted,
            on_message_received,
        )

        # The scan is cheap (one query when the text holds a contact): it runs in the process
        # that stored the message, without a task of its own, except for chat, whose
        # acknowledgement to the visitor waits for the commit's callbacks.
        subscribe(
            "message.received",
            on_message_received,
            mode="inline",
            when=lambda e: e.data.get("channel") != "chat",
        )
        subscribe(
            "message.received",
            on_message_received,
            mode="task",
            when=lambda e: e.data.get("channel") == "chat",
        )
        subscribe("customer.merge_reverted", on_merge_reverted, mode="inline")
        # A namesake needs a shared organisation: a new customer has none yet, so only joining
        # one or a change of name can make a pair (no task for every new sender).
        subscribe("customer.organisation_added", on_customer_changed, mode="task")
        subscribe(
            "customer.updated", on_customer_changed, mode="task", when=lambda e: "name" in e.data
        )

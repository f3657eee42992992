from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "frontline.customers"
    label = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from frontline.core.bus import subscribe
        from frontline.customers.suggestions import on_customer_changed, on_message_received

        subscribe("message.received", on_message_received, mode="task")
        # A namesake needs a shared organisation: a new customer has none yet, so only joining
        # one or a change of name can make a pair (no task for every new sender).
        subscribe("customer.organisation_added", on_customer_changed, mode="task")
        subscribe(
            "customer.updated", on_customer_changed, mode="task", when=lambda e: "name" in e.data
        )

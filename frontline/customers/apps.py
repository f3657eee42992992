from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "frontline.customers"
    label = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from frontline.core.bus import subscribe
        from frontline.customers.suggestions import on_customer_changed, on_message_received

        subscribe("message.received", on_message_received, mode="task")
        for name in ("customer.created", "customer.updated", "customer.organisation_added"):
            subscribe(name, on_customer_changed, mode="task")

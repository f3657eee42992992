from importlib import import_module

from django.apps import AppConfig


class ChannelsAppConfig(AppConfig):
    name = "frontline.channels"
    label = "frontline_channels"
    verbose_name = "Channels"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from frontline.channels.accounts import accounts_cache_clear
        from frontline.channels.api.adapter import ApiChannelAdapter
        from frontline.channels.chat.adapter import ChatChannelAdapter
        from frontline.channels.chat.assign import on_chat_ticket_created
        from frontline.channels.email.adapter import EmailChannelAdapter
        from frontline.channels.email.handlers import on_ticket_created
        from frontline.channels.models import MessagingAccount
        from frontline.channels.outbound import on_message_created
        from frontline.channels.phone.handlers import on_call_received
        from frontline.channels.registry import adapter_register
        from frontline.core.bus import subscribe

        post_save.connect(accounts_cache_clear, sender=MessagingAccount)
        post_delete.connect(accounts_cache_clear, sender=MessagingAccount)
        adapter_register(ApiChannelAdapter())
        adapter_register(EmailChannelAdapter())
        adapter_register(ChatChannelAdapter())
        for package in ("twilio", "phone", "meta", "webhook"):
            module = import_module(f"frontline.channels.{package}.adapter")
            for adapter in module.ADAPTERS:
                adapter_register(adapter)
        subscribe(
            "ticket.created",
            on_chat_ticket_created,
            mode="task",
            when=lambda e: e.data.get("channel") == "chat" and not e.data.get("assignee_id"),
        )
        subscribe(
            "message.received",
            on_call_received,
            mode="task",
            when=lambda e: e.data.get("channel") == "phone",
        )
        subscribe(
            "message.created",
            on_message_created,
            mode="task",
            when=lambda e: e.data.get("visibility") == "public",
        )
        subscribe(
            "ticket.created",
            on_ticket_created,
            mode="task",
            when=lambda e: e.data.get("channel") == "email",
        )

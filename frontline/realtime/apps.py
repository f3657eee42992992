from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "frontline.realtime"
    label = "frontline_realtime"
    verbose_name = "Realtime"

    def ready(self) -> None:
        from frontline.core.bus import subscribe
        from frontline.realtime.push import on_event

        subscribe("*", on_event, mode="inline")

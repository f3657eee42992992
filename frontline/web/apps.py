from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "frontline.web"
    label = "web"
    verbose_name = "Agent web UI"

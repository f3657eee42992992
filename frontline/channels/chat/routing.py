from django.urls import path

from frontline.channels.chat.consumers import VisitorConsumer

websocket_urlpatterns = [path("ws/chat/", VisitorConsumer.as_asgi())]

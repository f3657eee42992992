from django.urls import path

from frontline.realtime import views

app_name = "realtime"

urlpatterns = [
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("presence/", views.presence_set, name="presence"),
]

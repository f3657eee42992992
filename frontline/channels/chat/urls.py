from django.urls import path

from frontline.channels.chat import views

app_name = "chat"

urlpatterns = [
    path("widget.js", views.widget_js, name="widget_js"),
    path("<str:site_key>/config", views.widget_config, name="config"),
    path("<str:site_key>/upload", views.widget_upload, name="upload"),
    path("<str:site_key>/offline", views.widget_offline, name="offline"),
    path("<str:site_key>/try", views.widget_try, name="try"),
    path("files/<str:token>/<str:filename>", views.attachment_download, name="attachment"),
]

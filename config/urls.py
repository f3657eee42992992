from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from frontline.api.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("channels/", include("frontline.channels.urls")),
    path("chat/", include("frontline.channels.chat.urls")),
    path("", include("frontline.realtime.urls")),
    path("", include("frontline.web.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

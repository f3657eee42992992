from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from frontline.web import ticket_views, views

app_name = "web"

urlpatterns = [
    path("", RedirectView.as_view(url="/tickets/", permanent=False)),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="web/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tickets/", views.ticket_list, name="ticket_list"),
    path("tickets/bulk/", views.ticket_bulk_post, name="ticket_bulk_post"),
    path("tickets/views/", views.saved_view_post, name="saved_view_post"),
    path(
        "tickets/views/<int:view_id>/delete/",
        views.saved_view_delete_post,
        name="saved_view_delete_post",
    ),
    path("tickets/<int:ticket_id>/", ticket_views.ticket_detail, name="ticket_detail"),
    path(
        "tickets/<int:ticket_id>/messages/",
        ticket_views.ticket_message_post,
        name="ticket_message_post",
    ),
    path(
        "tickets/<int:ticket_id>/messages/<int:message_id>/",
        ticket_views.ticket_message_partial,
        name="ticket_message_partial",
    ),
    path(
        "tickets/<int:ticket_id>/update/",
        ticket_views.ticket_update_post,
        name="ticket_update_post",
    ),
    path(
        "attachments/<int:attachment_id>/<str:filename>",
        ticket_views.attachment_download,
        name="attachment_download",
    ),
    path("styleguide/", views.styleguide, name="styleguide"),
    path("healthz", views.healthz, name="healthz"),
]

from collections.abc import Callable

from django.contrib.auth import views as auth_views
from django.http import HttpResponseBase
from django.urls import path
from django.views.generic import RedirectView

from frontline.web import customer_views, ticket_views, views

app_name = "web"

# The ticket page and everything done from it, under /tickets/<id>/; each route is named
# after its view.
TICKET_ROUTES: list[tuple[str, Callable[..., HttpResponseBase]]] = [
    ("", ticket_views.ticket_detail),
    ("messages/", ticket_views.ticket_message_post),
    ("messages/<int:message_id>/", ticket_views.ticket_message_partial),
    ("messages/<int:message_id>/split/", ticket_views.ticket_message_split_post),
    ("update/", ticket_views.ticket_update_post),
    ("canned/", ticket_views.ticket_canned_render),
    ("canned/insert/", ticket_views.ticket_canned_insert_post),
    ("collaborators/", ticket_views.ticket_collaborator_add_post),
    ("collaborators/<int:user_id>/remove/", ticket_views.ticket_collaborator_remove_post),
    ("swarm/", ticket_views.ticket_swarm_post),
    ("swarm/resolve/", ticket_views.ticket_swarm_resolve_post),
    ("experts/", ticket_views.ticket_experts),
    ("side/", ticket_views.ticket_side_start_post),
    ("side/<int:conversation_id>/messages/", ticket_views.ticket_side_message_post),
    ("side/<int:conversation_id>/close/", ticket_views.ticket_side_close_post),
    ("links/", ticket_views.ticket_link_post),
    ("links/<int:link_id>/remove/", ticket_views.ticket_unlink_post),
    ("merge/", ticket_views.ticket_merge_post),
    ("time/", ticket_views.ticket_time_add_post),
    ("time/start/", ticket_views.ticket_timer_start_post),
    ("time/stop/", ticket_views.ticket_timer_stop_post),
    ("time/<int:entry_id>/delete/", ticket_views.ticket_time_delete_post),
    ("customer-notes/", ticket_views.ticket_customer_notes_post),
    ("tasks/", ticket_views.ticket_task_add_post),
    ("tasks/<int:task_id>/done/", ticket_views.ticket_task_done_post),
]

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
    *(
        path(f"tickets/<int:ticket_id>/{suffix}", view, name=view.__name__)
        for suffix, view in TICKET_ROUTES
    ),
    path(
        "attachments/<int:attachment_id>/<str:filename>",
        ticket_views.attachment_download,
        name="attachment_download",
    ),
    path("customers/", customer_views.customer_list_view, name="customer_list"),
    path("customers/<int:customer_id>/", customer_views.customer_detail, name="customer_detail"),
    path(
        "customers/<int:customer_id>/profile/",
        customer_views.customer_profile_post,
        name="customer_profile_post",
    ),
    path(
        "customers/<int:customer_id>/suggestions/<int:suggestion_id>/",
        customer_views.customer_suggestion_post,
        name="customer_suggestion_post",
    ),
    path(
        "customers/<int:customer_id>/merges/<int:merge_id>/undo/",
        customer_views.customer_merge_undo_post,
        name="customer_merge_undo_post",
    ),
    path("styleguide/", views.styleguide, name="styleguide"),
    path("healthz", views.healthz, name="healthz"),
]

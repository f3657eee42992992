"""The widget's HTTP side: the script itself, its public config, uploads, the offline form,
and file downloads by signed link. Cross-origin by design, for allowlisted origins only."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from frontline.channels.chat import services
from frontline.core.errors import DomainError, ValidationFailed
from frontline.core.ratelimit import rate_limit_exceeded

WIDGET_JS = Path(__file__).parent.parent / "static" / "frontline" / "chat" / "widget.js"
View = Callable[..., HttpResponse]


def _cors(view: View) -> View:
    """Resolve the widget, refuse foreign origins, answer preflights, add CORS headers."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, site_key: str, **kwargs: Any) -> HttpResponse:
        widget = services.widget_for_site_key(site_key)
        if widget is None:
            return JsonResponse(
                {"error": {"code": "not_found", "message": "No such widget."}}, status=404
            )
        origin = request.headers.get("Origin", "")
        if not services.origin_allowed(widget, origin):
            return JsonResponse(
                {"error": {"code": "forbidden", "message": "This site may not use the widget."}},
                status=403,
            )
        if request.method == "OPTIONS":
            response: HttpResponse = HttpResponse(status=204)
        else:
            response = view(request, widget, **kwargs)
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "600"
        response["Vary"] = "Origin"
        return response

    return wrapper


def _error(exc: DomainError, status: int = 400) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": exc.code, "message": exc.message, "fields": exc.fields}}, status=status
    )


def widget_js(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(WIDGET_JS.read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@_cors
def widget_config(request: HttpRequest, widget: Any) -> HttpResponse:
    return JsonResponse(services.widget_public_config(widget))


@_cors
def widget_upload(request: HttpRequest, widget: Any) -> HttpResponse:
    """A file from the visitor: one message holding it, acknowledged like a text message."""
    if request.method != "POST":
        return JsonResponse({"error": {"code": "method", "message": "POST a file."}}, status=405)
    uid = services.visitor_token_read(widget, request.POST.get("token", ""))
    if uid is None:
        return JsonResponse(
            {"error": {"code": "forbidden", "message": "Unknown visitor."}}, status=403
        )
    retry = rate_limit_exceeded(f"chat-visitor:{uid}", limit=widget.visitor_messages_per_minute)
    if retry:
        response = JsonResponse(
            {"error": {"code": "rate_limited", "message": "Too many messages."}}, status=429
        )
        response["Retry-After"] = str(retry)
        return response
    files = request.FILES.getlist("file")
    from frontline.tickets.services import AttachmentInput, attachments_validate

    uploads = tuple(
        services.ChatUpload(
            filename=f.name or "file", content_type=f.content_type or "", content=f.read()
        )
        for f in files
    )
    try:
        if not uploads:
            raise ValidationFailed("Choose a file.", fields={"file": ["required"]})
        attachments_validate(
            [
                AttachmentInput(filename=u.filename, content=u.content, content_type=u.content_type)
                for u in uploads
            ]
        )
        result = services.chat_message_receive(
            widget=widget,
            uid=uid,
            client_id=request.POST.get("client_id", ""),
            text=request.POST.get("text", ""),
            uploads=uploads,
            page_url=request.POST.get("page", ""),
        )
    except DomainError as exc:
        too_big = any(len(u.content) > settings.ATTACHMENT_MAX_BYTES for u in uploads)
        return _error(exc, status=413 if too_big else 400)
    if not result.duplicate:  # the visitor's tabs show the file (with its signed link)
        from frontline.realtime.push import group_push
        from frontline.tickets.models import Message

        stored = Message.objects.prefetch_related("attachments").get(pk=result.message_id)
        group_push(services.visitor_group(uid), services.chat_message_payload(stored, uid))
    return JsonResponse(
        {
            "type": "ack",
            "client_id": request.POST.get("client_id", ""),
            "id": result.message_id,
            "ticket": result.ticket_id,
            "duplicate": result.duplicate,
        },
        status=201 if not result.duplicate else 200,
    )


@_cors
def widget_offline(request: HttpRequest, widget: Any) -> HttpResponse:
    if request.method != "POST":
        return JsonResponse({"error": {"code": "method", "message": "POST the form."}}, status=405)
    ip = request.META.get("REMOTE_ADDR", "")
    if rate_limit_exceeded(f"chat-offline:{widget.pk}:{ip}", limit=5, window=600):
        return JsonResponse(
            {"error": {"code": "rate_limited", "message": "Too many messages."}}, status=429
        )
    try:
        data = json.loads(request.body or b"{}")
        if not isinstance(data, dict):
            raise ValueError
    except ValueError:
        return JsonResponse({"error": {"code": "invalid", "message": "Send JSON."}}, status=400)
    try:
        result = services.chat_offline_message(
            widget=widget,
            name=str(data.get("name") or ""),
            email=str(data.get("email") or ""),
            text=str(data.get("message") or ""),
            page_url=str(data.get("page") or ""),
        )
    except DomainError as exc:
        return _error(exc)
    return JsonResponse({"ticket": result.ticket_id}, status=201)


def attachment_download(request: HttpRequest, token: str, filename: str) -> FileResponse:
    attachment = services.attachment_for_token(token)
    if attachment is None:
        raise Http404("No such file")
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
def widget_try(request: HttpRequest, site_key: str) -> HttpResponse:
    """A page embedding the widget, so an admin can try it on Frontline's own origin."""
    from frontline.accounts.models import Role

    if getattr(request.user, "role", "") not in (Role.ADMIN, Role.SUPERVISOR):
        raise PermissionDenied
    widget = services.widget_for_site_key(site_key)
    if widget is None:
        raise Http404("No such widget")
    origin = request.build_absolute_uri("/").rstrip("/")
    return render(
        request,
        "chat/try.html",
        {
            "widget": widget,
            "origin_allowed": services.origin_allowed(widget, origin),
            "origin": origin,
        },
    )

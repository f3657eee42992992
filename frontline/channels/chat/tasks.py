from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def chat_transcript_send_task(widget_id: int, uid: str) -> None:
    """Mail the visitor their conversation (they asked for it in the widget)."""
    from django.conf import settings
    from django.core.mail import EmailMessage

    from frontline.channels.chat.services import chat_transcript_text
    from frontline.channels.models import ChatVisitor, ChatWidget

    widget = ChatWidget.objects.filter(pk=widget_id).first()
    visitor = ChatVisitor.objects.filter(uid=uid).first()
    if widget is None or visitor is None or not visitor.email:
        return
    body = chat_transcript_text(uid)
    EmailMessage(
        subject=f"Your conversation with {widget.name}",
        body=f"Here is the transcript of your chat with {widget.name}.\n\n{body}\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[visitor.email],
        headers={"Auto-Submitted": "auto-generated"},
    ).send()

"""Bus subscribers of the phone channel.

Subscribe in the channels app (task mode; the filter keeps other channels' messages off the
queue):

    subscribe("message.received", on_call_received, mode="task",
              when=lambda e: e.data.get("channel") == "phone")
"""

from __future__ import annotations

from frontline.channels.phone.services import PHONE, call_followup
from frontline.core.bus import Event


def on_call_received(event: Event) -> None:
    """A call was stored on a ticket: a missed call or a voicemail opens a call-back task, a
    call that reached the customer ticks off the open ones. Idempotent per message, so the
    task's retries and a replayed event add nothing."""
    if event.data.get("channel") != PHONE:
        return
    message_id = event.data.get("message_id")
    if isinstance(message_id, int):
        call_followup(message_id)

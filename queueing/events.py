"""What happens after a queue change commits: a push to the hall's channel group, and
the listeners that other layers register (the operations layer's alert rules).

Services call `publish_on_commit` inside their transaction; nothing is sent for a
change that rolls back. The channel layer may drop a message: clients treat a push as
"something changed, fetch it", and the database stays the source of truth.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from queueing.models import TicketEvent, Window

log = logging.getLogger(__name__)

TicketEventListener = Callable[[TicketEvent], None]
_ticket_listeners: list[TicketEventListener] = []


def hall_group(hall_id: int) -> str:
    return f"hall_{hall_id}"


def add_ticket_event_listener(listener: TicketEventListener) -> None:
    """Run `listener(event)` after each committed ticket event (register in AppConfig.ready)."""
    if listener not in _ticket_listeners:
        _ticket_listeners.append(listener)


def remove_ticket_event_listener(listener: TicketEventListener) -> None:
    if listener in _ticket_listeners:
        _ticket_listeners.remove(listener)


def publish_ticket_event_on_commit(event: TicketEvent) -> None:
    transaction.on_commit(lambda: _after_ticket_event(event))


def publish_window_change_on_commit(window: Window) -> None:
    message = {
        "type": "queue.changed",
        "kind": "window",
        "window": window.label,
        "window_id": window.pk,
        "status": window.status,
    }
    transaction.on_commit(lambda: send_to_hall(window.hall_id, message))


def _after_ticket_event(event: TicketEvent) -> None:
    ticket = event.ticket
    send_to_hall(
        event.hall_id,
        {
            "type": "queue.changed",
            "kind": event.kind,
            "ticket": ticket.number,
            "ticket_id": ticket.pk,
            "service": ticket.service.prefix,
            "window": event.window.label if event.window else None,
            "window_id": event.window_id,
            "at": event.at.isoformat(),
        },
    )
    for listener in list(_ticket_listeners):
        try:
            listener(event)
        except Exception:  # a listener's failure must not undo a committed change
            log.exception("ticket event listener %r failed for event %s", listener, event.pk)


def send_to_hall(hall_id: int, message: dict[str, Any]) -> None:
    send_to_group(hall_group(hall_id), message)


def send_to_group(group: str, message: dict[str, Any]) -> None:
    """Best-effort push to a channel group; a failure is logged, never raised."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # the layer is best effort; clients resync from the database
        log.warning("could not push to %s", group, exc_info=True)

"""Windows: read one with its queue, call the next ticket, open / pause / close."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from queueing import services
from queueing.api.auth import access_window_for_token, token_of
from queueing.api.schemas import (
    ERRORS,
    CallNextOut,
    QueueEntryOut,
    WindowOut,
    WindowPath,
    WindowStatusIn,
)
from queueing.api.tickets import ticket_out
from queueing.models import Ticket, Window
from queueing.selectors import window_queue

router = Router(tags=["windows"])


def window_out(window: Window) -> WindowOut:
    window = Window.objects.select_related("hall").prefetch_related("skills").get(pk=window.pk)
    current = Ticket.objects.current().filter(window=window).first()
    return WindowOut(
        id=window.pk,
        hall=window.hall.code,
        label=window.label,
        status=Window.Status(window.status),
        status_changed_at=window.status_changed_at,
        is_priority=window.is_priority,
        auto_call=window.auto_call,
        skills=[s.prefix for s in window.skills.all()],
        ticket=ticket_out(current) if current else None,
        queue=[
            QueueEntryOut(
                id=t.pk,
                number=t.number,
                service=t.service.prefix,
                issued_at=t.issued_at,
                is_priority=t.is_priority,
            )
            for t in window_queue(window)
        ],
    )


@router.get("/windows/{window_id}", response={200: WindowOut, **ERRORS})
def get_window(request: HttpRequest, window_id: WindowPath) -> WindowOut:
    """Status, skills, the ticket it holds, and its queue (at most 50, in call order)."""
    return window_out(access_window_for_token(token_of(request), window_id))


@router.post("/windows/{window_id}/call-next", response={200: CallNextOut, **ERRORS})
def call_next(request: HttpRequest, window_id: WindowPath) -> CallNextOut:
    """Call the ticket the calling policy puts first for this window. Always 200:
    `{"ticket": {...}}` with the called ticket, or `{"ticket": null}` when nobody waits.
    409 when the window is not open or still holds a ticket."""
    window = access_window_for_token(token_of(request), window_id)
    ticket = services.ticket_call_next(window=window)
    return CallNextOut(ticket=ticket_out(ticket) if ticket else None)


@router.post("/windows/{window_id}/status", response={200: WindowOut, **ERRORS})
def set_window_status(
    request: HttpRequest, window_id: WindowPath, payload: WindowStatusIn
) -> WindowOut:
    """Open, pause or close the window. Closing needs it free of tickets (else 409)."""
    window = access_window_for_token(token_of(request), window_id)
    return window_out(services.window_set_status(window=window, status=payload.status))

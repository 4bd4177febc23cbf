"""Tickets: issue one at a hall, read one, and move it through its states."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from queueing import services
from queueing.api.auth import access_hall_for_token, access_ticket_for_token, token_of
from queueing.api.schemas import (
    ERRORS,
    HallPath,
    TicketCallIn,
    TicketCancelIn,
    TicketCompleteIn,
    TicketIssueIn,
    TicketOut,
    TicketPath,
    TicketTransferIn,
    WindowRefOut,
    quote_out,
)
from queueing.models import Outcome, Service, Ticket, Window
from queueing.selectors import position_in_queue
from queueing.services import QueueError

router = Router(tags=["tickets"])


def ticket_out(ticket: Ticket) -> TicketOut:
    """The API's view of a ticket (2 queries: the ticket, and its position if waiting)."""
    ticket = Ticket.objects.select_related("hall", "service", "window", "visitor").get(pk=ticket.pk)
    waiting = ticket.status == Ticket.Status.WAITING
    return TicketOut(
        id=ticket.pk,
        hall=ticket.hall.code,
        number=ticket.number,
        service=ticket.service.prefix,
        status=Ticket.Status(ticket.status),
        business_date=ticket.business_date,
        issued_at=ticket.issued_at,
        called_at=ticket.called_at,
        started_at=ticket.started_at,
        ended_at=ticket.ended_at,
        window=WindowRefOut(id=ticket.window.pk, label=ticket.window.label)
        if ticket.window
        else None,
        position=position_in_queue(ticket) if waiting else None,
        recall_count=ticket.recall_count,
        is_elderly=ticket.is_elderly,
        is_disabled=ticket.is_disabled,
        has_appointment=ticket.has_appointment,
        is_priority=ticket.is_priority,
        visitor=ticket.visitor.masked_id if ticket.visitor else None,
        outcome=Outcome(ticket.outcome) if ticket.outcome else None,
        missing_documents=ticket.missing_documents,
        end_reason=ticket.end_reason,
        estimate=quote_out(ticket),
    )


def _service(prefix: str) -> Service:
    service = Service.objects.filter(prefix=prefix).first()
    if service is None:
        raise QueueError(_("No service has this prefix."), field="service")
    return service


@router.post("/halls/{hall}/tickets", response={201: TicketOut, **ERRORS})
def issue_ticket(request: HttpRequest, hall: HallPath, payload: TicketIssueIn) -> Status[TicketOut]:
    """Take a number. An ID number, when given, is checked and kept only as a keyed
    hash, its last two characters and the birth year; the visitor's age sets `is_elderly`."""
    hall_row = access_hall_for_token(token_of(request), hall)
    ticket = services.ticket_issue(
        hall=hall_row,
        service=_service(payload.service),
        id_number=payload.id_number,
        is_disabled=payload.is_disabled,
        has_appointment=payload.has_appointment,
    )
    return Status(201, ticket_out(ticket))


@router.get("/tickets/{ticket_id}", response={200: TicketOut, **ERRORS})
def get_ticket(request: HttpRequest, ticket_id: TicketPath) -> TicketOut:
    return ticket_out(access_ticket_for_token(token_of(request), ticket_id))


@router.post("/tickets/{ticket_id}/call", response={200: TicketOut, **ERRORS})
def call_ticket(request: HttpRequest, ticket_id: TicketPath, payload: TicketCallIn) -> TicketOut:
    """Call this waiting ticket to a window of its hall (which must be open, free, and
    handle the ticket's service)."""
    ticket = access_ticket_for_token(token_of(request), ticket_id)
    window = Window.objects.filter(pk=payload.window, hall_id=ticket.hall_id).first()
    if window is None:
        raise QueueError(_("This hall has no window with that id."), field="window")
    return ticket_out(services.ticket_call(ticket=ticket, window=window))


@router.post("/tickets/{ticket_id}/recall", response={200: TicketOut, **ERRORS})
def recall_ticket(request: HttpRequest, ticket_id: TicketPath) -> TicketOut:
    """Announce a called ticket again (at most the hall's recall limit)."""
    ticket = access_ticket_for_token(token_of(request), ticket_id)
    return ticket_out(services.ticket_recall(ticket=ticket))


@router.post("/tickets/{ticket_id}/start", response={200: TicketOut, **ERRORS})
def start_ticket(request: HttpRequest, ticket_id: TicketPath) -> TicketOut:
    """The called visitor reached the window."""
    ticket = access_ticket_for_token(token_of(request), ticket_id)
    return ticket_out(services.ticket_start(ticket=ticket))


@router.post("/tickets/{ticket_id}/complete", response={200: TicketOut, **ERRORS})
def complete_ticket(
    request: HttpRequest, ticket_id: TicketPath, payload: TicketCompleteIn
) -> TicketOut:
    """Finish service with an outcome (`done` when left out)."""
    ticket = access_ticket_for_token(token_of(request), ticket_id)
    done = services.ticket_complete(
        ticket=ticket, outcome=payload.outcome, missing_documents=payload.missing_documents
    )
    return ticket_out(done)


@router.post("/tickets/{ticket_id}/no-show", response={200: TicketOut, **ERRORS})
def no_show_ticket(request: HttpRequest, ticket_id: TicketPath) -> TicketOut:
    """The called visitor did not come."""
    ticket = access_ticket_for_token(token_of(request), ticket_id)
    return ticket_out(services.ticket_no_show(ticket=ticket))


@router.post("/tickets/{ticket_id}/transfer", response={200: TicketOut, **ERRORS})
def transfer_ticket(
    request: HttpRequest, ticket_id: TicketPath, payload: TicketTransferIn
) -> TicketOut:
    """Move the ticket to another service's queue; it keeps its number and issue time."""
    ticket = access_ticket_for_token(token_of(request), ticket_id)
    return ticket_out(services.ticket_transfer(ticket=ticket, service=_service(payload.service)))


@router.post("/tickets/{ticket_id}/cancel", response={200: TicketOut, **ERRORS})
def cancel_ticket(
    request: HttpRequest, ticket_id: TicketPath, payload: TicketCancelIn
) -> TicketOut:
    """Withdraw a ticket that is not yet completed."""
    ticket = access_ticket_for_token(token_of(request), ticket_id)
    return ticket_out(services.ticket_cancel(ticket=ticket, reason=payload.reason))

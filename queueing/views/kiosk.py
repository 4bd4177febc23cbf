"""The ticket machine: choose a service (each button says the wait, and names a nearby
hall that is much quicker), optionally give an ID number, get a number and its quote."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from queueing import selectors
from queueing.access import KIOSK_ROLES, access_hall_for_user
from queueing.estimation import Estimate
from queueing.estimation.neighbours import Neighbour, best_alternative, nearby_halls
from queueing.forms import TicketIssueForm
from queueing.models import Hall, Ticket
from queueing.routing import hall_queue_path
from queueing.services import QueueError, ticket_issue
from queueing.views.common import StaffRequest, error_status, render_page

TEMPLATE = "queueing/kiosk.html"
PARTIALS = ("kiosk-main", "kiosk-services")
RETURN_AFTER_S = 15


def _context(hall: Hall, form: TicketIssueForm) -> dict[str, object]:
    state = selectors.hall_state(hall)
    return {
        "hall": hall,
        "form": form,
        "state": state,
        # each button's wait and a much quicker nearby hall (their estimates cached 30 s)
        "queues": selectors.service_outlook(state),
        "live_socket": hall_queue_path(hall.code),
    }


def _alternative(ticket: Ticket) -> Neighbour | None:
    """A nearby hall much quicker for the ticket's service than its quote here."""
    if ticket.quoted_wait_s is None:
        return None
    here = Estimate(ticket.quoted_wait_s, ticket.quoted_low_s or 0, ticket.quoted_high_s or 0)
    nearby = nearby_halls(ticket.hall, here={ticket.service_id: here})
    return best_alternative(nearby.get(ticket.service_id, []))


def _quote_minutes(ticket: Ticket) -> dict[str, int] | None:
    """The quote in whole minutes for the ticket ("about 18 min, 12–25")."""
    if ticket.quoted_wait_s is None or ticket.quoted_low_s is None or ticket.quoted_high_s is None:
        return None
    return {
        "minutes": round(ticket.quoted_wait_s / 60),
        "low": int(ticket.quoted_low_s // 60),
        "high": max(1, -(-ticket.quoted_high_s // 60)),  # round up: a promise to keep
    }


@require_GET
@login_required
def kiosk(request: StaffRequest, code: str) -> HttpResponse:
    hall = access_hall_for_user(request.user, code, KIOSK_ROLES)
    return render_page(request, TEMPLATE, _context(hall, TicketIssueForm()), partials=PARTIALS)


# no cache keeps an answer to a form that carried an ID number
@never_cache
@sensitive_variables("form")
@sensitive_post_parameters("id_number")
@require_POST
@login_required
def kiosk_issue(request: StaffRequest, code: str) -> HttpResponse:
    hall = access_hall_for_user(request.user, code, KIOSK_ROLES)
    form = TicketIssueForm(request.POST)
    if form.is_valid():
        try:
            ticket = ticket_issue(
                hall=hall,
                service=form.cleaned_data["service"],
                id_number=form.cleaned_data["id_number"] or None,
                is_disabled=form.cleaned_data["is_disabled"],
                has_appointment=form.cleaned_data["has_appointment"],
                actor=request.user,
            )
        except QueueError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            status = error_status(exc)
        else:
            context = {
                "hall": hall,
                "ticket": ticket,
                "quote": _quote_minutes(ticket),
                "ahead": selectors.position_in_queue(ticket),
                "alternative": _alternative(ticket),
                "return_after_s": RETURN_AFTER_S,
                "live_socket": hall_queue_path(hall.code),
            }
            return render_page(request, TEMPLATE, context, partial="kiosk-ticket")
    else:
        status = 422
    return render_page(request, TEMPLATE, _context(hall, form), partial="kiosk-main", status=status)

"""The calling display: the TV on the wall that tells visitors where to go."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from queueing import selectors
from queueing.access import DISPLAY_ROLES, access_hall_for_user
from queueing.models import Service, TicketEvent
from queueing.routing import hall_queue_path
from queueing.views.common import StaffRequest, render_page

TEMPLATE = "queueing/display.html"
PARTIALS = ("display-board",)
CALLS_SHOWN = 8


@require_GET
@login_required
def display(request: StaffRequest, code: str) -> HttpResponse:
    hall = access_hall_for_user(request.user, code, DISPLAY_ROLES)
    state = selectors.hall_state(hall)
    services = {queue.service.pk: queue.service for queue in state.services}
    calls: list[tuple[TicketEvent, Service | None]] = []
    seen: set[int] = set()
    # a recall repeats a number: show each ticket once, at its latest call
    for event in selectors.recent_calls(hall, limit=CALLS_SHOWN * 2):
        if event.ticket_id not in seen and len(calls) < CALLS_SHOWN:
            seen.add(event.ticket_id)
            # the service from the list at hand rather than one query per row
            calls.append((event, services.get(event.service_id)))
    context = {
        "hall": hall,
        "state": state,
        "calls": calls,
        "live_socket": hall_queue_path(hall.code),
    }
    return render_page(request, TEMPLATE, context, partials=PARTIALS)

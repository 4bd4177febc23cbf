"""The window console: a clerk opens the window, calls, serves and completes tickets.

Each action is one POST that calls one service and answers with the console partial;
a QueueError becomes a message on the page (409 for the state, 422 for the input).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from queueing import selectors
from queueing.access import (
    CONSOLE_ROLES,
    SEAT_KEY,
    access_window_for_user,
    access_window_to_operate,
    console_refusal,
    may_sit_at,
    operates_every_console,
)
from queueing.estimation import estimate_hall
from queueing.forms import AutoCallForm, CallForm, CompleteForm, TicketForm, TransferForm
from queueing.models import Ticket, Window
from queueing.routing import hall_queue_path
from queueing.services import (
    QueueError,
    ticket_call,
    ticket_call_next,
    ticket_cancel,
    ticket_complete,
    ticket_no_show,
    ticket_recall,
    ticket_start,
    ticket_transfer,
    window_close,
    window_open,
    window_pause,
    window_set_auto_call,
)
from queueing.views.common import StaffRequest, error_status, render_page

TEMPLATE = "queueing/console.html"
PARTIALS = ("console",)
# Stored as the ticket's end reason: data, not a label, so it is kept untranslated.
CANCELLED_AT_WINDOW = "cancelled at the window"


def _context(request: StaffRequest, window: Window) -> dict[str, Any]:
    """What the console shows, with each waiting ticket's live estimate: a fixed number
    of queries, however long the queue. Its buttons only for who may operate it."""
    refusal = console_refusal(request.user, request.session, window)
    current = (
        Ticket.objects.current().filter(window=window).select_related("service", "visitor").first()
    )
    skills = list(window.skills.all())
    day = window.hall.business_date()
    queue = selectors.window_queue(window)
    # one simulation of the hall answers for every ticket in the list (2 queries)
    estimates = estimate_hall(window.hall, arrivals=False).tickets if queue else {}
    return {
        "window": window,
        "hall": window.hall,
        "current": current,
        "skills": skills,
        "queue": [(ticket, estimates.get(ticket.pk)) for ticket in queue],
        "waiting": Ticket.objects.waiting()
        .filter(hall_id=window.hall_id, business_date=day, service__in=skills)
        .count(),
        "transfer_to": [
            s
            for s in selectors.hall_services(window.hall)
            if current is None or s.pk != current.service_id
        ],
        "live_socket": hall_queue_path(window.hall.code),
        # who works the window: a person signed in, or the demo's simulator
        "staffing": "staffed"
        if window.clerk_id is not None
        else "simulated"
        if window.status != Window.Status.CLOSED and selectors.hall_simulated(window.hall)
        else "",
        "outcomes": CompleteForm.base_fields["outcome"].choices,  # type: ignore[attr-defined]
        "can_operate": refusal is None,
        "read_only_reason": refusal or "",
        "can_sit": refusal is not None
        and not operates_every_console(request.user, window.hall)
        and may_sit_at(request.user, window),
    }


def _render(
    request: StaffRequest,
    window: Window,
    *,
    error: QueueError | None = None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    context = _context(request, window)
    context.update(error=error, notice=notice)
    return render_page(
        request, TEMPLATE, context, partials=PARTIALS, partial="console", status=status
    )


def _window(request: StaffRequest, window_id: int) -> Window:
    """The window to act on: 403 with the reason when it is not this clerk's."""
    return access_window_to_operate(request, window_id)


def _run(request: StaffRequest, window: Window, act: Callable[[], object]) -> HttpResponse:
    """Run one service call; answer with the console as it now is, or with the error.
    A string that `act` returns is shown as a notice."""
    try:
        result = act()
    except QueueError as exc:
        return _render(request, window, error=exc, status=error_status(exc))
    # the action may have changed the window (status, auto-call, clerk): read it again
    window = Window.objects.select_related("hall").get(pk=window.pk)
    return _render(request, window, notice=result if isinstance(result, str) else "")


def _form_error(form: TicketForm) -> QueueError:
    field, errors = next(iter(form.errors.items()))
    message = " ".join(str(error) for error in errors)
    return QueueError(message, field=field if field != "__all__" else "form")


def _ticket_action(
    request: StaffRequest,
    window_id: int,
    form_class: type[TicketForm],
    act: Callable[[Ticket, dict[str, Any]], object],
) -> HttpResponse:
    """An action on the ticket the window holds. The form names the ticket the clerk saw,
    so a click on a console that is out of date does not act on another visitor."""
    window = _window(request, window_id)
    form = form_class(request.POST)
    if not form.is_valid():
        return _render(request, window, error=_form_error(form), status=422)

    def run() -> object:
        ticket = (
            Ticket.objects.current().filter(window=window, pk=form.cleaned_data["ticket"]).first()
        )
        if ticket is None:
            raise QueueError(_("That ticket is no longer at this window; the console is updated."))
        return act(ticket, form.cleaned_data)

    return _run(request, window, run)


@require_GET
@login_required
def console(request: StaffRequest, window_id: int) -> HttpResponse:
    """Any clerk or manager of the hall may look; only who works there may act."""
    window = access_window_for_user(request.user, window_id, CONSOLE_ROLES)
    return render_page(request, TEMPLATE, _context(request, window), partials=PARTIALS)


@require_POST
@login_required
def console_sit(request: StaffRequest, window_id: int) -> HttpResponse:
    """A clerk chooses the window they work at (remembered in their session): refused
    when another clerk staffs it."""
    window = access_window_for_user(request.user, window_id, CONSOLE_ROLES)
    if operates_every_console(request.user, window.hall):
        return _render(request, window)  # a manager works at every window already
    if not may_sit_at(request.user, window):
        raise PermissionDenied(console_refusal(request.user, request.session, window))
    request.session[SEAT_KEY] = window.pk
    return _render(
        request,
        window,
        notice=_("You work at window %(window)s now.") % {"window": window.label},
    )


@require_POST
@login_required
def console_open(request: StaffRequest, window_id: int) -> HttpResponse:
    window = _window(request, window_id)
    return _run(request, window, lambda: window_open(window=window, clerk=request.user))


@require_POST
@login_required
def console_pause(request: StaffRequest, window_id: int) -> HttpResponse:
    window = _window(request, window_id)
    return _run(request, window, lambda: window_pause(window=window, clerk=request.user))


@require_POST
@login_required
def console_close(request: StaffRequest, window_id: int) -> HttpResponse:
    window = _window(request, window_id)
    return _run(request, window, lambda: window_close(window=window))


@require_POST
@login_required
def console_auto_call(request: StaffRequest, window_id: int) -> HttpResponse:
    window = _window(request, window_id)
    form = AutoCallForm(request.POST)
    form.is_valid()  # a missing or odd value reads as "off"
    enabled = bool(form.cleaned_data.get("enabled"))
    clerk = request.user
    return _run(
        request, window, lambda: window_set_auto_call(window=window, enabled=enabled, clerk=clerk)
    )


@require_POST
@login_required
def console_call_next(request: StaffRequest, window_id: int) -> HttpResponse:
    window = _window(request, window_id)

    def act() -> str | None:
        if ticket_call_next(window=window, actor=request.user) is None:
            return _("Nobody is waiting for the services of this window.")
        return None

    return _run(request, window, act)


@require_POST
@login_required
def console_call(request: StaffRequest, window_id: int) -> HttpResponse:
    """Call one chosen waiting ticket instead of the next in line."""
    window = _window(request, window_id)
    form = CallForm(request.POST)
    if not form.is_valid():
        return _render(request, window, error=_form_error(form), status=422)

    def act() -> Ticket:
        ticket = Ticket.objects.filter(
            hall_id=window.hall_id, pk=form.cleaned_data["ticket"]
        ).first()
        if ticket is None:
            raise QueueError(_("No such ticket at this hall."), field="ticket")
        return ticket_call(ticket=ticket, window=window, actor=request.user)

    return _run(request, window, act)


@require_POST
@login_required
def console_recall(request: StaffRequest, window_id: int) -> HttpResponse:
    return _ticket_action(
        request,
        window_id,
        TicketForm,
        lambda ticket, _data: ticket_recall(ticket=ticket, actor=request.user),
    )


@require_POST
@login_required
def console_start(request: StaffRequest, window_id: int) -> HttpResponse:
    return _ticket_action(
        request,
        window_id,
        TicketForm,
        lambda ticket, _data: ticket_start(ticket=ticket, actor=request.user),
    )


@require_POST
@login_required
def console_no_show(request: StaffRequest, window_id: int) -> HttpResponse:
    return _ticket_action(
        request,
        window_id,
        TicketForm,
        lambda ticket, _data: ticket_no_show(ticket=ticket, actor=request.user),
    )


@require_POST
@login_required
def console_complete(request: StaffRequest, window_id: int) -> HttpResponse:
    return _ticket_action(
        request,
        window_id,
        CompleteForm,
        lambda ticket, data: ticket_complete(
            ticket=ticket,
            outcome=data["outcome"],
            missing_documents=data["missing_documents"],
            actor=request.user,
        ),
    )


@require_POST
@login_required
def console_transfer(request: StaffRequest, window_id: int) -> HttpResponse:
    return _ticket_action(
        request,
        window_id,
        TransferForm,
        lambda ticket, data: ticket_transfer(
            ticket=ticket, service=data["service"], actor=request.user
        ),
    )


@require_POST
@login_required
def console_cancel(request: StaffRequest, window_id: int) -> HttpResponse:
    return _ticket_action(
        request,
        window_id,
        TicketForm,
        lambda ticket, _data: ticket_cancel(
            ticket=ticket, reason=CANCELLED_AT_WINDOW, actor=request.user
        ),
    )

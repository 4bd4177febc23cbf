"""The hall manager's board: queues with the wait a visitor arriving now can expect (and
a nearby hall that is much quicker), windows, today's arrivals against served visitors,
staffing advice for the rest of the day, and the open alerts, kept live by the hall's
queue socket and its alert socket.

Who may do what (hall_ops.access): managers and the hall's directors see the board and
act on it (open, pause, close a window, change its skills, take, escalate and resolve
alerts); floor staff see it and take or resolve alerts, as on their tablet, but do not
switch windows or escalate (escalating is how an alert reaches the manager); clerks and
kiosks get a 403, anonymous users the login page, an unknown hall a 404.

Each action is one POST through one service, answered with the fragment it changed;
a refusal is a message in that fragment (409 for the state, 422 for the input).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_GET, require_POST

from hall_ops.access import (
    ALERT_ROLES,
    BOARD_ROLES,
    ESCALATE_ROLES,
    WINDOW_ROLES,
    access_alert_for_user,
    access_hall_window_for_user,
)
from hall_ops.alerts.services import alert_acknowledge, alert_escalate, alert_resolve
from hall_ops.dashboards.selectors import arrivals_and_served
from hall_ops.forms import AlertResolveForm, WindowSkillsForm, WindowStatusForm
from hall_ops.views.common import (
    alert_feed,
    alert_feed_seq,
    alert_socket_path,
    asked_partial,
    form_error,
    run_action,
)
from queueing import selectors
from queueing.access import access_hall_for_user, roles_for
from queueing.estimation.staffing import today_plan
from queueing.models import Hall
from queueing.routing import hall_queue_path
from queueing.services import QueueError, window_set_skills, window_set_status
from queueing.views.common import StaffRequest, render_page
from vision.selectors import hall_occupancy

TEMPLATE = "hall_ops/board.html"
LIVE, ALERTS = "board-live", "board-alerts"
PARTIALS = (LIVE, ALERTS)


def _context(request: StaffRequest, hall: Hall, parts: tuple[str, ...]) -> dict[str, Any]:
    """Only what the asked fragments show: a push refreshes one fragment, and each
    fragment costs a fixed number of queries, however many tickets or alerts."""
    user = request.user
    held = set() if user.is_superuser else roles_for(user, hall)
    context: dict[str, Any] = {
        "hall": hall,
        "can_windows": user.is_superuser or bool(held & set(WINDOW_ROLES)),
        "can_escalate": user.is_superuser or bool(held & set(ESCALATE_ROLES)),
    }
    if LIVE in parts:
        state = context["state"] = selectors.hall_state(hall)
        context["chart"] = arrivals_and_served(hall, at=state.at).as_dict()
        context["occupancy"] = hall_occupancy(hall, at=state.at)
        context["queues"] = selectors.service_outlook(state)
        waiting = {q.service.pk: q.waiting for q in state.services}
        context["staffing"] = today_plan(hall, at=state.at, waiting=waiting)
    if ALERTS in parts:
        context["alerts"] = alert_feed(hall)
    return context


def _render(
    request: StaffRequest,
    hall: Hall,
    *,
    partial: str | None = None,
    error: QueueError | None = None,
    status: int = 200,
) -> HttpResponse:
    parts = (partial,) if partial else PARTIALS
    context = _context(request, hall, parts)
    context["error"] = error
    if partial is None:
        context.update(
            live_socket=hall_queue_path(hall.code),
            alert_socket=alert_socket_path(hall.code),
            alert_seq=alert_feed_seq(hall),
        )
    return render_page(
        request, TEMPLATE, context, partials=PARTIALS, partial=partial, status=status
    )


@require_GET
@login_required
def board(request: StaffRequest, code: str) -> HttpResponse:
    hall = access_hall_for_user(request.user, code, BOARD_ROLES)
    return _render(request, hall, partial=asked_partial(request, PARTIALS))


@require_POST
@login_required
def window_status(request: StaffRequest, code: str, window_id: int) -> HttpResponse:
    """Open, pause or close a window (the page asks before closing)."""
    hall, window = access_hall_window_for_user(request.user, code, window_id, WINDOW_ROLES)
    form = WindowStatusForm(request.POST)
    if not form.is_valid():
        return _render(request, hall, partial=LIVE, error=form_error(form), status=422)
    error, status = run_action(
        lambda: window_set_status(window=window, status=form.cleaned_data["status"])
    )
    return _render(request, hall, partial=LIVE, error=error, status=status)


@require_POST
@login_required
def window_skills(request: StaffRequest, code: str, window_id: int) -> HttpResponse:
    """Replace the services a window handles."""
    hall, window = access_hall_window_for_user(request.user, code, window_id, WINDOW_ROLES)
    form = WindowSkillsForm(request.POST)
    if not form.is_valid():
        return _render(request, hall, partial=LIVE, error=form_error(form), status=422)
    error, status = run_action(
        lambda: window_set_skills(window=window, services=form.cleaned_data["skills"])
    )
    return _render(request, hall, partial=LIVE, error=error, status=status)


@require_POST
@login_required
def alert_ack(request: StaffRequest, code: str, alert_id: int) -> HttpResponse:
    hall, alert = access_alert_for_user(request.user, code, alert_id, ALERT_ROLES)
    error, status = run_action(lambda: alert_acknowledge(alert=alert, user=request.user))
    return _render(request, hall, partial=ALERTS, error=error, status=status)


@require_POST
@login_required
def alert_escalate_view(request: StaffRequest, code: str, alert_id: int) -> HttpResponse:
    hall, alert = access_alert_for_user(request.user, code, alert_id, ESCALATE_ROLES)
    error, status = run_action(lambda: alert_escalate(alert=alert, actor=request.user))
    return _render(request, hall, partial=ALERTS, error=error, status=status)


@require_POST
@login_required
def alert_resolve_view(request: StaffRequest, code: str, alert_id: int) -> HttpResponse:
    hall, alert = access_alert_for_user(request.user, code, alert_id, ALERT_ROLES)
    form = AlertResolveForm(request.POST)
    if not form.is_valid():
        return _render(request, hall, partial=ALERTS, error=form_error(form), status=422)
    error, status = run_action(
        lambda: alert_resolve(alert=alert, user=request.user, note=form.cleaned_data["note"])
    )
    return _render(request, hall, partial=ALERTS, error=error, status=status)

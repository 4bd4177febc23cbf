"""The floor staff's tablet: the hall's alert feed, large enough for a thumb, with a
sound on each new alert, "I'm on it" and resolve-with-a-note, who handles which alert,
and the greet list of elderly and repeat visitors waiting right now.

Floor staff, managers and the hall's directors may use it (the roles of the alert
socket); clerks and kiosks get a 403, anonymous users the login page, an unknown hall a
404. Each action answers with the feed as it now is, a refusal as a message in it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_GET, require_POST

from hall_ops.access import TABLET_ROLES, access_alert_for_user
from hall_ops.alerts.selectors import greet_list
from hall_ops.alerts.services import alert_acknowledge, alert_resolve
from hall_ops.forms import AlertResolveForm
from hall_ops.views.common import (
    alert_feed,
    alert_feed_seq,
    alert_socket_path,
    asked_partial,
    form_error,
    run_action,
)
from queueing.access import access_hall_for_user
from queueing.models import Hall
from queueing.routing import hall_queue_path
from queueing.services import QueueError
from queueing.views.common import StaffRequest, render_page

TEMPLATE = "hall_ops/tablet.html"
FEED, GREET = "tablet-feed", "tablet-greet"
PARTIALS = (FEED, GREET)


def _render(
    request: StaffRequest,
    hall: Hall,
    *,
    partial: str | None = None,
    error: QueueError | None = None,
    status: int = 200,
) -> HttpResponse:
    parts = (partial,) if partial else PARTIALS
    context: dict[str, Any] = {"hall": hall, "error": error}
    if FEED in parts:
        context["alerts"] = alert_feed(hall)
    if GREET in parts:
        context["greet"] = greet_list(hall)
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
def tablet(request: StaffRequest, code: str) -> HttpResponse:
    hall = access_hall_for_user(request.user, code, TABLET_ROLES)
    return _render(request, hall, partial=asked_partial(request, PARTIALS))


@require_POST
@login_required
def alert_ack(request: StaffRequest, code: str, alert_id: int) -> HttpResponse:
    """ "I'm on it": the alert is the user's, and every tablet shows it."""
    hall, alert = access_alert_for_user(request.user, code, alert_id, TABLET_ROLES)
    error, status = run_action(lambda: alert_acknowledge(alert=alert, user=request.user))
    return _render(request, hall, partial=FEED, error=error, status=status)


@require_POST
@login_required
def alert_resolve_view(request: StaffRequest, code: str, alert_id: int) -> HttpResponse:
    hall, alert = access_alert_for_user(request.user, code, alert_id, TABLET_ROLES)
    form = AlertResolveForm(request.POST)
    if not form.is_valid():
        return _render(request, hall, partial=FEED, error=form_error(form), status=422)
    error, status = run_action(
        lambda: alert_resolve(alert=alert, user=request.user, note=form.cleaned_data["note"])
    )
    return _render(request, hall, partial=FEED, error=error, status=status)

"""The director's overview: for each hall in their scope, the live headline figures
(waiting, longest wait, windows open, served today) and the active alerts by severity,
each linking to the hall's board.

Directors see the halls they direct; a superuser every hall; anyone else gets a 403
(anonymous users the login page). The page opens a queue socket and an alert socket
per hall and refreshes only the card of the hall that changed. That is two sockets a
hall: fine for a city's 30 halls; a city-wide group would be the next step beyond.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from hall_ops.access import OVERVIEW_ROLES
from hall_ops.dashboards.selectors import hall_headlines
from hall_ops.views.common import alert_socket_path
from queueing.access import halls_for
from queueing.models import Hall
from queueing.routing import hall_queue_path
from queueing.views.common import StaffRequest

TEMPLATE = "hall_ops/overview.html"


def _scope(request: StaffRequest) -> list[Hall]:
    if request.user.is_superuser:
        return list(Hall.objects.order_by("code"))
    return list(halls_for(request.user, OVERVIEW_ROLES).order_by("code"))


@require_GET
@login_required
def overview(request: StaffRequest) -> HttpResponse:
    """The whole page, or with `?hall=<code>` (what a card asks after a push) that
    hall's card alone."""
    halls = _scope(request)
    if not halls:
        raise PermissionDenied(_("The overview is for directors."))
    code = request.GET.get("hall")
    if code is not None:
        halls = [hall for hall in halls if hall.code == code]
        if not halls:
            raise Http404(_("No such hall in your scope."))
        head = hall_headlines(halls)[0]
        return render(request, f"{TEMPLATE}#overview-hall", {"head": head, **_sockets(head.hall)})
    cards = [{"head": head, **_sockets(head.hall)} for head in hall_headlines(halls)]
    return render(request, TEMPLATE, {"cards": cards})


def _sockets(hall: Hall) -> dict[str, str]:
    return {
        "queue_socket": hall_queue_path(hall.code),
        "alert_socket": alert_socket_path(hall.code),
    }

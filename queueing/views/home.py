"""Where each user starts: the home page sends them to what they do, and a hall page
lists the hall's windows with links to its consoles, kiosk and display."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from queueing import selectors
from queueing.access import (
    CONSOLE_ROLES,
    DISPLAY_ROLES,
    KIOSK_ROLES,
    VIEW_ROLES,
    access_hall_for_user,
    clerk_seat,
    roles_for,
)
from queueing.models import Hall, StaffRole
from queueing.routing import hall_queue_path
from queueing.views.common import HtmxHttpRequest, StaffRequest, render_page

Role = StaffRole.Role


@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    """Each persona lands on their screen (README, "Every demo login"): a director on
    the overview, a hall manager on the board, floor staff on the alert tablet, a clerk
    on the console of the window they sit at (the hall page, to choose one, until they
    have one), a kiosk device on its kiosk. Anyone working at several halls (but a
    director), or a superuser, gets the list of their halls; a user with no role an
    explanation."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    halls: dict[Hall, list[StaffRole]] = {}
    for role in (
        StaffRole.objects.filter(user=user).select_related("hall").order_by("hall__code", "role")
    ):
        halls.setdefault(role.hall, []).append(role)
    if not user.is_superuser:
        kinds = {role.role for held in halls.values() for role in held}
        if Role.DIRECTOR in kinds:
            return redirect("ops:overview")
        if len(halls) == 1:
            return _landing(request, next(iter(halls)), kinds)
    if user.is_superuser:
        for hall in Hall.objects.order_by("code"):
            halls.setdefault(hall, [])
    return render(request, "queueing/home.html", {"halls": list(halls.items())})


def _landing(request: HtmxHttpRequest, hall: Hall, kinds: set[str]) -> HttpResponse:
    """The screen of the person's main role at their one hall."""
    if Role.MANAGER in kinds:
        return redirect("ops:board", code=hall.code)
    if Role.FLOOR in kinds:
        return redirect("ops:tablet", code=hall.code)
    if Role.CLERK in kinds:
        seat = clerk_seat(request.user, request.session, hall)
        if seat is not None:
            return redirect("queueing:console", window_id=seat.pk)
        return redirect("queueing:hall", code=hall.code)
    if Role.KIOSK in kinds:
        return redirect("queueing:kiosk", code=hall.code)
    return redirect("queueing:hall", code=hall.code)


@require_GET
@login_required
def hall(request: StaffRequest, code: str) -> HttpResponse:
    hall = access_hall_for_user(request.user, code, VIEW_ROLES)
    held = roles_for(request.user, hall)
    everything = request.user.is_superuser
    context = {
        "hall": hall,
        "state": selectors.hall_state(hall),
        "can_console": everything or bool(held & set(CONSOLE_ROLES)),
        "can_kiosk": everything or bool(held & set(KIOSK_ROLES)),
        "can_display": everything or bool(held & set(DISPLAY_ROLES)),
        # for other apps' links on this page (the operations screens), without a query
        "held_roles": held,
        "live_socket": hall_queue_path(hall.code),
    }
    # a live refresh asks for the board only: the whole page swapped into it would nest
    # one more header per update
    return render_page(request, "queueing/hall.html", context, partials=("hall-board",))

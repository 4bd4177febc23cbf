"""Who may touch what. Views and API routes call one `access_<thing>_for_user()` helper:
a missing row is a 404, a row of a hall the user holds no fitting role in is a 403.
Services behind them assume the check was made."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from queueing.models import Hall, StaffRole, Ticket, TicketEvent, Window

Role = StaffRole.Role

KIOSK_ROLES = (Role.KIOSK, Role.MANAGER)
CONSOLE_ROLES = (Role.CLERK, Role.MANAGER)
DISPLAY_ROLES = (Role.KIOSK, Role.MANAGER, Role.CLERK, Role.FLOOR)
MANAGE_ROLES = (Role.MANAGER,)
VIEW_ROLES = tuple(Role.values)


def roles_for(user: Any, hall: Hall) -> set[str]:
    if not user.is_authenticated:
        return set()
    return set(StaffRole.objects.filter(user=user, hall=hall).values_list("role", flat=True))


def halls_for(user: Any, roles: Iterable[str] = VIEW_ROLES) -> Any:
    """The halls where `user` holds one of `roles`."""
    if not user.is_authenticated:
        return Hall.objects.none()
    return Hall.objects.filter(staff_roles__user=user, staff_roles__role__in=list(roles)).distinct()


def _check(user: Any, hall: Hall, roles: Iterable[str]) -> None:
    if not user.is_authenticated:
        raise PermissionDenied(_("Log in first."))
    if user.is_superuser:
        return
    if not roles_for(user, hall) & set(roles):
        raise PermissionDenied(_("You hold no role at this hall that allows this."))


def access_hall_for_user(user: Any, hall_code: str, roles: Iterable[str]) -> Hall:
    try:
        hall = Hall.objects.get(code=hall_code)
    except Hall.DoesNotExist:
        raise Http404(_("No such hall.")) from None
    _check(user, hall, roles)
    return hall


def access_window_for_user(user: Any, window_id: int, roles: Iterable[str]) -> Window:
    try:
        window = Window.objects.select_related("hall").get(pk=window_id)
    except Window.DoesNotExist:
        raise Http404(_("No such window.")) from None
    _check(user, window.hall, roles)
    return window


def access_ticket_for_user(user: Any, ticket_id: int, roles: Iterable[str]) -> Ticket:
    try:
        ticket = Ticket.objects.select_related("hall", "service", "window").get(pk=ticket_id)
    except Ticket.DoesNotExist:
        raise Http404(_("No such ticket.")) from None
    _check(user, ticket.hall, roles)
    return ticket


# The window a clerk works at, remembered in their session: chosen on the console ("I
# work at this window") or taken by acting on an unstaffed window. A clerk operates only
# that window; other windows' consoles are read-only to them. Managers (and superusers)
# operate every console of their hall.
SEAT_KEY = "console_window"


def clerk_seat(user: Any, session: Any, hall: Hall) -> Window | None:
    """The window of `hall` the clerk sits at: the one their session names, else the one
    window whose current clerk they are (a window they opened), else the window they
    last worked at in this hall (a clerk comes back to their desk; the demo's simulator
    holds the windows until a person acts, so the loaded history is what names it)."""
    seat_id = session.get(SEAT_KEY)
    if seat_id is not None:
        seat = Window.objects.filter(pk=seat_id, hall=hall).first()
        if seat is not None:
            return seat
    mine = list(Window.objects.filter(hall=hall, clerk_id=user.pk)[:2])
    if mine:
        return mine[0] if len(mine) == 1 else None
    last = (
        TicketEvent.objects.filter(hall=hall, actor_id=user.pk, window__isnull=False)
        .select_related("window")
        .order_by("-at", "-id")
        .first()
    )
    return last.window if last is not None else None


def operates_every_console(user: Any, hall: Hall) -> bool:
    return bool(user.is_superuser or Role.MANAGER in roles_for(user, hall))


def console_refusal(user: Any, session: Any, window: Window) -> str | None:
    """Why `user` may not operate `window` (a message for them), or None when they may."""
    if operates_every_console(user, window.hall):
        return None
    if window.clerk_id is not None and window.clerk_id != user.pk:
        return _(
            "Window %(window)s is staffed by another clerk; its console is read-only to you."
        ) % {"window": window.label}
    seat = clerk_seat(user, session, window.hall)
    if seat is not None and seat.pk != window.pk:
        return _(
            "You work at window %(seat)s; the console of window %(window)s is read-only to "
            "you. Choose “Work at this window” to move here."
        ) % {"seat": seat.label, "window": window.label}
    return None


def access_window_to_operate(request: Any, window_id: int) -> Window:
    """The window, when the user may act on its console (404 / 403 as
    access_window_for_user; 403 with the reason when it is another clerk's window, or
    not the one this clerk sits at). Acting on it seats the clerk there."""
    window = access_window_for_user(request.user, window_id, (Role.CLERK, Role.MANAGER))
    refusal = console_refusal(request.user, request.session, window)
    if refusal is not None:
        raise PermissionDenied(refusal)
    if not operates_every_console(request.user, window.hall):
        request.session[SEAT_KEY] = window.pk
    return window


def may_sit_at(user: Any, window: Window) -> bool:
    """A clerk may choose a window nobody else staffs."""
    return window.clerk_id is None or window.clerk_id == user.pk

"""Who may touch what. Views and API routes call one `access_<thing>_for_user()` helper:
a missing row is a 404, a row of a hall the user holds no fitting role in is a 403.
Services behind them assume the check was made."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from queueing.models import Hall, StaffRole, Ticket, Window

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

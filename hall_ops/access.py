"""Who may use the operations screens, and the access helpers of their rows.

The board is the hall manager's screen: managers and the hall's directors act on it;
floor staff may look at it and take or close alerts there as on their tablet, but not
switch windows. Clerks and kiosks see neither the board nor the alert feed (they are
not in the alert socket's groups either: see hall_ops.consumers.ALERT_ROLES). The
overview is the directors'. A superuser passes every check.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _

from hall_ops.models import Alert
from queueing.access import access_hall_for_user
from queueing.models import Hall, StaffRole, Window

Role = StaffRole.Role

BOARD_ROLES = (Role.MANAGER, Role.DIRECTOR, Role.FLOOR)
WINDOW_ROLES = (Role.MANAGER, Role.DIRECTOR)
ESCALATE_ROLES = (Role.MANAGER, Role.DIRECTOR)
ALERT_ROLES = (Role.FLOOR, Role.MANAGER, Role.DIRECTOR)
TABLET_ROLES = ALERT_ROLES
OVERVIEW_ROLES = (Role.DIRECTOR,)


def access_hall_window_for_user(
    user: Any, hall_code: str, window_id: int, roles: tuple[str, ...]
) -> tuple[Hall, Window]:
    """The hall (404 / 403 as access_hall_for_user) and one of its windows (404 when the
    window is another hall's: the URL names both)."""
    hall = access_hall_for_user(user, hall_code, roles)
    window = Window.objects.filter(pk=window_id, hall=hall).first()
    if window is None:
        raise Http404(_("No such window."))
    window.hall = hall
    return hall, window


def access_alert_for_user(
    user: Any, hall_code: str, alert_id: int, roles: tuple[str, ...]
) -> tuple[Hall, Alert]:
    hall = access_hall_for_user(user, hall_code, roles)
    alert = Alert.objects.filter(pk=alert_id, hall=hall).first()
    if alert is None:
        raise Http404(_("No such alert."))
    alert.hall = hall
    return hall, alert

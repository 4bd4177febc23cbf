"""Template helpers of the operations screens: short durations, and which operations
screens a user may open (for the links on the home and hall pages, whose views belong
to the queueing app)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from hall_ops.access import BOARD_ROLES, OVERVIEW_ROLES, TABLET_ROLES
from hall_ops.models import Alert
from queueing.access import roles_for
from queueing.models import Hall, Outcome, StaffRole, Ticket

register = template.Library()


@register.filter
def duration(seconds: Any) -> str:
    """Seconds as a wait reads on a busy screen: "45 s", "12 min", "1 h 05 min"."""
    try:
        s = max(0, int(seconds))
    except (TypeError, ValueError):
        return ""
    if s < 60:
        return _("%(s)d s") % {"s": s}
    if s < 3600:
        return _("%(m)d min") % {"m": s // 60}
    return _("%(h)d h %(m)02d min") % {"h": s // 3600, "m": (s % 3600) // 60}


@register.simple_tag(takes_context=True)
def ops_screens(context: template.Context, hall: Hall) -> dict[str, bool]:
    """Which of the hall's operations screens the page's user may open: from the roles
    the page's view already read (`held_roles`), else at the cost of 1 query."""
    user = context["request"].user
    if user.is_superuser:
        return {"board": True, "tablet": True}
    held = context.get("held_roles")
    if held is None:
        held = roles_for(user, hall)
    return {"board": bool(held & set(BOARD_ROLES)), "tablet": bool(held & set(TABLET_ROLES))}


@register.filter
def holds_any(roles: list[StaffRole], wanted: str) -> bool:
    """Whether a list of StaffRole rows holds one of the comma-separated roles."""
    names = set(wanted.split(","))
    return any(role.role in names for role in roles)


@register.filter
def directs_any(halls: list[tuple[Hall, list[StaffRole]]]) -> bool:
    """Whether the home page's (hall, roles) list includes a director's role."""
    return any(role.role in OVERVIEW_ROLES for _hall, roles in halls for role in roles)


@register.filter
def seconds_since(value: Any) -> int:
    """Seconds from a datetime (or its ISO text, as alert contexts hold it) to now."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return 0
    if not isinstance(value, dt.datetime):
        return 0
    return max(0, int((timezone.now() - value).total_seconds()))


@register.filter
def outcome_label(value: str) -> str:
    """The label of a visit outcome kept as its value in an alert's context."""
    if not value:
        return ""
    try:
        return str(Outcome(value).label)
    except ValueError:
        return value


@register.filter
def ticket_status_label(value: str) -> str:
    try:
        return str(Ticket.Status(value).label)
    except ValueError:
        return value


@register.filter
def over_minutes(seconds: Any, minutes: Any) -> bool:
    """Whether a wait in seconds passed a target in minutes."""
    try:
        return int(seconds) > int(minutes) * 60
    except (TypeError, ValueError):
        return False


@register.filter
def alert_reasons(alert: Alert) -> list[str]:
    """The labels of everything an alert's card is about: one card per ticket names
    all its reasons (a repeat visit by an elderly visitor now waiting too long)."""
    kinds = (alert.context or {}).get("reasons") or [alert.kind]
    labels = []
    for kind in kinds:
        try:
            labels.append(str(Alert.Kind(kind).label))
        except ValueError:
            continue
    return labels or [str(alert.get_kind_display())]

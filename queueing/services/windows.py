"""State changes of a window: open, pause, close, its skills, auto-call and clerk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from queueing.events import publish_window_change_on_commit
from queueing.models import HallService, Service, Ticket, Window
from queueing.services.errors import QueueError


def _lock(window: Window) -> Window:
    return (
        Window.objects.select_for_update(of=("self",), no_key=True)
        .select_related("hall")
        .get(pk=window.pk)
    )


def _seat(window: Window, person: User | None) -> list[str]:
    """A signed-in person acting at the window becomes its current clerk (the window is
    staffed; the demo's simulator leaves it to them): the fields to save."""
    if person is None or not person.is_authenticated or window.clerk_id == person.pk:
        return []
    window.clerk_id = person.pk
    return ["clerk"]


def window_set_status(
    *,
    window: Window,
    status: str,
    clerk: User | None = None,
    at: dt.datetime | None = None,
) -> Window:
    """Open, pause or close a window.

    Pausing keeps the current ticket (the clerk finishes it, then calls nobody new);
    closing needs the window free, so no visitor is left standing at a closed window.
    A person (`clerk`, signed in) who opens or pauses it becomes its current clerk: the
    window is staffed, and a driver through the API (the demo's simulator) leaves it
    alone; closing leaves it with nobody.
    """
    if status not in Window.Status.values:
        raise QueueError(
            _("Unknown window status %(s)s; use open, paused or closed.") % {"s": status},
            field="status",
        )
    with transaction.atomic():
        window = _lock(window)
        if status == Window.Status.CLOSED:
            current = Ticket.objects.current().filter(window=window).first()
            if current is not None:
                raise QueueError(
                    _("Window %(label)s still holds ticket %(number)s; finish it before closing.")
                    % {"label": window.label, "number": current.number}
                )
        fields = ["status", "status_changed_at"]
        if window.status != status:
            window.status = status
            window.status_changed_at = at or timezone.now()
        if status != Window.Status.CLOSED:
            fields += _seat(window, clerk)
        else:
            window.clerk = None
            fields.append("clerk")
        window.save(update_fields=fields)
        publish_window_change_on_commit(window)
    return window


def window_open(
    *, window: Window, clerk: User | None = None, at: dt.datetime | None = None
) -> Window:
    return window_set_status(window=window, status=Window.Status.OPEN, clerk=clerk, at=at)


def window_pause(
    *, window: Window, clerk: User | None = None, at: dt.datetime | None = None
) -> Window:
    return window_set_status(window=window, status=Window.Status.PAUSED, clerk=clerk, at=at)


def window_close(*, window: Window, at: dt.datetime | None = None) -> Window:
    return window_set_status(window=window, status=Window.Status.CLOSED, at=at)


def window_set_skills(*, window: Window, services: Iterable[Service]) -> Window:
    """Replace the services a window handles; each must be offered at its hall."""
    services = list(services)
    if not services:
        raise QueueError(_("A window needs at least one service."), field="skills")
    offered = set(
        HallService.objects.filter(hall_id=window.hall_id, enabled=True).values_list(
            "service_id", flat=True
        )
    )
    foreign = [s.prefix for s in services if s.pk not in offered]
    if foreign:
        raise QueueError(
            _("Not offered at this hall: %(list)s") % {"list": ", ".join(sorted(foreign))},
            field="skills",
        )
    with transaction.atomic():
        window = _lock(window)
        window.skills.set(services)
        publish_window_change_on_commit(window)
    return window


def window_set_auto_call(*, window: Window, enabled: bool, clerk: User | None = None) -> Window:
    """Switch auto-call. A person (`clerk`, signed in) who switches it is acting at the
    window, so they become its current clerk, as in `window_set_status`: the demo's
    simulator then leaves the window to them."""
    with transaction.atomic():
        window = _lock(window)
        window.auto_call = enabled
        window.save(update_fields=["auto_call", *_seat(window, clerk)])
        publish_window_change_on_commit(window)
    return window

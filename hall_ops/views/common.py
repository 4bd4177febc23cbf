"""What the operations pages share: which fragment an htmx request asks for, the
alerts a page shows, and one way to run an action and turn its refusal into a message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms

from hall_ops.alerts.selectors import active_alerts, last_seq
from hall_ops.models import Alert
from queueing.models import Hall
from queueing.services import QueueError
from queueing.views.common import HtmxHttpRequest, error_status

# Where a page opens the alert feed socket (the route in hall_ops.routing).
ALERTS_SOCKET = "/ws/halls/{code}/alerts/"


def alert_socket_path(code: str) -> str:
    return ALERTS_SOCKET.format(code=code)


def asked_partial(request: HtmxHttpRequest, partials: tuple[str, ...]) -> str | None:
    """The fragment an htmx GET names by its target's id, or None for the whole page."""
    if request.htmx and request.htmx.target in partials:
        return str(request.htmx.target)
    return None


def alert_feed(hall: Hall) -> list[Alert]:
    """Active alerts, most severe first, newest first within a severity (1 query)."""
    return list(active_alerts(hall))


def alert_feed_seq(hall: Hall) -> int:
    """The sequence number the page was rendered at: its socket asks for what came
    after, so a change between the render and the socket's opening is not missed."""
    return last_seq(hall)


def form_error(form: forms.Form) -> QueueError:
    """A form's first error as the QueueError the pages show (a 422)."""
    field, errors = next(iter(form.errors.items()))
    message = " ".join(str(error) for error in errors)
    return QueueError(message, field=field if field != "__all__" else "form")


def run_action(act: Callable[[], Any]) -> tuple[QueueError | None, int]:
    """Run one service call: (None, 200), or the refusal and its status (409 for the
    state of the queue or the alert, 422 for the input)."""
    try:
        act()
    except QueueError as exc:
        return exc, error_status(exc)
    return None, 200

"""What the page views share: the typed htmx request, partial selection, QueueError
answers."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails

from queueing.services import QueueError


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class StaffRequest(HtmxHttpRequest):
    """A request to a view behind `login_required`: its user is a real User."""

    user: User


def render_page(
    request: HtmxHttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    partials: tuple[str, ...] = (),
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the whole page for a plain request; for an htmx request only the fragment
    it needs: `partial` when the view knows which (an action's answer), else the one the
    asking element names. Each refreshable element's id is the name of its
    `{% partialdef %}`, so its HX-Target header says which fragment to send back."""
    if request.htmx:
        name = partial or (request.htmx.target if request.htmx.target in partials else None)
        if name:
            template = f"{template}#{name}"
    return render(request, template, context, status=status)


def error_status(error: QueueError) -> int:
    """422 when the input is at fault, 409 when the state of the queue forbids it."""
    return 422 if error.field else 409

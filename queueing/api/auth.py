"""Who may call the API: a bearer token, scoped to its halls.

Routes load what they act on through one `access_<thing>_for_token()` helper each, as
the views do through `queueing.access`: an unknown row is a 404, a row of a hall the
token is not for is a 403.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security.http import HttpAuthBase

from queueing.models import ApiToken, Hall, Ticket, Window
from queueing.tokens import api_token_verify


class TokenAuth(HttpAuthBase):
    """`Authorization: Bearer <key>`. Parsed here rather than by ninja's HttpBearer,
    which logs the whole header (the key) when the scheme is not Bearer."""

    openapi_scheme = "bearer"

    def __call__(self, request: HttpRequest) -> ApiToken | None:
        scheme, _sep, key = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return api_token_verify(key.strip())


def token_of(request: HttpRequest) -> ApiToken:
    token: Any = getattr(request, "auth", None)
    assert isinstance(token, ApiToken), "route without TokenAuth"
    return token


def _check(token: ApiToken, hall: Hall) -> None:
    if not token.halls.filter(pk=hall.pk).exists():
        raise HttpError(
            403, _("This API token is not valid for hall %(code)s.") % {"code": hall.code}
        )


def access_hall_for_token(token: ApiToken, hall_code: str) -> Hall:
    hall = Hall.objects.filter(code=hall_code).first()
    if hall is None:
        raise HttpError(404, _("No such hall."))
    _check(token, hall)
    return hall


def access_window_for_token(token: ApiToken, window_id: int) -> Window:
    window = Window.objects.select_related("hall").filter(pk=window_id).first()
    if window is None:
        raise HttpError(404, _("No such window."))
    _check(token, window.hall)
    return window


def access_ticket_for_token(token: ApiToken, ticket_id: int) -> Ticket:
    ticket = (
        Ticket.objects.select_related("hall", "service", "window", "visitor")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise HttpError(404, _("No such ticket."))
    _check(token, ticket.hall)
    return ticket

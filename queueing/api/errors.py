"""How the API answers when a request cannot be done: always JSON, in two shapes.

- `{"detail": [{"loc": [...], "msg": ..., "type": ...}]}` with 422 when the input is at
  fault: ninja's validation errors, and a QueueError that names its field;
- `{"detail": "..."}` otherwise: 400 (a body that is not a JSON object), 401, 403,
  404, 409 (QueueError without a field: the state forbids it), 413, 503 (the database
  is unreachable or broke a deadlock: retry), and 500 for a bug, which is logged.

A message says what is wrong, never the value sent: a value may be an ID number.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import IntegrityError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError, ValidationErrorContext

from queueing.services import QueueError

log = logging.getLogger(__name__)

# Shorter values are kept in messages: a prefix or a flag is no one's identity.
_SCRUB_FROM_LENGTH = 4


def validation_errors(contexts: list[ValidationErrorContext]) -> ValidationError:
    """Ninja's validation errors, less the input value and pydantic's context (both may
    echo what was sent), and without the body parameter's own name in `loc`: a field
    of the body is `["body", "service"]`, as a QueueError's field is."""
    errors: list[dict[str, Any]] = []
    for context in contexts:
        model: Any = context.model
        source = model.__ninja_param_source__
        flatten = model.__ninja_flatten_map_reverse__
        whole_body = source == "body" and len(model.model_fields) == 1
        for error in context.pydantic_validation_error.errors(include_url=False):
            loc = tuple(flatten.get(error["loc"], error["loc"]))
            if whole_body:
                loc = loc[1:]
                if not loc and error["type"] == "missing":  # no body at all
                    errors.extend(_missing_fields(model))
                    continue
            errors.append({"loc": [source, *loc], "msg": _message(error), "type": error["type"]})
    return ValidationError(errors)


def _missing_fields(model: Any) -> list[dict[str, Any]]:
    """An empty body names each field it lacks, as `{}` would have."""
    (field,) = model.model_fields.values()
    schema = field.annotation
    fields = getattr(schema, "model_fields", {})
    required = [name for name, info in fields.items() if info.is_required()]
    return [
        {"loc": ["body", name], "msg": "Field required", "type": "missing"}
        for name in required or ["body"]
    ]


def _message(error: Any) -> str:
    if error["type"] == "union_tag_invalid":  # pydantic quotes the tag that was sent
        return f"Unknown value; expected one of {error['ctx']['expected_tags']}"
    message = str(error["msg"])
    value = error.get("input")
    if isinstance(value, str | int | float) and len(str(value)) >= _SCRUB_FROM_LENGTH:
        message = message.replace(str(value), "…")
    return message


def field_error(field: str, message: str) -> dict[str, Any]:
    return {"detail": [{"loc": ["body", field], "msg": message, "type": "invalid"}]}


def install_error_handlers(api: NinjaAPI) -> None:
    def respond(request: HttpRequest, body: Any, status: int) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(QueueError)
    def queue_error(request: HttpRequest, exc: QueueError) -> HttpResponse:
        if exc.field:
            return respond(request, field_error(exc.field, exc.message), 422)
        return respond(request, {"detail": exc.message}, 409)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = respond(
            request, {"detail": _("Send a valid API token: Authorization: Bearer <key>.")}, 401
        )
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return respond(request, {"detail": _("The request body is too large.")}, 413)

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        return respond(request, {"detail": _("Bad request.")}, 400)

    @api.exception_handler(IntegrityError)
    def conflict(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
        # The services lock what they change; a unique constraint still wins a race now
        # and then (two kiosks, one window). Nothing was changed: the client may retry.
        log.warning("API %s %s: integrity conflict", request.method, request.path)
        return respond(
            request, {"detail": _("A concurrent change got in the way; try again.")}, 409
        )

    @api.exception_handler(OperationalError)
    def unavailable(request: HttpRequest, exc: OperationalError) -> HttpResponse:
        # The database refused a connection or broke a deadlock: a moment later it may not.
        log.warning("API %s %s: database unavailable (%s)", request.method, request.path, exc)
        response = respond(
            request, {"detail": _("The database is busy or unavailable; try again shortly.")}, 503
        )
        response["Retry-After"] = "5"
        return response

    @api.exception_handler(Exception)
    def internal(request: HttpRequest, exc: Exception) -> HttpResponse:
        log.error("API %s %s failed", request.method, request.path, exc_info=exc)
        return respond(request, {"detail": _("Internal error; it has been logged.")}, 500)


def unknown_route(request: HttpRequest, rest: str = "") -> JsonResponse:
    """A path under /api/v1/ that no operation serves: the API's 404, in JSON (Django's
    HTML 404 page would reach a client that parses every answer as JSON)."""
    return JsonResponse(
        {"detail": _("No such API endpoint: %(path)s") % {"path": request.path}}, status=404
    )


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The site's 404 handler: JSON under /api/v1/ (an API operation that raised Http404
    or a path ninja matched but does not serve), else the HTML 404 page."""
    if request.path.startswith("/api/v1/"):
        return unknown_route(request)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)

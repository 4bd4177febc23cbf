"""The JSON API for external queue systems and kiosks, mounted at /api/v1/.

Its OpenAPI 3 schema is at /api/v1/openapi.json and interactive docs at /api/v1/docs
(every asset served locally: halls run on intranets). Each call needs a token
(`manage.py create_api_token`) sent as `Authorization: Bearer <key>`; a token acts
only on its halls. Routes check through `auth.access_*_for_token` and act through
`queueing.services`, like the views do.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI, Swagger
from ninja.errors import ValidationError, ValidationErrorContext
from ninja.parser import Parser

from queueing.api import halls, ingest, tickets, windows
from queueing.api.auth import TokenAuth
from queueing.api.errors import install_error_handlers, validation_errors


class ObjectParser(Parser):
    """Every body of this API is a JSON object. Ninja would read `false` or `[1, 2]` as
    "no fields given" and fill in the defaults; refuse them (400) instead."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data


class HallOpsAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Any) -> str:
        return str(operation.view_func.__name__)  # route function names are unique

    def validation_error_from_error_contexts(
        self, error_contexts: list[ValidationErrorContext]
    ) -> ValidationError:
        return validation_errors(error_contexts)


api = HallOpsAPI(
    title="hall-ops API",
    version="1",
    description=__doc__ or "",
    urls_namespace="api-v1",
    auth=TokenAuth(),
    parser=ObjectParser(),
    # Swagger UI would otherwise load a badge from validator.swagger.io
    docs=Swagger(settings={"validatorUrl": None}),
)
install_error_handlers(api)
for module in (halls, tickets, windows, ingest):
    api.add_router("", module.router)
api.add_router("", "vision.api.router")  # the vision worker's: /api/v1/vision/...

__all__ = ["api"]

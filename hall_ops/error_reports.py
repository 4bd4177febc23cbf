"""Error reports (Django's debug page, the admins' error mail, logged tracebacks with
locals) that never carry a visitor's ID number.

Django's SafeExceptionReporterFilter applies `sensitive_variables` and
`sensitive_post_parameters` only with DEBUG off ("if DEBUG is on your site is not safe
anyway"); a bureau's test server runs with DEBUG on and real visitors, so this filter
applies them always. With the reporter below it also blanks, in every frame and every
POST field, any value that holds something shaped like an ID number (17 digits and a
digit or X), which catches the frames nobody marked: the API framework's, the ORM's.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

ID_SHAPED = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")


def holds_id_number(value: Any) -> bool:
    try:
        text = value if isinstance(value, str) else repr(value)
    except Exception:  # a repr that fails holds nothing we can show either
        return False
    return ID_SHAPED.search(text.replace(" ", "")) is not None


class IdNumberSafeFilter(SafeExceptionReporterFilter):
    def is_active(self, request: HttpRequest | None) -> bool:
        return True

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        cleansed = super().get_post_parameters(request)
        if not isinstance(cleansed, MultiValueDict):
            return cleansed
        holding = [key for key in cleansed if holds_id_number(cleansed.getlist(key))]
        if holding:
            cleansed = cleansed.copy()  # request.POST itself is immutable
            for key in holding:
                cleansed[key] = self.cleansed_substitute
        return cleansed


class IdNumberSafeReporter(ExceptionReporter):
    """Blanks every frame variable whose shown value holds an ID-shaped run (checked on
    the text the report shows, so no value is formatted twice), and such a run in the
    exception's message (a library that quotes the value it choked on)."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        substitute = self.filter.cleansed_substitute
        for frame in data.get("frames", []):
            frame["vars"] = [
                (name, substitute if holds_id_number(shown) else shown)
                for name, shown in frame.get("vars", [])
            ]
        if isinstance(data.get("exception_value"), str):
            data["exception_value"] = ID_SHAPED.sub(
                self.filter.cleansed_substitute, data["exception_value"]
            )
        return data

"""A crash while a ticket is issued with an ID number: neither Django's debug page (DEBUG
on) nor the error report the admins would be mailed (DEBUG off) carries the number."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils.module_loading import import_string
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from queueing.services import tickets as ticket_services
from tests.api_support import API, token_client
from tests.factories import national_id

NUMBER = national_id(dt.date(1951, 4, 9), region="440304", serial="271")


def _spellings(number: str) -> list[str]:
    return [number, number.lower(), f"{number[:9]} {number[9:]}", number[:17]]


class _Crash(RuntimeError):
    pass


@pytest.fixture
def crash_after_the_number_is_parsed(monkeypatch):
    def crash(*args, **kwargs):
        raise _Crash("the counter row is locked by a stuck transaction")

    monkeypatch.setattr(ticket_services, "next_number", crash)


@pytest.fixture
def request_errors():
    """Error records with a traceback (django.request's 500s, the API's own handler's),
    as a mail handler for the admins would get them."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.exc_info:
                records.append(record)

    handler = Keep(level=logging.ERROR)
    logger = logging.getLogger()
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def _kiosk_post(city, number: str):
    client = Client(raise_request_exception=False)
    client.force_login(city.kiosk1)
    return client.post(
        "/halls/h1/kiosk/tickets/", {"service": "pension", "id_number": f" {number} "}
    )


def _api_post(city, number: str):
    api = token_client(city.h1)
    return Client(raise_request_exception=False).post(
        API + "/halls/h1/tickets",
        data=json.dumps({"service": "A", "id_number": number}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.key}", "Accept-Language": "en"},
    )


def _report(record: logging.LogRecord) -> tuple[str, str]:
    """The text and HTML an error mail would carry (what AdminEmailHandler builds)."""
    request = getattr(record, "request", None)
    assert record.exc_info is not None
    reporter_class = import_string(django_settings.DEFAULT_EXCEPTION_REPORTER)
    reporter = reporter_class(request, *record.exc_info, is_email=True)
    return reporter.get_traceback_text(), reporter.get_traceback_html()


def _assert_absent(text: str) -> None:
    for spelling in _spellings(NUMBER):
        assert spelling not in text


@pytest.mark.parametrize("post", [_kiosk_post, _api_post], ids=["kiosk", "api"])
def test_the_debug_page_does_not_show_the_id_number(
    city, settings, crash_after_the_number_is_parsed, post
):
    settings.DEBUG = True
    response = post(city, NUMBER)
    assert response.status_code == 500
    body = response.content.decode()
    if post is _kiosk_post:
        assert "_Crash" in body and "stuck transaction" in body  # it is the debug page
    else:  # the API answers JSON, debug or not
        assert json.loads(body) == {"detail": "Internal error; it has been logged."}
    _assert_absent(body)


@pytest.mark.parametrize("post", [_kiosk_post, _api_post], ids=["kiosk", "api"])
def test_the_error_report_does_not_carry_the_id_number(
    city, settings, crash_after_the_number_is_parsed, request_errors, post
):
    settings.DEBUG = False
    response = post(city, NUMBER)
    assert response.status_code == 500
    assert request_errors, "the 500 was logged with its traceback"
    text, html = _report(request_errors[-1])
    assert "_Crash" in text and "ticket_issue" in text  # the frames are there
    _assert_absent(text)
    _assert_absent(html)


def test_the_debug_page_with_debug_on_shows_the_frames_locals_but_blank(
    city, settings, crash_after_the_number_is_parsed, request_errors
):
    """Locals stay useful: the service's frame is listed, its ID argument blanked."""
    settings.DEBUG = True
    _kiosk_post(city, NUMBER)
    text, _html = _report(request_errors[-1])
    assert "id_number = '********************'" in text
    assert django_settings.DEFAULT_EXCEPTION_REPORTER_FILTER.endswith("IdNumberSafeFilter")


def test_the_marked_functions_blank_the_number_even_under_django_s_own_filter(
    city, settings, crash_after_the_number_is_parsed, request_errors
):
    """The kiosk view, the issuing service and the ID parser are marked sensitive
    themselves: Django's stock filter (DEBUG off), without this project's scrubbing of
    ID-shaped values, leaves no copy in the kiosk path's frames or POST data either."""
    settings.DEBUG = False
    _kiosk_post(city, NUMBER)
    record = request_errors[-1]
    request = getattr(record, "request", None)
    assert record.exc_info is not None
    exc_type, exc_value, tb = record.exc_info
    reporter = ExceptionReporter(request, exc_type, exc_value, tb, is_email=True)
    reporter.filter = SafeExceptionReporterFilter()
    text = reporter.get_traceback_text()
    assert "ticket_issue" in text and "id_number = '********************'" in text
    _assert_absent(text)
    _assert_absent(reporter.get_traceback_html())

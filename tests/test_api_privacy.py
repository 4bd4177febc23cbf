"""An ID number sent to the API never comes back, and never reaches a table or a log."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.apps import apps
from django.db import models
from django.db.models.functions import Cast

from tests.api_support import ApiClient, token_client
from tests.factories import national_id

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def tables_holding(value: str) -> list[str]:
    """Every text or JSON column of every model table that contains `value`."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if isinstance(field, TEXT_FIELDS):
                rows = model._default_manager.annotate(
                    _as_text=Cast(field.attname, models.TextField())
                ).filter(_as_text__contains=value)
                if rows.exists():
                    found.append(f"{model._meta.db_table}.{field.column}")
    return found


@pytest.fixture
def api(city) -> ApiClient:
    return token_client(city.h1)


def _numbers() -> list[str]:
    good = national_id(dt.date(1950, 6, 7), serial="987")
    wrong_check = good[:-1] + ("1" if good[-1] != "1" else "2")
    bad_date = "440305" + "19991399" + "5678"
    return [good, wrong_check, bad_date[:17] + "X", good.lower() + "  ", f" {good[:9]} {good[9:]}"]


@pytest.mark.parametrize("number", _numbers())
def test_it_never_keeps_or_echoes_an_id_number(api, city, caplog, number):
    caplog.set_level(logging.DEBUG)
    raw = number.strip().replace(" ", "").upper()
    responses = [
        api.post("/halls/h1/tickets", {"service": "A", "id_number": number}),
        # where an ID number does not belong at all
        api.post("/halls/h1/tickets", {"service": raw}),
        api.post("/halls/h1/tickets", {"service": "A", "is_disabled": raw}),
        api.get(f"/halls/{raw}/state"),
        api.get(f"/tickets/{raw}"),
        api.post(
            "/halls/h1/events",
            {
                "events": [
                    {
                        "id": "p1",
                        "ts": "2026-03-02T09:00:00+08:00",
                        "event": "issued",
                        "ticket": "A001",
                        "service": "A",
                        "id_number": number,
                    },
                    {"id": "p2", "ts": "2026-03-02T09:00:00+08:00", "event": raw},
                    {"id": "p3", "ts": raw, "event": "window_open", "window": "W01"},
                ]
            },
        ),
    ]
    ticket = responses[0].json()
    if responses[0].status_code == 201:
        responses.append(api.get(f"/tickets/{ticket['id']}"))
        responses.append(api.get("/halls/h1/state"))
        responses.append(api.get(f"/windows/{city.w1.pk}"))
    for response in responses:
        body = response.content.decode()
        assert raw not in body.upper(), body
        assert raw[6:14] not in body, body  # not even the birth date digits
    assert tables_holding(raw) == []
    assert tables_holding(raw.lower()) == []
    assert raw not in caplog.text.upper()


def test_it_keeps_the_visitor_as_a_mask_and_a_keyed_hash(api, city):
    number = national_id(dt.date(1950, 6, 7))
    first = api.post("/halls/h1/tickets", {"service": "A", "id_number": number}).json()
    again = api.post("/halls/h1/tickets", {"service": "B", "id_number": number}).json()
    assert first["visitor"] == again["visitor"] == "*" * 16 + number[-2:]
    assert tables_holding(number) == []
    # the search does find what is stored: the mask, once, on the visitor row
    assert tables_holding(first["visitor"]) == ["queueing_visitor.masked_id"]

"""Ticket numbers: a bounded number space (the kiosk, the API and the ingest refuse past
the largest number instead of failing on the column), and one spelling per ticket
(`B01`, `B0001` and `B000001` from an external system are ticket `B001`)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.utils import timezone

from queueing.models import Ticket, TicketCounter, Window
from queueing.services import QueueError, ticket_issue
from queueing.services.ingest import ExternalEvent, ingest_events
from queueing.services.numbers import LARGEST_NUMBER, canonical_number
from tests.api_support import ApiClient, token_client
from tests.conftest import login
from tests.factories import make_service, offer

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 3, 2)


def at(hhmm: str) -> str:
    hour, minute = map(int, hhmm.split(":"))
    return dt.datetime.combine(DAY, dt.time(hour, minute), tzinfo=SHANGHAI).isoformat()


def ev(eid: str, hhmm: str, event: str, **fields: Any) -> dict[str, Any]:
    return {"id": eid, "ts": at(hhmm), "event": event, **fields}


@pytest.fixture
def two_letters(city):
    """Service `AB` at h1, its counter today one short of the largest number."""
    service = make_service("AB", code="svc-ab")
    offer(city.h1, service)
    TicketCounter.objects.create(
        hall=city.h1,
        prefix="AB",
        business_date=city.h1.business_date(timezone.now()),
        last_number=LARGEST_NUMBER - 1,
    )
    return service


@pytest.fixture
def api(city) -> ApiClient:
    Window.objects.filter(hall=city.h1).update(
        status=Window.Status.CLOSED, status_changed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    return token_client(city.h1)


def send(api: ApiClient, events: list[dict[str, Any]]) -> Any:
    return api.post("/halls/h1/events", {"events": events})


# --- the largest number ---------------------------------------------------------------


def test_the_largest_number_is_issued_and_the_next_one_refused_on_the_api(city, two_letters):
    api = token_client(city.h1)
    first = api.post("/halls/h1/tickets", {"service": "AB"})
    assert first.status_code == 201
    assert first.json()["number"] == "AB999999"
    refused = api.post("/halls/h1/tickets", {"service": "AB"})
    assert refused.status_code == 422
    (error,) = refused.json()["detail"]
    assert error["loc"] == ["body", "service"]
    assert "last number today (AB999999)" in error["msg"]
    # and again later the same day: a clear refusal each time, other services unaffected
    assert api.post("/halls/h1/tickets", {"service": "AB"}).status_code == 422
    assert api.post("/halls/h1/tickets", {"service": "A"}).status_code == 201
    assert Ticket.objects.filter(service=two_letters).count() == 1


def test_the_kiosk_says_the_service_has_no_numbers_left_today(city, two_letters):
    client = login(city.kiosk1)
    assert client.post("/halls/h1/kiosk/tickets/", {"service": "svc-ab"}).status_code == 200
    response = client.post("/halls/h1/kiosk/tickets/", {"service": "svc-ab"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "今天的号码已经发完" in body and "AB999999" in body  # translated, with the last
    assert Ticket.objects.filter(service=two_letters).count() == 1


def test_an_ingested_largest_number_is_kept_and_our_next_one_refused(city, api, two_letters):
    today = timezone.localtime(timezone.now(), SHANGHAI)
    event = {
        "id": "x1",
        "ts": (today - dt.timedelta(seconds=5)).isoformat(),
        "event": "issued",
        "ticket": "AB999999",
        "service": "AB",
    }
    TicketCounter.objects.filter(prefix="AB").update(last_number=10)
    assert send(api, [event]).json()["applied"] == 1
    assert TicketCounter.objects.get(prefix="AB").last_number == LARGEST_NUMBER
    with pytest.raises(QueueError) as refused:
        ticket_issue(hall=city.h1, service=two_letters)
    assert refused.value.field == "service"


@pytest.mark.parametrize(("number", "service"), [("AB1000000", "AB"), ("A00000001", "A")])
def test_an_ingested_number_longer_than_the_column_is_refused(
    city, api, two_letters, number, service
):
    response = send(api, [ev("x1", "09:00", "issued", ticket=number, service=service)])
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "events", 0, "issued", "ticket"]
    # the service refuses it as well (import_history and replays call it directly)
    (result,) = ingest_events(
        hall=city.h1,
        events=[
            ExternalEvent(
                "x2", "issued", dt.datetime.fromisoformat(at("09:00")), number, service=service
            )
        ],
    )
    assert result.status == "rejected" and result.field == "number"
    assert not Ticket.objects.filter(business_date=DAY).exists()


# --- one spelling per number ----------------------------------------------------------


def test_numbers_have_one_spelling():
    assert [canonical_number(n) for n in ("B01", "B0001", "B000001", "B1", "B001")] == ["B001"] * 5
    assert canonical_number("AB0123456") == "AB0123456"  # not a number: left for the schema
    assert canonical_number("A1234") == "A1234"


@pytest.mark.parametrize("twin", ["B01", "B0001", "B000001", "B1"])
def test_a_zero_padded_twin_of_an_issued_number_is_refused(city, api, twin):
    body = send(
        api,
        [
            ev("e1", "09:00", "issued", ticket="B001", service="B"),
            ev("e2", "09:01", "issued", ticket=twin, service="B"),
        ],
    ).json()
    assert [r["status"] for r in body["results"]] == ["applied", "rejected"]
    assert body["results"][1]["field"] == "number"
    assert "B001 was already issued" in body["results"][1]["reason"]
    assert list(Ticket.objects.filter(business_date=DAY).values_list("number", flat=True)) == [
        "B001"
    ]


def test_an_issued_number_is_kept_in_its_one_spelling_and_found_by_any(city, api):
    body = send(
        api,
        [
            ev("e0", "08:55", "window_open", window="W01"),
            ev("e1", "09:00", "issued", ticket="B01", service="B"),
            ev("e2", "09:05", "called", ticket="B0001", window="W01"),
            ev("e3", "09:10", "completed", ticket="B000001"),
        ],
    ).json()
    assert [r["status"] for r in body["results"]] == ["applied"] * 4, body
    ticket = Ticket.objects.get(business_date=DAY)
    assert ticket.number == "B001"
    assert ticket.status == Ticket.Status.COMPLETED
    assert {r["ticket"] for r in body["results"][1:]} == {ticket.pk}


def test_a_call_finds_a_ticket_stored_before_numbers_had_one_spelling(city, api):
    send(api, [ev("e0", "08:55", "window_open", window="W01")])
    send(api, [ev("e1", "09:00", "issued", ticket="B001", service="B")])
    Ticket.objects.filter(business_date=DAY).update(number="B01")  # an old row
    body = send(api, [ev("e2", "09:05", "called", ticket="B001", window="W01")]).json()
    assert body["applied"] == 1
    body = send(api, [ev("e3", "09:06", "issued", ticket="B0001", service="B")]).json()
    assert body["results"][0]["status"] == "rejected"

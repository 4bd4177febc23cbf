"""Windows and the hall's state through the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from queueing.models import Ticket, Window
from queueing.services import ticket_issue
from tests.api_support import ApiClient, issue, token_client


@pytest.fixture
def api(city) -> ApiClient:
    return token_client(city.h1)


def test_it_calls_the_next_ticket_at_a_window(api, city):
    first = issue(api, city.h1, "A")
    issue(api, city.h1, "B")
    response = api.post(f"/windows/{city.w2.pk}/call-next")
    assert response.status_code == 200
    ticket = response.json()["ticket"]
    assert (ticket["id"], ticket["status"]) == (first["id"], "called")
    assert ticket["window"]["label"] == "W02"


def test_it_answers_a_null_ticket_when_nobody_waits(api, city):
    response = api.post(f"/windows/{city.w1.pk}/call-next")
    assert response.status_code == 200
    assert response.json() == {"ticket": None}


def test_it_refuses_to_call_next_at_a_busy_or_paused_window(api, city):
    issue(api, city.h1, "A")
    issue(api, city.h1, "A")
    path = f"/windows/{city.w1.pk}/call-next"
    assert api.post(path).json()["ticket"]["number"] == "A001"
    busy = api.post(path)
    assert busy.status_code == 409
    assert "A001" in busy.json()["detail"]
    paused = api.post(f"/windows/{city.w2.pk}/status", {"status": "paused"})
    assert paused.json()["status"] == "paused"
    assert api.post(f"/windows/{city.w2.pk}/call-next").status_code == 409
    assert Ticket.objects.filter(status="waiting").count() == 1


def test_it_shows_a_window_with_its_ticket_and_queue_in_call_order(api, city):
    a1 = issue(api, city.h1, "A")
    b1 = issue(api, city.h1, "B")
    a2 = issue(api, city.h1, "A", has_appointment=True)
    api.post(f"/windows/{city.w1.pk}/call-next")  # the appointment comes first
    window = api.get(f"/windows/{city.w1.pk}").json()
    assert (window["label"], window["hall"], window["status"]) == ("W01", "h1", "open")
    assert sorted(window["skills"]) == ["A", "B"]
    assert window["ticket"]["id"] == a2["id"]
    assert [t["id"] for t in window["queue"]] == [a1["id"], b1["id"]]
    w2 = api.get(f"/windows/{city.w2.pk}").json()
    assert w2["ticket"] is None
    assert [t["number"] for t in w2["queue"]] == ["A001"]


@pytest.mark.parametrize("window_id", ["0", "-3", "x", str(2**64)])
def test_it_refuses_a_window_id_that_is_no_id(api, city, window_id):
    assert api.get(f"/windows/{window_id}").status_code == 422


def test_it_opens_pauses_and_closes_a_window(api, city):
    path = f"/windows/{city.w2.pk}/status"
    for status in ("paused", "closed", "open"):
        response = api.post(path, {"status": status})
        assert response.status_code == 200
        assert response.json()["status"] == status
        assert Window.objects.get(pk=city.w2.pk).status == status


@pytest.mark.parametrize("body", [{}, {"status": "broken"}, {"status": None}, {"status": 1}])
def test_it_refuses_an_unknown_window_status(api, city, body):
    response = api.post(f"/windows/{city.w2.pk}/status", body)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "status"]]
    assert Window.objects.get(pk=city.w2.pk).status == "open"


def test_it_refuses_to_close_a_window_that_holds_a_ticket(api, city):
    issue(api, city.h1, "A")
    api.post(f"/windows/{city.w2.pk}/call-next")
    response = api.post(f"/windows/{city.w2.pk}/status", {"status": "closed"})
    assert response.status_code == 409
    assert "A001" in response.json()["detail"]


# --- hall state -------------------------------------------------------------------------


def test_it_reports_the_hall_state(api, city):
    # half an hour ago, but never before the hall's midnight: it is one of today's
    now = city.h1.local_now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    earlier = ticket_issue(
        hall=city.h1,
        service=city.pension,
        at=max(now - dt.timedelta(minutes=30), midnight + dt.timedelta(seconds=1)),
    )
    issue(api, city.h1, "A")
    issue(api, city.h1, "B")
    api.post(f"/windows/{city.w2.pk}/call-next")  # takes the earlier A
    api.post(f"/windows/{city.w3.pk}/status", {"status": "paused"})
    state = api.get("/halls/h1/state").json()
    assert state["hall"] == "h1"
    queues = {q["service"]: q for q in state["services"]}
    assert queues["A"]["waiting"] == 1 and queues["A"]["issued_today"] == 2
    assert queues["B"]["waiting"] == 1
    assert queues["A"]["target_wait_min"] == 20
    assert 0 <= queues["A"]["longest_wait_s"] < 60
    windows = {w["label"]: w for w in state["windows"]}
    assert windows["W02"]["ticket"]["id"] == earlier.pk
    assert windows["W02"]["ticket"]["status"] == "called"
    assert windows["W03"]["status"] == "paused"
    assert windows["W01"]["ticket"] is None
    assert state["totals"] == {
        "waiting": 2,
        "issued_today": 3,
        "served_today": 0,
        "windows_open": 2,
        "windows_paused": 1,
        "windows_closed": 0,
    }


def test_it_reports_the_hall_state_in_a_fixed_number_of_queries(api, city):
    for _ in range(3):
        issue(api, city.h1, "A")
    api.post(f"/windows/{city.w1.pk}/call-next")
    with CaptureQueriesContext(connection) as small:
        api.get("/halls/h1/state")
    for _ in range(10):
        issue(api, city.h1, "B")
    api.post(f"/windows/{city.w2.pk}/call-next")
    with CaptureQueriesContext(connection) as large:
        api.get("/halls/h1/state")
    assert len(large) == len(small) <= 11

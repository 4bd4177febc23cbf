"""Tickets through the API: issue, read, and every transition with its refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from queueing.models import Ticket, TicketEvent, Window
from tests.api_support import ApiClient, issue, token_client
from tests.factories import make_service, national_id


@pytest.fixture
def api(city) -> ApiClient:
    return token_client(city.h1)


def _field(response, *loc):
    """The messages of a 422 for the field at `loc` (under the body unless a path)."""
    assert response.status_code == 422, response.content
    where = list(loc) if loc[0] in ("path", "body") else ["body", *loc]
    return [e["msg"] for e in response.json()["detail"] if e["loc"] == where]


def _called(api, city, ticket_id, window=None):
    response = api.post(f"/tickets/{ticket_id}/call", {"window": (window or city.w1).pk})
    assert response.status_code == 200, response.content
    return response.json()


# --- issue ------------------------------------------------------------------------------


def test_it_issues_numbered_tickets_with_their_place_in_the_queue(api, city):
    first = issue(api, city.h1, "A")
    second = issue(api, city.h1, "A", is_disabled=True)
    other = issue(api, city.h1, "B")
    assert (first["number"], second["number"], other["number"]) == ("A001", "A002", "B001")
    assert first["status"] == "waiting"
    assert first["service"] == "A" and first["hall"] == "h1"
    # a disabled visitor is a priority visitor: placed ahead of the earlier ticket
    assert (second["position"], second["is_priority"]) == (0, True)
    assert other["position"] == 0
    assert api.get(f"/tickets/{first['id']}").json()["position"] == 1
    issued = dt.datetime.fromisoformat(first["issued_at"])
    assert abs(timezone.now() - issued) < dt.timedelta(seconds=10)


def test_it_flags_an_elderly_visitor_and_shows_only_the_masked_id(api, city):
    today = timezone.localdate()
    number = national_id(today.replace(year=today.year - 70) - dt.timedelta(days=1))
    ticket = issue(api, city.h1, "A", id_number=number)
    assert ticket["is_elderly"] is True and ticket["is_priority"] is True
    assert ticket["visitor"] == "*" * 16 + number[-2:]
    young = issue(api, city.h1, "A", id_number=national_id(dt.date(1995, 5, 5)))
    assert young["is_elderly"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "service"),
        ({"service": "Z"}, "service"),
        ({"service": "a"}, "service"),
        ({"service": 5}, "service"),
        ({"service": "A" * 10_000}, "service"),
        ({"service": "A", "is_disabled": "perhaps"}, "is_disabled"),
        ({"service": "A", "has_appointment": [1]}, "has_appointment"),
        ({"service": "A", "has_appointment": 0}, "has_appointment"),
        ({"service": "A", "is_disabled": "true"}, "is_disabled"),
        ({"service": "A", "id_number": "1" * 10_000}, "id_number"),
        ({"service": "A", "id_number": 440305}, "id_number"),
        ({"service": "A", "id_number": "4403\x0019900101123X"}, "id_number"),
        ({"service": "A", "id_number": "12345"}, "id_number"),
    ],
)
def test_it_refuses_a_bad_ticket_request_naming_the_field(api, city, body, field):
    response = api.post("/halls/h1/tickets", body)
    assert _field(response, field), response.json()
    assert not Ticket.objects.exists()


def test_it_refuses_an_id_number_with_a_bad_check_character_without_echoing_it(api, city):
    good = national_id(dt.date(1980, 2, 3))
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = api.post("/halls/h1/tickets", {"service": "A", "id_number": bad})
    assert _field(response, "id_number") == [
        "The check character (the 18th) does not match: the number has a typo."
    ]
    assert bad not in response.content.decode()
    assert not Ticket.objects.exists()


def test_it_refuses_an_id_number_of_an_area_no_division_has_had(api, city):
    number = national_id(dt.date(1980, 2, 3), region="449999")
    response = api.post("/halls/h1/tickets", {"service": "A", "id_number": number})
    assert response.status_code == 422
    assert _field(response, "id_number") == [
        "Characters 1 to 6 are not the code of a county or district, now or before."
    ]
    assert number not in response.content.decode()
    assert not Ticket.objects.exists()


def test_it_refuses_a_service_the_hall_does_not_offer(api, city):
    make_service("C", code="medical")
    response = api.post("/halls/h1/tickets", {"service": "C"})
    assert _field(response, "service") == ["Service C is not offered at this hall."]


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"A"', "null", "false", "\xff"])
def test_it_refuses_a_body_that_is_not_a_json_object(api, city, raw):
    response = api.post("/halls/h1/tickets", raw=raw)
    assert response.status_code == 400, response.content
    assert response.json()["detail"].startswith("Cannot parse request body")


@pytest.mark.parametrize("raw", ["false", "[null, null]", "0"])
def test_it_does_not_read_a_non_object_body_as_all_defaults(api, city, raw):
    ticket = issue(api, city.h1, "A")
    assert api.post(f"/tickets/{ticket['id']}/cancel", raw=raw).status_code == 400
    assert Ticket.objects.get(pk=ticket["id"]).status == "waiting"


def test_it_refuses_an_empty_body_naming_the_missing_field(api, city):
    assert _field(api.post("/halls/h1/tickets", raw=""), "service") == ["Field required"]


@pytest.mark.parametrize("code", ["x" * 33, "h1;drop", "h%00", "%F0%9F%98%80"])
def test_it_refuses_a_malformed_hall_code(api, city, code):
    response = api.get(f"/halls/{code}/state")
    assert response.status_code in (404, 422)


# --- read -------------------------------------------------------------------------------


def test_it_reads_a_ticket(api, city):
    ticket = issue(api, city.h1, "B")
    response = api.get(f"/tickets/{ticket['id']}")
    assert response.status_code == 200
    assert response.json() == ticket


@pytest.mark.parametrize("ticket_id", ["0", "-1", "abc", "1.5", str(2**63), "9" * 40])
def test_it_refuses_a_ticket_id_that_is_no_id(api, city, ticket_id):
    response = api.get(f"/tickets/{ticket_id}")
    assert response.status_code in (404, 422)
    if response.status_code == 422:
        assert _field(response, "path", "ticket_id")


# --- transitions ------------------------------------------------------------------------


def test_it_calls_a_chosen_ticket_to_a_window(api, city):
    issue(api, city.h1, "A")
    second = issue(api, city.h1, "A")
    called = _called(api, city, second["id"], city.w2)
    assert called["status"] == "called"
    assert called["window"] == {"id": city.w2.pk, "label": "W02"}
    assert called["position"] is None


def test_it_refuses_a_call_to_a_window_it_cannot_use(api, city):
    ticket = issue(api, city.h1, "B")
    path = f"/tickets/{ticket['id']}/call"
    # W02 handles only A; h2's window is in another hall; 10**30 is no id at all
    assert _field(api.post(path, {"window": city.w2.pk}), "window")
    assert _field(api.post(path, {"window": city.h2_window.pk}), "window")
    assert _field(api.post(path, {"window": 10**30}), "window")
    assert _field(api.post(path, {"window": "W01"}), "window")
    assert _field(api.post(path, {}), "window")
    Window.objects.filter(pk=city.w1.pk).update(status=Window.Status.PAUSED)
    paused = api.post(path, {"window": city.w1.pk})
    assert paused.status_code == 409
    assert "W01" in paused.json()["detail"]
    assert Ticket.objects.get(pk=ticket["id"]).status == "waiting"


def test_it_refuses_to_call_a_ticket_twice(api, city):
    ticket = issue(api, city.h1, "A")
    _called(api, city, ticket["id"])
    response = api.post(f"/tickets/{ticket['id']}/call", {"window": city.w2.pk})
    assert response.status_code == 409
    assert "A001" in response.json()["detail"]


def test_it_recalls_up_to_the_hall_limit(api, city):
    ticket = issue(api, city.h1, "A")
    path = f"/tickets/{ticket['id']}/recall"
    assert api.post(path).status_code == 409  # still waiting
    _called(api, city, ticket["id"])
    for n in range(1, city.h1.recall_limit + 1):
        assert api.post(path).json()["recall_count"] == n
    refused = api.post(path)
    assert refused.status_code == 409
    assert "no-show" in refused.json()["detail"]


def test_it_serves_and_completes_a_ticket_with_an_outcome(api, city):
    ticket = issue(api, city.h1, "A")
    assert api.post(f"/tickets/{ticket['id']}/start").status_code == 409  # not called yet
    _called(api, city, ticket["id"])
    started = api.post(f"/tickets/{ticket['id']}/start").json()
    assert started["status"] == "serving" and started["started_at"]
    done = api.post(
        f"/tickets/{ticket['id']}/complete",
        {"outcome": "missing_documents", "missing_documents": "household register"},
    ).json()
    assert (done["status"], done["outcome"]) == ("completed", "missing_documents")
    assert done["missing_documents"] == "household register"
    assert done["window"] is None and done["ended_at"]
    again = api.post(f"/tickets/{ticket['id']}/complete", {"outcome": "done"})
    assert again.status_code == 409


def test_it_completes_as_done_when_no_outcome_is_given(api, city):
    ticket = issue(api, city.h1, "A")
    _called(api, city, ticket["id"])
    assert api.post(f"/tickets/{ticket['id']}/complete").json()["outcome"] == "done"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "great"}, "outcome"),
        ({"outcome": None}, "outcome"),
        ({"outcome": "missing_documents"}, "missing_documents"),
        ({"outcome": "missing_documents", "missing_documents": "   "}, "missing_documents"),
        ({"outcome": "done", "missing_documents": "x" * 301}, "missing_documents"),
        ({"outcome": "done", "missing_documents": "\ud800"}, "missing_documents"),
    ],
)
def test_it_refuses_a_bad_completion_naming_the_field(api, city, body, field):
    ticket = issue(api, city.h1, "A")
    _called(api, city, ticket["id"])
    response = api.post(f"/tickets/{ticket['id']}/complete", body)
    assert _field(response, field), response.json()
    assert Ticket.objects.get(pk=ticket["id"]).status == "called"


def test_it_marks_a_called_visitor_a_no_show(api, city):
    ticket = issue(api, city.h1, "A")
    assert api.post(f"/tickets/{ticket['id']}/no-show").status_code == 409
    _called(api, city, ticket["id"])
    gone = api.post(f"/tickets/{ticket['id']}/no-show").json()
    assert gone["status"] == "no_show" and gone["window"] is None


def test_it_transfers_a_ticket_keeping_its_number_and_issue_time(api, city):
    ticket = issue(api, city.h1, "A")
    _called(api, city, ticket["id"])
    moved = api.post(f"/tickets/{ticket['id']}/transfer", {"service": "B"}).json()
    assert (moved["service"], moved["status"], moved["number"]) == ("B", "waiting", "A001")
    assert moved["issued_at"] == ticket["issued_at"]
    assert moved["position"] == 0
    event = TicketEvent.objects.filter(ticket_id=ticket["id"]).last()
    assert event is not None and event.data == {"from_service": "A", "to_service": "B"}


def test_it_refuses_a_bad_transfer(api, city):
    ticket = issue(api, city.h1, "A")
    path = f"/tickets/{ticket['id']}/transfer"
    assert _field(api.post(path, {"service": "A"}), "service")  # already there
    assert _field(api.post(path, {"service": "Q"}), "service")  # no such service
    assert _field(api.post(path, {"service": ""}), "service")
    assert _field(api.post(path, {}), "service")
    api.post(f"/tickets/{ticket['id']}/cancel", {"reason": "left"})
    assert api.post(path, {"service": "B"}).status_code == 409


def test_it_cancels_a_ticket_once(api, city):
    ticket = issue(api, city.h1, "A")
    path = f"/tickets/{ticket['id']}/cancel"
    assert _field(api.post(path, {"reason": "x" * 201}), "reason")
    assert _field(api.post(path, {"reason": "left\x00"}), "reason")
    cancelled = api.post(path, {"reason": "visitor left"}).json()
    assert (cancelled["status"], cancelled["end_reason"]) == ("cancelled", "visitor left")
    assert api.post(path, {}).status_code == 409


def test_it_cancels_without_a_reason(api, city):
    ticket = issue(api, city.h1, "A")
    assert api.post(f"/tickets/{ticket['id']}/cancel").json()["status"] == "cancelled"

"""Bulk ingest from a hall's own queue system: a day replayed, retries, refusals."""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo
from typing import Any

import pytest
from django.db import connection

from queueing.models import IngestedEvent, Ticket, TicketCounter, TicketEvent, Window
from tests.api_support import ApiClient, issue, token_client

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 3, 2)
LONG_AGO = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # the windows' last change, before DAY


def at(hhmm: str) -> str:
    hour, minute = map(int, hhmm.split(":"))
    return dt.datetime.combine(DAY, dt.time(hour, minute), tzinfo=SHANGHAI).isoformat()


def ev(eid: str, hhmm: str, event: str, **fields: Any) -> dict[str, Any]:
    return {"id": eid, "ts": at(hhmm), "event": event, **fields}


LITTLE_DAY = [
    ev("e01", "08:55", "window_open", window="W01"),
    ev("e02", "08:56", "window_open", window="W02"),
    ev("e03", "09:00", "issued", ticket="A001", service="A", priority=0),
    ev("e04", "09:01", "issued", ticket="A002", service="A", priority=1),
    ev("e05", "09:02", "issued", ticket="B001", service="B"),
    ev("e06", "09:03", "issued", ticket="A003", service="A"),
    ev("e07", "09:05", "called", ticket="A002", window="W01"),
    ev("e08", "09:06", "called", ticket="A001", window="W02"),
    ev("e09", "09:15", "completed", ticket="A002"),
    ev("e10", "09:16", "transferred", ticket="A001", service="B"),
    ev("e11", "09:17", "called", ticket="B001", window="W01"),
    ev("e12", "09:20", "no_show", ticket="B001"),
    ev("e13", "09:21", "cancelled", ticket="A003", reason="left"),
    ev("e14", "09:22", "called", ticket="A001", window="W01"),
    ev(
        "e15",
        "09:30",
        "completed",
        ticket="A001",
        outcome="missing_documents",
        missing_documents="photo",
    ),
    ev("e16", "09:31", "window_pause", window="W02"),
    ev("e17", "12:00", "window_close", window="W01"),
]


@pytest.fixture
def api(city) -> ApiClient:
    Window.objects.filter(hall=city.h1).update(
        status=Window.Status.CLOSED, status_changed_at=LONG_AGO
    )
    return token_client(city.h1)


def send(api: ApiClient, events: list[dict[str, Any]], hall: str = "h1") -> Any:
    return api.post(f"/halls/{hall}/events", {"events": events})


def tickets() -> dict[str, Ticket]:
    return {t.number: t for t in Ticket.objects.filter(business_date=DAY)}


def rows() -> tuple[Any, ...]:
    return (
        sorted(Ticket.objects.values_list("number", "status", "service__prefix", "window_id")),
        TicketEvent.objects.count(),
        IngestedEvent.objects.count(),
        sorted(TicketCounter.objects.values_list("prefix", "last_number")),
        sorted(Window.objects.values_list("label", "status", "status_changed_at")),
    )


def test_it_replays_a_little_day_into_the_right_states(api, city):
    response = send(api, LITTLE_DAY)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["applied"], body["duplicate"], body["rejected"]) == (17, 0, 0)
    assert [r["index"] for r in body["results"]] == list(range(17))
    assert [r["id"] for r in body["results"]] == [e["id"] for e in LITTLE_DAY]

    t = tickets()
    assert (t["A002"].status, t["A002"].outcome, t["A002"].has_appointment) == (
        "completed",
        "done",
        True,
    )
    assert (t["A001"].status, t["A001"].service.prefix) == ("completed", "B")
    assert (t["A001"].outcome, t["A001"].missing_documents) == ("missing_documents", "photo")
    assert t["B001"].status == "no_show"
    assert (t["A003"].status, t["A003"].end_reason) == ("cancelled", "left")
    assert t["A001"].issued_at == dt.datetime.fromisoformat(at("09:00"))
    assert t["A002"].called_at == dt.datetime.fromisoformat(at("09:05"))
    assert dict(Window.objects.filter(hall=city.h1).values_list("label", "status")) == {
        "W01": "closed",
        "W02": "paused",
        "W03": "closed",
    }
    w2 = Window.objects.get(pk=city.w2.pk)
    assert w2.status_changed_at == dt.datetime.fromisoformat(at("09:31"))
    # every applied ticket event is one event row, at the external time, with its id
    events = TicketEvent.objects.filter(hall=city.h1).order_by("at", "id")
    assert [e.external_id for e in events] == [
        e["id"] for e in LITTLE_DAY if not e["event"].startswith("window_")
    ]
    assert all(e.at == dt.datetime.fromisoformat(at_) for e, at_ in _ats(events))
    assert sorted(IngestedEvent.objects.values_list("external_id", flat=True)) == [
        "e01",
        "e02",
        "e16",
        "e17",
    ]


def _ats(events):
    by_id = {e["id"]: e["ts"] for e in LITTLE_DAY}
    return [(e, by_id[e.external_id]) for e in events]


def test_it_changes_nothing_when_a_batch_is_sent_again(api, city):
    send(api, LITTLE_DAY)
    before = rows()
    again = send(api, LITTLE_DAY).json()
    assert (again["applied"], again["duplicate"], again["rejected"]) == (0, 17, 0)
    assert {r["status"] for r in again["results"]} == {"duplicate"}
    assert rows() == before


def test_it_applies_only_the_new_events_of_an_overlapping_batch(api, city):
    first = send(api, LITTLE_DAY[:8]).json()
    assert first["applied"] == 8
    second = send(api, LITTLE_DAY).json()
    assert (second["applied"], second["duplicate"]) == (9, 8)
    assert [r["status"] for r in second["results"][:9]] == ["duplicate"] * 8 + ["applied"]
    assert tickets()["A001"].status == "completed"


def test_it_counts_a_repeated_id_within_one_batch_once(api, city):
    body = send(api, [LITTLE_DAY[0], LITTLE_DAY[2], LITTLE_DAY[2]]).json()
    assert [r["status"] for r in body["results"]] == ["applied", "applied", "duplicate"]
    assert Ticket.objects.count() == 1


def test_it_rejects_a_call_to_a_window_that_still_holds_a_ticket(api, city):
    body = send(
        api,
        [
            *LITTLE_DAY[:7],  # W01 calls A002
            ev("x1", "09:07", "called", ticket="A003", window="W01"),
            ev("x2", "09:08", "called", ticket="A003", window="W02"),
        ],
    ).json()
    rejected = body["results"][7]
    assert rejected["status"] == "rejected" and rejected["field"] is None
    assert "W01" in rejected["reason"] and "A002" in rejected["reason"]
    assert body["results"][8]["status"] == "applied"
    t = tickets()
    assert (t["A002"].status, t["A002"].window_id) == ("called", city.w1.pk)
    assert (t["A003"].status, t["A003"].window_id) == ("called", city.w2.pk)
    assert not TicketEvent.objects.filter(external_id="x1").exists()


def test_it_applies_a_rejected_event_once_it_is_sent_again_and_fits(api, city):
    send(api, LITTLE_DAY[:4])
    early = ev("late", "09:05", "called", ticket="A001", window="W03")
    assert send(api, [early]).json()["results"][0]["status"] == "rejected"  # W03 closed
    opened = send(api, [ev("w3", "09:04", "window_open", window="W03"), early]).json()
    assert [r["status"] for r in opened["results"]] == ["applied", "applied"]
    assert tickets()["A001"].window_id == city.w3.pk


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (ev("r1", "09:10", "called", ticket="A001", window="W99"), "window"),
        (ev("r2", "09:10", "called", ticket="A777", window="W01"), "ticket"),
        (ev("r3", "09:10", "issued", ticket="A001", service="A"), "number"),
        (ev("r4", "09:10", "issued", ticket="B009", service="A"), "number"),
        (ev("r5", "09:10", "issued", ticket="Q001", service="Q"), "service"),
        (ev("r6", "09:10", "transferred", ticket="A001", service="A"), "service"),
        (ev("r7", "09:10", "window_open", window="nope"), "window"),
    ],
)
def test_it_rejects_an_event_naming_the_field_at_fault(api, city, event, field):
    send(api, LITTLE_DAY[:3])
    before = rows()
    result = send(api, [event]).json()["results"][0]
    assert (result["status"], result["field"]) == ("rejected", field), result
    assert result["reason"]
    assert rows() == before


def test_it_rejects_a_state_change_the_ticket_cannot_make(api, city):
    send(api, LITTLE_DAY[:3])
    body = send(
        api,
        [
            ev("s1", "09:10", "completed", ticket="A001"),
            ev("s2", "09:10", "no_show", ticket="A001"),
            ev("s3", "09:10", "window_close", window="W01"),
        ],
    ).json()
    assert [r["status"] for r in body["results"]] == ["rejected", "rejected", "applied"]
    assert "A001" in body["results"][0]["reason"]
    assert tickets()["A001"].status == "waiting"


def test_it_rejects_missing_documents_without_saying_which(api, city):
    send(api, LITTLE_DAY[:7])
    body = send(api, [ev("m1", "09:10", "completed", ticket="A002", outcome="missing_documents")])
    result = body.json()["results"][0]
    assert (result["status"], result["field"]) == ("rejected", "missing_documents")


def test_it_finds_a_ticket_by_its_number_on_the_day_of_the_event(api, city):
    send(api, LITTLE_DAY[:3])
    next_day = (dt.datetime.fromisoformat(at("09:00")) + dt.timedelta(days=1)).isoformat()
    issued = {"id": "d2", "ts": next_day, "event": "issued", "ticket": "A001", "service": "A"}
    assert send(api, [issued]).json()["applied"] == 1
    assert Ticket.objects.filter(number="A001").count() == 2
    cancel = {"id": "d2c", "ts": next_day, "event": "cancelled", "ticket": "A001"}
    send(api, [cancel])
    assert tickets()["A001"].status == "waiting"
    assert Ticket.objects.get(number="A001", business_date=DAY + dt.timedelta(days=1)).status == (
        "cancelled"
    )


def test_it_numbers_later_kiosk_tickets_after_the_external_ones(api, city):
    now = dt.datetime.now(tz=SHANGHAI).isoformat()
    send(api, [{"id": "k1", "ts": now, "event": "issued", "ticket": "A023", "service": "A"}])
    assert issue(api, city.h1, "A")["number"] == "A024"
    send(api, [{"id": "k2", "ts": now, "event": "issued", "ticket": "A010", "service": "A"}])
    assert issue(api, city.h1, "A")["number"] == "A025"


def test_it_never_auto_calls_for_an_external_event(api, city):
    Window.objects.filter(pk=city.w1.pk).update(auto_call=True)
    send(api, LITTLE_DAY[:7])  # W01 serves A002; A001, B001, A003 wait
    send(api, [LITTLE_DAY[8]])  # A002 completed
    assert not Ticket.objects.filter(window=city.w1).exists()
    assert Ticket.objects.filter(status="waiting").count() == 3


@pytest.mark.parametrize(
    ("events", "loc"),
    [
        (
            [LITTLE_DAY[0], LITTLE_DAY[2], {**LITTLE_DAY[6], "ticket": None}],
            [2, "called", "ticket"],
        ),
        ([LITTLE_DAY[0], {**LITTLE_DAY[2], "ts": "2026-03-02T09:00:00"}], [1, "issued", "ts"]),
        ([{**LITTLE_DAY[2], "ts": "2026-02-30T09:00:00+08:00"}], [0, "issued", "ts"]),
        ([{**LITTLE_DAY[2], "ts": "3026-02-03T09:00:00+08:00"}], [0, "issued", "ts"]),
        ([{**LITTLE_DAY[2], "ts": "1999-12-31T09:00:00+08:00"}], [0, "issued", "ts"]),
        ([{**LITTLE_DAY[2], "ts": "9999-12-31T23:59:59-12:00"}], [0, "issued", "ts"]),
        ([{**LITTLE_DAY[2], "priority": 2}], [0, "issued", "priority"]),
        ([{**LITTLE_DAY[2], "ticket": "A-1"}], [0, "issued", "ticket"]),
        ([{**LITTLE_DAY[2], "id": ""}], [0, "issued", "id"]),
        ([{**LITTLE_DAY[2], "id": "x" * 101}], [0, "issued", "id"]),
        ([{**LITTLE_DAY[0], "window": "W\x0001"}], [0, "window_open", "window"]),
        ([{**LITTLE_DAY[8], "outcome": "splendid"}], [0, "completed", "outcome"]),
        ([LITTLE_DAY[0], {**LITTLE_DAY[1], "event": "exploded"}], [1]),
        ([{"id": "n", "ts": at("09:00")}], [0]),
        ([LITTLE_DAY[0], "issued"], [1]),
        ([], []),
        ([LITTLE_DAY[0]] * 1001, []),
    ],
)
def test_it_refuses_a_malformed_batch_naming_the_field_and_applies_nothing(api, city, events, loc):
    response = send(api, events)
    assert response.status_code == 422, response.content
    locs = [e["loc"] for e in response.json()["detail"]]
    assert ["body", "events", *loc] in locs, locs
    assert rows()[1:3] == (0, 0)
    assert Window.objects.get(pk=city.w1.pk).status == "closed"


def test_it_refuses_a_batch_that_is_not_an_object_of_events(api, city):
    assert api.post("/halls/h1/events", [LITTLE_DAY[0]]).status_code == 400
    assert api.post("/halls/h1/events", {"events": "all"}).status_code == 422
    assert api.post("/halls/h1/events", raw="{").status_code == 400


def test_it_keeps_batches_of_two_halls_apart(city):
    Window.objects.update(status=Window.Status.CLOSED, status_changed_at=LONG_AGO)
    both = token_client(city.h1, city.h2)
    batch = [LITTLE_DAY[0], LITTLE_DAY[2]]  # W01 opens, A001 issued: both halls have W01
    assert send(both, batch, hall="h1").json()["applied"] == 2
    # the same external ids at another hall are another hall's events
    assert send(both, batch, hall="h2").json()["applied"] == 2
    assert Ticket.objects.filter(hall=city.h2, number="A001").exists()
    assert Window.objects.get(pk=city.h2_window.pk).status == "open"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_applies_each_event_once_when_a_batch_is_sent_twice_at_once(city, settings):
    """Two retries of one batch racing each other (a timeout, then a resend): row locks
    and the unique external ids let each event through once, the other sees a duplicate."""
    settings.CHANNEL_LAYERS = {}  # the pushes after commit are not under test
    Window.objects.filter(hall=city.h1).update(
        status=Window.Status.CLOSED, status_changed_at=LONG_AGO
    )
    api = token_client(city.h1)
    start = threading.Barrier(2, timeout=30)
    answers: list[Any] = []
    errors: list[BaseException] = []

    def resend() -> None:
        try:
            start.wait()
            answers.append(send(api, LITTLE_DAY).json())
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=resend) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and len(answers) == 2
    for index in range(len(LITTLE_DAY)):
        statuses = sorted(answer["results"][index]["status"] for answer in answers)
        assert statuses == ["applied", "duplicate"], (index, answers)
    t = tickets()
    assert [t[n].status for n in ("A001", "A002", "A003", "B001")] == [
        "completed",
        "completed",
        "cancelled",
        "no_show",
    ]
    assert TicketEvent.objects.count() == 13


def test_an_event_that_goes_back_in_time_for_its_ticket_is_refused(api):
    send(api, LITTLE_DAY[:4])
    body = send(
        api,
        [
            ev("x1", "08:20", "called", ticket="A001", window="W01"),  # 40 min before issue
        ],
    ).json()
    assert body["results"][0]["status"] == "rejected"
    assert body["results"][0]["field"] == "at"
    assert tickets()["A001"].called_at is None


def test_a_window_event_before_the_windows_last_change_is_refused(api):
    send(api, LITTLE_DAY[:2])
    body = send(api, [ev("x2", "06:00", "window_pause", window="W01")]).json()
    assert body["results"][0]["status"] == "rejected"
    window = Window.objects.get(hall__code="h1", label="W01")
    assert window.status == Window.Status.OPEN
    assert window.status_changed_at == dt.datetime.fromisoformat(at("08:55"))


def test_an_event_stamped_minutes_ahead_of_the_server_is_refused(api):
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    response = send(api, [{"id": "x3", "ts": ahead.isoformat(), "event": "issued",
                           "ticket": "A001", "service": "A"}])
    assert response.status_code == 422
    assert "2 minutes" in response.content.decode()

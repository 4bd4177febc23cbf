"""manage.py import_history: a recorded history loaded into a live hall, through the
replay's parser and the ingest path, so the wait estimator learns from it."""

import datetime as dt
import json
import zoneinfo
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from queueing import services
from queueing.estimation.distributions import learn_hall_model
from queueing.models import Ticket, TicketEvent, Window

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
HALL = {
    "hall": "h1",
    "name": "First Hall",
    "services": [
        {"code": "A", "name": "Pensions", "target_wait_min": 20},
        {"code": "B", "name": "Social", "target_wait_min": 15},
    ],
    "windows": [
        {"label": "W01", "skills": ["A", "B"]},
        {"label": "W02", "skills": ["A"]},
    ],
}
EXTRA_SERVICE = {"code": "Z", "name": "Not offered", "target_wait_min": 5}


def history(n: int = 12, minutes: float = 8.0, day: dt.datetime = DAY) -> str:
    """`n` pension visitors, each called at W01 on issue and served `minutes`."""
    rows = ["ts,event,ticket,service,window,priority,outcome"]
    rows.append(f"{day.isoformat()},window_open,,,W01,,")
    for i in range(n):
        t = day + dt.timedelta(minutes=i * (minutes + 1))
        number = f"A{i + 1:03d}"
        rows.append(f"{t.isoformat()},issued,{number},A,,0,")
        rows.append(f"{(t + dt.timedelta(seconds=30)).isoformat()},called,{number},,W01,,")
        done = t + dt.timedelta(seconds=30, minutes=minutes)
        rows.append(f"{done.isoformat()},completed,{number},,,,done")
    end = day + dt.timedelta(hours=8)
    rows.append(f"{end.isoformat()},window_close,,,W01,,")
    return "\n".join(rows) + "\n"


def files(tmp_path: Path, events: str, hall: object = HALL) -> tuple[str, str]:
    hall_path = tmp_path / "HALL.json"
    hall_path.write_text(json.dumps(hall))
    events_path = tmp_path / "EVENTS.csv"
    events_path.write_text(events)
    return str(hall_path), str(events_path)


def run(*paths: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("import_history", *paths, "--no-progress", stdout=out)
    return out.getvalue()


def test_it_loads_the_history_and_the_estimator_learns_from_it(city, tmp_path):
    before = learn_hall_model(city.h1, at=DAY + dt.timedelta(days=1))
    assert city.pension.pk not in before.service_time
    assert "38 events applied, 0 already imported, 0 rejected" in run(*files(tmp_path, history()))
    tickets = Ticket.objects.filter(hall=city.h1, business_date=DAY.date())
    assert tickets.count() == 12
    assert set(tickets.values_list("status", flat=True)) == {Ticket.Status.COMPLETED}
    assert TicketEvent.objects.filter(hall=city.h1, kind=TicketEvent.Kind.CALLED).count() == 12
    model = learn_hall_model(city.h1, at=DAY + dt.timedelta(days=1))
    fit = model.service_time[city.pension.pk]
    assert fit.n == 12
    assert fit.median_s == pytest.approx(8 * 60, rel=0.15)


def test_it_imports_a_file_once_however_often_it_is_run(city, tmp_path):
    paths = files(tmp_path, history())
    run(*paths)
    assert "0 events applied, 38 already imported, 0 rejected" in run(*paths)
    assert Ticket.objects.filter(hall=city.h1).count() == 12


def test_it_leaves_the_live_windows_as_they_were(city, tmp_path):
    services.window_open(window=city.w1)
    services.window_close(window=city.w2)
    run(*files(tmp_path, history()))  # the history ends with W01 closed
    assert Window.objects.get(pk=city.w1.pk).status == Window.Status.OPEN
    assert Window.objects.get(pk=city.w2.pk).status == Window.Status.CLOSED


@pytest.mark.parametrize(
    ("hall", "message"),
    [
        ({**HALL, "hall": "nowhere"}, "'nowhere': no such hall here"),
        (
            {
                **HALL,
                "services": [*HALL["services"], {"code": "Z", "name": "Z", "target_wait_min": 5}],
            },
            "does not offer the services Z",
        ),
        (
            {**HALL, "windows": [*HALL["windows"], {"label": "W99", "skills": ["A"]}]},
            "has no windows W99",
        ),
    ],
)
def test_it_refuses_a_hall_it_cannot_map_onto_the_live_one(city, tmp_path, hall, message):
    with pytest.raises(CommandError, match=message):
        run(*files(tmp_path, history(), hall=hall))
    assert not Ticket.objects.exists()


def test_it_refuses_a_malformed_file_with_the_line(city, tmp_path):
    bad = history().replace(",issued,A003,A,,0,", ",issued,A003,A,,2,")
    with pytest.raises(CommandError, match=r"EVENTS.csv:9: priority must be 0 or 1"):
        run(*files(tmp_path, bad))
    assert not Ticket.objects.exists()


def test_it_refuses_events_of_today(city, tmp_path):
    today = dt.datetime.now(TZ).replace(hour=0, minute=1, second=0, microsecond=0)
    with pytest.raises(CommandError, match="line 2: .* not before today's business day"):
        run(*files(tmp_path, history(n=2, day=today)))
    assert not Ticket.objects.exists()


def test_it_rolls_back_a_history_that_leaves_a_visitor_at_a_window(city, tmp_path):
    cut = "\n".join(line for line in history(n=3).splitlines() if not line.endswith("A003,,,,done"))
    cut = "\n".join(line for line in cut.splitlines() if "window_close" not in line) + "\n"
    with pytest.raises(CommandError, match=r"leaves tickets at windows \(A003\)"):
        run(*files(tmp_path, cut))
    assert not Ticket.objects.exists()
    assert not TicketEvent.objects.exists()


def test_it_refuses_while_a_visitor_stands_at_a_window(city, tmp_path):
    ticket = services.ticket_issue(hall=city.h1, service=city.pension)
    services.window_open(window=city.w1)
    services.ticket_call(ticket=ticket, window=city.w1)
    with pytest.raises(CommandError, match="has tickets at its windows"):
        run(*files(tmp_path, history()))

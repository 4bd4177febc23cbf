"""manage.py replay_events: formats, refusals with line numbers, the baselines worked
out by hand, and no peeking at the future."""

import csv
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from benchmarks.estimation.generate import Scenario, write_scenario
from queueing.models import Hall

HALL = {
    "hall": "H1",
    "name": "Hand-made hall",
    "services": [
        {"code": "A", "name": "Pensions", "target_wait_min": 20},
        {"code": "B", "name": "Social", "target_wait_min": 15},
    ],
    "windows": [
        {"label": "W01", "skills": ["A"], "priority": False},
        {"label": "W02", "skills": ["A", "B"], "priority": False},
    ],
}
HEADER = "ts,event,ticket,service,window,priority,outcome"
DAY = """\
2026-03-02T09:00:00+08:00,window_open,,,W01,,
2026-03-02T09:00:00+08:00,window_open,,,W02,,
2026-03-02T09:00:00+08:00,issued,A001,A,,0,
2026-03-02T09:01:00+08:00,called,A001,,W01,,
2026-03-02T09:02:00+08:00,issued,A002,A,,0,
2026-03-02T09:02:00+08:00,issued,B001,B,,0,
2026-03-02T09:05:00+08:00,completed,A001,,,,done
2026-03-02T09:06:00+08:00,called,A002,,W01,,
2026-03-02T09:07:00+08:00,issued,A003,A,,0,
2026-03-02T09:08:00+08:00,called,B001,,W02,,
2026-03-02T09:09:00+08:00,completed,B001,,,,
2026-03-02T09:10:00+08:00,called,A003,,W02,,
2026-03-02T09:12:00+08:00,completed,A002,,,,
2026-03-02T09:13:00+08:00,completed,A003,,,,
2026-03-02T09:14:00+08:00,issued,B002,B,,1,
2026-03-02T09:15:00+08:00,cancelled,B002,,,,
"""


def write(tmp_path: Path, events: str, hall: object = HALL) -> tuple[Path, Path, Path]:
    hall_path = tmp_path / "HALL.json"
    hall_path.write_text(hall if isinstance(hall, str) else json.dumps(hall))
    events_path = tmp_path / "EVENTS.csv"
    events_path.write_text(events)
    return hall_path, events_path, tmp_path / "PREDICTIONS.csv"


def run(paths: tuple[Path, Path, Path]) -> list[dict[str, str]]:
    hall_path, events_path, out = paths
    call_command("replay_events", str(hall_path), str(events_path), "--out", str(out))
    with out.open() as f:
        return list(csv.DictReader(f))


def test_it_writes_the_baselines_worked_out_by_hand(db, tmp_path):
    rows = run(write(tmp_path, HEADER + "\n" + DAY))
    assert list(rows[0]) == [
        "ticket", "service", "issued_at", "predicted_s", "low_s", "high_s",
        "ql_s", "qlpool_s", "les_s", "actual_s",
    ]  # fmt: skip
    by = {r["ticket"]: r for r in rows}
    # A001: nothing served yet (300 s default), nobody ahead, 2 windows for A
    assert (by["A001"]["ql_s"], by["A001"]["qlpool_s"], by["A001"]["les_s"]) == ("150", "150", "0")
    # A002: A001 was called after 60 s
    assert (by["A002"]["ql_s"], by["A002"]["les_s"]) == ("150", "60")
    # B001: only W02 serves B; A002 waits ahead of it at W02 (pool A+B)
    assert (by["B001"]["ql_s"], by["B001"]["qlpool_s"], by["B001"]["les_s"]) == ("300", "600", "0")
    # A003: A001 took 240 s; B001 waits ahead at the A windows' pool; A002 waited 240 s
    a003 = (by["A003"]["ql_s"], by["A003"]["qlpool_s"], by["A003"]["les_s"])
    assert a003 == ("120", "240", "240")
    assert [by[t]["actual_s"] for t in ("A001", "A002", "B001", "A003", "B002")] == [
        "60", "240", "360", "180", "",
    ]  # fmt: skip
    assert by["A001"]["issued_at"] == "2026-03-02T09:00:00+08:00"
    for r in rows:
        assert int(r["low_s"]) <= int(r["predicted_s"]) <= int(r["high_s"])


def test_it_never_touches_the_live_database(db, tmp_path):
    Hall.objects.create(code="live", name="live")
    run(write(tmp_path, HEADER + "\n" + DAY))
    assert list(Hall.objects.values_list("code", flat=True)) == ["live"]


def test_it_predicts_the_same_whatever_comes_later(db, tmp_path):
    sc = Scenario(
        "tiny",
        {"A": (300, 0.5), "B": (420, 0.5)},
        {"A": 0.6, "B": 0.4},
        [(["A", "B"], True), (["A", "B"], False), (["A"], False)],
        per_day=90,
        days=1,
    )
    hall_path, events_path = write_scenario(sc, tmp_path / "full", seed=4)
    lines = events_path.read_text().splitlines()
    cut = len(lines) // 2
    first_half = write(tmp_path, "\n".join(lines[:cut]) + "\n", hall_path.read_text())
    full = {r["ticket"]: r for r in run((hall_path, events_path, tmp_path / "full.csv"))}
    half = run(first_half)
    assert len(half) > 20
    prediction = ("predicted_s", "low_s", "high_s", "ql_s", "qlpool_s", "les_s")
    for row in half:
        assert [row[k] for k in prediction] == [full[row["ticket"]][k] for k in prediction]


@pytest.mark.parametrize(
    ("events", "where", "reason"),
    [
        ("ts,event\n", "EVENTS.csv:1", "header"),
        (HEADER + "\nnot-a-time,window_open,,,W01,,\n", "EVENTS.csv:2", "ISO 8601"),
        (HEADER + "\n2026-03-02T09:00:00,window_open,,,W01,,\n", "EVENTS.csv:2", "offset"),
        (HEADER + "\n2026-03-02T09:00:00+08:00,window_open,,,W09,,\n", "EVENTS.csv:2", "W09"),
        (HEADER + "\n2026-03-02T09:00:00+08:00,opened,,,W01,,\n", "EVENTS.csv:2", "unknown"),
        (
            HEADER + "\n2026-03-02T09:00:00+08:00,window_open,,,W01,,\n"
            "2026-03-02T09:00:00+08:00,issued,A001,A,,2,\n",
            "EVENTS.csv:3",
            "priority",
        ),
        (
            HEADER + "\n2026-03-02T09:05:00+08:00,window_open,,,W01,,\n"
            "2026-03-02T09:00:00+08:00,window_open,,,W02,,\n",
            "EVENTS.csv:3",
            "time order",
        ),
        (HEADER + "\n2026-03-02T09:00:00+08:00,issued,A001,C,,0,\n", "EVENTS.csv:2", "'C'"),
        (HEADER + "\n2026-03-02T09:00:00+08:00,issued,B001,A,,0,\n", "EVENTS.csv:2", "start"),
        (HEADER + "\n2026-03-02T09:00:00+08:00,called,A001,,W01\n", "EVENTS.csv:2", "fields"),
        (HEADER + "\n2026-03-02T09:00:00+08:00,completed,A001,,,,ok\n", "EVENTS.csv:2", "outcome"),
    ],
)
def test_it_rejects_a_bad_events_file_with_the_line(db, tmp_path, events, where, reason):
    with pytest.raises(CommandError) as exc:
        run(write(tmp_path, events))
    assert str(exc.value).startswith(where) and reason in str(exc.value)
    assert not (tmp_path / "PREDICTIONS.csv").exists()


@pytest.mark.parametrize(
    ("hall", "where"),
    [
        ('{"hall": "H1",\n "services": [,]}', "HALL.json:2"),
        ({**HALL, "services": [{"code": "a1", "name": "x", "target_wait_min": 5}]}, "code"),
        ({**HALL, "windows": [{"label": "W01", "skills": ["Z"]}]}, "skills"),
        ({k: v for k, v in HALL.items() if k != "windows"}, "windows"),
        ({**HALL, "services": [{"code": "A", "name": "x", "target_wait_min": "5"}]}, "target"),
    ],
)
def test_it_rejects_a_bad_hall_file(db, tmp_path, hall, where):
    with pytest.raises(CommandError, match=where):
        run(write(tmp_path, HEADER + "\n", hall))


def test_it_reports_events_the_state_forbids_and_goes_on(db, tmp_path, capsys):
    events = HEADER + "\n" + DAY + "2026-03-02T09:20:00+08:00,called,A001,,W01,,\n"
    rows = run(write(tmp_path, events))
    assert len(rows) == 5
    err = capsys.readouterr().err
    assert "EVENTS.csv:18:" in err and "A001" in err


def test_the_replays_baselines_equal_the_ones_read_back_from_the_rows(db, tmp_path, monkeypatch):
    # the replay keeps recent service times, last calls, the waiting tickets and the
    # open windows' skills from what it applies; at every issue they must give what
    # baselines_for reads from the database (lunch pauses: windows change mid-day)
    from queueing.estimation import replay as replay_module
    from queueing.estimation.baselines import Baselines, baselines_for
    from queueing.estimation.eventfile import read_events, read_hall
    from queueing.estimation.replay import replay, scratch_database

    sc = Scenario(
        "tiny",
        {"A": (300, 0.5), "B": (420, 0.8)},
        {"A": 0.6, "B": 0.4},
        [(["A", "B"], True), (["A", "B"], False), (["A"], False), (["B"], False)],
        per_day=120,
        days=2,
        lunch_pause=[1, 3],
        give_up=0.05,
    )
    hall_path, events_path = write_scenario(sc, tmp_path, seed=7)
    spec = read_hall(hall_path)
    compared: list[tuple[Baselines, Baselines]] = []
    predict = replay_module._predict

    def checked(ticket, at, tracker):
        compared.append((tracker.baselines(ticket, at=at), baselines_for(ticket, at=at)))
        return predict(ticket, at, tracker)

    monkeypatch.setattr(replay_module, "_predict", checked)
    with scratch_database():
        replay(spec, read_events(events_path, spec))
    assert len(compared) > 200
    assert sum(b.les_s > 0 for b, _ in compared) > 50
    assert [b for b, _ in compared] == [d for _, d in compared]

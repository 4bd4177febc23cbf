"""The live simulator shares the halls with people (queueing.simulation.live), against a
small fake of the server's API: a refused action (409) leads to a resync of the hall
from the server, never to a replay; a window a person has is left alone; the server's
failures are waited out with a bounded backoff; and one hall in trouble does not stop
another, nor its camera.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
import zoneinfo
from collections import Counter
from typing import Any

import pytest

from queueing.demo.city import HALLS
from queueing.simulation import live as live_mod
from queueing.simulation.engine import HallSim
from queueing.simulation.live import (
    ApiDriver,
    ApiError,
    LiveHall,
    _plan,
    _sync,
    run_hall,
    step,
)
from queueing.simulation.profile import default_profile
from queueing.simulation.setup import desk_specs, service_shares

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 3, 4, 10, 0, tzinfo=TZ)  # a Wednesday morning


class FakeServer:
    """The API's rules for windows and tickets, enough for the simulator: a window
    calls only when open and free, a ticket starts only when called, and so on."""

    def __init__(self, hall: str, labels: list[str], skills: dict[str, str]) -> None:
        self.hall = hall
        self.windows: dict[int, dict[str, Any]] = {
            i: {"id": i, "label": label, "status": "closed", "ticket": None, "staffed": False}
            for i, label in enumerate(labels, start=1)
        }
        self.skills = {i: skills[label] for i, label in enumerate(labels, start=1)}
        self.tickets: dict[int, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.fail_with: int | None = None  # every call answers this status
        self.lock = threading.Lock()

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        with self.lock:
            self.calls.append((method, path))
            if self.fail_with is not None:
                raise ApiError(self.fail_with, "server trouble")
            return self._answer(method, path.strip("/").split("/"), body or {})

    def _ticket_out(self, t: dict[str, Any]) -> dict[str, Any]:
        return {k: t[k] for k in ("id", "number", "service", "status")} | {"is_priority": False}

    def _answer(self, method: str, parts: list[str], body: dict[str, Any]) -> Any:
        if method == "GET" and parts[-1] == "state":
            return {
                "windows": [
                    {**w, "ticket": self._ticket_out(w["ticket"]) if w["ticket"] else None}
                    for w in self.windows.values()
                ]
            }
        if parts[0] == "halls" and parts[-1] == "tickets":
            n = len(self.tickets) + 1
            ticket = {"id": n, "number": f"{body['service']}{n:03}", "service": body["service"]}
            self.tickets[n] = ticket | {"status": "waiting", "window": None}
            return self._ticket_out(self.tickets[n])
        if parts[0] == "windows":
            window = self.windows[int(parts[1])]
            if parts[2] == "status":
                if body["status"] == "closed" and window["ticket"]:
                    raise ApiError(409, "still holds a ticket")
                window["status"] = body["status"]
                return {}
            if window["status"] != "open" or window["ticket"] is not None:
                raise ApiError(409, "window not open or busy")
            waiting = [
                t
                for t in self.tickets.values()
                if t["status"] == "waiting" and t["service"] in self.skills[window["id"]]
            ]
            if not waiting:
                return {"ticket": None}
            ticket = waiting[0]
            ticket.update(status="called", window=window["id"])
            window["ticket"] = ticket
            return {"ticket": self._ticket_out(ticket)}
        ticket = self.tickets[int(parts[1])]
        allowed = {
            "start": ("called",),
            "recall": ("called",),
            "complete": ("called", "serving"),
            "no-show": ("called",),
            "transfer": ("called", "serving"),
            "cancel": ("waiting", "called", "serving"),
        }[parts[2]]
        if ticket["status"] not in allowed:
            raise ApiError(409, f"ticket is {ticket['status']}")
        if parts[2] == "start":
            ticket["status"] = "serving"
        elif parts[2] in ("complete", "no-show", "cancel", "transfer"):
            self._release(ticket)
            ticket["status"] = "waiting" if parts[2] == "transfer" else "done"
            if parts[2] == "transfer":
                ticket["service"] = body["service"]
        return self._ticket_out(ticket)

    def _release(self, ticket: dict[str, Any]) -> None:
        for window in self.windows.values():
            if window["ticket"] is ticket:
                window["ticket"] = None
        ticket["window"] = None

    # what a person does at the hall
    def person_completes(self, label: str) -> int:
        window = next(w for w in self.windows.values() if w["label"] == label)
        ticket = window["ticket"]
        assert ticket is not None, "the window holds no ticket"
        self._release(ticket)
        ticket["status"] = "done"
        window["staffed"] = True  # the person is now the window's current clerk
        return int(ticket["id"])

    def per_window(self) -> Counter[str]:
        """POSTs per window label (a ticket's POSTs go to the window it was at)."""
        counts: Counter[str] = Counter()
        for method, path in self.calls:
            parts = path.strip("/").split("/")
            if method == "POST" and parts[0] == "windows":
                counts[self.windows[int(parts[1])]["label"]] += 1
        return counts


def _live(code: str = "futian", seed: int = 1) -> tuple[LiveHall, FakeServer]:
    spec = next(s for s in HALLS if s.code == code)
    labels = [w.label for w in spec.windows]
    server = FakeServer(code, labels, {w.label: w.skills for w in spec.windows})
    for w in server.windows.values():
        if next(x for x in spec.windows if x.label == w["label"]).plan != "closed":
            w["status"] = "open"
    driver = ApiDriver(server, code, {})  # type: ignore[arg-type]
    sim = HallSim(
        code=code,
        desks=desk_specs(spec),
        shares=service_shares(spec),
        driver=driver,
        rng=random.Random(seed),
        profile=default_profile(),
    )
    sim.ask_always = True
    hall = LiveHall(code, sim, driver, list(spec.services), labels, TZ)
    hall.dirty = set(labels)
    _sync(hall, server, T0)  # type: ignore[arg-type]
    _plan(hall, T0, random.Random(seed))
    return hall, server


def _run(hall: LiveHall, server: FakeServer, start: dt.datetime, minutes: float) -> None:
    """Tick the hall through `minutes` of simulated time, 6 s a tick, with the sync
    pacing in real seconds made instant."""
    t = start
    while t < start + dt.timedelta(minutes=minutes):
        t += dt.timedelta(seconds=6)
        hall.hold_until = 0.0
        if hall.dirty:
            hall.synced_at = 0.0  # the resync pause has passed
        step(hall, server, t, lambda _line: None)  # type: ignore[arg-type]


def _busy_window(hall: LiveHall, server: FakeServer) -> str:
    for w in server.windows.values():
        if w["ticket"] is not None:
            return str(w["label"])
    pytest.fail("no window holds a ticket")


def test_a_person_completing_a_simulated_ticket_leads_to_one_resync_not_a_storm():
    hall, server = _live()
    _run(hall, server, T0, 20)
    label = _busy_window(hall, server)
    taken = server.person_completes(label)
    before = len(server.calls)
    _run(hall, server, T0 + dt.timedelta(minutes=20), 20)
    after = server.calls[before:]
    refused_again = [p for m, p in after if p.startswith(f"/tickets/{taken}/") and m == "POST"]
    # at most the one action already planned for it is refused: nothing replayed
    assert len(refused_again) <= 1, refused_again
    states = [p for m, p in after if m == "GET"]
    assert 1 <= len(states) <= 3, states  # a resync, not one per event
    # the halls go on: new tickets issued and served after the person acted
    issued = [p for m, p in after if p.endswith("/tickets") and m == "POST"]
    completed = [p for m, p in after if p.endswith("/complete")]
    assert len(issued) >= 5 and len(completed) >= 5
    # the request rate stays that of a quiet hall: no storm
    assert len(after) < 400, Counter(p.rsplit("/", 1)[-1] for _m, p in after)


def test_a_staffed_window_is_left_to_its_clerk():
    hall, server = _live()
    _run(hall, server, T0, 20)
    label = _busy_window(hall, server)
    server.person_completes(label)
    t = T0 + dt.timedelta(minutes=20)
    while not hall.sim.desk(label).staffed:  # the planned action is refused, the resync
        assert t < T0 + dt.timedelta(minutes=80), "the window was never left to its clerk"
        _run(hall, server, t, 1)
        t += dt.timedelta(minutes=1)
    before = server.per_window()[label]
    _run(hall, server, t, 30)
    assert server.per_window()[label] == before  # not one call more at that window
    others = Counter({k: v for k, v in server.per_window().items() if k != label})
    assert sum(others.values()) > 20  # while the other windows keep working


def test_a_window_refused_on_the_board_is_taken_over_as_it_is():
    """A manager pausing a simulated window (the board does not make it staffed in
    this fake): the simulator adopts the pause after its next refusal."""
    hall, server = _live()
    _run(hall, server, T0, 10)
    idle = next(w for w in server.windows.values() if w["status"] == "open" and w["ticket"] is None)
    idle["status"] = "paused"
    _run(hall, server, T0 + dt.timedelta(minutes=10), 20)
    assert hall.sim.desk(idle["label"]).status == "paused"
    calls = [p for m, p in server.calls if p == f"/windows/{idle['id']}/call-next"]
    assert len(calls) <= 2


def test_server_failures_are_retried_with_a_bounded_backoff(monkeypatch):
    hall, server = _live()
    lines: list[str] = []
    server.fail_with = 503
    clock = [1000.0]
    monkeypatch.setattr(live_mod.time, "monotonic", lambda: clock[0])
    attempts = []
    t = T0
    for _ in range(600):  # 10 minutes of real seconds, one tick a second
        clock[0] += 1.0
        t += dt.timedelta(seconds=3)
        before = len(server.calls)
        step(hall, server, t, lines.append)  # type: ignore[arg-type]
        if len(server.calls) > before:
            attempts.append(clock[0])
    gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
    assert gaps, attempts
    # each try waits longer than the one before, up to the bound, never more
    assert gaps == sorted(gaps)
    assert max(gaps) <= live_mod.BACKOFF_MAX_S + 1
    assert len(attempts) < 20  # not a request per tick
    assert all(len(server.calls[i : i + 1]) <= 1 for i in range(len(server.calls)))
    # once the server is back, the hall resyncs and goes on
    server.fail_with = None
    clock[0] += live_mod.BACKOFF_MAX_S + 1
    for _ in range(60):
        clock[0] += 1.0
        t += dt.timedelta(seconds=3)
        step(hall, server, t, lines.append)  # type: ignore[arg-type]
    assert hall.failures == 0
    assert any(p.endswith("/tickets") for m, p in server.calls[-200:] if m == "POST")


def test_one_hall_in_trouble_stops_neither_the_others_nor_its_camera(monkeypatch):
    monkeypatch.setattr(live_mod, "TICK_S", 0.01)
    good, good_server = _live("futian")
    bad, bad_server = _live("nanshan")

    def hangs(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        time.sleep(0.3)  # a server call that takes its time, then fails
        raise ApiError(500, "broken")

    bad_server.call = hangs  # type: ignore[method-assign]
    stop = threading.Event()
    began = time.monotonic()
    camera: Counter[str] = Counter()
    monkeypatch.setattr(live_mod, "SAMPLE_EVERY_S", 0.05)

    def clock() -> dt.datetime:  # 10 simulated minutes a real second
        return T0 + dt.timedelta(seconds=(time.monotonic() - began) * 600)

    threads = [
        threading.Thread(
            target=run_hall,
            kwargs={
                "live": hall,
                "api": server,
                "clock": clock,
                "stop": stop,
                "log": lambda _line: None,
                "camera": lambda code=hall.code: camera.update([code]),
            },
            daemon=True,
        )
        for hall, server in ((bad, bad_server), (good, good_server))
    ]
    for thread in threads:
        thread.start()
    time.sleep(2.0)
    stop.set()
    for thread in threads:
        thread.join(timeout=2)
    assert not any(thread.is_alive() for thread in threads)
    issued = [p for m, p in good_server.calls if m == "POST" and p.endswith("/tickets")]
    assert len(issued) >= 10  # the good hall went on
    assert camera["futian"] >= 10 and camera["nanshan"] >= 3  # both cameras kept posting

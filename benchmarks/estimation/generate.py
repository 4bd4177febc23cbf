"""Simulated hall days for the wait-estimation benchmark, as HALL.json + EVENTS.csv.

The "true" hall: Poisson arrivals per service with a morning and an afternoon peak,
lognormal service times per service, windows that call as soon as they are free
under the real calling policy (queue key = issue time less the head start for
priority visitors; priority windows take priority visitors first), no-shows and
visitors who give up. Each scenario changes one thing. Deterministic per seed.
"""

from __future__ import annotations

import csv
import datetime as dt
import heapq
import json
import math
import random
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
HEAD_START_S = 20 * 60
OPEN_H, LAST_ISSUE_H = 9.0, 16.5


@dataclass
class Scenario:
    name: str
    services: dict[str, tuple[float, float]]  # code: (median service s, log sigma)
    share: dict[str, float]  # share of arrivals
    windows: list[tuple[list[str], bool]]  # skills, priority window
    per_day: int  # tickets a day
    priority_share: float = 0.2
    priority_morning: float | None = None  # share before 11:00, if different
    no_show: float = 0.03
    give_up: float = 0.01
    lunch_pause: list[int] = field(default_factory=list)  # windows paused 12:00-13:00
    days: int = 2
    # service times on the scored (last) day × this: a day unlike the history
    last_day_slower: float = 1.0


def _w(skills: str, n: int, priority: bool = False) -> list[tuple[list[str], bool]]:
    return [(list(skills), priority) for _ in range(n)]


SCENARIOS = {
    "calm": Scenario(
        "calm",
        {"A": (300, 0.5), "B": (420, 0.5)},
        {"A": 0.6, "B": 0.4},
        _w("AB", 1, True) + _w("AB", 3) + _w("A", 1) + _w("B", 1),
        per_day=320,
    ),
    "peak": Scenario(
        "peak",
        {"A": (300, 0.5), "B": (420, 0.5), "C": (240, 0.5)},
        {"A": 0.45, "B": 0.35, "C": 0.2},
        _w("ABC", 2, True) + _w("ABC", 14) + _w("A", 10) + _w("B", 10) + _w("C", 4),
        per_day=3000,
        days=1,
    ),
    "lunch": Scenario(
        "lunch",
        {"A": (300, 0.5), "B": (420, 0.5)},
        {"A": 0.6, "B": 0.4},
        _w("AB", 1, True) + _w("AB", 5) + _w("A", 2) + _w("B", 2),
        per_day=560,
        lunch_pause=[1, 2, 3, 6, 8],
    ),
    "skewed_skills": Scenario(
        "skewed_skills",
        {"A": (300, 0.5), "B": (420, 0.5), "C": (600, 0.5), "D": (240, 0.5)},
        {"A": 0.4, "B": 0.25, "C": 0.2, "D": 0.15},
        _w("ABD", 1, True) + _w("A", 3) + _w("AB", 2) + _w("BC", 1) + _w("C", 1) + _w("AD", 1),
        per_day=480,
    ),
    "priority_morning": Scenario(
        "priority_morning",
        {"A": (300, 0.5), "B": (420, 0.5)},
        {"A": 0.6, "B": 0.4},
        _w("AB", 1, True) + _w("AB", 4) + _w("A", 2),
        per_day=480,
        priority_morning=0.5,
    ),
    "long_tail": Scenario(
        "long_tail",
        {"A": (240, 1.0), "B": (300, 1.1)},
        {"A": 0.6, "B": 0.4},
        _w("AB", 1, True) + _w("AB", 4) + _w("A", 2),
        per_day=480,
    ),
    "slow_day": Scenario(
        "slow_day",
        {"A": (300, 0.5), "B": (420, 0.5)},
        {"A": 0.6, "B": 0.4},
        _w("AB", 1, True) + _w("AB", 4) + _w("A", 1) + _w("B", 1),
        per_day=320,
        last_day_slower=1.3,
    ),
    "no_shows": Scenario(
        "no_shows",
        {"A": (300, 0.5), "B": (420, 0.5)},
        {"A": 0.6, "B": 0.4},
        _w("AB", 1, True) + _w("AB", 4) + _w("A", 2),
        per_day=520,
        no_show=0.15,
        give_up=0.06,
    ),
}


def _rate_profile(hour: float) -> float:
    """Relative arrival rate: peaks at 10:00 and 14:30, a dip at lunch."""
    return (
        0.6
        + 0.9 * math.exp(-(((hour - 10.0) / 0.9) ** 2))
        + 0.7 * math.exp(-(((hour - 14.5) / 1.0) ** 2))
        - 0.3 * math.exp(-(((hour - 12.3) / 0.5) ** 2))
    )


def _arrivals(sc: Scenario, rng: random.Random) -> list[float]:
    """Issue times in seconds after midnight (thinning of an inhomogeneous Poisson)."""
    steps = [OPEN_H + i / 60 for i in range(int((LAST_ISSUE_H - OPEN_H) * 60))]
    mean = sum(_rate_profile(h) for h in steps) / len(steps)
    peak = max(_rate_profile(h) for h in steps)
    base = sc.per_day / ((LAST_ISSUE_H - OPEN_H) * 3600)  # per second, on average
    t, out = OPEN_H * 3600, list[float]()
    while True:
        t += rng.expovariate(base * peak / mean)
        if t >= LAST_ISSUE_H * 3600:
            return out
        if rng.random() < _rate_profile(t / 3600) / peak:
            out.append(t)


@dataclass
class _Ticket:
    number: str
    service: str
    issued: float
    priority: bool
    give_up_at: float
    key: float = 0.0
    state: str = "waiting"


def simulate_day(
    sc: Scenario, day: dt.date, rng: random.Random, slower: float = 1.0
) -> list[tuple]:
    """One day's events as (seconds, order, event, ticket, service, window, priority)."""
    events: list[tuple] = []
    seq = 0

    def emit(t: float, *row: str) -> None:
        nonlocal seq
        seq += 1
        events.append((t, seq, *row))

    counters: dict[str, int] = {}
    tickets: list[_Ticket] = []
    codes, weights = list(sc.share), list(sc.share.values())
    heap: list[tuple[float, int, str, int]] = []  # time, seq, kind, index
    n = 0
    for t in _arrivals(sc, rng):
        service = rng.choices(codes, weights)[0]
        counters[service] = counters.get(service, 0) + 1
        share = sc.priority_share
        if sc.priority_morning is not None and t < 11 * 3600:
            share = sc.priority_morning
        priority = rng.random() < share
        give_up = t + rng.expovariate(1 / 1800) if rng.random() < sc.give_up else math.inf
        ticket = _Ticket(f"{service}{counters[service]:03d}", service, t, priority, give_up)
        ticket.key = t - HEAD_START_S if priority else t
        tickets.append(ticket)
        n += 1
        heapq.heappush(heap, (t, n, "issue", len(tickets) - 1))
        if give_up < math.inf:
            n += 1
            heapq.heappush(heap, (give_up, n, "give_up", len(tickets) - 1))
    labels = [f"W{i + 1:02d}" for i in range(len(sc.windows))]
    state = ["closed"] * len(labels)  # closed, free, busy, paused
    open_t = OPEN_H * 3600
    for i in range(len(labels)):
        n += 1
        heapq.heappush(heap, (open_t, n, "open", i))
    for i in sc.lunch_pause:
        n += 2
        heapq.heappush(heap, (12 * 3600, n - 1, "want_pause", i))
        heapq.heappush(heap, (13 * 3600, n, "open", i))
    want_pause: set[int] = set()
    waiting: list[int] = []

    def pick(i: int) -> int | None:
        skills, is_priority = sc.windows[i]
        cands = [j for j in waiting if tickets[j].service in skills]
        if not cands:
            return None
        if is_priority:
            pri = [j for j in cands if tickets[j].priority]
            if pri:
                cands = pri
        return min(cands, key=lambda j: (tickets[j].key, j))

    def try_call(i: int, t: float) -> None:
        nonlocal n
        j = pick(i)
        if j is None:
            return
        waiting.remove(j)
        tk = tickets[j]
        tk.state = "called"
        state[i] = "busy"
        emit(t, "called", tk.number, "", labels[i], "")
        median, sigma = sc.services[tk.service]
        if rng.random() < sc.no_show:
            dur, end = 60 + rng.random() * 60, "no_show"
        else:
            dur, end = slower * median * math.exp(sigma * rng.gauss(0, 1)), "completed"
        n += 1
        heapq.heappush(heap, (t + max(dur, 20), n, end, i * 100000 + j))

    def call_free(t: float) -> None:
        for i in range(len(labels)):
            if state[i] == "free":
                try_call(i, t)

    while heap:
        t, _n, kind, x = heapq.heappop(heap)
        if kind == "issue":
            tk = tickets[x]
            emit(t, "issued", tk.number, tk.service, "", "1" if tk.priority else "0")
            waiting.append(x)
            call_free(t)
        elif kind == "give_up":
            if tickets[x].state == "waiting":
                waiting.remove(x)
                tickets[x].state = "gone"
                emit(t, "cancelled", tickets[x].number, "", "", "")
        elif kind == "open":
            state[x] = "free"
            want_pause.discard(x)
            emit(t, "window_open", "", "", labels[x], "")
            try_call(x, t)
        elif kind == "want_pause":
            if state[x] == "free":
                state[x] = "paused"
                emit(t, "window_pause", "", "", labels[x], "")
            else:
                want_pause.add(x)
        else:  # completed / no_show
            i, j = divmod(x, 100000)
            tickets[j].state = "done"
            emit(t, kind, tickets[j].number, "", "", "")
            if i in want_pause:
                want_pause.discard(i)
                state[i] = "paused"
                emit(t, "window_pause", "", "", labels[i], "")
            else:
                state[i] = "free"
                try_call(i, t)
    end = max(e[0] for e in events) + 60
    for label in labels:
        emit(end, "window_close", "", "", label, "")
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=TZ)
    return [(midnight + dt.timedelta(seconds=e[0]), e[1], *e[2:]) for e in events]


def write_scenario(sc: Scenario, folder: Path, *, seed: int) -> tuple[Path, Path]:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    hall = {
        "hall": sc.name.replace("_", "-")[:32],
        "name": f"Benchmark hall ({sc.name})",
        "services": [
            {"code": c, "name": f"Service {c}", "target_wait_min": 20} for c in sc.services
        ],
        "windows": [
            {"label": f"W{i + 1:02d}", "skills": skills, "priority": pri}
            for i, (skills, pri) in enumerate(sc.windows)
        ],
    }
    hall_path = folder / "HALL.json"
    hall_path.write_text(json.dumps(hall, indent=1))
    events_path = folder / "EVENTS.csv"
    with events_path.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["ts", "event", "ticket", "service", "window", "priority", "outcome"])
        first = dt.date(2026, 3, 2)
        for d in range(sc.days):
            slower = sc.last_day_slower if d == sc.days - 1 else 1.0
            rows = sorted(simulate_day(sc, first + dt.timedelta(days=d), rng, slower))
            for at, _seq, kind, ticket, service, window, priority in rows:
                writer.writerow([at.isoformat(), kind, ticket, service, window, priority, ""])
    return hall_path, events_path

"""Whole business days of the demo halls, through the real services, and their export
in the replay format (`simulate_halls --days N [--export DIR]`).

A day: windows open at opening time (some late, one never), clerks pause for breaks,
a window closes over lunch, the priority window takes priority visitors first (the
real calling policy does that), visitors arrive by the profile's hour and weekday and
come back on a later day after lacking a document; at closing time the kiosk stops
and the windows serve whoever still waits, then close.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import zoneinfo
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from queueing.demo.city import HALLS, SERVICE_BY_PREFIX, HallSpec, clerk_for
from queueing.estimation.eventfile import HEADER
from queueing.estimation.replay import quiet
from queueing.models import Hall, Window
from queueing.services import window_close
from queueing.services.day import DAY_CLOSED_REASON, business_day_close
from queueing.simulation.drivers import Recorder, Row, ServiceDriver
from queueing.simulation.engine import Driver, HallSim
from queueing.simulation.profile import Profile, default_profile
from queueing.simulation.setup import desk_specs, service_shares


@dataclass
class HallRun:
    hall: Hall
    sim: HallSim
    recorder: Recorder | None
    tickets: int = 0
    days: list[dt.date] = field(default_factory=list)


def hall_sim(spec: HallSpec, driver: Driver, *, seed: int, profile: Profile) -> HallSim:
    return HallSim(
        code=spec.code,
        desks=desk_specs(spec),
        shares=service_shares(spec),
        driver=driver,
        rng=random.Random(f"{seed}/{spec.code}/days"),
        profile=profile,
    )


def plan_day(sim: HallSim, day: dt.date, opens: dt.datetime, closes: dt.datetime) -> int:
    """Schedule one business day: window plans, new arrivals, returns due. Returns the
    number of new arrivals planned."""
    rng = sim.rng
    minutes = dt.timedelta(minutes=1)
    sim.start_day()
    for desk in sim.desks:
        plan = desk.spec.plan
        if plan == "closed":
            continue
        late = rng.uniform(60, 90) if plan == "late" else rng.uniform(0, 5)
        sim.at(opens + late * minutes, sim.open, desk)
        if plan == "break":  # a break mid-morning and one mid-afternoon
            for start in (dt.time(10, 30), dt.time(15, 0)):
                at = dt.datetime.combine(day, start, tzinfo=opens.tzinfo)
                at += rng.uniform(0, 20) * minutes
                sim.at(at, sim.pause, desk)
                sim.at(at + rng.uniform(10, 20) * minutes, sim.open, desk)
        elif plan == "closed_early":  # closes over lunch
            noon = dt.datetime.combine(day, dt.time(12, 0), tzinfo=opens.tzinfo)
            sim.at(noon + rng.uniform(0, 10) * minutes, sim.close, desk)
            sim.at(noon + rng.uniform(85, 95) * minutes, sim.open, desk)
    staffed = sum(1 for d in sim.desks if d.spec.plan != "closed")
    arrivals = sim.plan_arrivals(opens, closes, windows=staffed)
    arrivals += sim.plan_returns(day, opens, closes)
    sim.at(closes, sim.end_day)
    return arrivals


def simulate_days(
    *,
    halls: list[str],
    first: dt.date,
    days: int,
    seed: int = 1,
    profile: Profile | None = None,
    record: bool = False,
    progress: Callable[[str, dt.date, int], None] | None = None,
    today: dt.date | None = None,
) -> list[HallRun]:
    """Simulate `days` calendar days from `first` (closed days skipped) for each hall,
    in the database through the services, one transaction per hall and day.

    Days before today are history: their alert rules and live pushes are off, as for
    `import_history` (nobody is on the floor to notice a visitor of last week); today,
    the demo's day, keeps them (`today`: the hall's local date unless given)."""
    profile = profile or default_profile()
    runs = []
    for spec in HALLS:
        if spec.code not in halls:
            continue
        hall = Hall.objects.get(code=spec.code)
        driver = ServiceDriver(hall)
        for desk in spec.windows:
            driver.set_clerk(desk.label, clerk_for(hall, desk.clerk))
        recorder = Recorder(driver) if record else None
        sim = hall_sim(spec, recorder or driver, seed=seed, profile=profile)
        run = HallRun(hall, sim, recorder)
        tz = zoneinfo.ZoneInfo(hall.timezone)
        for n in range(days):
            day = first + dt.timedelta(days=n)
            if profile.weekday[day.weekday()] <= 0:
                continue
            opens = dt.datetime.combine(day, hall.opens_at, tzinfo=tz)
            closes = dt.datetime.combine(day, hall.closes_at, tzinfo=tz)
            history = day < (today or timezone.localdate(timezone=tz))
            with quiet() if history else nullcontext(), transaction.atomic():
                _close_leftovers(hall, day, opens - dt.timedelta(minutes=30))
                run.tickets += plan_day(sim, day, opens, closes)
                sim.run_until(closes + dt.timedelta(hours=4))
                sim.cancel_waiting(closes + dt.timedelta(hours=4), DAY_CLOSED_REASON)
                sim.run_until(closes + dt.timedelta(hours=5))
            run.days.append(day)
            if progress:
                progress(spec.code, day, run.tickets)
        runs.append(run)
    return runs


def _close_leftovers(hall: Hall, day: dt.date, at: dt.datetime) -> None:
    """Whatever an earlier run or a live demo left open ends before the day starts."""
    business_day_close(hall=hall, business_date=day - dt.timedelta(days=1), at=at)
    for window in Window.objects.filter(hall=hall).exclude(status=Window.Status.CLOSED):
        if window.status_changed_at is None or window.status_changed_at <= at:
            window_close(window=window, at=at)


def hall_file(spec: HallSpec) -> dict[str, object]:
    """HALL.json for a demo hall (queueing.estimation.eventfile.read_hall reads it)."""
    return {
        "hall": spec.code,
        "name": spec.name,
        "timezone": "Asia/Shanghai",
        "services": [
            {
                "code": p,
                "name": SERVICE_BY_PREFIX[p].name_zh,
                "target_wait_min": SERVICE_BY_PREFIX[p].target_wait_min,
            }
            for p in spec.services
        ],
        "windows": [
            {"label": w.label, "skills": list(w.skills), "priority": w.priority}
            for w in spec.windows
        ],
    }


def export(runs: list[HallRun], directory: Path) -> list[Path]:
    """DIR/<hall>/HALL.json and DIR/<hall>/EVENTS.csv per hall; returns the folders."""
    written = []
    for run in runs:
        if run.recorder is None:
            raise ValueError("simulate_days(record=True) keeps the events to export")
        spec = next(s for s in HALLS if s.code == run.hall.code)
        folder = directory / spec.code
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "HALL.json").write_text(
            json.dumps(hall_file(spec), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        with (folder / "EVENTS.csv").open("w", newline="", encoding="utf-8") as out:
            write_events(run.recorder.rows, out)
        written.append(folder)
    return written


def write_events(rows: list[Row], out: object) -> None:
    writer = csv.writer(out)  # type: ignore[arg-type]
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(
            [
                row.at.isoformat(timespec="seconds"),
                row.event,
                row.ticket,
                row.service,
                row.window,
                row.priority,
                row.outcome,
            ]
        )

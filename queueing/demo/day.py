"""Today's history of a demo hall, made by the real services with `at=` timestamps.

The hall simulator (queueing.simulation.engine) runs from the halls' opening to "now":
visitors arrive (busier in the morning, quieter at lunch, a rush in the last hour so
that a queue stands now), windows open, call, serve and finish with an outcome, some
visitors never come to the window, some are sent to another service, some give up
waiting. What is particular to a demo loaded at any hour lives here: the stretch of
the day shown, the rush before "now", visitors of earlier days who are back today.
Every step is a service call, so the tickets, events, numbers and window states are
exactly what the live system would hold. The simulation stops at "now", leaving
windows mid-service and visitors waiting.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from queueing.demo.city import HALLS, HallSpec, clerk_for
from queueing.models import Hall, Outcome, Window
from queueing.services import (
    business_day_close,
    ticket_call_next,
    ticket_complete,
    ticket_issue,
    ticket_start,
    window_close,
    window_open,
)
from queueing.simulation.drivers import ServiceDriver
from queueing.simulation.engine import Desk, HallSim, Person, Visit
from queueing.simulation.people import REGIONS, national_id
from queueing.simulation.profile import GAVE_UP_REASON, MISSING_DOCUMENTS, default_profile
from queueing.simulation.setup import desk_specs, service_shares

__all__ = ["GAVE_UP_REASON", "REGIONS", "DemoDay", "HallDay", "demo_day", "national_id"]

OPENS_AT = dt.time(9, 0)
CLOSES_AT = dt.time(17, 0)
# The demo always shows at least this much of the day, so that the board has a history.
MIN_HISTORY = dt.timedelta(hours=3)


@dataclass(frozen=True)
class DemoDay:
    """The stretch of today the demo simulates, in the halls' time zone."""

    start: dt.datetime
    now: dt.datetime
    opens_at: dt.time
    closes_at: dt.time
    shifted: bool

    @property
    def date(self) -> dt.date:
        return self.now.date()


def demo_day(now: dt.datetime) -> DemoDay:
    """09:00 to now when the halls opened at least 3 hours ago and are still open;
    otherwise the opening hours move so that the halls opened 3 hours ago (never
    before midnight: between 00:00 and 03:00 the day is squeezed), so that a demo
    started at night still shows a living hall."""
    opening = dt.datetime.combine(now.date(), OPENS_AT, tzinfo=now.tzinfo)
    closing = dt.datetime.combine(now.date(), CLOSES_AT, tzinfo=now.tzinfo)
    if opening + MIN_HISTORY <= now < closing:
        return DemoDay(opening, now, OPENS_AT, CLOSES_AT, shifted=False)
    midnight = dt.datetime.combine(now.date(), dt.time(0), tzinfo=now.tzinfo)
    start = now - MIN_HISTORY
    start = max(midnight, start.replace(minute=start.minute - start.minute % 15, second=0))
    start = start.replace(microsecond=0)
    end = start + dt.timedelta(hours=8)
    closes_at = end.time() if end.date() == start.date() else dt.time(23, 59)
    return DemoDay(start, now, start.time(), closes_at, shifted=True)


class HallDay:
    """Simulates one hall's day up to `day.now`."""

    def __init__(self, hall: Hall, day: DemoDay, rng: random.Random) -> None:
        self.hall = hall
        self.day = day
        self.rng = rng
        self.spec: HallSpec = next(s for s in HALLS if s.code == hall.code)
        self.driver = ServiceDriver(hall)
        for wspec in self.spec.windows:
            self.driver.set_clerk(wspec.label, clerk_for(hall, wspec.clerk))
        self.sim = HallSim(
            code=hall.code,
            desks=desk_specs(self.spec),
            shares=service_shares(self.spec),
            driver=self.driver,
            rng=rng,
            profile=default_profile(),
        )

    def run(self) -> None:
        before_opening = self.day.start - dt.timedelta(minutes=1)
        # A demo loaded again on a later day: yesterday's leftovers end like a real day's.
        yesterday = self.day.date - dt.timedelta(days=1)
        business_day_close(hall=self.hall, business_date=yesterday, at=before_opening)
        returning = self._previous_days()
        for window in Window.objects.filter(hall=self.hall).exclude(status=Window.Status.CLOSED):
            window_close(window=window, at=before_opening)
        for desk in self.sim.desks:
            self._plan_window(desk)
        for at, visit in self._arrivals(returning):
            self.sim.at(at, self.sim.arrive, visit)
        self.sim.run_until(self.day.now)

    def _minutes(self, low: float, high: float) -> dt.timedelta:
        return dt.timedelta(minutes=self.rng.uniform(low, high))

    # -- who comes, and when ---------------------------------------------------------

    def _arrivals(self, returning: list[Visit]) -> list[tuple[dt.datetime, Visit]]:
        duration = (self.day.now - self.day.start).total_seconds()
        # A rush in the last 50 minutes, a little more than the windows open now can
        # serve, so that a queue stands when the demo opens whatever the hour.
        recent = min(duration, 50 * 60)
        open_at_end = sum(d.spec.plan in ("all_day", "late") for d in self.sim.desks)
        n_recent = round(open_at_end * self.rng.uniform(5.5, 6.5) * recent / 3000)
        # Before it, about 3.3 visitors an hour per window; 100 to 160 in all.
        earlier = duration - recent
        by_rate = round(len(self.sim.desks) * 3.3 * earlier / 3600)
        total = n_recent + max(100 - n_recent, min(160 - n_recent, by_rate))
        offsets = [duration - self.rng.uniform(0, recent) for _ in range(n_recent)]
        while len(offsets) < total:
            offset = self.rng.uniform(0, earlier) if earlier > 0 else self.rng.uniform(0, duration)
            if self.rng.random() < _busy(offset / 3600):
                offsets.append(offset)
        visits = [self.sim.new_visit(self.day.date) for _ in offsets]
        # Back with the documents they lacked on an earlier day, in the morning mostly;
        # the last one only just now, so that staff have a repeat visit to notice.
        for n, visit in enumerate(returning):
            if n == len(returning) - 1:
                offset = duration - 60 * self.rng.uniform(3, 10)
            else:
                offset = self.rng.uniform(0, duration * 0.7)
            offsets.append(max(0.0, offset))
            visits.append(visit)
        # And an elderly visitor has just taken a number.
        offsets.append(max(0.0, duration - 60 * self.rng.uniform(1, 3)))
        visits.append(self.sim.new_visit(self.day.date, elderly=True))
        return sorted(
            (
                (self.day.start + dt.timedelta(seconds=o), v)
                for o, v in zip(offsets, visits, strict=True)
            ),
            key=lambda pair: pair[0],
        )

    def _previous_days(self) -> list[Visit]:
        """A few visitors who came on earlier days and lacked a document; they are back
        today for the same service (the repeat visits staff should notice)."""
        returning = []
        prefixes = [p for p in self.spec.services if p in MISSING_DOCUMENTS]
        services = self.driver.services
        days_ago = sorted({self.rng.randint(1, 21) for _ in range(self.rng.randint(4, 7))})
        for ago in reversed(days_ago):
            prefix = self.rng.choice(prefixes)
            service = services[prefix]
            age = self.rng.randint(25, 80)
            person = Person(-ago, age, self.sim.id_number(age, self.day.date))
            visit = Visit(person=person, service=prefix, returning=True)
            at = dt.datetime.combine(
                self.day.date - dt.timedelta(days=ago), OPENS_AT, tzinfo=self.day.now.tzinfo
            ) + self._minutes(20, 400)
            desk = next(d for d in self.sim.desks if prefix in d.spec.skills)
            window = self.driver.windows[desk.spec.label]
            clerk = self.driver.clerks.get(desk.spec.label)
            window_open(window=window, clerk=clerk, at=at - self._minutes(5, 15))
            ticket = ticket_issue(
                hall=self.hall, service=service, id_number=person.id_number, at=at
            )
            at += self._minutes(2, 15)
            if ticket_call_next(window=window, actor=clerk, at=at) != ticket:
                raise RuntimeError(f"{self.hall.code}: an earlier day still had waiting tickets")
            ticket_start(ticket=ticket, actor=clerk, at=at + self._minutes(0.3, 1.5))
            at += self._minutes(6, 15)
            ticket_complete(
                ticket=ticket,
                outcome=Outcome.MISSING_DOCUMENTS,
                missing_documents=self.rng.choice(MISSING_DOCUMENTS[prefix]),
                actor=clerk,
                at=at,
            )
            window_close(window=window, at=at + self._minutes(1, 5))
            returning.append(visit)
        return returning

    # -- windows ---------------------------------------------------------------------

    def _plan_window(self, desk: Desk) -> None:
        start, now = self.day.start, self.day.now
        plan = desk.spec.plan
        if plan == "closed":
            return
        if plan == "late":
            opens = start + min(self._minutes(60, 90), (now - start) * 0.4)
        else:
            opens = start + self._minutes(0, 6)
        self.sim.at(opens, self.sim.open, desk)
        if plan == "break":
            self.sim.at(max(opens, now - self._minutes(8, 25)), self.sim.pause, desk)
        elif plan == "closed_early":
            self.sim.at(max(opens, now - self._minutes(30, 60)), self.sim.close, desk)


def _busy(hours_open: float) -> float:
    """How busy the hall is, 0..1, by hours since opening: a queue at the door, a busy
    morning, a quiet lunch, a busy early afternoon."""
    if hours_open < 0.5:
        return 1.0
    if hours_open < 2.5:
        return 0.9
    if hours_open < 4.5:
        return 0.5
    if hours_open < 6.5:
        return 0.85
    return 0.6

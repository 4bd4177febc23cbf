"""Today's history of a demo hall, made by the real services with `at=` timestamps.

A small discrete-event simulation: visitors arrive (busier in the morning, quieter at
lunch, a rush in the last hour so that a queue stands now), windows open, call, serve
and finish with an outcome, some visitors never come to the window, some are sent to
another service, some give up waiting. Every step is a service call, so the tickets,
events, numbers and window states are exactly what the live system would hold. The
simulation stops at "now", leaving windows mid-service and visitors waiting.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User

from queueing.demo.city import HALLS, SERVICE_BY_PREFIX, HallSpec, WindowSpec, clerk_for
from queueing.models import Hall, Outcome, Service, Ticket, Window
from queueing.national_id import check_char
from queueing.services import (
    business_day_close,
    ticket_call_next,
    ticket_cancel,
    ticket_complete,
    ticket_issue,
    ticket_no_show,
    ticket_recall,
    ticket_start,
    ticket_transfer,
    window_close,
    window_open,
    window_pause,
)

OPENS_AT = dt.time(9, 0)
CLOSES_AT = dt.time(17, 0)
# The demo always shows at least this much of the day, so that the board has a history.
MIN_HISTORY = dt.timedelta(hours=3)
GAVE_UP_REASON = "visitor left before being called"

MISSING_DOCUMENTS = {
    "A": ("身份证原件", "户口簿", "退休审批表", "银行卡复印件"),
    "B": ("劳动合同", "身份证复印件", "单位介绍信"),
    "C": ("医院发票原件", "出院小结", "异地就医备案表"),
    "D": ("离职证明", "失业登记表", "就业创业证"),
    "F": ("工伤认定书", "诊断证明", "生育登记表"),
}
# Districts of Shenzhen, and a few provinces people move to Shenzhen from.
REGIONS = ("440303", "440304", "440305", "440306", "440307", "430102", "360102", "420106")

S = Ticket.Status


def national_id(birth: dt.date, region: str = "440305", serial: str = "123") -> str:
    """A valid 18-character ID number born on `birth` (the check character computed).
    Made up for the demo; it only ever goes to ticket_issue, which keeps its hash."""
    first17 = f"{region}{birth:%Y%m%d}{serial}"
    return first17 + check_char(first17)


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


@dataclass
class Visit:
    service: Service
    id_number: str | None = None
    disabled: bool = False
    appointment: bool = False
    patience_s: float | None = None  # gives up after this long in the queue


@dataclass
class Desk:
    """A window as the simulation sees it."""

    window: Window
    spec: WindowSpec
    clerk: User | None
    skills: set[int]
    status: str = Window.Status.CLOSED
    ticket: Ticket | None = None
    idle: bool = False
    closing: bool = False


@dataclass(order=True)
class _Event:
    at: dt.datetime
    seq: int
    action: Callable[..., None] = field(compare=False)
    args: tuple[Any, ...] = field(compare=False, default=())


class HallDay:
    """Simulates one hall's day up to `day.now`."""

    def __init__(self, hall: Hall, day: DemoDay, rng: random.Random) -> None:
        self.hall = hall
        self.day = day
        self.rng = rng
        self.spec: HallSpec = next(s for s in HALLS if s.code == hall.code)
        self.services = {
            s.prefix: s for s in Service.objects.filter(prefix__in=list(self.spec.services))
        }
        self.kiosk = User.objects.filter(username=f"{hall.code}-kiosk").first()
        windows = {w.label: w for w in Window.objects.filter(hall=hall).prefetch_related("skills")}
        self.desks = [
            Desk(
                window=windows[spec.label],
                spec=spec,
                clerk=clerk_for(hall, spec.clerk),
                skills={s.pk for s in windows[spec.label].skills.all()},
            )
            for spec in self.spec.windows
        ]
        # What the simulation knows of each ticket: its status and service, and how many
        # wait per service.
        self.status: dict[int, str] = {}
        self.service_of: dict[int, int] = {}
        self.waiting: Counter[int] = Counter()
        self.visits: dict[int, Visit] = {}
        self._queue: list[_Event] = []
        self._seq = itertools.count()

    # -- the run -------------------------------------------------------------------

    def run(self) -> None:
        before_opening = self.day.start - dt.timedelta(minutes=1)
        # A demo loaded again on a later day: yesterday's leftovers end like a real day's.
        yesterday = self.day.date - dt.timedelta(days=1)
        business_day_close(hall=self.hall, business_date=yesterday, at=before_opening)
        returning = self._previous_days()
        for window in Window.objects.filter(hall=self.hall).exclude(status=Window.Status.CLOSED):
            window_close(window=window, at=before_opening)
        for desk in self.desks:
            self._plan_window(desk)
        for at, visit in self._arrivals(returning):
            self._at(at, self._arrive, visit)
        while self._queue and self._queue[0].at <= self.day.now:
            event = heapq.heappop(self._queue)
            event.action(event.at, *event.args)

    def _track(self, ticket: Ticket, status: str, service_id: int | None = None) -> None:
        if self.status.get(ticket.pk) == S.WAITING:
            self.waiting[self.service_of[ticket.pk]] -= 1
        if service_id is not None:
            self.service_of[ticket.pk] = service_id
        self.status[ticket.pk] = status
        if status == S.WAITING:
            self.waiting[self.service_of[ticket.pk]] += 1

    def _at(self, at: dt.datetime, action: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self._queue, _Event(at, next(self._seq), action, args))

    def _minutes(self, low: float, high: float) -> dt.timedelta:
        return dt.timedelta(minutes=self.rng.uniform(low, high))

    def _seconds(self, low: float, high: float) -> dt.timedelta:
        return dt.timedelta(seconds=self.rng.uniform(low, high))

    # -- who comes, and when ---------------------------------------------------------

    def _arrivals(self, returning: list[Visit]) -> list[tuple[dt.datetime, Visit]]:
        duration = (self.day.now - self.day.start).total_seconds()
        # A rush in the last 50 minutes, a little more than the windows open now can
        # serve, so that a queue stands when the demo opens whatever the hour.
        recent = min(duration, 50 * 60)
        open_at_end = sum(d.spec.plan in ("all_day", "late") for d in self.desks)
        n_recent = round(open_at_end * self.rng.uniform(5.5, 6.5) * recent / 3000)
        # Before it, about 3.3 visitors an hour per window; 100 to 160 in all.
        earlier = duration - recent
        by_rate = round(len(self.desks) * 3.3 * earlier / 3600)
        total = n_recent + max(100 - n_recent, min(160 - n_recent, by_rate))
        offsets = [duration - self.rng.uniform(0, recent) for _ in range(n_recent)]
        while len(offsets) < total:
            offset = self.rng.uniform(0, earlier) if earlier > 0 else self.rng.uniform(0, duration)
            if self.rng.random() < _busy(offset / 3600):
                offsets.append(offset)
        visits = [self._new_visit() for _ in offsets]
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
        visits.append(self._new_visit(elderly=True))
        return sorted(
            (
                (self.day.start + dt.timedelta(seconds=o), v)
                for o, v in zip(offsets, visits, strict=True)
            ),
            key=lambda pair: pair[0],
        )

    def _new_visit(self, *, elderly: bool = False) -> Visit:
        prefixes = [p for p in self.spec.services if p in self.services]
        weights = [SERVICE_BY_PREFIX[p].share for p in prefixes]
        service = self.services[self.rng.choices(prefixes, weights)[0]]
        roll = 0.0 if elderly else self.rng.random()
        id_number = None
        if roll < 0.09:  # an elderly visitor, who shows an ID card at the kiosk
            id_number = self._id_number(self.rng.randint(60, 86))
        elif roll < 0.45:
            id_number = self._id_number(self.rng.randint(18, 59))
        return Visit(
            service=service,
            id_number=id_number,
            disabled=self.rng.random() < 0.015,
            appointment=self.rng.random() < 0.06,
            patience_s=self.rng.uniform(15, 50) * 60 if self.rng.random() < 0.05 else None,
        )

    def _id_number(self, age: int) -> str:
        birth = self.day.date - dt.timedelta(days=age * 365 + self.rng.randint(10, 350))
        return national_id(birth, self.rng.choice(REGIONS), f"{self.rng.randint(0, 999):03d}")

    def _previous_days(self) -> list[Visit]:
        """A few visitors who came on earlier days and lacked a document; they are back
        today for the same service (the repeat visits staff should notice)."""
        returning = []
        prefixes = [p for p in self.spec.services if p in MISSING_DOCUMENTS]
        days_ago = sorted({self.rng.randint(1, 21) for _ in range(self.rng.randint(4, 7))})
        for ago in reversed(days_ago):
            service = self.services[self.rng.choice(prefixes)]
            visit = Visit(service=service, id_number=self._id_number(self.rng.randint(25, 80)))
            at = dt.datetime.combine(
                self.day.date - dt.timedelta(days=ago), OPENS_AT, tzinfo=self.day.now.tzinfo
            ) + self._minutes(20, 400)
            desk = next(d for d in self.desks if service.pk in d.skills)
            window_open(window=desk.window, clerk=desk.clerk, at=at - self._minutes(5, 15))
            ticket = ticket_issue(hall=self.hall, service=service, id_number=visit.id_number, at=at)
            at += self._minutes(2, 15)
            if ticket_call_next(window=desk.window, actor=desk.clerk, at=at) != ticket:
                raise RuntimeError(f"{self.hall.code}: an earlier day still had waiting tickets")
            ticket_start(ticket=ticket, actor=desk.clerk, at=at + self._seconds(20, 90))
            at += self._minutes(6, 15)
            ticket_complete(
                ticket=ticket,
                outcome=Outcome.MISSING_DOCUMENTS,
                missing_documents=self.rng.choice(MISSING_DOCUMENTS[service.prefix]),
                actor=desk.clerk,
                at=at,
            )
            window_close(window=desk.window, at=at + self._minutes(1, 5))
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
        self._at(opens, self._open, desk)
        if plan == "break":
            self._at(max(opens, now - self._minutes(8, 25)), self._pause, desk)
        elif plan == "closed_early":
            self._at(max(opens, now - self._minutes(30, 60)), self._close, desk)

    def _open(self, at: dt.datetime, desk: Desk) -> None:
        window_open(window=desk.window, clerk=desk.clerk, at=at)
        desk.status = Window.Status.OPEN
        self._at(at, self._call, desk)

    def _pause(self, at: dt.datetime, desk: Desk) -> None:
        # The clerk finishes the visitor at the window, then calls nobody new.
        window_pause(window=desk.window, at=at)
        desk.status = Window.Status.PAUSED
        desk.idle = False

    def _close(self, at: dt.datetime, desk: Desk) -> None:
        if desk.ticket is not None:
            desk.closing = True  # closes once the visitor at the window is done
            return
        window_close(window=desk.window, at=at)
        desk.status = Window.Status.CLOSED
        desk.idle = False

    def _wake(self, at: dt.datetime, service_id: int) -> None:
        """One idle window that handles the service notices the new ticket."""
        idle = [desk for desk in self.desks if desk.idle and service_id in desk.skills]
        if idle:
            desk = self.rng.choice(idle)
            desk.idle = False
            self._at(at + self._seconds(5, 40), self._call, desk)

    def _free(self, at: dt.datetime, desk: Desk) -> None:
        desk.ticket = None
        if desk.closing:
            desk.closing = False
            self._close(at + self._seconds(20, 60), desk)
        elif desk.status == Window.Status.OPEN:
            self._at(at + self._seconds(10, 60), self._call, desk)

    # -- tickets ---------------------------------------------------------------------

    def _arrive(self, at: dt.datetime, visit: Visit) -> None:
        ticket = ticket_issue(
            hall=self.hall,
            service=visit.service,
            id_number=visit.id_number,
            is_disabled=visit.disabled,
            has_appointment=visit.appointment,
            actor=self.kiosk,
            at=at,
        )
        self._track(ticket, S.WAITING, visit.service.pk)
        self.visits[ticket.pk] = visit
        if visit.patience_s is not None:
            self._at(at + dt.timedelta(seconds=visit.patience_s), self._give_up, ticket)
        self._wake(at, visit.service.pk)

    def _give_up(self, at: dt.datetime, ticket: Ticket) -> None:
        if self.status[ticket.pk] == S.WAITING:
            ticket_cancel(ticket=ticket, reason=GAVE_UP_REASON, at=at)
            self._track(ticket, S.CANCELLED)

    def _call(self, at: dt.datetime, desk: Desk) -> None:
        if desk.status != Window.Status.OPEN or desk.ticket is not None:
            return
        # Asking the database only when someone waits: it would answer None anyway.
        waiting = any(self.waiting[service_id] for service_id in desk.skills)
        ticket = ticket_call_next(window=desk.window, actor=desk.clerk, at=at) if waiting else None
        if ticket is None:
            desk.idle = True
            return
        desk.ticket = ticket
        self._track(ticket, S.CALLED)
        if self.rng.random() < 0.05:  # nobody comes: recalled, then a no-show
            self._at(at + self._seconds(45, 75), self._recall, desk, ticket)
            self._at(at + self._seconds(150, 200), self._no_show, desk, ticket)
        else:
            self._at(at + self._seconds(20, 100), self._start, desk, ticket)

    def _recall(self, at: dt.datetime, desk: Desk, ticket: Ticket) -> None:
        ticket_recall(ticket=ticket, actor=desk.clerk, at=at)

    def _no_show(self, at: dt.datetime, desk: Desk, ticket: Ticket) -> None:
        ticket_no_show(ticket=ticket, actor=desk.clerk, at=at)
        self._track(ticket, S.NO_SHOW)
        self._free(at, desk)

    def _start(self, at: dt.datetime, desk: Desk, ticket: Ticket) -> None:
        ticket_start(ticket=ticket, actor=desk.clerk, at=at)
        self._track(ticket, S.SERVING)
        low, high = SERVICE_BY_PREFIX[ticket.service.prefix].minutes
        minutes = self.rng.triangular(low, high, low + (high - low) * 0.35)
        self._at(at + dt.timedelta(minutes=minutes), self._finish, desk, ticket)

    def _finish(self, at: dt.datetime, desk: Desk, ticket: Ticket) -> None:
        prefix = ticket.service.prefix
        roll = self.rng.random()
        others = [p for p in self.services if p not in (prefix, "E")]
        if others and roll < (0.25 if prefix == "E" else 0.04):
            # the visitor needs another service: back to the queue, keeping their place
            target = self.services[self.rng.choice(others)]
            ticket_transfer(ticket=ticket, service=target, actor=desk.clerk, at=at)
            self._track(ticket, S.WAITING, target.pk)
            self._free(at, desk)
            self._wake(at, target.pk)
            return
        missing = ""
        if prefix == "E":
            outcome = Outcome.CONSULTATION if roll < 0.75 else Outcome.DONE
        elif roll < 0.16:
            outcome = Outcome.MISSING_DOCUMENTS
            missing = self.rng.choice(MISSING_DOCUMENTS[prefix])
        elif roll < 0.2:
            outcome = Outcome.REFERRED
        else:
            outcome = Outcome.DONE
        ticket_complete(
            ticket=ticket, outcome=outcome, missing_documents=missing, actor=desk.clerk, at=at
        )
        self._track(ticket, S.COMPLETED)
        visit = self.visits.get(ticket.pk)
        if missing and visit and visit.id_number and self.rng.random() < 0.4:
            # fetches the document and comes back the same day
            back = Visit(service=ticket.service, id_number=visit.id_number)
            self._at(at + self._minutes(50, 150), self._arrive, back)
        self._free(at, desk)


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

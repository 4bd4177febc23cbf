"""The hall simulator: visitors and clerks as a discrete-event simulation.

`HallSim` decides what people do and when (take a number, give up, come to the window
or not, how long service takes, how the visit ends, when a clerk pauses); a `Driver`
makes each decision happen in the real system and answers what the system decided (the
ticket number, which ticket a window's call-next took). The simulator never guesses
the calling policy: it asks. So the same simulation runs against the services with
`at=` timestamps (history, weeks of days) or against a live server's HTTP API.

Deterministic for a seed: one `random.Random` per hall, events ordered by time and then
by the order they were scheduled in.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from queueing.models import Outcome
from queueing.simulation.people import national_id_for
from queueing.simulation.profile import GAVE_UP_REASON, MISSING_DOCUMENTS, Profile

WAITING, CALLED, SERVING, DONE = "waiting", "called", "serving", "done"
OPEN, PAUSED, CLOSED = "open", "paused", "closed"
ENTERING_S = 20.0  # a visitor crosses the entrance zone in this long


@dataclass
class Person:
    key: int
    age: int
    id_number: str | None  # made up, valid; goes only to the kiosk (ticket_issue)


@dataclass
class Visit:
    person: Person
    service: str  # prefix
    disabled: bool = False
    appointment: bool = False
    patience_s: float | None = None  # gives up after this long in the queue
    returning: bool = False  # back for the same service after lacking a document


@dataclass(frozen=True)
class TicketRef:
    """A ticket as the real system issued it."""

    id: int
    number: str
    service: str
    priority: bool


@dataclass
class SimTicket:
    ref: TicketRef
    visit: Visit
    service: str
    issued_at: dt.datetime
    status: str = WAITING
    called_at: dt.datetime | None = None


@dataclass(frozen=True)
class DeskSpec:
    label: str
    skills: frozenset[str]
    priority: bool = False
    clerk: int = 0
    plan: str = "all_day"  # all_day, late, break, closed_early, closed


@dataclass
class Desk:
    spec: DeskSpec
    status: str = CLOSED
    ticket: SimTicket | None = None
    idle: bool = False
    closing: bool = False  # closes once the visitor at the window is done
    day_end: bool = False  # closes once free and nobody waits for its services
    # Bumped whenever the window is taken over anew (live: after a person acted there):
    # what was planned for it before is void.
    epoch: int = 0
    staffed: bool = False  # live: a person has the window; the simulation leaves it alone


class Driver(Protocol):
    """Makes the simulator's decisions happen. Window arguments are labels."""

    def window_open(self, window: str, at: dt.datetime) -> None: ...
    def window_pause(self, window: str, at: dt.datetime) -> None: ...
    def window_close(self, window: str, at: dt.datetime) -> None: ...
    def issue(self, visit: Visit, at: dt.datetime) -> TicketRef: ...
    def call_next(self, window: str, at: dt.datetime) -> TicketRef | None: ...
    def recall(self, ticket: TicketRef, window: str, at: dt.datetime) -> None: ...
    def start(self, ticket: TicketRef, window: str, at: dt.datetime) -> None: ...
    def complete(
        self, ticket: TicketRef, window: str, outcome: str, missing: str, at: dt.datetime
    ) -> None: ...
    def no_show(self, ticket: TicketRef, window: str, at: dt.datetime) -> None: ...
    def transfer(self, ticket: TicketRef, window: str, service: str, at: dt.datetime) -> None: ...
    def cancel(self, ticket: TicketRef, reason: str, at: dt.datetime) -> None: ...


@dataclass(order=True)
class _Event:
    at: dt.datetime
    seq: int
    action: Callable[..., None] = field(compare=False)
    args: tuple[Any, ...] = field(compare=False, default=())
    desk: Desk | None = field(compare=False, default=None)
    epoch: int = field(compare=False, default=0)


@dataclass(frozen=True)
class Scene:
    """Where the simulated people are at one instant, for the cameras: who crosses
    the entrance, who waits (per service, in arrival order), who walks to or stands
    at which window."""

    entering: int
    waiting: dict[str, list[SimTicket]]
    at_windows: list[str]  # labels of windows with a called or served visitor


class HallSim:
    """One hall's visitors and windows. Schedule with the plan_* methods (or `at`),
    then `run_until`."""

    def __init__(
        self,
        *,
        code: str,
        desks: Iterable[DeskSpec],
        shares: dict[str, float],
        driver: Driver,
        rng: random.Random,
        profile: Profile,
    ) -> None:
        self.code = code
        self.desks = [Desk(spec) for spec in desks]
        self.shares = shares  # service prefix: share of new visitors
        self.driver = driver
        self.rng = rng
        self.profile = profile
        self.tickets: dict[int, SimTicket] = {}
        self.returns: list[tuple[dt.date, Visit]] = []  # (due business day, visit)
        self.waiting: Counter[str] = Counter()  # waiting tickets per service
        # Live, the system holds tickets this simulation did not issue: ask it always.
        self.ask_always = False
        self._queue: list[_Event] = []
        self._seq = itertools.count()
        self._people = itertools.count(1)
        self.now: dt.datetime | None = None

    # -- the clock -----------------------------------------------------------------

    def at(self, at: dt.datetime, action: Callable[..., None], *args: Any) -> None:
        desk = next((a for a in args if isinstance(a, Desk)), None)
        epoch = desk.epoch if desk is not None else 0
        heapq.heappush(self._queue, _Event(at, next(self._seq), action, args, desk, epoch))

    def next_at(self) -> dt.datetime | None:
        return self._queue[0].at if self._queue else None

    def run_until(
        self,
        until: dt.datetime,
        on_error: Callable[[Exception, Desk | None], None] | None = None,
        *,
        limit: int | None = None,
    ) -> int:
        """Carry out every event due by `until` (at most `limit` of them: the rest stay
        due); returns how many. An event planned for a window before it was taken over
        anew (`leave`, `adopt`) is dropped. With `on_error`, an event the system refuses
        is handed to it (with the window concerned) and the run goes on: live, people at
        the hall act too. A refused window's plan is void: the simulation replays
        nothing for it until it is taken over again."""
        done = 0
        while self._queue and self._queue[0].at <= until and (limit is None or done < limit):
            event = heapq.heappop(self._queue)
            desk = event.desk
            if desk is not None and (desk.epoch != event.epoch or desk.staffed):
                continue
            self.now = event.at
            try:
                event.action(event.at, *event.args)
            except Exception as exc:
                if on_error is None:
                    raise
                if desk is not None:
                    desk.epoch += 1  # nothing more of the old plan for this window
                on_error(exc, desk)
            done += 1
        return done

    def leave(self, label: str) -> None:
        """A person has the window now (live): forget its visitor and its plan, and act
        there no more until `adopt` hands it back."""
        desk = self.desk(label)
        if desk.ticket is not None and desk.ticket.status != DONE:
            self._set(desk.ticket, DONE)
        desk.ticket, desk.idle, desk.closing, desk.staffed = None, False, False, True
        desk.epoch += 1

    def adopt(
        self, at: dt.datetime, label: str, status: str, ref: TicketRef | None, serving: bool
    ) -> None:
        """Take over a window as the system shows it now (live): its status, and the
        visitor it holds, who will start or finish in a while."""
        desk = self.desk(label)
        if desk.ticket is not None and desk.ticket.status != DONE:
            self._set(desk.ticket, DONE)
        desk.status, desk.ticket, desk.idle, desk.closing = status, None, False, False
        desk.staffed = False
        desk.epoch += 1  # what was planned for the window before is void
        if ref is not None:
            ticket = self._stranger(ref, at)
            self._set(ticket, SERVING if serving else CALLED)
            desk.ticket = ticket
            if serving:
                seconds = self.profile.service_times[ref.service].draw(self.rng)
                self.at(
                    at + dt.timedelta(seconds=seconds * self.rng.random()),
                    self._finish,
                    desk,
                    ticket,
                )
            else:
                self.at(self._after(at, 10, 60), self._start, desk, ticket)
        elif status == OPEN:
            self.at(self._after(at, 1, 20), self.call, desk)

    def _after(self, at: dt.datetime, low_s: float, high_s: float) -> dt.datetime:
        return at + dt.timedelta(seconds=self.rng.uniform(low_s, high_s))

    # -- people ----------------------------------------------------------------------

    def new_visit(self, on: dt.date, *, elderly: bool | None = None) -> Visit:
        """A new visitor: a service by the hall's mix, an age (a quarter 60 or older),
        an ID card shown at the kiosk or not, and maybe little patience."""
        p = self.profile
        prefixes = list(self.shares)
        service = self.rng.choices(prefixes, [self.shares[x] for x in prefixes])[0]
        old = self.rng.random() < p.elderly_share if elderly is None else elderly
        age = self.rng.randint(60, 88) if old else round(self.rng.triangular(18, 59, 35))
        shows_id = elderly is True or self.rng.random() < p.id_share
        person = Person(next(self._people), age, self.id_number(age, on) if shows_id else None)
        return Visit(
            person=person,
            service=service,
            disabled=self.rng.random() < p.disabled_share,
            appointment=self.rng.random() < p.appointment_share,
            patience_s=self.rng.uniform(15, 50) * 60
            if self.rng.random() < p.give_up_share
            else None,
        )

    def id_number(self, age: int, on: dt.date) -> str:
        return national_id_for(age, on, self.rng)

    def plan_arrivals(
        self,
        start: dt.datetime,
        end: dt.datetime,
        *,
        windows: int,
        rates: dict[int, float] | None = None,
    ) -> int:
        """New visitors between `start` and `end` (local times of one day) as a Poisson
        process whose rate follows the profile's hour and weekday (or `rates`, arrivals
        per local hour). Returns how many."""
        rates = (
            rates if rates is not None else self.profile.expected_per_hour(windows, start.date())
        )
        count = 0
        t = start
        while t < end:
            hour_end = min(
                end, t.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
            )
            rate = rates.get(t.hour, 0.0) / 3600
            if rate <= 0:
                t = hour_end
                continue
            gap = self.rng.expovariate(rate)
            if t + dt.timedelta(seconds=gap) >= hour_end:
                # memoryless: start the next hour afresh at its own rate
                t = hour_end
                continue
            t += dt.timedelta(seconds=gap)
            self.at(t, self.arrive, self.new_visit(t.date()))
            count += 1
        return count

    def plan_returns(self, day: dt.date, start: dt.datetime, end: dt.datetime) -> int:
        """Visitors due back on `day`, at times spread like everyone's arrivals."""
        due = [visit for when, visit in self.returns if when <= day]
        self.returns = [(when, visit) for when, visit in self.returns if when > day]
        hours = [h for h in self.profile.hourly if start.hour <= h < max(end.hour, start.hour + 1)]
        weights = [self.profile.hour_weight(h) for h in hours]
        for visit in due:
            hour = self.rng.choices(hours, weights)[0] if hours else start.hour
            at = start.replace(hour=hour, minute=0, second=0) + dt.timedelta(
                seconds=self.rng.uniform(0, 3599)
            )
            self.at(min(max(at, start), end), self.arrive, visit)
        return len(due)

    def arrive(self, at: dt.datetime, visit: Visit) -> None:
        ref = self.driver.issue(visit, at)
        ticket = SimTicket(ref=ref, visit=visit, service=visit.service, issued_at=at)
        self.tickets[ref.id] = ticket
        self.waiting[ticket.service] += 1
        if visit.patience_s is not None:
            self.at(at + dt.timedelta(seconds=visit.patience_s), self._give_up, ticket)
        self._wake(at, ticket.service)

    def _give_up(self, at: dt.datetime, ticket: SimTicket) -> None:
        if ticket.status == WAITING:
            self.driver.cancel(ticket.ref, GAVE_UP_REASON, at)
            self._set(ticket, DONE)

    def _set(self, ticket: SimTicket, status: str, service: str | None = None) -> None:
        if ticket.status == WAITING:
            self.waiting[ticket.service] -= 1
        ticket.service = service or ticket.service
        ticket.status = status
        if status == WAITING:
            self.waiting[ticket.service] += 1
        if status == DONE:
            self.tickets.pop(ticket.ref.id, None)

    def waiting_for(self, skills: Iterable[str]) -> bool:
        return self.ask_always or any(self.waiting[s] > 0 for s in skills)

    # -- windows ---------------------------------------------------------------------

    def desk(self, label: str) -> Desk:
        return next(d for d in self.desks if d.spec.label == label)

    def open(self, at: dt.datetime, desk: Desk) -> None:
        if desk.status == OPEN:
            desk.closing = False  # back before the visitor at the window was done
            return
        self.driver.window_open(desk.spec.label, at)
        desk.status, desk.closing = OPEN, False
        self.at(at, self.call, desk)

    def pause(self, at: dt.datetime, desk: Desk) -> None:
        # The clerk finishes the visitor at the window, then calls nobody new.
        if desk.status != OPEN:
            return
        self.driver.window_pause(desk.spec.label, at)
        desk.status, desk.idle = PAUSED, False

    def close(self, at: dt.datetime, desk: Desk) -> None:
        if desk.status == CLOSED:
            return
        if desk.ticket is not None:
            desk.closing = True
            return
        self.driver.window_close(desk.spec.label, at)
        desk.status, desk.idle, desk.closing = CLOSED, False, False

    def start_day(self) -> None:
        for desk in self.desks:
            desk.day_end = False

    def end_day(self, at: dt.datetime) -> None:
        """The doors close: windows serve whoever still waits for them, then close."""
        for desk in self.desks:
            desk.day_end = True
            if desk.status == PAUSED:
                self.open(at, desk)
            elif desk.status == OPEN and desk.ticket is None:
                self.at(at, self.call, desk)

    def cancel_waiting(self, at: dt.datetime, reason: str) -> int:
        """The day is over: whoever still waits (no window left for their service) is
        sent home, as business_day_close would."""
        left = [t for t in self.tickets.values() if t.status == WAITING]
        for ticket in left:
            self.driver.cancel(ticket.ref, reason, at)
            self._set(ticket, DONE)
        return len(left)

    def _stranger(self, ref: TicketRef, at: dt.datetime) -> SimTicket:
        """A ticket the system held before this simulation started (live mode)."""
        person = Person(next(self._people), self.rng.randint(18, 88), None)
        visit = Visit(person=person, service=ref.service)
        ticket = SimTicket(ref=ref, visit=visit, service=ref.service, issued_at=at)
        self.tickets[ref.id] = ticket
        self.waiting[ref.service] += 1
        return ticket

    def _wake(self, at: dt.datetime, service: str) -> None:
        """One idle window that handles the service notices the new ticket."""
        idle = [d for d in self.desks if d.idle and service in d.spec.skills]
        if idle:
            desk = self.rng.choice(idle)
            desk.idle = False
            self.at(self._after(at, 5, 40), self.call, desk)

    def _free(self, at: dt.datetime, desk: Desk) -> None:
        desk.ticket = None
        if desk.closing or (desk.day_end and not self.waiting_for(desk.spec.skills)):
            self.at(self._after(at, 20, 60), self.close, desk)
        elif desk.status == OPEN:
            self.at(self._after(at, 10, 60), self.call, desk)

    def call(self, at: dt.datetime, desk: Desk) -> None:
        if desk.status != OPEN or desk.ticket is not None:
            return
        # Asking the system only when someone waits: it would answer None anyway.
        ref = (
            self.driver.call_next(desk.spec.label, at)
            if self.waiting_for(desk.spec.skills)
            else None
        )
        if ref is None:
            if desk.day_end:
                self.close(at, desk)
            else:
                desk.idle = True
            return
        ticket = self.tickets.get(ref.id) or self._stranger(ref, at)
        self._set(ticket, CALLED)
        ticket.called_at = at
        desk.ticket = ticket
        roll = self.rng.random()
        if roll < self.profile.no_show_share:  # nobody comes: recalled, then a no-show
            self.at(self._after(at, 45, 75), self._recall, desk, ticket)
            self.at(self._after(at, 150, 200), self._no_show, desk, ticket)
        elif roll < self.profile.no_show_share + self.profile.recall_share:
            self.at(self._after(at, 45, 75), self._recall, desk, ticket)
            self.at(self._after(at, 90, 130), self._start, desk, ticket)
        else:
            self.at(self._after(at, 20, 80), self._start, desk, ticket)

    def _recall(self, at: dt.datetime, desk: Desk, ticket: SimTicket) -> None:
        self.driver.recall(ticket.ref, desk.spec.label, at)

    def _no_show(self, at: dt.datetime, desk: Desk, ticket: SimTicket) -> None:
        self.driver.no_show(ticket.ref, desk.spec.label, at)
        self._set(ticket, DONE)
        self._free(at, desk)

    def _start(self, at: dt.datetime, desk: Desk, ticket: SimTicket) -> None:
        self.driver.start(ticket.ref, desk.spec.label, at)
        self._set(ticket, SERVING)
        seconds = self.profile.service_times[ticket.service].draw(self.rng)
        self.at(at + dt.timedelta(seconds=seconds), self._finish, desk, ticket)

    def _finish(self, at: dt.datetime, desk: Desk, ticket: SimTicket) -> None:
        p = self.profile
        prefix = ticket.service
        others = [x for x in self.shares if x not in (prefix, "E")]
        transfer = p.consult_transfer_share if prefix == "E" else p.transfer_share
        if others and self.rng.random() < transfer:
            # needs another service: back to the queue, keeping their place
            target = self.rng.choice(others)
            self.driver.transfer(ticket.ref, desk.spec.label, target, at)
            self._set(ticket, WAITING, target)
            self._free(at, desk)
            self._wake(at, target)
            return
        missing = ""
        roll = self.rng.random()
        if prefix == "E" or prefix not in MISSING_DOCUMENTS:
            outcome = Outcome.CONSULTATION if roll < 0.75 and prefix == "E" else Outcome.DONE
        elif roll < p.missing_share:
            outcome = Outcome.MISSING_DOCUMENTS
            missing = self.rng.choice(MISSING_DOCUMENTS[prefix])
        elif roll < p.missing_share + p.referred_share:
            outcome = Outcome.REFERRED
        else:
            outcome = Outcome.DONE
        self.driver.complete(ticket.ref, desk.spec.label, outcome, missing, at)
        self._set(ticket, DONE)
        person = ticket.visit.person
        if missing and person.id_number and self.rng.random() < p.return_share:
            due = self.business_days_after(at.date(), self.rng.randint(*p.return_days))
            self.returns.append((due, Visit(person=person, service=prefix, returning=True)))
        self._free(at, desk)

    def business_days_after(self, day: dt.date, n: int) -> dt.date:
        while n > 0:
            day += dt.timedelta(days=1)
            if self.profile.weekday[day.weekday()] > 0:
                n -= 1
        return day

    # -- what the cameras see ----------------------------------------------------------

    def scene(self, at: dt.datetime) -> Scene:
        entering = 0
        waiting: dict[str, list[SimTicket]] = {prefix: [] for prefix in self.shares}
        for ticket in self.tickets.values():
            if ticket.status != WAITING or ticket.issued_at > at:
                continue
            if (at - ticket.issued_at).total_seconds() < ENTERING_S:
                entering += 1  # still between the door and the kiosk
            else:
                waiting.setdefault(ticket.service, []).append(ticket)
        for queue in waiting.values():
            queue.sort(key=lambda t: t.issued_at)
        at_windows = [d.spec.label for d in self.desks if d.ticket is not None]
        return Scene(entering=entering, waiting=waiting, at_windows=at_windows)

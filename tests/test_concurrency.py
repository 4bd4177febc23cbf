"""The queue under real concurrency on PostgreSQL: many ticket machines and windows at
the same instant, then the database is checked for every promise a hall relies on
(no duplicate or lost number, no ticket called twice, no window serving two visitors).

Threads, not mocks: each thread has its own database connection, so the row locks,
SKIP LOCKED and the unique constraints are exercised exactly as in production.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Callable

import pytest
from django.db import IntegrityError, connection, transaction

from queueing import services
from queueing.models import Hall, Outcome, Service, Ticket, TicketCounter, TicketEvent, Window
from tests.factories import make_hall, make_service, make_window, offer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ISSUERS = 50
TICKETS = 5_000
WINDOWS = 20
# a run takes 3-6 min on 2 cores (each issue also quotes a wait): only a hang reaches this
DEADLINE_S = 1200

T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
_started = time.monotonic()


def clock() -> dt.datetime:
    """Real elapsed time on a fixed business day, so a run never straddles midnight."""
    return T0 + dt.timedelta(seconds=time.monotonic() - _started)


@pytest.fixture(autouse=True)
def _needs_postgresql(settings) -> None:
    assert connection.vendor == "postgresql", (
        "tests/test_concurrency.py proves row locks and SKIP LOCKED, which only PostgreSQL "
        "has: run it with DATABASE_URL=postgres://... (CI does)"
    )
    # The pushes after commit are best effort and not under test here; a Redis round
    # trip from a fresh event loop per push would otherwise be most of the run time.
    settings.CHANNEL_LAYERS = {}


class Crowd:
    """Threads that start together and report their failures instead of dying silently."""

    def __init__(self, size: int) -> None:
        self.start = threading.Barrier(size, timeout=60)
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []

    def add(self, work: Callable[[], None]) -> None:
        def run() -> None:
            try:
                connection.ensure_connection()  # connect before the start line, not after
                self.start.wait()
                work()
            except BaseException as exc:
                self.errors.append(exc)
            finally:
                connection.close()

        thread = threading.Thread(target=run, daemon=True)
        self.threads.append(thread)
        thread.start()

    def join(self, threads: list[threading.Thread], deadline: float) -> None:
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        hung = [t.name for t in threads if t.is_alive()]
        assert not hung, f"threads still running after {DEADLINE_S} s (deadlock?): {hung}"


def _load_hall() -> tuple[Hall, list[Service], list[Window]]:
    hall = make_hall("load")
    a, b, c = (make_service(p) for p in "ABC")
    offer(hall, a, b, c)
    # Varied skills; every service is covered by several windows so its queue drains.
    skill_sets = [[a]] * 6 + [[b]] * 5 + [[c]] * 3 + [[a, b]] * 3 + [[a, b, c]] * 2
    windows = [
        make_window(hall, f"W{i + 1:02d}", skills, auto_call=i % 5 == 4)
        for i, skills in enumerate(skill_sets)
    ]
    windows.append(make_window(hall, f"W{WINDOWS:02d}", [a, b, c], is_priority=True))
    return hall, [a, b, c], windows


def _issuer(hall: Hall, plan: list[tuple[Service, bool]]) -> Callable[[], None]:
    def work() -> None:
        for service, priority in plan:
            services.ticket_issue(hall=hall, service=service, has_appointment=priority, at=clock())

    return work


def _clerk(window: Window, issuing_done: threading.Event) -> Callable[[], None]:
    def held() -> Ticket | None:
        # an auto-call window may already hold the next ticket when completion returns
        return Ticket.objects.current().filter(window=window).first() if window.auto_call else None

    def work() -> None:
        while True:
            finished = issuing_done.is_set()  # read before calling, or a late ticket is lost
            ticket = held() or services.ticket_call_next(window=window, at=clock())
            if ticket is None:
                if finished:
                    return
                issuing_done.wait(0.01)  # empty queue: ask again shortly, like a clerk would
                continue
            services.ticket_start(ticket=ticket, at=clock())
            services.ticket_complete(ticket=ticket, outcome=Outcome.DONE, at=clock())

    return work


def test_it_issues_calls_and_completes_5000_tickets_from_50_kiosks_and_20_windows_at_once():
    hall, hall_services, windows = _load_hall()
    plans: list[list[tuple[Service, bool]]] = [[] for _ in range(ISSUERS)]
    for i in range(TICKETS):
        plans[i % ISSUERS].append((hall_services[i % 3], i % 10 == 0))
    expected_per_prefix = Counter(s.prefix for plan in plans for s, _p in plan)

    crowd = Crowd(ISSUERS + WINDOWS)
    issuing_done = threading.Event()
    for plan in plans:
        crowd.add(_issuer(hall, plan))
    for window in windows:
        crowd.add(_clerk(window, issuing_done))
    deadline = time.monotonic() + DEADLINE_S
    crowd.join(crowd.threads[:ISSUERS], deadline)
    issuing_done.set()
    crowd.join(crowd.threads[ISSUERS:], deadline)
    assert not crowd.errors, crowd.errors[:5]

    tickets = list(Ticket.objects.filter(hall=hall).values_list("id", "number", "status"))
    assert len(tickets) == TICKETS
    assert Counter(status for _id, _n, status in tickets) == {Ticket.Status.COMPLETED: TICKETS}

    # numbers: per prefix exactly 1..N, so none handed out twice and none skipped
    numbers: dict[str, list[int]] = defaultdict(list)
    for _id, number, _s in tickets:
        numbers[number[0]].append(int(number[1:]))
    for prefix, issued in expected_per_prefix.items():
        assert sorted(numbers[prefix]) == list(range(1, issued + 1)), prefix
    counters = dict(TicketCounter.objects.filter(hall=hall).values_list("prefix", "last_number"))
    assert counters == dict(expected_per_prefix)

    events = list(
        TicketEvent.objects.filter(hall=hall)
        .order_by("at", "id")
        .values_list("ticket_id", "kind", "window_id")
    )
    per_ticket = Counter((ticket_id, kind) for ticket_id, kind, _w in events)
    for ticket_id, _n, _s in tickets:
        for kind in ("issued", "called", "started", "completed"):
            assert per_ticket[ticket_id, kind] == 1, (ticket_id, kind, per_ticket[ticket_id, kind])

    # Replay the log per window: a call while the window still holds a ticket, or a
    # completion of a ticket it does not hold, would be a window serving two visitors.
    holding: dict[int, int | None] = defaultdict(lambda: None)
    called_at: dict[int, int] = {}
    for ticket_id, kind, window_id in events:
        if kind == TicketEvent.Kind.CALLED:
            assert holding[window_id] is None, (window_id, holding[window_id], ticket_id)
            holding[window_id] = ticket_id
            called_at[ticket_id] = window_id
        elif kind == TicketEvent.Kind.COMPLETED:
            assert holding[window_id] == ticket_id, (window_id, holding[window_id], ticket_id)
            assert called_at[ticket_id] == window_id  # completed where it was called
            holding[window_id] = None
    assert not any(holding.values())
    assert len(called_at) == TICKETS  # each ticket called once, so at exactly one window
    served = Counter(called_at.values())
    assert set(served) == {w.pk for w in windows}, "every window took part"


def test_it_gives_the_last_waiting_ticket_to_exactly_one_of_two_windows_calling_at_once(city):
    for round_ in range(20):
        ticket = services.ticket_issue(hall=city.h1, service=city.pension)
        start = threading.Barrier(2, timeout=30)
        results: dict[str, Ticket | None] = {}
        errors: list[BaseException] = []

        def call(window: Window, results=results, errors=errors, start=start) -> None:
            try:
                connection.ensure_connection()
                start.wait()
                results[window.label] = services.ticket_call_next(window=window)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=call, args=(w,)) for w in (city.w1, city.w2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors, errors

        winners = [label for label, got in results.items() if got is not None]
        assert len(results) == 2 and len(winners) == 1, (round_, results)
        assert results[winners[0]].pk == ticket.pk  # type: ignore[union-attr]
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.CALLED
        assert ticket.events.filter(kind=TicketEvent.Kind.CALLED).count() == 1
        services.ticket_complete(ticket=ticket, outcome=Outcome.DONE)


def test_it_refuses_a_second_current_ticket_at_one_window_in_the_database(city):
    first, second = (services.ticket_issue(hall=city.h1, service=city.pension) for _ in range(2))
    services.ticket_call(ticket=first, window=city.w1)

    # Straight past the services and their locks: the partial unique constraint is
    # what still stops a window holding two visitors.
    with pytest.raises(IntegrityError, match="one_current_ticket_per_window"), transaction.atomic():
        Ticket.objects.filter(pk=second.pk).update(status=Ticket.Status.CALLED, window=city.w1)

    second.refresh_from_db()
    assert second.status == Ticket.Status.WAITING
    assert second.window is None

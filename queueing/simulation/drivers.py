"""Drivers that make the simulator's decisions happen in the real system.

`ServiceDriver` calls queueing.services in-process with `at=` timestamps: a day of
history, or weeks of days, written exactly as the kiosk and the window consoles would
write them. `Recorder` wraps any driver and keeps each change as a line of the replay
format (queueing.estimation.eventfile) for `simulate_halls --export`. The live driver,
over the HTTP API, is in queueing.simulation.live.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import User

from queueing import services
from queueing.models import Hall, Service, Ticket, Window
from queueing.simulation.engine import Driver, TicketRef, Visit


def ref_of(ticket: Ticket, prefix: str) -> TicketRef:
    return TicketRef(ticket.pk, ticket.number, prefix, ticket.is_priority)


class ServiceDriver:
    """Service calls with `at=`, as the kiosk (the hall's kiosk login) and the window
    consoles (the window's clerk login, when it has one) make them."""

    def __init__(self, hall: Hall) -> None:
        self.hall = hall
        self.windows = {w.label: w for w in Window.objects.filter(hall=hall)}
        self.services = {s.prefix: s for s in Service.objects.filter(hall_services__hall=hall)}
        logins = {u.username: u for u in User.objects.filter(username__startswith=f"{hall.code}-")}
        self.kiosk = logins.get(f"{hall.code}-kiosk")
        self.clerks: dict[str, User | None] = {}
        self._tickets: dict[int, Ticket] = {}

    def set_clerk(self, window: str, clerk: User | None) -> None:
        self.clerks[window] = clerk

    def window_open(self, window: str, at: dt.datetime) -> None:
        services.window_open(window=self.windows[window], clerk=self.clerks.get(window), at=at)

    def window_pause(self, window: str, at: dt.datetime) -> None:
        services.window_pause(window=self.windows[window], at=at)

    def window_close(self, window: str, at: dt.datetime) -> None:
        services.window_close(window=self.windows[window], at=at)

    def issue(self, visit: Visit, at: dt.datetime) -> TicketRef:
        ticket = services.ticket_issue(
            hall=self.hall,
            service=self.services[visit.service],
            id_number=visit.person.id_number,
            is_disabled=visit.disabled,
            has_appointment=visit.appointment,
            actor=self.kiosk,
            at=at,
        )
        self._tickets[ticket.pk] = ticket
        return ref_of(ticket, visit.service)

    def call_next(self, window: str, at: dt.datetime) -> TicketRef | None:
        ticket = services.ticket_call_next(
            window=self.windows[window], actor=self.clerks.get(window), at=at
        )
        if ticket is None:
            return None
        self._tickets[ticket.pk] = ticket
        return ref_of(ticket, ticket.service.prefix)

    def _ticket(self, ref: TicketRef) -> Ticket:
        ticket = self._tickets.get(ref.id)
        return ticket if ticket is not None else Ticket.objects.get(pk=ref.id)

    def recall(self, ticket: TicketRef, window: str, at: dt.datetime) -> None:
        services.ticket_recall(ticket=self._ticket(ticket), actor=self.clerks.get(window), at=at)

    def start(self, ticket: TicketRef, window: str, at: dt.datetime) -> None:
        services.ticket_start(ticket=self._ticket(ticket), actor=self.clerks.get(window), at=at)

    def complete(
        self, ticket: TicketRef, window: str, outcome: str, missing: str, at: dt.datetime
    ) -> None:
        services.ticket_complete(
            ticket=self._ticket(ticket),
            outcome=outcome,
            missing_documents=missing,
            actor=self.clerks.get(window),
            at=at,
        )
        self._tickets.pop(ticket.id, None)

    def no_show(self, ticket: TicketRef, window: str, at: dt.datetime) -> None:
        services.ticket_no_show(ticket=self._ticket(ticket), actor=self.clerks.get(window), at=at)
        self._tickets.pop(ticket.id, None)

    def transfer(self, ticket: TicketRef, window: str, service: str, at: dt.datetime) -> None:
        services.ticket_transfer(
            ticket=self._ticket(ticket),
            service=self.services[service],
            actor=self.clerks.get(window),
            at=at,
        )

    def cancel(self, ticket: TicketRef, reason: str, at: dt.datetime) -> None:
        services.ticket_cancel(ticket=self._ticket(ticket), reason=reason, at=at)
        self._tickets.pop(ticket.id, None)


@dataclass(frozen=True)
class Row:
    """One line of EVENTS.csv."""

    at: dt.datetime
    event: str
    ticket: str = ""
    service: str = ""
    window: str = ""
    priority: str = ""
    outcome: str = ""


class Recorder:
    """Passes every change on to `inner` and, once it succeeded, records it as a replay
    event. Ticket numbers are the real system's: they restart each business day."""

    def __init__(self, inner: Driver) -> None:
        self.inner = inner
        self.rows: list[Row] = []

    def window_open(self, window: str, at: dt.datetime) -> None:
        self.inner.window_open(window, at)
        self.rows.append(Row(at, "window_open", window=window))

    def window_pause(self, window: str, at: dt.datetime) -> None:
        self.inner.window_pause(window, at)
        self.rows.append(Row(at, "window_pause", window=window))

    def window_close(self, window: str, at: dt.datetime) -> None:
        self.inner.window_close(window, at)
        self.rows.append(Row(at, "window_close", window=window))

    def issue(self, visit: Visit, at: dt.datetime) -> TicketRef:
        ref = self.inner.issue(visit, at)
        priority = "1" if ref.priority else "0"
        self.rows.append(Row(at, "issued", ref.number, ref.service, priority=priority))
        return ref

    def call_next(self, window: str, at: dt.datetime) -> TicketRef | None:
        ref = self.inner.call_next(window, at)
        if ref is not None:
            self.rows.append(Row(at, "called", ref.number, window=window))
        return ref

    def recall(self, ticket: TicketRef, window: str, at: dt.datetime) -> None:
        self.inner.recall(ticket, window, at)  # the replay format has no recall

    def start(self, ticket: TicketRef, window: str, at: dt.datetime) -> None:
        self.inner.start(ticket, window, at)  # ... nor a start

    def complete(
        self, ticket: TicketRef, window: str, outcome: str, missing: str, at: dt.datetime
    ) -> None:
        self.inner.complete(ticket, window, outcome, missing, at)
        self.rows.append(Row(at, "completed", ticket.number, outcome=outcome))

    def no_show(self, ticket: TicketRef, window: str, at: dt.datetime) -> None:
        self.inner.no_show(ticket, window, at)
        self.rows.append(Row(at, "no_show", ticket.number))

    def transfer(self, ticket: TicketRef, window: str, service: str, at: dt.datetime) -> None:
        self.inner.transfer(ticket, window, service, at)
        self.rows.append(Row(at, "transferred", ticket.number, service))

    def cancel(self, ticket: TicketRef, reason: str, at: dt.datetime) -> None:
        self.inner.cancel(ticket, reason, at)
        self.rows.append(Row(at, "cancelled", ticket.number))

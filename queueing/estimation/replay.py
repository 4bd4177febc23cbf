"""Replay a recorded day through the real services on a simulated clock.

Events go through `queueing.services.ingest` (the API's bulk ingest), each at its own
time, so tickets are issued, called and ended by the same functions as live; the quote
that `ticket_issue` stores is what we predicted. Right after each ticket is issued the
three baselines are read; nothing later than that moment is in the database yet, so
nothing can peek.

The replay runs in a scratch database of its own (`scratch_database`): an in-memory
SQLite database, migrated for the run and gone with it, put in place of the default
connection for the duration. Live data cannot be touched, whatever DATABASE_URL says,
and nothing needs cleaning up. Pushes to the channel layer and the ticket-event
listeners (alert rules) are switched off meanwhile: a replayed hall's ids would
collide with live ones in Redis groups.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers
from django.core.management import call_command
from django.db import connections
from django.db.backends.sqlite3.base import DatabaseWrapper
from django.db.utils import DEFAULT_DB_ALIAS

from queueing import events as queue_events
from queueing.estimation.baselines import BaselineTracker
from queueing.estimation.distributions import forget_hall_models
from queueing.estimation.eventfile import EventLine, HallSpec
from queueing.models import Hall, HallService, Service, Ticket, TicketEvent, Window
from queueing.services.ingest import WINDOW_EVENTS, ingest_events

PREDICTION_HEADER = [
    "ticket",
    "service",
    "issued_at",
    "predicted_s",
    "low_s",
    "high_s",
    "ql_s",
    "qlpool_s",
    "les_s",
    "actual_s",
]


@dataclass
class Prediction:
    ticket: str
    service: str
    issued_at: dt.datetime
    predicted_s: int | None
    low_s: int | None
    high_s: int | None
    ql_s: int
    qlpool_s: int
    les_s: int
    actual_s: int | None = None

    def row(self) -> list[str]:
        def cell(v: int | None) -> str:
            return "" if v is None else str(v)

        return [
            self.ticket,
            self.service,
            self.issued_at.isoformat(),
            cell(self.predicted_s),
            cell(self.low_s),
            cell(self.high_s),
            str(self.ql_s),
            str(self.qlpool_s),
            str(self.les_s),
            cell(self.actual_s),
        ]


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass
class ReplayResult:
    predictions: list[Prediction]
    rejected: list[Rejected]
    events: int


class _ScratchWrapper(DatabaseWrapper):
    # A replay makes ~90,000 queries: none is worth keeping in connection.queries,
    # whatever DEBUG says (the debug cursor alone cost ~4 % of a busy day's replay).
    @property
    def queries_logged(self) -> bool:
        return False


@contextmanager
def scratch_database() -> Iterator[None]:
    """Run the block against a fresh, migrated in-memory SQLite database as `default`."""
    live = connections[DEFAULT_DB_ALIAS]
    settings_dict = {
        **live.settings_dict,
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
        "OPTIONS": {},
        "CONN_MAX_AGE": 0,
    }
    scratch = _ScratchWrapper(settings_dict, alias=DEFAULT_DB_ALIAS)
    connections[DEFAULT_DB_ALIAS] = scratch
    forget_hall_models()
    try:
        call_command("migrate", verbosity=0, interactive=False)
        with quiet():
            yield
    finally:
        if scratch.connection is not None:
            scratch.connection.close()
        connections[DEFAULT_DB_ALIAS] = live
        forget_hall_models()


@contextmanager
def quiet() -> Iterator[None]:
    """Alert rules and live pushes off: replayed or imported events are not news."""
    ingest_log = logging.getLogger("queueing.services.ingest")
    level = ingest_log.level
    ingest_log.setLevel(logging.WARNING)  # one info line per batch would drown the bar
    listeners = list(queue_events._ticket_listeners)
    for listener in listeners:
        queue_events.remove_ticket_event_listener(listener)
    # a layer set to None reads as "no layer": queueing.events skips the send
    had_layer = DEFAULT_CHANNEL_LAYER in channel_layers.backends
    saved = channel_layers.set(DEFAULT_CHANNEL_LAYER, None)
    try:
        yield
    finally:
        ingest_log.setLevel(level)
        if had_layer:
            channel_layers.set(DEFAULT_CHANNEL_LAYER, saved)
        else:
            channel_layers.backends.pop(DEFAULT_CHANNEL_LAYER, None)
        for listener in listeners:
            queue_events.add_ticket_event_listener(listener)


def build_hall(spec: HallSpec) -> Hall:
    hall = Hall.objects.create(code=spec.code, name=spec.name, timezone=spec.timezone)
    if spec.priority_head_start_min is not None:
        hall.priority_head_start_min = spec.priority_head_start_min
        hall.save(update_fields=["priority_head_start_min"])
    services = {}
    for s in spec.services:
        services[s.code] = Service.objects.create(
            code=f"replay-{s.code.lower()}",
            prefix=s.code,
            name_zh=s.name,
            name_en=s.name,
            target_wait_min=s.target_wait_min,
        )
        HallService.objects.create(hall=hall, service=services[s.code])
    for w in spec.windows:
        window = Window.objects.create(
            hall=hall, label=w.label, is_priority=w.priority, status=Window.Status.CLOSED
        )
        window.skills.set([services[c] for c in w.skills])
    return hall


CHUNK = 250  # events per ingest call: the progress bar moves this often


def replay(
    spec: HallSpec,
    lines: Sequence[EventLine],
    *,
    progress: Callable[[int], None] | None = None,
) -> ReplayResult:
    """Apply `lines` in order to a new hall built from `spec` (in the current database:
    the caller provides a scratch one) and predict each issued ticket's wait.

    The baselines are read by a ticket-event listener, which runs as each event
    commits: the moment just after the issue, before the next event is applied. The
    same listener keeps the baselines' recent service times and last calls
    (`BaselineTracker`) from the events it sees.
    """
    hall = build_hall(spec)
    predictions: dict[int, Prediction] = {}
    first_call: dict[int, dt.datetime] = {}
    rejected: list[Rejected] = []

    failures: list[BaseException] = []
    tracker = BaselineTracker()

    def on_event(event: TicketEvent) -> None:
        # queueing.events logs and swallows a listener's error; a replay must not
        try:
            tracker.observe(event)
            if event.kind == TicketEvent.Kind.ISSUED:
                predictions[event.ticket_id] = _predict(event.ticket, event.at, tracker)
            elif event.kind == TicketEvent.Kind.CALLED:
                first_call.setdefault(event.ticket_id, event.at)
        except Exception as exc:
            failures.append(exc)

    queue_events.add_ticket_event_listener(on_event)
    try:
        for chunk in _chunks(lines):
            results = ingest_events(hall=hall, events=[e.event for e in chunk])
            if failures:
                raise failures[0]
            if chunk[0].event.kind in WINDOW_EVENTS:
                tracker.windows_changed()
            for item, result in zip(chunk, results, strict=True):
                if result.status != "applied":
                    rejected.append(Rejected(item.line, result.reason or result.status))
            if progress is not None:
                progress(len(chunk))
    finally:
        queue_events.remove_ticket_event_listener(on_event)
    for ticket_id, prediction in predictions.items():
        if ticket_id in first_call:
            wait = (first_call[ticket_id] - prediction.issued_at).total_seconds()
            prediction.actual_s = round(wait)
    return ReplayResult(list(predictions.values()), rejected, len(lines))


def _chunks(lines: Sequence[EventLine]) -> Iterator[list[EventLine]]:
    """Up to CHUNK events at a time, each window event alone: the baselines' tracker
    rereads the open windows after one (and only then)."""
    chunk: list[EventLine] = []
    for item in lines:
        if item.event.kind in WINDOW_EVENTS:
            if chunk:
                yield chunk
            yield [item]
            chunk = []
        else:
            chunk.append(item)
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _predict(ticket: Ticket, at: dt.datetime, tracker: BaselineTracker) -> Prediction:
    # the ticket as the service just saved it (quote included), its service attached
    base = tracker.baselines(ticket, at=at)
    return Prediction(
        ticket=ticket.number,
        service=ticket.service.prefix,
        issued_at=ticket.issued_at.astimezone(at.tzinfo),
        predicted_s=ticket.quoted_wait_s,
        low_s=ticket.quoted_low_s,
        high_s=ticket.quoted_high_s,
        ql_s=base.ql_s,
        qlpool_s=base.qlpool_s,
        les_s=base.les_s,
    )


def write_predictions(predictions: Sequence[Prediction], out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PREDICTION_HEADER)
    for p in sorted(predictions, key=lambda p: (p.issued_at, p.ticket)):
        writer.writerow(p.row())


def replay_files(
    hall_path: Path, events_path: Path, *, progress: Callable[[int], None] | None = None
) -> ReplayResult:
    """Read and check both files, then replay them in a scratch database."""
    from queueing.estimation.eventfile import read_events, read_hall

    spec = read_hall(hall_path)
    lines = read_events(events_path, spec)
    with scratch_database():
        return replay(spec, lines, progress=progress)

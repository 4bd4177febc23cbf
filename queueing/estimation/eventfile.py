"""The replay's input files, read and checked in full before anything runs.

`HALL.json`: `{"hall": "H1", "name": "…", "services": [{"code": "A", "name": "…",
"target_wait_min": 20}], "windows": [{"label": "W01", "skills": ["A", "B"],
"priority": false}]}`; optional `"timezone"` (default: settings.TIME_ZONE) and
`"priority_head_start_min"`. A service's code is its ticket prefix.

`EVENTS.csv`: header `ts,event,ticket,service,window,priority,outcome`, one event a
row in time order. Every fault is a ReplayFileError naming the file, the line (or the
JSON key) and the reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from queueing.models import Outcome
from queueing.services.ingest import WINDOW_EVENTS, ExternalEvent

HEADER = ["ts", "event", "ticket", "service", "window", "priority", "outcome"]
TICKET_EVENTS = {"issued", "called", "completed", "no_show", "cancelled", "transferred"}
PREFIX = re.compile(r"^[A-Z]{1,2}$")
NUMBER = re.compile(r"^([A-Z]{1,2})[0-9]{1,6}$")


class ReplayFileError(ValueError):
    pass


@dataclass(frozen=True)
class ServiceSpec:
    code: str
    name: str
    target_wait_min: int


@dataclass(frozen=True)
class WindowSpec:
    label: str
    skills: tuple[str, ...]
    priority: bool


@dataclass(frozen=True)
class HallSpec:
    code: str
    name: str
    services: tuple[ServiceSpec, ...]
    windows: tuple[WindowSpec, ...]
    timezone: str = field(default_factory=lambda: settings.TIME_ZONE)
    priority_head_start_min: int | None = None


@dataclass(frozen=True)
class EventLine:
    line: int
    event: ExternalEvent


def _fail(where: str, reason: str) -> ReplayFileError:
    return ReplayFileError(f"{where}: {reason}")


def _require(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise _fail(where, f"missing key {key!r}")
    value = obj[key]
    # bool is an int to Python, never to us
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise _fail(f"{where}.{key}", "has the wrong type")
    return value


def read_hall(path: Path) -> HallSpec:
    name = path.name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise _fail(f"{name}:{exc.lineno}", f"not valid JSON ({exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(name, f"cannot be read ({exc})") from None
    code = _require(data, "hall", str, name)
    if not re.fullmatch(r"[-a-zA-Z0-9_]{1,32}", code):
        raise _fail(f"{name}: hall", "use 1 to 32 letters, digits, - or _")
    services = []
    for i, raw in enumerate(_require(data, "services", list, name)):
        where = f"{name}: services[{i}]"
        prefix = _require(raw, "code", str, where)
        if not PREFIX.fullmatch(prefix):
            raise _fail(f"{where}.code", "must be one or two capital letters (the ticket prefix)")
        target = _require(raw, "target_wait_min", int, where)
        if target < 1:
            raise _fail(f"{where}.target_wait_min", "must be at least 1")
        services.append(ServiceSpec(prefix, _require(raw, "name", str, where)[:120], target))
    codes = [s.code for s in services]
    if not services or len(set(codes)) != len(codes):
        raise _fail(f"{name}: services", "need at least one service, each code once")
    windows = []
    for i, raw in enumerate(_require(data, "windows", list, name)):
        where = f"{name}: windows[{i}]"
        label = _require(raw, "label", str, where)
        if not 1 <= len(label) <= 16:
            raise _fail(f"{where}.label", "must be 1 to 16 characters")
        skills = _require(raw, "skills", list, where)
        unknown = [s for s in skills if s not in codes]
        if not skills or unknown:
            raise _fail(f"{where}.skills", f"must name services of the hall (unknown: {unknown})")
        windows.append(WindowSpec(label, tuple(skills), bool(raw.get("priority", False))))
    labels = [w.label for w in windows]
    if len(set(labels)) != len(labels):
        raise _fail(f"{name}: windows", "each label once")
    tz = data.get("timezone", settings.TIME_ZONE)
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise _fail(f"{name}: timezone", f"unknown time zone {tz!r}") from None
    head_start = data.get("priority_head_start_min")
    if head_start is not None and (not isinstance(head_start, int) or head_start < 0):
        raise _fail(f"{name}: priority_head_start_min", "must be a whole number ≥ 0")
    hall_name = str(data.get("name", code))[:120]
    return HallSpec(code, hall_name, tuple(services), tuple(windows), tz, head_start)


def read_events(path: Path, hall: HallSpec) -> list[EventLine]:
    try:
        with path.open(newline="", encoding="utf-8") as f:
            return list(parse_events(f, hall, name=path.name))
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(path.name, f"cannot be read ({exc})") from None


def parse_events(lines: Iterable[str], hall: HallSpec, *, name: str) -> Iterable[EventLine]:
    """Yield each row as an ExternalEvent (id `L<line>`), or raise at the first fault."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != HEADER:
        raise _fail(f"{name}:1", f"the header must be {','.join(HEADER)}")
    services = {s.code for s in hall.services}
    windows = {w.label for w in hall.windows}
    previous: dt.datetime | None = None
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        where = f"{name}:{line}"
        if len(row) != len(HEADER):
            raise _fail(where, f"expected {len(HEADER)} fields, found {len(row)}")
        ts, kind, ticket, service, window, priority, outcome = (c.strip() for c in row)
        try:
            at = dt.datetime.fromisoformat(ts)
        except ValueError:
            raise _fail(where, f"ts {ts!r} is not an ISO 8601 time") from None
        if at.tzinfo is None:
            raise _fail(where, "ts needs a UTC offset, e.g. +08:00")
        if previous is not None and at < previous:
            raise _fail(where, "events must be in time order (this one is earlier than the last)")
        previous = at
        if kind not in WINDOW_EVENTS and kind not in TICKET_EVENTS:
            raise _fail(where, f"unknown event {kind!r}")
        if (kind in WINDOW_EVENTS or kind == "called") and window not in windows:
            raise _fail(where, f"window {window!r} is not in the hall file")
        if kind in TICKET_EVENTS:
            match = NUMBER.fullmatch(ticket)
            if match is None:
                raise _fail(where, f"ticket {ticket!r} must be a prefix and up to 6 digits")
        if kind in ("issued", "transferred") and service not in services:
            raise _fail(where, f"service {service!r} is not in the hall file")
        if kind == "issued":
            if priority not in ("0", "1"):
                raise _fail(where, "priority must be 0 or 1")
            if not ticket.startswith(service) or match is None or match[1] != service:
                raise _fail(where, f"ticket {ticket!r} must start with its service {service!r}")
        if outcome and outcome not in Outcome.values:
            raise _fail(where, f"outcome must be one of {', '.join(Outcome.values)}")
        event = ExternalEvent(
            external_id=f"L{line}",
            kind=kind,
            at=at,
            ticket=ticket if kind in TICKET_EVENTS else "",
            window=window if kind in WINDOW_EVENTS or kind == "called" else "",
            service=service if kind in ("issued", "transferred") else "",
            priority=priority == "1",
            outcome=outcome or Outcome.DONE,
            # the outcome needs a list the log does not carry
            missing_documents="not stated" if outcome == Outcome.MISSING_DOCUMENTS else "",
        )
        yield EventLine(line, event)

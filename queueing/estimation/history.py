"""Load a recorded history into the live database, so the estimator learns from it.

A hall moving to hall-ops from another queue system brings its past days as
`HALL.json` + `EVENTS.csv` (the replay's formats, `queueing.estimation.eventfile`).
`import_history` applies them to the existing hall through the same ingest path as
the replay and the API (`queueing.services.ingest`), so the service-time
distributions, no-show and give-up rates and the quotes' calibration
(`queueing.estimation.distributions`) come out as if the hall had run on hall-ops.

- The file's hall, services and windows are mapped onto existing ones by code,
  prefix and label; anything missing is refused up front, naming all of it.
- History only: every event must fall before the hall's current business day, and no
  ticket may stand at a window (the history's calls need the windows free).
- Idempotent: each event's external id carries a digest of the file, so importing
  the same file again changes nothing (all duplicates).
- All or nothing: one transaction. The windows' live status is put back afterwards,
  and alert rules and live pushes are off meanwhile (the events are long past).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from queueing.estimation.distributions import forget_hall_models
from queueing.estimation.eventfile import EventLine, HallSpec
from queueing.estimation.replay import CHUNK, Rejected, quiet
from queueing.models import Hall, HallService, Ticket, Window
from queueing.services.ingest import ingest_events


class HistoryError(ValueError):
    pass


@dataclass
class ImportResult:
    applied: int
    duplicates: int
    rejected: list[Rejected]


def file_digest(*paths: Path) -> str:
    """12 hex digits naming the pair of files: the external ids' namespace."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def check_mapping(spec: HallSpec) -> Hall:
    """The live hall the file describes, with every service and window it names."""
    hall = Hall.objects.filter(code=spec.code).first()
    if hall is None:
        raise HistoryError(f"hall {spec.code!r}: no such hall here; create it first")
    offered = set(
        HallService.objects.filter(hall=hall, enabled=True).values_list(
            "service__prefix", flat=True
        )
    )
    missing = sorted({s.code for s in spec.services} - offered)
    if missing:
        raise HistoryError(
            f"hall {spec.code!r} does not offer the services {', '.join(missing)} of the file"
        )
    labels = set(Window.objects.filter(hall=hall).values_list("label", flat=True))
    unknown = sorted({w.label for w in spec.windows} - labels)
    if unknown:
        raise HistoryError(f"hall {spec.code!r} has no windows {', '.join(unknown)}")
    return hall


def import_history(
    spec: HallSpec,
    lines: Sequence[EventLine],
    *,
    digest: str,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Apply a checked history to the live hall `spec` names (see the module doc)."""
    hall = check_mapping(spec)
    today = hall.business_date(timezone.now())
    for item in lines:
        if hall.business_date(item.event.at) >= today:
            raise HistoryError(
                f"line {item.line}: {item.event.at.isoformat()} is not before today's "
                "business day; only past days can be imported"
            )
    events = [
        dataclasses.replace(e.event, external_id=f"hist-{digest}-{e.event.external_id}")
        for e in lines
    ]
    applied = duplicates = 0
    rejected: list[Rejected] = []
    with quiet(), transaction.atomic():
        windows = list(
            Window.objects.select_for_update()
            .filter(hall=hall)
            .values_list("pk", "status", "status_changed_at", "clerk_id")
        )
        if Ticket.objects.current().filter(hall=hall).exists():
            raise HistoryError(
                f"hall {spec.code!r} has tickets at its windows; import when it is closed"
            )
        for start in range(0, len(events), CHUNK):
            chunk = events[start : start + CHUNK]
            for item, result in zip(
                lines[start : start + CHUNK],
                ingest_events(hall=hall, events=chunk),
                strict=True,
            ):
                if result.status == "applied":
                    applied += 1
                elif result.status == "duplicate":
                    duplicates += 1
                else:
                    rejected.append(Rejected(item.line, result.reason or result.status))
            if progress is not None:
                progress(len(chunk))
        # a history ends with its last day's windows: the live hall keeps its own
        for pk, status, changed_at, clerk_id in windows:
            Window.objects.filter(pk=pk).update(
                status=status, status_changed_at=changed_at, clerk_id=clerk_id
            )
        _close_leftovers(hall, today)
    forget_hall_models()
    return ImportResult(applied, duplicates, rejected)


def _close_leftovers(hall: Hall, today: dt.date) -> None:
    # A history cut off mid-call leaves a ticket at a window, which would block it.
    left = Ticket.objects.current().filter(hall=hall, business_date__lt=today)
    if left.exists():
        numbers = ", ".join(sorted(left.values_list("number", flat=True))[:10])
        raise HistoryError(
            f"the history leaves tickets at windows ({numbers}); end them in the file"
        )

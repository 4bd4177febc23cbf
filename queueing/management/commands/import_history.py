"""manage.py import_history HALL.json EVENTS.csv

Loads a recorded history (the replay's formats) into the live database through the
same parser and ingest path as the replay, so the wait estimator learns from it
(see queueing.estimation.history). Safe to run twice: the second run changes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from queueing.estimation.eventfile import ReplayFileError, read_events, read_hall
from queueing.estimation.history import HistoryError, file_digest, import_history

SHOW_REJECTED = 10


class Command(BaseCommand):
    help = "Import a recorded queue history into an existing hall to seed the wait estimator."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("hall", type=Path, help="HALL.json")
        parser.add_argument("events", type=Path, help="EVENTS.csv")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            spec = read_hall(options["hall"])
            lines = read_events(options["events"], spec)
            digest = file_digest(options["hall"], options["events"])
        except (ReplayFileError, OSError) as exc:
            raise CommandError(str(exc)) from None
        bar = tqdm(
            total=len(lines),
            unit="event",
            disable=options["no_progress"] or None,  # None: only on a terminal
            file=sys.stderr,
        )
        try:
            with bar:
                result = import_history(spec, lines, digest=digest, progress=bar.update)
        except HistoryError as exc:
            raise CommandError(str(exc)) from None
        for rejected in result.rejected[:SHOW_REJECTED]:
            self.stderr.write(f"{options['events'].name}:{rejected.line}: {rejected.reason}")
        if len(result.rejected) > SHOW_REJECTED:
            self.stderr.write(f"… and {len(result.rejected) - SHOW_REJECTED} more rejected")
        self.stdout.write(
            f"{result.applied} events applied, {result.duplicates} already imported, "
            f"{len(result.rejected)} rejected"
        )

"""manage.py import_history HALL.json EVENTS.csv

Loads a recorded history (the replay's formats) into the live database through the
same parser and ingest path as the replay, so the wait estimator learns from it
(see queueing.estimation.history). Safe to run twice: the second run changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from queueing.estimation.eventfile import ReplayFileError, read_events, read_hall
from queueing.estimation.history import HistoryError, file_digest, import_history
from queueing.management.eventfiles import add_file_arguments, progress_bar, report_rejected


class Command(BaseCommand):
    help = "Import a recorded queue history into an existing hall to seed the wait estimator."

    def add_arguments(self, parser: CommandParser) -> None:
        add_file_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            spec = read_hall(options["hall"])
            lines = read_events(options["events"], spec)
            digest = file_digest(options["hall"], options["events"])
        except (ReplayFileError, OSError) as exc:
            raise CommandError(str(exc)) from None
        bar = progress_bar(len(lines), options)
        try:
            with bar:
                result = import_history(spec, lines, digest=digest, progress=bar.update)
        except HistoryError as exc:
            raise CommandError(str(exc)) from None
        report_rejected(self.stderr, options["events"], result.rejected)
        self.stdout.write(
            f"{result.applied} events applied, {result.duplicates} already imported, "
            f"{len(result.rejected)} rejected"
        )

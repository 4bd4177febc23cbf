"""manage.py replay_events HALL.json EVENTS.csv --out PREDICTIONS.csv

Replays a recorded day (or several) through the real services on a simulated clock in
a scratch database of its own (see queueing.estimation.replay), and writes for every
issued ticket what our estimator and the three baselines predicted, and the actual
wait to first call.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from queueing.estimation.eventfile import ReplayFileError, read_events, read_hall
from queueing.estimation.replay import replay, scratch_database, write_predictions
from queueing.management.eventfiles import add_file_arguments, progress_bar, report_rejected


class Command(BaseCommand):
    help = "Replay recorded queue events and write each estimator's predictions."

    def add_arguments(self, parser: CommandParser) -> None:
        add_file_arguments(parser)
        parser.add_argument("--out", type=Path, required=True, help="PREDICTIONS.csv")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            spec = read_hall(options["hall"])
            lines = read_events(options["events"], spec)
        except ReplayFileError as exc:
            raise CommandError(str(exc)) from None
        bar = progress_bar(len(lines), options)
        with bar, scratch_database():
            result = replay(spec, lines, progress=bar.update)
        try:
            with options["out"].open("w", newline="", encoding="utf-8") as out:
                write_predictions(result.predictions, out)
        except OSError as exc:
            raise CommandError(f"{options['out']}: cannot be written ({exc})") from None
        report_rejected(self.stderr, options["events"], result.rejected)
        self.stdout.write(
            f"{result.events} events, {len(result.predictions)} tickets, "
            f"{len(result.rejected)} rejected, {time.perf_counter() - started:.1f} s"
        )

"""manage.py replay_events HALL.json EVENTS.csv --out PREDICTIONS.csv

Replays a recorded day (or several) through the real services on a simulated clock in
a scratch database of its own (see queueing.estimation.replay), and writes for every
issued ticket what our estimator and the three baselines predicted, and the actual
wait to first call.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from queueing.estimation.eventfile import ReplayFileError, read_events, read_hall
from queueing.estimation.replay import replay, scratch_database, write_predictions

SHOW_REJECTED = 10


class Command(BaseCommand):
    help = "Replay recorded queue events and write each estimator's predictions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("hall", type=Path, help="HALL.json")
        parser.add_argument("events", type=Path, help="EVENTS.csv")
        parser.add_argument("--out", type=Path, required=True, help="PREDICTIONS.csv")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            spec = read_hall(options["hall"])
            lines = read_events(options["events"], spec)
        except ReplayFileError as exc:
            raise CommandError(str(exc)) from None
        bar = tqdm(
            total=len(lines),
            unit="event",
            disable=options["no_progress"] or None,  # None: only on a terminal
            file=sys.stderr,
        )
        with bar, scratch_database():
            result = replay(spec, lines, progress=bar.update)
        try:
            with options["out"].open("w", newline="", encoding="utf-8") as out:
                write_predictions(result.predictions, out)
        except OSError as exc:
            raise CommandError(f"{options['out']}: cannot be written ({exc})") from None
        for rejected in result.rejected[:SHOW_REJECTED]:
            self.stderr.write(f"{options['events'].name}:{rejected.line}: {rejected.reason}")
        if len(result.rejected) > SHOW_REJECTED:
            self.stderr.write(f"… and {len(result.rejected) - SHOW_REJECTED} more rejected")
        self.stdout.write(
            f"{result.events} events, {len(result.predictions)} tickets, "
            f"{len(result.rejected)} rejected, {time.perf_counter() - started:.1f} s"
        )

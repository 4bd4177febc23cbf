"""What the commands reading HALL.json + EVENTS.csv (replay_events, import_history)
share: their arguments, the progress bar and the report of rejected lines."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser, OutputWrapper
from tqdm import tqdm

from queueing.estimation.replay import Rejected

SHOW_REJECTED = 10


def add_file_arguments(parser: CommandParser) -> None:
    parser.add_argument("hall", type=Path, help="HALL.json")
    parser.add_argument("events", type=Path, help="EVENTS.csv")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def progress_bar(total: int, options: dict[str, Any]) -> tqdm:
    return tqdm(
        total=total,
        unit="event",
        disable=options["no_progress"] or None,  # None: only on a terminal
        file=sys.stderr,
    )


def report_rejected(stderr: OutputWrapper, events: Path, rejected: Sequence[Rejected]) -> None:
    """The first SHOW_REJECTED refusals as file:line: reason, and how many more."""
    for item in rejected[:SHOW_REJECTED]:
        stderr.write(f"{events.name}:{item.line}: {item.reason}")
    if len(rejected) > SHOW_REJECTED:
        stderr.write(f"… and {len(rejected) - SHOW_REJECTED} more rejected")

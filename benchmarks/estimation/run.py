"""Wait-estimation benchmark: simulated days replayed through `replay_events`.

    DATABASE_URL=postgres://... python -m benchmarks.estimation.run [--seeds 3]
        [--scenario calm --scenario peak ...] [--out benchmarks/out/estimation]

For each scenario (benchmarks/estimation/generate.py) and seed: write HALL.json and
EVENTS.csv, replay them with the management command (a scratch database of its own),
and score the last simulated day (the days before it are history the estimator learns
from) on tickets that were called: mean absolute error of ours, QL, QL-pool and LES,
and the share of actual waits inside our 80 % interval, over all tickets and over
those whose interval is not [0, 0]. Prints a Markdown table: mean over seeds, with
the range in brackets.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import time
from pathlib import Path

import django

COLUMNS = ("predicted_s", "ql_s", "qlpool_s", "les_s")


def score(path: Path) -> dict[str, float]:
    with path.open() as f:
        rows = [r for r in csv.DictReader(f) if r["actual_s"] and r["predicted_s"]]
    last_day = max(r["issued_at"][:10] for r in rows)
    rows = [r for r in rows if r["issued_at"][:10] == last_day]
    actual = [int(r["actual_s"]) for r in rows]
    out = {
        k: statistics.fmean(abs(int(r[k]) - a) for r, a in zip(rows, actual, strict=True))
        for k in COLUMNS
    }
    inside = [int(r["low_s"]) <= a <= int(r["high_s"]) for r, a in zip(rows, actual, strict=True)]
    wide = [ok for ok, r in zip(inside, rows, strict=True) if int(r["high_s"]) > 0]
    out["coverage"] = statistics.fmean(inside)
    out["coverage_nontrivial"] = statistics.fmean(wide) if wide else float("nan")
    out["tickets"] = len(rows)
    out["mean_wait"] = statistics.fmean(actual)
    out["ratio"] = out["predicted_s"] / min(out["ql_s"], out["qlpool_s"], out["les_s"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--scenario", action="append")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/estimation"))
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hall_ops.settings")
    django.setup()
    from django.core.management import call_command

    from benchmarks.estimation.generate import SCENARIOS, write_scenario

    names = args.scenario or list(SCENARIOS)
    print(
        "| scenario | tickets/day | mean wait | MAE ours | QL | QL-pool | LES | ours ÷ best "
        "| coverage | coverage (non-trivial) | replay s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in names:
        results, seconds = [], []
        for seed in range(1, args.seeds + 1):
            folder = args.out / f"{name}-{seed}"
            hall, events = write_scenario(SCENARIOS[name], folder, seed=seed)
            started = time.perf_counter()
            call_command(
                "replay_events",
                str(hall),
                str(events),
                "--out",
                str(folder / "PREDICTIONS.csv"),
                "--no-progress",
                stdout=io.StringIO(),
            )
            seconds.append(time.perf_counter() - started)
            results.append(score(folder / "PREDICTIONS.csv"))

        def cell(key: str, fmt: str = "{:.0f}", rs: list[dict[str, float]] = results) -> str:
            values = [r[key] for r in rs]
            mean = statistics.fmean(values)
            if len(values) == 1:
                return fmt.format(mean)
            return f"{fmt.format(mean)} [{fmt.format(min(values))}–{fmt.format(max(values))}]"

        pct = "{:.0%}"
        print(
            f"| {name} | {cell('tickets')} | {cell('mean_wait')} | {cell('predicted_s')} "
            f"| {cell('ql_s')} | {cell('qlpool_s')} | {cell('les_s')} | {cell('ratio', '{:.2f}')} "
            f"| {cell('coverage', pct)} | {cell('coverage_nontrivial', pct)} "
            f"| {statistics.fmean(seconds):.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()

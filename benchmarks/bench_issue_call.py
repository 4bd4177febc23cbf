"""Issue + call-next throughput on PostgreSQL with concurrent clients.

Kiosk threads issue tickets into one hall while window threads call next, start and
complete, each thread on its own database connection, until every ticket is served.
Two ways of keeping windows from taking the same ticket are compared in one run:

- `skip-locked` (what hall-ops does): each window locks its own row and the first
  waiting ticket no other window has locked (`FOR UPDATE SKIP LOCKED`);
- `hall-lock` (the baseline, what a queue system without SKIP LOCKED does to stay
  correct): every call-next first locks the hall's row (FOR NO KEY UPDATE, so kiosks
  are not held up), and windows take turns.

Usage (a scratch database `<db>_bench` is created next to DATABASE_URL's and dropped):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
        .venv/bin/python benchmarks/bench_issue_call.py --tickets 2000 --repeats 3

It prints one line per run and a summary table (median and min-max over the repeats)
for docs/benchmarks.md. Pushes to browsers are switched off: this measures the
database work of the queue, not Redis.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import threading
import time
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hall_ops.settings")

T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
MODES = ("skip-locked", "hall-lock")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=2000, help="tickets per run")
    parser.add_argument("--issuers", type=int, default=20, help="kiosk threads")
    parser.add_argument("--windows", type=int, default=20, help="window threads")
    parser.add_argument("--repeats", type=int, default=3, help="runs per mode")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated")
    args = parser.parse_args()
    args.modes = args.modes.split(",")
    unknown = set(args.modes) - set(MODES)
    if unknown:
        parser.error(f"--modes: unknown {sorted(unknown)}; choose from {list(MODES)}")
    return args


def scratch_database() -> tuple[str, str]:
    """(admin url, scratch url) next to DATABASE_URL, which must be PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit("DATABASE_URL must be a postgres:// URL: this measures PostgreSQL row locks.")
    name = parts.path.lstrip("/") + "_bench"
    return url, urlunsplit(parts._replace(path=f"/{name}"))


def recreate(admin_url: str, scratch_url: str) -> None:
    import psycopg

    name = urlsplit(scratch_url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop(admin_url: str, scratch_url: str) -> None:
    import psycopg

    name = urlsplit(scratch_url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def hall_lock_baseline(enabled: bool) -> Iterator[None]:
    """Make call-next take the hall's row lock first (the baseline)."""
    from queueing.models import Hall
    from queueing.services import tickets

    if not enabled:
        yield
        return
    original = tickets._check_window_can_call

    def locked(window: Any) -> None:
        # NO KEY: kiosks inserting tickets (a key-share lock on the hall) still pass
        Hall.objects.select_for_update(no_key=True).filter(pk=window.hall_id).values("pk").get()
        return original(window)

    tickets._check_window_can_call = locked
    try:
        yield
    finally:
        tickets._check_window_can_call = original


def one_run(mode: str, run: int, args: argparse.Namespace) -> dict[str, float]:
    from django.db import connection

    from queueing import services
    from queueing.models import Hall, HallService, Outcome, Service, Ticket, Window

    hall = Hall.objects.create(code=f"b{mode[0]}{run}", name=f"基准{run}", name_en=f"Bench {run}")
    kinds = [
        Service.objects.get_or_create(
            prefix=p, defaults={"code": f"b-{p}", "name_zh": p, "name_en": p}
        )[0]
        for p in "ABC"
    ]
    for service in kinds:
        HallService.objects.create(hall=hall, service=service)
    windows = []
    for i in range(args.windows):
        window = Window.objects.create(hall=hall, label=f"W{i + 1:02d}", status="open")
        # one window in four (and the last) takes every service, so each queue drains
        every = i % 4 == 3 or i == args.windows - 1
        window.skills.set(kinds if every else [kinds[i % 3]])
        windows.append(window)

    started = time.monotonic()

    def clock() -> dt.datetime:
        return T0 + dt.timedelta(seconds=time.monotonic() - started)

    issue_ms: list[float] = []
    call_ms: list[float] = []
    errors: list[BaseException] = []
    done_issuing = threading.Event()
    barrier = threading.Barrier(args.issuers + args.windows + 1, timeout=60)

    def thread(work: Callable[[], None]) -> threading.Thread:
        def target() -> None:
            try:
                connection.ensure_connection()
                barrier.wait()
                work()
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()

        t = threading.Thread(target=target, daemon=True)
        t.start()
        return t

    def issuer(count: int, offset: int) -> Callable[[], None]:
        def work() -> None:
            for i in range(count):
                t = time.perf_counter()
                services.ticket_issue(hall=hall, service=kinds[(i + offset) % 3], at=clock())
                issue_ms.append((time.perf_counter() - t) * 1000)

        return work

    def clerk(window: Window) -> Callable[[], None]:
        def work() -> None:
            while True:
                finished = done_issuing.is_set()
                t = time.perf_counter()
                ticket = services.ticket_call_next(window=window, at=clock())
                if ticket is None:
                    if finished:
                        return
                    done_issuing.wait(0.005)
                    continue
                call_ms.append((time.perf_counter() - t) * 1000)
                services.ticket_start(ticket=ticket, at=clock())
                services.ticket_complete(ticket=ticket, outcome=Outcome.DONE, at=clock())

        return work

    share, extra = divmod(args.tickets, args.issuers)
    issuers = [thread(issuer(share + (i < extra), i)) for i in range(args.issuers)]
    clerks = [thread(clerk(w)) for w in windows]
    with hall_lock_baseline(mode == "hall-lock"):
        barrier.wait()
        t_start = time.perf_counter()
        for t in issuers:
            t.join()
        done_issuing.set()
        for t in clerks:
            t.join()
        wall = time.perf_counter() - t_start
    if errors:
        raise SystemExit(f"{mode} run {run} failed: {errors[:3]!r}")
    served = Ticket.objects.filter(hall=hall, status="completed").count()
    if served != args.tickets:
        raise SystemExit(f"{mode} run {run}: {served} of {args.tickets} tickets served")

    def pct(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1]

    return {
        "wall_s": wall,
        "tickets_per_s": args.tickets / wall,
        "issue_p50_ms": pct(issue_ms, 50),
        "issue_p95_ms": pct(issue_ms, 95),
        "call_p50_ms": pct(call_ms, 50),
        "call_p95_ms": pct(call_ms, 95),
    }


def summarise(results: dict[str, list[dict[str, float]]]) -> str:
    keys = ["tickets_per_s", "wall_s", "issue_p50_ms", "issue_p95_ms", "call_p50_ms", "call_p95_ms"]
    lines = ["| mode | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for mode, runs in results.items():
        cells = []
        for key in keys:
            values = [r[key] for r in runs]
            cells.append(f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f})")
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    admin_url, scratch_url = scratch_database()
    recreate(admin_url, scratch_url)
    os.environ["DATABASE_URL"] = scratch_url
    os.environ.pop("REDIS_URL", None)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.CHANNEL_LAYERS = {}
    try:
        call_command("migrate", verbosity=0)
        print(
            f"{args.tickets} tickets, {args.issuers} kiosk threads, {args.windows} windows; "
            f"{platform.python_implementation()} {platform.python_version()}, "
            f"{os.cpu_count()} CPUs"
        )
        results: dict[str, list[dict[str, float]]] = {mode: [] for mode in args.modes}
        for run in range(args.repeats):
            for mode in args.modes:  # interleaved, so drift hits both alike
                result = one_run(mode, run, args)
                results[mode].append(result)
                print(
                    f"{mode:12} run {run + 1}: "
                    + ", ".join(f"{k}={v:.1f}" for k, v in result.items()),
                    flush=True,
                )
        print()
        print(summarise(results))
    finally:
        from django.db import connections

        connections.close_all()
        drop(admin_url, scratch_url)


if __name__ == "__main__":
    main()

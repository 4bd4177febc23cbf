"""Hall board render time on PostgreSQL with a week of history for 3 halls.

Builds a scratch database `<db>_board` next to DATABASE_URL's, fills it with bulk_create
(data for timing, not for the service layer: seven past days plus today for 3 halls,
each with 4 services, 20 windows, ~1,200 tickets a day with their events and alerts),
then renders the board N times with Django's test client as the hall's manager: the
whole page, and the two fragments a push makes a browser fetch (`board-live` after a
queue change, `board-alerts` after an alert change). Prints median / p95 / min / max in
milliseconds and the queries per render, as a section for docs/benchmarks.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_ui \\
        .venv/bin/python benchmarks/bench_board_render.py --renders 200
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hall_ops.settings")

HALLS = 3
SERVICES = ("A", "B", "C", "D")
WINDOWS = 20
PAST_DAYS = 7
WAITING_NOW = 150  # per hall, today
ACTIVE_ALERTS = 60  # per hall, today


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=200, help="renders of each kind")
    parser.add_argument("--per-day", type=int, default=1200, help="tickets per hall a day")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    return parser.parse_args()


def scratch_database() -> tuple[str, str]:
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit("DATABASE_URL must be a postgres:// URL: this measures the PostgreSQL setup.")
    # created and dropped from the server's maintenance database: DATABASE_URL's own
    # database need not exist (pytest makes test_<name> from it)
    admin = urlunsplit(parts._replace(path="/postgres"))
    return admin, urlunsplit(parts._replace(path=f"/{parts.path.lstrip('/')}_board"))


def _psql(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.encode())


def build(args: argparse.Namespace) -> dict[str, Any]:
    """The history, written with bulk_create in a few large batches."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from hall_ops.models import Alert, AlertSequence, AlertTransition
    from queueing.models import (
        Hall,
        HallService,
        Service,
        StaffRole,
        Ticket,
        TicketEvent,
        Window,
    )

    rng = random.Random(args.seed)
    now = timezone.now()
    services = [
        Service.objects.create(
            code=f"svc-{p.lower()}", prefix=p, name_zh=f"业务{p}", name_en=f"Service {p}"
        )
        for p in SERVICES
    ]
    manager = User.objects.create(username="manager")
    halls, windows = [], {}
    for h in range(HALLS):
        hall = Hall.objects.create(code=f"b{h + 1}", name=f"基准大厅{h + 1}", name_en=f"Bench {h}")
        HallService.objects.bulk_create([HallService(hall=hall, service=s) for s in services])
        ws = Window.objects.bulk_create(
            [
                Window(hall=hall, label=f"W{w + 1:02d}", status=Window.Status.OPEN)
                for w in range(WINDOWS)
            ]
        )
        through = Window.skills.through
        through.objects.bulk_create(
            [through(window_id=w.pk, service_id=s.pk) for w in ws for s in rng.sample(services, 2)]
        )
        StaffRole.objects.create(user=manager, hall=hall, role=StaffRole.Role.MANAGER)
        halls.append(hall)
        windows[hall.pk] = ws

    tickets: list[Ticket] = []
    events: list[tuple[int, str, dt.datetime, int | None]] = []  # ticket index, kind, at, window
    for hall in halls:
        today = hall.business_date(now)
        for back in range(PAST_DAYS, -1, -1):
            day = today - dt.timedelta(days=back)
            opens = dt.datetime.combine(day, dt.time(9), tzinfo=hall.tz)
            # today: the day so far (or a morning, when the bench runs before opening)
            span = 8 * 3600 if back else max(3600, min(8 * 3600, (now - opens).total_seconds()))
            start = (
                opens
                if back or now > opens + dt.timedelta(hours=1)
                else now - dt.timedelta(hours=1)
            )
            count = args.per_day if back else args.per_day // 2
            numbers = {s.prefix: 0 for s in services}
            issued = sorted(
                start + dt.timedelta(seconds=rng.uniform(0, span)) for _ in range(count)
            )
            for i, at in enumerate(issued):
                service = rng.choice(services)
                numbers[service.prefix] += 1
                waiting = not back and i >= count - WAITING_NOW
                serving = not back and count - WAITING_NOW - WINDOWS // 2 <= i < count - WAITING_NOW
                window = windows[hall.pk][i % WINDOWS]
                called = at + dt.timedelta(minutes=rng.uniform(2, 30))
                started = called + dt.timedelta(seconds=rng.uniform(20, 90))
                ended = started + dt.timedelta(minutes=rng.uniform(3, 15))
                no_show = rng.random() < 0.05
                status = (
                    Ticket.Status.WAITING
                    if waiting
                    else Ticket.Status.SERVING
                    if serving
                    else Ticket.Status.NO_SHOW
                    if no_show
                    else Ticket.Status.COMPLETED
                )
                index = len(tickets)
                tickets.append(
                    Ticket(
                        hall=hall,
                        service=service,
                        business_date=at.astimezone(hall.tz).date(),
                        number=f"{service.prefix}{numbers[service.prefix]:03d}",
                        status=status,
                        issued_at=at,
                        queue_key=at,
                        is_elderly=rng.random() < 0.08,
                        age_at_issue=rng.randint(20, 85),
                        window=None if waiting else window,
                        called_at=None if waiting else called,
                        started_at=started if status in ("serving", "completed") else None,
                        ended_at=ended if status in ("completed", "no_show") else None,
                        outcome="done" if status == "completed" else "",
                    )
                )
                events.append((index, TicketEvent.Kind.ISSUED, at, None))
                if not waiting:
                    events.append((index, TicketEvent.Kind.CALLED, called, window.pk))
                if status in ("serving", "completed"):
                    events.append((index, TicketEvent.Kind.STARTED, started, window.pk))
                if status == "completed":
                    events.append((index, TicketEvent.Kind.COMPLETED, ended, window.pk))
                if status == "no_show":
                    events.append((index, TicketEvent.Kind.NO_SHOW, ended, window.pk))
    # one serving ticket per window at most (the partial unique constraint)
    seen: set[int] = set()
    for t in tickets:
        if t.status == Ticket.Status.SERVING:
            assert t.window is not None
            if t.window.pk in seen:
                t.status, t.outcome = Ticket.Status.COMPLETED, "done"
                t.ended_at = (t.started_at or t.issued_at) + dt.timedelta(minutes=5)
            seen.add(t.window.pk)
    Ticket.objects.bulk_create(tickets, batch_size=5000)
    TicketEvent.objects.bulk_create(
        [
            TicketEvent(
                ticket=tickets[i],
                hall_id=tickets[i].hall_id,
                kind=kind,
                at=at,
                service_id=tickets[i].service_id,
                window_id=window_id,
            )
            for i, kind, at, window_id in events
        ],
        batch_size=10000,
    )

    alerts: list[Alert] = []
    seq = {hall.pk: 0 for hall in halls}
    active_count = {hall.pk: 0 for hall in halls}
    kinds = [Alert.Kind.LONG_WAIT, Alert.Kind.ELDERLY, Alert.Kind.REPEAT_VISIT]
    for t in tickets:
        if rng.random() > 0.2 and t.status != Ticket.Status.WAITING:
            continue
        active = t.status == Ticket.Status.WAITING
        if active:
            if active_count[t.hall_id] >= ACTIVE_ALERTS:
                continue
            active_count[t.hall_id] += 1
        kind = rng.choice(kinds)
        seq[t.hall_id] += 1
        state = (
            rng.choice([Alert.State.OPEN, Alert.State.ACKNOWLEDGED])
            if active
            else rng.choice([Alert.State.RESOLVED, Alert.State.EXPIRED])
        )
        acked = state in (Alert.State.ACKNOWLEDGED, Alert.State.RESOLVED)
        alerts.append(
            Alert(
                hall_id=t.hall_id,
                seq=seq[t.hall_id],
                kind=kind,
                key=f"{kind}:ticket:{t.pk}",
                severity=rng.randint(1, 4),
                state=state,
                ticket=t,
                service_id=t.service_id,
                context={"number": t.number, "age": t.age_at_issue, "elderly": t.is_elderly},
                raised_at=t.issued_at,
                acknowledged_at=t.issued_at + dt.timedelta(minutes=2) if acked else None,
                acknowledged_by=manager if acked else None,
                closed_at=None if active else t.issued_at + dt.timedelta(minutes=9),
            )
        )
    Alert.objects.bulk_create(alerts, batch_size=5000)
    AlertTransition.objects.bulk_create(
        [
            AlertTransition(
                alert=a, seq=a.seq, action="raised", at=a.raised_at, severity=a.severity
            )
            for a in alerts
        ],
        batch_size=10000,
    )
    AlertSequence.objects.bulk_create([AlertSequence(hall_id=h, last=n) for h, n in seq.items()])
    return {
        "manager": manager,
        "hall": halls[0],
        "tickets": len(tickets),
        "events": len(events),
        "alerts": len(alerts),
        "active_alerts": sum(1 for a in alerts if a.is_active and a.hall_id == halls[0].pk),
        "waiting": sum(
            1 for t in tickets if t.status == Ticket.Status.WAITING and t.hall_id == halls[0].pk
        ),
    }


def measure(client: Any, path: str, headers: dict[str, str], renders: int) -> dict[str, float]:
    from django.db import connection, reset_queries

    times = []
    queries = 0
    for i in range(renders + 5):
        reset_queries()
        start = time.perf_counter()
        response = client.get(path, headers=headers)
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, response.status_code
        if i >= 5:  # the first few warm the template and connection caches
            times.append(elapsed)
            queries = len(connection.queries)
    times.sort()
    return {
        "median": statistics.median(times),
        "p95": times[min(len(times) - 1, round(0.95 * len(times)) - 1)],
        "min": times[0],
        "max": times[-1],
        "queries": queries,
        "bytes": len(response.content),
    }


def main() -> None:
    args = parse_args()
    admin_url, scratch_url = scratch_database()
    name = urlsplit(scratch_url).path.lstrip("/")
    _psql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _psql(admin_url, f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = scratch_url
    os.environ.pop("REDIS_URL", None)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections
    from django.test import Client

    settings.CHANNEL_LAYERS = {}
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        data = build(args)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        built = time.perf_counter() - started
        client = Client()
        client.force_login(data["manager"])
        path = f"/halls/{data['hall'].code}/board/"
        # connection.queries is kept only with DEBUG on, as in the development default
        settings.DEBUG = True
        print(
            f"{HALLS} halls x ({PAST_DAYS} past days + today): {data['tickets']} tickets, "
            f"{data['events']} events, {data['alerts']} alerts (built in {built:.1f} s); "
            f"board of {data['hall'].code}: {data['waiting']} waiting, "
            f"{data['active_alerts']} active alerts, {WINDOWS} windows"
        )
        print(
            f"{platform.python_implementation()} {platform.python_version()}, "
            f"{os.cpu_count()} CPUs, PostgreSQL {getattr(connection, 'pg_version', 0) // 10000}; "
            f"{args.renders} renders each, after 5 warm-up renders"
        )
        print()
        print("| render | median ms | p95 ms | min ms | max ms | queries | KiB |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for label, headers in [
            ("whole page", {}),
            ("`board-live` fragment", {"HX-Request": "true", "HX-Target": "board-live"}),
            ("`board-alerts` fragment", {"HX-Request": "true", "HX-Target": "board-alerts"}),
        ]:
            r = measure(client, path, headers, args.renders)
            print(
                f"| {label} | {r['median']:.1f} | {r['p95']:.1f} | {r['min']:.1f} | "
                f"{r['max']:.1f} | {r['queries']:.0f} | {r['bytes'] / 1024:.0f} |",
                flush=True,
            )
    finally:
        connections.close_all()
        if not args.keep:
            _psql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()

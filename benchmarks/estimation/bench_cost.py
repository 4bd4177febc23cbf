"""Cost of one `estimate_hall` for a 40-window hall with 300 waiting tickets.

    DATABASE_URL=postgres://... python -m benchmarks.estimation.bench_cost

Builds the hall in a throwaway database (the scratch database of the replay), with a
day of history behind it, then times estimate_hall: the whole call (7 queries and the
simulation) and the simulation alone.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
import zoneinfo

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hall_ops.settings")
    django.setup()
    from queueing.estimation.replay import scratch_database

    with scratch_database():
        _run()


def _run() -> None:
    import numpy as np

    from queueing import estimation
    from queueing.estimation import forward
    from queueing.models import Hall, HallService, Service, Ticket, Window

    tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    now = dt.datetime(2026, 3, 2, 11, 0, tzinfo=tz)
    hall = Hall.objects.create(code="bench", name="bench")
    svcs = [Service.objects.create(code=f"s{p}", prefix=p, name_zh=p, name_en=p) for p in "ABCDEF"]
    for s in svcs:
        HallService.objects.create(hall=hall, service=s)
    rng = np.random.default_rng(1)
    windows = []
    for i in range(40):
        w = Window.objects.create(hall=hall, label=f"W{i:02d}", status="open", is_priority=i < 3)
        w.skills.set([svcs[j] for j in rng.choice(6, size=rng.integers(1, 4), replace=False)])
        windows.append(w)
    history = []
    for i in range(2000):  # yesterday's completed tickets
        s = svcs[i % 6]
        called = now - dt.timedelta(days=1, seconds=int(i * 12))
        history.append(
            Ticket(
                hall=hall,
                service=s,
                business_date=called.date(),
                number=f"{s.prefix}{i:04d}",
                status="completed",
                issued_at=called,
                queue_key=called,
                called_at=called,
                started_at=called,
                ended_at=called + dt.timedelta(seconds=float(rng.lognormal(6, 0.5))),
            )
        )
    waiting = []
    for i in range(300):
        s = svcs[i % 6]
        issued = now - dt.timedelta(seconds=3600 - i * 12)
        pri = i % 5 == 0
        waiting.append(
            Ticket(
                hall=hall,
                service=s,
                business_date=now.date(),
                number=f"{s.prefix}{i:03d}",
                issued_at=issued,
                queue_key=issued - dt.timedelta(minutes=20 if pri else 0),
                has_appointment=pri,
            )
        )
    Ticket.objects.bulk_create(history + waiting)
    estimation.estimate_hall(hall, at=now)  # warm up
    totals = []
    for k in range(20):
        t0 = time.perf_counter()
        result = estimation.estimate_hall(hall, at=now + dt.timedelta(seconds=k))
        totals.append((time.perf_counter() - t0) * 1000)
    sims = []
    original = forward.simulate

    def timed(*a, **kw):
        t0 = time.perf_counter()
        out = original(*a, **kw)
        sims.append((time.perf_counter() - t0) * 1000)
        return out

    estimation.simulate = timed
    for k in range(20):
        estimation.estimate_hall(hall, at=now + dt.timedelta(seconds=k))
    estimation.simulate = original
    known = sum(e is not None for e in result.tickets.values())
    print(f"estimate_hall 40 windows / 300 waiting ({known} estimated), 20 calls:")
    print(f"  whole call: median {statistics.median(totals):.1f} ms, max {max(totals):.1f} ms")
    print(f"  simulation: median {statistics.median(sims):.1f} ms, max {max(sims):.1f} ms")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

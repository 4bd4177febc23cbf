"""Push latency of the alert feed: from an alert's commit to its message arriving at N
connected WebSocket clients, over daphne and channels-redis, as in production.

The script starts daphne (a subprocess, on a scratch database `<db>_bench` next to
DATABASE_URL's, and the Redis of REDIS_URL), connects N clients to one hall's alert
feed as a floor-staff user, then raises alerts through the service one after another
(`alert_raise`, each in its own transaction). The commit time is taken by an on-commit
hook registered before the service's own, so the measured time includes the push to
Redis, daphne's consumer reading the alert row, and the frame reaching the client.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python benchmarks/bench_push_latency.py --clients 50 500 --alerts 30

Clients and the script share one process and one event loop, and daphne runs on the
same machine: with 500 clients, part of the latency is the clients' own reading.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hall_ops.settings")

from benchmarks.bench_issue_call import drop, recreate, scratch_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[50, 500])
    parser.add_argument("--alerts", type=int, default=30, help="alerts raised per N")
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between alerts")
    parser.add_argument("--port", type=int, default=8911)
    return parser.parse_args()


def start_daphne(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
        + ["hall_ops.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("daphne did not answer within 30 s")


def setup_hall() -> tuple[Any, str]:
    """A hall, a floor-staff user and a session cookie for them."""
    from django.contrib.auth.models import User
    from django.test import Client

    from queueing.models import Hall, StaffRole

    hall = Hall.objects.create(code="push", name="推送", name_en="Push")
    user = User.objects.create(username="floor")
    StaffRole.objects.create(user=user, hall=hall, role=StaffRole.Role.FLOOR)
    client = Client()
    client.force_login(user)
    return hall, client.cookies["sessionid"].value


async def client(url: str, cookie: str, arrivals: dict[int, list[float]]) -> Any:
    import websockets

    socket = await websockets.connect(
        url,
        additional_headers={"Cookie": f"sessionid={cookie}", "Origin": "http://127.0.0.1"},
        max_queue=None,
    )
    return asyncio.create_task(_read(socket, arrivals))


async def _read(socket: Any, arrivals: dict[int, list[float]]) -> None:
    import websockets

    try:
        async for frame in socket:
            message = json.loads(frame)
            if message.get("type") == "alert":
                arrivals.setdefault(message["alert"]["seq"], []).append(time.time())
    except websockets.ConnectionClosed:
        pass


def raise_alert(hall: Any, n: int) -> tuple[int, float]:
    """(seq, commit time) of a freshly raised alert."""
    from django.db import transaction

    from hall_ops.alerts.services import alert_raise
    from hall_ops.models import Alert

    committed: list[float] = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.time()))
        alert = alert_raise(
            hall=hall, kind=Alert.Kind.CONGESTION, key=f"bench:{n}:{time.time()}", severity=2
        )
    return alert.seq, committed[0]


async def measure(n: int, args: argparse.Namespace, hall: Any, cookie: str) -> dict[str, float]:
    url = f"ws://127.0.0.1:{args.port}/ws/halls/{hall.code}/alerts/"
    arrivals: dict[int, list[float]] = {}
    readers = []
    for _ in range(n):
        # the consumer joins the hall's group before it accepts: connected means joined
        readers.append(await client(url, cookie, arrivals))
    sent: dict[int, float] = {}
    for i in range(args.alerts):
        seq, at = await asyncio.to_thread(raise_alert, hall, i)
        sent[seq] = at
        await asyncio.sleep(args.gap)
    await asyncio.sleep(3)  # stragglers
    for reader in readers:
        reader.cancel()
    latencies = [
        (arrived - sent[seq]) * 1000
        for seq, times in arrivals.items()
        if seq in sent
        for arrived in times
    ]
    expected = n * len(sent)
    cuts = (
        statistics.quantiles(latencies, n=100, method="inclusive")
        if len(latencies) > 1
        else [0.0] * 99
    )
    return {
        "clients": n,
        "messages": expected,
        "lost": expected - len(latencies),
        "p50_ms": cuts[49],
        "p99_ms": cuts[98],
        "max_ms": max(latencies, default=0.0),
    }


def main() -> None:
    args = parse_args()
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        sys.exit("REDIS_URL must be set: this measures channels-redis.")
    admin_url, scratch_url = scratch_database()
    recreate(admin_url, scratch_url)
    os.environ["DATABASE_URL"] = scratch_url

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    daphne = None
    try:
        call_command("migrate", verbosity=0)
        hall, cookie = setup_hall()
        env = os.environ | {"EMBEDDED_SCHEDULER": "0", "DEBUG": "1", "LOG_LEVEL": "WARNING"}
        daphne = start_daphne(args.port, env)
        print(
            f"daphne + channels-redis ({redis_url}), {args.alerts} alerts per run, "
            f"{args.gap} s apart; {os.cpu_count()} CPUs"
        )
        print("| clients | messages | lost | p50 ms | p99 ms | max ms |")
        print("|---|---|---|---|---|---|")
        for n in args.clients:
            r = asyncio.run(measure(n, args, hall, cookie))
            print(
                f"| {n} | {r['messages']} | {r['lost']} | {r['p50_ms']:.1f} | "
                f"{r['p99_ms']:.1f} | {r['max_ms']:.1f} |",
                flush=True,
            )
    finally:
        if daphne is not None:
            daphne.terminate()
            daphne.wait(timeout=10)
        connections.close_all()
        drop(admin_url, scratch_url)


if __name__ == "__main__":
    main()

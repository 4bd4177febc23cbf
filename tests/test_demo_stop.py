"""Stopping the demo: Ctrl-C (SIGINT to the script's process group, as a terminal sends
it) and TERM (to the script alone, as a supervisor sends it) end everything the script
started (daphne with its embedded scheduler, the simulator with its camera server)
within a few seconds, every time. Each run: scripts/demo.sh on a SQLite file of its
own, in a tmp dir, until the simulator runs (~40 s), then the signal.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STOPS_WITHIN_S = 5.0
LOAD_CLIENTS = 24


def _load(url: str, stop: threading.Event) -> None:
    """A person signing in again and again (password hashing: a slow request), as many
    browsers at once: requests queue in the server when the signal comes."""
    while not stop.is_set():
        try:
            jar = CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            opener.open(f"{url}/accounts/login/", timeout=30).read()
            csrf = next(c.value for c in jar if c.name == "csrftoken")
            body = {"username": "futian-manager", "password": "demo"}
            data = urllib.parse.urlencode(body | {"csrfmiddlewaretoken": csrf}).encode()
            request = urllib.request.Request(
                f"{url}/accounts/login/", data=data, headers={"Referer": f"{url}/"}
            )
            opener.open(request, timeout=30).read()
        except (OSError, StopIteration):
            time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _group(pgid: int) -> list[int]:
    """The processes still in the process group (zombies excluded)."""
    out = subprocess.run(["ps", "-eo", "pid=,pgid=,stat="], capture_output=True, text=True)
    alive = []
    for line in out.stdout.splitlines():
        pid, group, stat = line.split(None, 2)
        if int(group) == pgid and not stat.startswith("Z"):
            alive.append(int(pid))
    return alive


@pytest.mark.parametrize(
    ("sig", "to_group"), [(signal.SIGINT, True), (signal.SIGTERM, False)], ids=["ctrl-c", "term"]
)
def test_the_demo_stops_within_seconds(tmp_path: Path, sig: signal.Signals, to_group: bool):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DEBUG": "1",
        "PORT": str(port),
        "CAMERA_PORT": str(_free_port()),
        "DEMO_SPEED": "20",
        "PY": sys.executable,
        "DEMO_ACCESS_LOG": str(tmp_path / "access.log"),
    }
    env.pop("EMBEDDED_SCHEDULER", None)
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["scripts/demo.sh"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 150
        while "Simulating" not in log.read_text(errors="replace"):
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        stop_load = threading.Event()
        clients = [
            threading.Thread(target=_load, args=(f"http://127.0.0.1:{port}", stop_load))
            for _ in range(LOAD_CLIENTS)
        ]
        for client in clients:
            client.start()
        time.sleep(5)  # serving, busy: requests in flight, the periodic jobs running
        started = _group(process.pid)
        assert len(started) >= 3, started  # the script, daphne, the simulator
        if to_group:
            os.killpg(process.pid, sig)
        else:
            os.kill(process.pid, sig)
        signalled = time.monotonic()
        while _group(process.pid) and time.monotonic() - signalled < 30:
            time.sleep(0.1)
        took = time.monotonic() - signalled
        stop_load.set()
        for client in clients:
            client.join(timeout=35)
        left = _group(process.pid)
        assert not left, f"still running after {took:.1f} s: {left}\n{log.read_text()[-2000:]}"
        assert took < STOPS_WITHIN_S, f"took {took:.1f} s to stop"
        process.wait(timeout=5)
        with socket.socket() as sock:  # nobody listens on the port any more
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
    finally:
        if _group(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

"""The living demo shared with people: scripts/demo.sh at a high DEMO_SPEED and, while
it runs, a clerk at a console (call, start, complete: on the window the simulator
worked until then), a kiosk user taking tickets and a manager pausing a window on the
board, for a couple of minutes (tens of simulated minutes). Afterwards all three halls
still issue and serve, the request rate stays that of a quiet demo (no storm of 409s),
no 5xx, and every camera kept posting (none goes offline).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from .support import shot
from .test_demo_live import _free_port, _wait_for_server

ROOT = Path(__file__).resolve().parents[2]
SPEED = 20
ACTING_S = 120
MAX_REQUESTS_PER_MIN = 1500  # a quiet demo at this speed makes a few hundred
LINE = re.compile(r'\[(\d+/\w+/\d+:\d+:\d+):\d+\] "(\w+) (\S+)" (\d{3})')


@pytest.fixture
def fast_demo(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DEBUG": "1",
        "PORT": str(port),
        "CAMERA_PORT": str(_free_port()),
        "DEMO_SPEED": str(SPEED),
        "PY": sys.executable,
        "DEMO_ACCESS_LOG": str(tmp_path / "access.log"),
    }
    env.pop("EMBEDDED_SCHEDULER", None)
    with (tmp_path / "demo.log").open("wb") as out:
        process = subprocess.Popen(
            ["scripts/demo.sh"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield f"http://127.0.0.1:{port}", tmp_path
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _login(browser: Browser, url: str, path: str, username: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context(base_url=url, viewport={"width": 1440, "height": 900})
    context.add_cookies([{"name": "django_language", "value": "en", "url": url}])
    page = context.new_page()
    page.goto(path)
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', "demo")
    page.click('form:has(input[name="password"]) button[type="submit"]')
    page.wait_for_url(f"**{path}")
    return context, page


def _clerk_step(console: Page) -> str:
    """What a clerk does next at the console: complete, start, or call the next."""
    done = console.locator('#console button[name="outcome"][value="done"]')
    start = console.locator('#console button[hx-post$="/start/"]')
    call = console.locator('#console button[hx-post$="/call-next/"]')
    for name, button in (("start", start), ("complete", done), ("call", call)):
        if button.count() and button.first.is_enabled():
            with console.expect_response(lambda r: r.request.method == "POST"):
                button.first.click()
            return name
    return "wait"


def _served_and_issued(db: Path, since: dt.datetime) -> dict[str, tuple[int, int]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT h.code,"
            " SUM(t.status = 'completed' AND t.ended_at >= ?), SUM(t.issued_at >= ?)"
            " FROM queueing_ticket t JOIN queueing_hall h ON h.id = t.hall_id GROUP BY h.code",
            (since.strftime("%Y-%m-%d %H:%M:%S"),) * 2,
        ).fetchall()
    return {code: (int(served or 0), int(issued or 0)) for code, served, issued in rows}


def test_people_and_the_simulator_share_the_halls(browser: Browser, fast_demo):
    url, folder = fast_demo
    _wait_for_server(url, folder / "demo.log")
    clerk_context, console = _login(browser, url, "/windows/2/console/", "futian-clerk1")
    kiosk_context, kiosk = _login(browser, url, "/halls/futian/kiosk/", "futian-kiosk")
    board_context, board = _login(browser, url, "/halls/futian/board/", "futian-manager")
    # the clerk's window was the simulator's until now
    assert console.locator('[data-staffing="simulated"]').count() == 1

    began = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    actions: Counter[str] = Counter()
    end = time.monotonic() + ACTING_S
    paused = False
    while time.monotonic() < end:
        actions[_clerk_step(console)] += 1
        kiosk.locator('button[name="service"]').first.click()
        kiosk.wait_for_timeout(500)
        actions["kiosk"] += 1
        if not paused:
            pause = board.locator('button[hx-vals*="paused"]')
            with board.expect_response(lambda r: "/status/" in r.url):
                pause.last.click()
            paused = True
            actions["pause"] += 1
        kiosk.goto("/halls/futian/kiosk/")
        console.wait_for_timeout(4000)
    assert actions["complete"] >= 1 and actions["start"] + actions["call"] >= 1, actions
    # the console now says a person has the window
    console.reload()
    assert console.locator('[data-staffing="staffed"]').count() == 1
    shot(console, "demo-shared-console")
    console.wait_for_timeout(10_000)  # the halls' last actions reach the database

    figures = _served_and_issued(folder / "demo.sqlite3", began)
    assert set(figures) == {"futian", "nanshan", "luohu"}, figures
    for code, (served, issued) in figures.items():
        # new tickets and served visitors in every hall after the people acted
        assert issued >= 5 and served >= 3, (code, figures)

    per_minute: Counter[str] = Counter()
    counts_per_minute: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    conflicts = 0
    for line in (folder / "access.log").read_text().splitlines():
        match = LINE.search(line)
        if match is None:
            continue
        minute, _method, path, status = match.groups()
        per_minute[minute] += 1
        statuses[status[0]] += 1
        conflicts += status == "409"
        if path == "/api/v1/vision/counts":
            counts_per_minute[minute] += 1
    assert statuses["5"] == 0, statuses
    assert max(per_minute.values()) <= MAX_REQUESTS_PER_MIN, per_minute
    assert conflicts <= 30, conflicts
    # every full minute, each of the three cameras posted (every 15 s when well)
    full = sorted(per_minute)[1:-1]
    assert full and all(counts_per_minute[m] >= 6 for m in full), counts_per_minute
    for context in (clerk_context, kiosk_context, board_context):
        context.close()

"""`make demo` in a browser: the demo's own script (scripts/demo.sh, which the Makefile
runs) on a SQLite file of its own and free ports; with the logins the printed message
names, within 60 s and without a click: the manager's board changes, the floor tablet
receives an alert it did not have when it loaded, and the director's overview shows at
least two halls moving. One demo start (~40 s) serves all three browsers.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from .support import live, shot

ROOT = Path(__file__).resolve().parents[2]
SERVED = re.compile(r"(\d+) served of (\d+) today")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = _free_port()
    log = tmp_path / "demo.log"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DEBUG": "1",
        "PORT": str(port),
        "CAMERA_PORT": str(_free_port()),
        "PY": sys.executable,
        "DEMO_ACCESS_LOG": str(tmp_path / "access.log"),
    }
    env.pop("EMBEDDED_SCHEDULER", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["scripts/demo.sh"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the script, daphne and the simulator: one group
        )
    try:
        yield f"http://127.0.0.1:{port}", log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_for_server(url: str, log: Path) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if "Simulating" in text:
            return text
        if "Traceback" in text or "Error" in text:
            pytest.fail(text[-3000:])
        time.sleep(0.5)
    pytest.fail(f"the demo did not start within 120 s:\n{log.read_text()[-3000:]}")


def _queues(page: Page) -> list[tuple[str, str]]:
    """Per service card: waiting, and "served of issued today"."""
    return page.eval_on_selector_all(
        ".service-strip [data-service]",
        "cards => cards.map(c => [c.querySelector('[data-waiting]').innerText,"
        " c.innerText.match(/\\d+ served of \\d+ today/)[0]])",
    )


def _totals(queues: list[tuple[str, str]]) -> tuple[int, int]:
    served = issued = 0
    for _waiting, line in queues:
        match = SERVED.fullmatch(line)
        assert match is not None, line
        served, issued = served + int(match[1]), issued + int(match[2])
    return served, issued


def _login(
    browser: Browser, url: str, path: str, username: str, *, queue: bool = True
) -> tuple[BrowserContext, Page]:
    """Log in on `path` and wait until its sockets are open (a push before is missed):
    the queue socket (`queue`), the alert sockets (the ops pages)."""
    context = browser.new_context(base_url=url, viewport={"width": 1440, "height": 900})
    context.add_cookies([{"name": "django_language", "value": "en", "url": url}])
    page = context.new_page()
    page.goto(path)
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', "demo")
    page.click('form:has(input[name="password"]) button[type="submit"]')
    page.wait_for_url(f"**{path}")
    if queue:
        live(page)
    if "/board/" not in path:
        page.wait_for_selector('body[data-ops-state="up"]', state="attached", timeout=10_000)
    return context, page


ALERT_IDS = (
    "() => [...document.querySelectorAll('#tablet-feed [data-alert-id]')]"
    ".map(a => a.dataset.alertId)"
)
HALL_FIGURES = (
    "() => Object.fromEntries([...document.querySelectorAll('[data-overview-hall]')].map(h =>"
    " [h.dataset.overviewHall, ['waiting', 'served'].map(f =>"
    " h.querySelector(`[data-figure=${f}]`).innerText).join('/')]))"
)


def _remaining(deadline: float) -> float:
    left = (deadline - time.monotonic()) * 1000
    assert left > 0, "past the minute"
    return left


def test_the_demo_board_moves_by_itself(browser: Browser, demo: tuple[str, Path]) -> None:
    """Within a minute of the start, without a click: the manager board changes, the
    floor tablet gets an alert it did not have, and the director sees several halls move."""
    url, log = demo
    printed = _wait_for_server(url, log)
    # the printed message names the page and the logins
    assert f"http://127.0.0.1:{url.rsplit(':', 1)[1]}/" in printed
    board = re.search(r"futian-manager\s+demo\s+hall manager\s+futian\s+(/\S+/board/)", printed)
    assert board is not None, printed
    assert "futian-floor / demo" in printed
    tablet_context, tablet = _login(browser, url, "/halls/futian/tablet/", "futian-floor")
    alerts_before = tablet.evaluate(ALERT_IDS)
    board_context, page = _login(browser, url, board[1], "futian-manager")
    before = _queues(page)
    assert before
    overview_context, overview = _login(browser, url, "/overview/", "director", queue=False)
    halls_before = overview.evaluate(HALL_FIGURES)
    assert len(halls_before) >= 2, halls_before

    deadline = time.monotonic() + 60
    page.wait_for_function(
        """before => {
            const now = [...document.querySelectorAll('.service-strip [data-service]')].map(c =>
                [c.querySelector('[data-waiting]').innerText,
                 c.innerText.match(/\\d+ served of \\d+ today/)[0]]);
            return JSON.stringify(now) !== JSON.stringify(before);
        }""",
        arg=before,
        timeout=_remaining(deadline),
    )
    served_before, issued_before = _totals(before)
    served_after, issued_after = _totals(_queues(page))
    # the change is people: numbers taken or visitors served, never fewer
    assert issued_after >= issued_before and served_after >= served_before
    shot(page, "demo-board-live")

    # a new alert on the floor tablet, pushed (the feed's own poll is every 60 s)
    tablet.wait_for_function(
        f"before => ({ALERT_IDS})().some(id => !before.includes(id))",
        arg=alerts_before,
        timeout=_remaining(deadline),
    )
    new = [a for a in tablet.evaluate(ALERT_IDS) if a not in alerts_before]
    item = tablet.locator(f'#tablet-feed [data-alert-id="{new[0]}"]')
    assert item.locator(".alert-kind").inner_text().strip()
    assert item.locator("button", has_text="I'm on it").count() == 1
    shot(tablet, "demo-tablet-alert")

    # the director's overview: at least two halls' figures moved
    overview.wait_for_function(
        f"""before => {{
            const now = ({HALL_FIGURES})();
            return Object.keys(before).filter(h => now[h] !== before[h]).length >= 2;
        }}""",
        arg=halls_before,
        timeout=_remaining(deadline),
    )
    shot(overview, "demo-overview-live")
    for context in (tablet_context, board_context, overview_context):
        context.close()

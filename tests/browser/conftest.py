"""A real server and a real browser for the browser tests.

pytest-django's `live_server` speaks WSGI only, without WebSockets, so these tests run
`daphne` as production does, in a subprocess, against the test database (its name in
DATABASE_URL). The tests are transactional, so what they write is committed and the
server sees it. Everything the server pushes starts in the server (a ticket taken at
the kiosk page, a call from the console page), so the in-memory channel layer works as
well as Redis when REDIS_URL is set (the subprocess inherits it).

Playwright's sync API keeps an event loop running in the test's thread while a browser
is open, which Django's async-safety check takes for async code: the ORM calls of these
tests are plain sync calls between browser steps, so that check is switched off for the
length of a browser test only, and the browser is started and stopped per test (a
browser kept for the session would leave that loop running under the tests that follow).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, connections
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("browser tests share the test database with a server: set DATABASE_URL")
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{auth}@{host}/{db['NAME']}"


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"daphne exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/accounts/login/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(f"daphne did not answer within 30 s:\n{log.read_text()[-3000:]}")


def _wait_until_disconnected(process_gone_at: float) -> None:
    """PostgreSQL notices the server's connections closing a moment after it exits; the
    test database can only be dropped once they are gone."""
    with connection.cursor() as cursor:
        while time.monotonic() < process_gone_at + 10:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            row = cursor.fetchone()
            if row is not None and row[0] == 0:
                return
            time.sleep(0.05)


@pytest.fixture(scope="session")
def server_url(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("daphne") / "daphne.log"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DEBUG": "1",
        # the periodic jobs would close the test halls' day after their closing time
        "EMBEDDED_SCHEDULER": "0",
        "DJANGO_SETTINGS_MODULE": "hall_ops.settings",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
            + ["hall_ops.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        with django_db_blocker.unblock():
            _wait_until_disconnected(time.monotonic())


@pytest.fixture
def browser(monkeypatch) -> Iterator[Browser]:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # While Playwright's loop runs, asgiref's context-local storage hands the ORM a
        # connection of its own; close it here, or it outlives the test database.
        connections.close_all()


@pytest.fixture
def open_page(browser: Browser, server_url: str) -> Callable[..., Page]:
    """`open_page(user, path)`: a page of a fresh browser context, logged in as `user`
    (None: anonymous), in `language`, at `path` (None: not yet anywhere), its device
    clock in `timezone_id` (None: the machine's)."""

    def open_(
        user=None,
        path: str | None = "/",
        *,
        language: str = "zh-hans",
        size: tuple[int, int] = (1440, 900),
        timezone_id: str | None = None,
    ) -> Page:
        context: BrowserContext = browser.new_context(
            base_url=server_url,
            viewport={"width": size[0], "height": size[1]},
            timezone_id=timezone_id,
        )
        cookies = [{"name": "django_language", "value": language, "url": server_url}]
        if user is not None:
            client = Client()
            client.force_login(user)
            session = client.cookies["sessionid"].value
            cookies.append({"name": "sessionid", "value": session, "url": server_url})
        context.add_cookies(cookies)  # type: ignore[arg-type]
        page = context.new_page()
        if path is not None:
            page.goto(path)
        return page

    return open_

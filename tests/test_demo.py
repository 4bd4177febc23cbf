"""`make demo` on a fresh machine: migrate a new SQLite file, load the demo city, serve it.

Everything runs as the Makefile runs it, in subprocesses on a SQLite file of its own
(the embedded default: no Redis), and the results are read from that file.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.urls import reverse

from queueing.models import StaffRole

ROOT = Path(__file__).resolve().parent.parent
LOADED = re.compile(r"Demo city loaded for (\S+), simulated up to (\S+) \(seed 1\)")


def demo_env(db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    return env | {"DATABASE_URL": f"sqlite:///{db}", "DEBUG": "1"} | extra


def manage(db: Path, *args: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=demo_env(db, **env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def query(db: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def counts(db: Path) -> dict[str, int]:
    tables = (
        "queueing_hall",
        "queueing_service",
        "queueing_window",
        "auth_user",
        "queueing_staffrole",
        "queueing_ticket",
        "queueing_ticketevent",
    )
    return {table: query(db, f"SELECT COUNT(*) FROM {table}")[0][0] for table in tables}


def digest(db: Path) -> list[tuple]:
    """Every ticket as a visitor and the clerks would see it; no database ids."""
    return query(
        db,
        """SELECT h.code, t.business_date, t.number, t.status, s.prefix, w.label,
                  t.issued_at, t.called_at, t.ended_at, t.outcome, t.missing_documents,
                  t.is_elderly, v.id_hmac
           FROM queueing_ticket t
           JOIN queueing_hall h ON h.id = t.hall_id
           JOIN queueing_service s ON s.id = t.service_id
           LEFT JOIN queueing_window w ON w.id = t.window_id
           LEFT JOIN queueing_visitor v ON v.id = t.visitor_id
           ORDER BY h.code, t.business_date, t.number""",
    )


@dataclass
class Demo:
    db: Path
    output: str
    date: str
    now: str
    counts: dict[str, int]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "empty.db"
    manage(db, "migrate", "--noinput")
    return db


@pytest.fixture(scope="module")
def demo(migrated: Path) -> Demo:
    db = migrated.with_name("demo.db")
    shutil.copy(migrated, db)
    output = manage(db, "load_demo", PORT="8765")
    loaded = LOADED.search(output)
    assert loaded, output
    return Demo(db, output, loaded[1], loaded[2], counts(db))


def test_it_builds_three_halls_with_their_services_and_windows(demo):
    halls = query(demo.db, "SELECT code, name, opens_at, closes_at FROM queueing_hall")
    assert {h[0] for h in halls} == {"futian", "nanshan", "luohu"}
    assert "福田区社保服务大厅" in {h[1] for h in halls}
    per_hall = query(
        demo.db,
        """SELECT h.code, COUNT(*), SUM(w.is_priority) FROM queueing_window w
           JOIN queueing_hall h ON h.id = w.hall_id GROUP BY h.code""",
    )
    for _code, windows, priority in per_hall:
        assert 8 <= windows <= 14
        assert priority == 1
    services = query(demo.db, "SELECT prefix FROM queueing_service ORDER BY prefix")
    assert [s[0] for s in services] == ["A", "B", "C", "D", "E", "F"]


def test_it_creates_a_login_for_every_role(demo):
    roles = {r[0] for r in query(demo.db, "SELECT DISTINCT role FROM queueing_staffrole")}
    assert roles == set(StaffRole.Role.values)
    director = query(
        demo.db,
        """SELECT COUNT(DISTINCT r.hall_id) FROM queueing_staffrole r
           JOIN auth_user u ON u.id = r.user_id WHERE u.username = 'director'""",
    )
    assert director == [(3,)]
    assert query(demo.db, "SELECT username FROM auth_user WHERE is_superuser") == [("admin",)]


@pytest.fixture(scope="module")
def midday(demo: Demo, migrated: Path) -> Demo:
    """The demo loaded at 11:30 of its day: a full morning behind it whatever the hour
    the tests run (between 00:00 and 03:00 the live demo's day is squeezed, see
    queueing.demo.day.demo_day)."""
    db = migrated.with_name("midday.db")
    shutil.copy(migrated, db)
    output = manage(db, "load_demo", "--now", f"{demo.date}T11:30:00")
    loaded = LOADED.search(output)
    assert loaded, output
    return Demo(db, output, loaded[1], loaded[2], counts(db))


def test_it_fills_today_with_hundreds_of_tickets_and_a_live_queue(midday):
    demo = midday
    today = query(
        demo.db,
        """SELECT h.code, COUNT(*), SUM(t.status = 'waiting'), SUM(t.status = 'serving'),
                  SUM(t.status = 'completed'), SUM(t.status = 'no_show'),
                  SUM(t.outcome = 'missing_documents')
           FROM queueing_ticket t JOIN queueing_hall h ON h.id = t.hall_id
           WHERE t.business_date = ? GROUP BY h.code""",
        demo.date,
    )
    assert len(today) == 3
    assert sum(row[1] for row in today) >= 300
    for code, tickets, waiting, serving, completed, no_show, missing in today:
        assert 100 <= tickets <= 200, code
        assert waiting > 0 and serving > 0 and completed > tickets / 2, code
        assert no_show > 0 and missing > 0, code
    open_windows = query(
        demo.db, "SELECT status, COUNT(*) FROM queueing_window GROUP BY status ORDER BY status"
    )
    assert {status for status, _ in open_windows} == {"open", "paused", "closed"}
    elderly = query(
        demo.db,
        "SELECT COUNT(*) FROM queueing_ticket WHERE is_elderly AND business_date = ?",
        demo.date,
    )
    assert elderly[0][0] > 0


def test_it_brings_back_visitors_of_earlier_days(demo):
    repeat = query(
        demo.db,
        """SELECT COUNT(DISTINCT today.visitor_id) FROM queueing_ticket today
           JOIN queueing_ticket before ON before.visitor_id = today.visitor_id
                AND before.service_id = today.service_id
                AND before.business_date < today.business_date
           WHERE today.business_date = ? AND before.outcome = 'missing_documents'""",
        demo.date,
    )
    assert repeat[0][0] >= 3


def test_it_never_stores_a_raw_id_number(demo):
    masked = query(demo.db, "SELECT masked_id FROM queueing_visitor")
    assert masked
    assert all(re.fullmatch(r"\*{16}\d[\dX]", m) for (m,) in masked)


def test_it_prints_the_address_and_the_logins(demo):
    assert "http://127.0.0.1:8765/" in demo.output
    for line in ("futian-manager", "nanshan-clerk1", "luohu-kiosk", "director", "admin"):
        assert re.search(rf"^\s+{line}\s+demo\s", demo.output, re.MULTILINE), line
    assert reverse("queueing:kiosk", kwargs={"code": "luohu"}) in demo.output
    assert "/admin/" in demo.output


def test_it_changes_nothing_when_loaded_again(demo):
    output = manage(demo.db, "load_demo")

    assert "loaded already" in output
    assert counts(demo.db) == demo.counts


def test_it_makes_the_same_day_again_from_the_same_seed_and_moment(demo, migrated):
    before = digest(demo.db)
    again = migrated.with_name("again.db")
    shutil.copy(migrated, again)

    manage(again, "load_demo", "--seed", "1", "--now", f"{demo.date}T{demo.now}")

    assert digest(again) == before
    manage(again, "load_demo", "--reset", "--seed", "2", "--now", f"{demo.date}T{demo.now}")
    after = counts(again)
    assert after["queueing_hall"] == 3 and after["auth_user"] == demo.counts["auth_user"]
    assert digest(again) != before


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(demo) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
        + ["hall_ops.asgi:application"],
        cwd=ROOT,
        env=demo_env(demo.db),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "daphne did not listen within 60 s"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def test_it_serves_the_demo_with_daphne(server):
    with urllib.request.urlopen(server + reverse("login"), timeout=30) as response:
        assert response.status == 200
        page = response.read().decode()
    assert 'name="username"' in page
    kiosk = reverse("queueing:kiosk", kwargs={"code": "futian"})
    # anonymous: sent to log in first
    with pytest.raises(urllib.error.HTTPError) as redirected:
        opener = urllib.request.build_opener(_NoRedirect)
        opener.open(server + kiosk, timeout=30)
    assert redirected.value.code == 302
    assert reverse("login") in redirected.value.headers["Location"]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None

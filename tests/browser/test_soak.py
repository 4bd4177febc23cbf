"""Every live page left open side by side while the hall moves: the board, the floor
tablet, the director's overview, the calling display, a clerk's console, the hall page
and the kiosk. Tickets are issued, called, started and completed through the running
server's API (so each change is pushed as in a real hall) for a bit under two minutes;
each page must keep one copy of itself (its header once, no element id twice), a DOM
that stays near its size after the first updates, and a steady request rate: a page
that swaps more than its fragment, or polls more each time, fails here.

Marked `soak`: it costs CI about two minutes, not a quarter of an hour, because all the
pages share the one run."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.api_support import token_client
from tests.browser.support import live, shot
from tests.factories import national_id

pytestmark = [
    pytest.mark.browser,
    pytest.mark.soak,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

WARM_UP_S = 25  # the first updates: each page's size is measured after them
DURATION_S = 105  # all the driving, warm-up included
STEP_S = 3.0  # one ticket issued and one window moved on per step
DOM_GROWTH = 1.5  # the DOM at the end, at most this times its size after the warm-up…
DOM_SLACK = 300  # …plus this many nodes (a few more cards or rows are fine)
MAX_REQUESTS_PER_MIN = 90  # any page, in the second half
RATE_GROWTH = 1.5  # the second half's rate against the first's (+ RATE_SLACK)
RATE_SLACK = 10


@dataclass
class Watched:
    name: str
    page: Page
    header: str  # the selector of the page's one header
    requests: list[float] = field(default_factory=list)

    def dom(self) -> int:
        return int(self.page.evaluate("document.getElementsByTagName('*').length"))

    def duplicate_ids(self) -> list[str]:
        return list(
            self.page.evaluate(
                """() => { const seen = {}, twice = new Set();
                    document.querySelectorAll('[id]').forEach(el => {
                      if (seen[el.id]) twice.add(el.id); seen[el.id] = true; });
                    return [...twice]; }"""
            )
        )

    def rate(self, start: float, end: float) -> float:
        """Requests per minute in [start, end) (seconds since the driving began)."""
        count = sum(1 for at in self.requests if start <= at < end)
        return count * 60 / (end - start)


class Driver:
    """Moves hall h1 through its server's API: each step issues a ticket and moves each
    window on (call, start, complete), so three windows serve about what arrives."""

    def __init__(self, server_url: str, key: str, windows: list[int]) -> None:
        self.url = f"{server_url}/api/v1"
        self.key = key
        self.windows = windows
        self.holding: dict[int, tuple[int, str]] = {}  # window -> (ticket, next step)
        self.issued = 0
        self.served = 0

    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body or {}).encode(),
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=15) as response:
            return json.loads(response.read())

    def step(self) -> None:
        self.issued += 1
        body: dict[str, Any] = {"service": "A" if self.issued % 3 else "B"}
        if self.issued % 4 == 0:  # now and then an elderly visitor: alerts for the floor
            body["id_number"] = national_id(dt.date(1950, 1, 1), serial=f"{self.issued:03d}")
        self._post("/halls/h1/tickets", body)
        for window in self.windows:
            self._move(window)

    def _move(self, window: int) -> None:
        held = self.holding.pop(window, None)
        if held is None:
            answer = self._post(f"/windows/{window}/call-next")
            if answer["ticket"] is not None:
                self.holding[window] = (answer["ticket"]["id"], "start")
        elif held[1] == "start":
            self._post(f"/tickets/{held[0]}/start")
            self.holding[window] = (held[0], "complete")
        else:
            self._post(f"/tickets/{held[0]}/complete", {"outcome": "done"})
            self.served += 1


def test_it_keeps_every_live_page_bounded_under_live_updates(city, open_page, server_url):
    api = token_client(city.h1)
    opened = [
        ("board", city.alice, "/halls/h1/board/", (1440, 900), "header.topbar"),
        ("tablet", city.carol, "/halls/h1/tablet/", (1024, 768), "header.topbar"),
        ("overview", city.dave, "/overview/", (1440, 900), "header.topbar"),
        ("display", city.kiosk1, "/halls/h1/display/", (1920, 1080), "header.board-head"),
        ("console", city.bob, f"/windows/{city.w1.pk}/console/", (1440, 900), "header.topbar"),
        ("hall", city.alice, "/halls/h1/", (1440, 900), "header.topbar"),
        ("kiosk", city.kiosk1, "/halls/h1/kiosk/", (1080, 1920), "header.kiosk-head"),
    ]
    watched: list[Watched] = []
    began = time.monotonic() + 3600.0  # requests before the driving starts are not counted
    for name, user, path, size, header in opened:
        page = open_page(user, path, size=size)
        one = Watched(name, page, header)

        def seen(request: Any, one: Watched = one) -> None:
            if request.url.startswith(server_url):
                one.requests.append(time.monotonic() - began)

        page.on("request", seen)
        watched.append(one)
    for one in watched:
        if one.name != "overview":  # the overview has no queue socket, only the alerts'
            live(one.page)

    driver = Driver(server_url, api.key, [city.w1.pk, city.w2.pk, city.w3.pk])
    began = time.monotonic()
    early: dict[str, int] = {}
    while (elapsed := time.monotonic() - began) < DURATION_S:
        driver.step()
        if not early and elapsed >= WARM_UP_S:
            early = {one.name: one.dom() for one in watched}
        # the browser's events (the requests counted above) arrive while Playwright waits
        left = STEP_S - (time.monotonic() - began - elapsed)
        watched[0].page.wait_for_timeout(max(0.0, left) * 1000)
    end = time.monotonic() - began
    half = WARM_UP_S + (end - WARM_UP_S) / 2

    report = []
    failures = []
    for one in watched:
        nodes = one.dom()
        first, second = one.rate(WARM_UP_S, half), one.rate(half, end)
        headers = int(one.page.locator(one.header).count())
        twice = one.duplicate_ids()
        report.append(
            f"{one.name}: DOM {early[one.name]} -> {nodes},"
            f" requests/min {first:.0f} -> {second:.0f}, headers {headers}, ids twice {twice}"
        )
        shot(one.page, f"soak-{one.name}-zh")
        if headers != 1:
            failures.append(f"{one.name}: {headers} headers")
        if twice:
            failures.append(f"{one.name}: ids twice {twice[:5]}")
        if nodes > early[one.name] * DOM_GROWTH + DOM_SLACK:
            failures.append(f"{one.name}: DOM grew {early[one.name]} -> {nodes}")
        if second > MAX_REQUESTS_PER_MIN or second > first * RATE_GROWTH + RATE_SLACK:
            failures.append(f"{one.name}: requests/min {first:.0f} -> {second:.0f}")
    report.append(f"issued {driver.issued}, served {driver.served} in {end:.0f} s")
    print("\n".join(report))
    assert driver.issued >= DURATION_S / STEP_S * 0.8, "the driver fell behind"
    assert not failures, "\n".join(failures + report)

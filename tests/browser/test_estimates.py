"""Estimates where people see them, in a real browser against a real daphne: each
waiting ticket's estimate on the window console, and on the manager board the wait for
a person arriving now per service and the staffing advice, which follows a window the
manager opens."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from queueing import services
from tests.browser.support import live, shot
from tests.test_pages_board import SH
from tests.test_staffing import made_history

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _fresh_cache():
    # the server shares the cache when REDIS_URL is set
    cache.clear()
    yield
    cache.clear()


def test_the_console_shows_each_waiting_ticket_s_estimate(city, open_page):
    for _ in range(7):
        services.ticket_issue(hall=city.h1, service=city.pension)
    page = open_page(city.bob, f"/windows/{city.w2.pk}/console/", language="en")
    live(page)
    items = page.locator(".queue-item")
    expect(items).to_have_count(7)
    expect(items.nth(6).locator("[data-estimate]")).to_have_text(
        re.compile(r"Expected wait: about \d+ min, \d+–\d+")
    )
    last = items.nth(6).locator("[data-estimate]").inner_text()
    third = items.nth(3).locator("[data-estimate]").inner_text()
    minutes = [int(re.search(r"about (\d+) min", t)[1]) for t in (third, last)]  # type: ignore[index]
    assert minutes[1] > minutes[0]
    shot(page, "console-estimates-en")


def test_the_board_shows_arrival_estimates_and_staffing_advice_that_follows_a_window(
    city, open_page
):
    city.h1.opens_at, city.h1.closes_at = dt.time(0), dt.time(23, 59)
    city.h1.save(update_fields=["opens_at", "closes_at"])
    now = timezone.localtime(timezone.now(), SH)
    for k in range(1, 9):
        for hour in range(now.hour, 24):
            made_history(
                city.h1, city.pension, now.date() - dt.timedelta(weeks=k), hour, 12, window=city.w1
            )
    services.window_set_status(window=city.w3, status="closed")
    # a short queue: the advice for the running hour counts it on top of the forecast
    for _ in range(2):
        services.ticket_issue(hall=city.h1, service=city.pension)

    page = open_page(city.alice, "/halls/h1/board/", language="en")
    live(page)
    pension = page.locator('[data-service="A"]')
    expect(pension.locator("[data-arrival-estimate]")).to_contain_text(
        re.compile(r"Arriving now:\s+Expected wait: about \d+ min, \d+–\d+")
    )
    advice = page.locator("[data-staffing]")
    expect(advice).to_contain_text("open 1 more window for Pensions, Social insurance")
    shot(page, "board-staffing-en")

    # the manager opens W03: the live fragment comes back without that advice
    page.locator('tr[data-window="W03"]').get_by_role("button", name="Open").click()
    expect(page.locator('tr[data-window="W03"] [data-window-status]')).to_have_attribute(
        "data-window-status", "open"
    )
    expect(advice.locator("[data-staffing-ok]")).to_be_visible()
    expect(advice).not_to_contain_text("open 1 more window")

"""The kiosk and the display in a real browser: their clocks show the hall's time on a
device set to another zone, and the ticket slip prints alone on a receipt roll."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from playwright.sync_api import expect

from tests.browser.support import live, shot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]
MM = 72 / 25.4  # PDF points per millimetre


def _other_zone(hall_zone: str) -> str:
    """A zone whose clock reads differently from the hall's right now."""
    now = dt.datetime.now(dt.UTC)
    hall = now.astimezone(zoneinfo.ZoneInfo(hall_zone)).strftime("%H")
    for zone in ("America/Los_Angeles", "Pacific/Kiritimati", "Europe/London"):
        if now.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%H") != hall:
            return zone
    raise AssertionError("no zone differs")


@pytest.mark.parametrize("path", ["/halls/h1/kiosk/", "/halls/h1/display/"])
def test_it_shows_the_hall_s_time_on_a_device_in_another_zone(city, open_page, path):
    device_zone = _other_zone(city.h1.timezone)
    page = open_page(city.kiosk1, path, size=(1080, 1920), timezone_id=device_zone)
    live(page)
    device_hour = page.evaluate("String(new Date().getHours()).padStart(2, '0')")
    assert device_hour == dt.datetime.now(zoneinfo.ZoneInfo(device_zone)).strftime("%H")
    page.wait_for_timeout(1_500)  # past the clock's first tick
    clock = page.locator("[data-clock]").first
    hall_now = city.h1.local_now()
    shown = clock.inner_text()
    assert shown in {f"{hall_now:%H:%M}", f"{hall_now + dt.timedelta(minutes=1):%H:%M}"}
    assert not shown.startswith(device_hour + ":")


def _pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    return [(float(w) / MM, float(h) / MM) for w, h in boxes]


@pytest.mark.parametrize("width", [80, 58])
def test_it_prints_the_ticket_slip_alone_on_a_receipt_roll(city, open_page, width):
    page = open_page(city.kiosk1, f"/halls/h1/kiosk/?slip={width}")
    live(page)
    page.get_by_role("button", name=re.compile("养老保险")).click()
    expect(page.locator("[data-ticket-number]")).to_have_text("A001")
    expect(page.locator("[data-print-ticket]")).to_be_visible()
    slip = page.locator("[data-ticket-slip]")
    expect(slip).to_be_hidden()  # on the screen, only the big number

    page.emulate_media(media="print")
    expect(slip).to_be_visible()
    expect(page.locator(".ticket-big")).to_be_hidden()
    expect(page.locator(".kiosk-head")).to_be_hidden()
    text = slip.inner_text()
    for part in ("第一服务大厅", "A001", "养老保险", "前面没有人", "取号时间"):
        assert part in text, part
    assert re.search(r"\d{2}:\d{2}", text)
    # what the roll shows: the page at the paper's width, for the screenshot
    page.set_viewport_size({"width": round(width * 96 / 25.4), "height": 480})
    shot(page, f"kiosk-slip-{width}mm-zh")

    pages = _pdf_pages(page.pdf(prefer_css_page_size=True))
    assert len(pages) == 1, pages  # one slip, one piece of paper
    paper_width, _ = pages[0]
    assert abs(paper_width - width) < 1, pages


def test_it_prints_each_ticket_by_itself_once_told_to(city, open_page):
    page = open_page(city.kiosk1, None)
    page.add_init_script("window.printed = 0; window.print = () => { window.printed += 1; };")
    page.goto("/halls/h1/kiosk/")
    live(page)
    pension = page.get_by_role("button", name=re.compile("养老保险"))
    pension.click()
    expect(page.locator("[data-ticket-number]")).to_have_text("A001")
    page.get_by_role("button", name="打印号票").click()  # the visitor asks for a slip
    assert page.evaluate("window.printed") == 1

    page.goto("/halls/h1/kiosk/?autoprint=1")  # the device's setting, kept from now on
    page.goto("/halls/h1/kiosk/")
    live(page)
    for number in ("A002", "A003"):
        pension.click()
        expect(page.locator("[data-ticket-number]")).to_have_text(number)
        page.wait_for_timeout(300)  # past htmx's settle
        page.get_by_role("button", name="完成").click()
        expect(pension).to_be_visible()
    assert page.evaluate("window.printed") == 2  # one slip per ticket, no more

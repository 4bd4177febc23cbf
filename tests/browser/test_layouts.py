"""The screens at the sizes they are used at: a phone (390x844), a tablet in portrait
(768x1024) and landscape (1024x768), the kiosk's portrait screen (1080x1920), in both
languages. Each check is a fact a person would notice: a header taller than a few lines,
a page that scrolls sideways, text broken one character per line, a cut-off button, the
floor tablet's greet list below the fold, a kiosk that leaves most of its screen empty.
Screenshots go to HALL_OPS_SCREENSHOTS for a person to look at."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from hall_ops.models import Alert
from queueing import services
from tests.browser.support import live, shot
from tests.factories import national_id

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

PHONE = (390, 844)
TABLET_PORTRAIT = (768, 1024)
TABLET_LANDSCAPE = (1024, 768)
KIOSK = (1080, 1920)
LANGUAGES = ["zh-hans", "en"]

# facts about the page as laid out, measured in the browser
FACTS = (Path(__file__).parent / "layout_facts.js").read_text()


def facts(page: Page) -> dict[str, Any]:
    return dict(page.evaluate(FACTS))


def assert_laid_out(page: Page, name: str, *, max_header: int) -> dict[str, Any]:
    shot(page, name)
    found = facts(page)
    width = found["viewport"][0]
    assert found["scrollWidth"] <= width, f"{name}: scrolls sideways {found}"
    assert not found["overflowing"], f"{name}: wider than the screen {found['overflowing']}"
    assert not found["brokenText"], f"{name}: one character per line {found['brokenText']}"
    assert not found["clipped"], f"{name}: cut-off labels {found['clipped']}"
    assert found["header"] is not None and found["header"] <= max_header, f"{name}: header {found}"
    return found


@pytest.fixture
def busy_hall(city):
    """Hall h1 with a long name, 20 elderly visitors waiting (20 alert cards) and a window
    serving: the crowded case."""
    city.h1.name = "深圳市南山区人力资源和社会保障局第一服务大厅"
    city.h1.name_en = "Nanshan District Human Resources and Social Security Hall No. 1"
    city.h1.save(update_fields=["name", "name_en"])
    for n in range(20):
        born = national_id(dt.date(1950, 1, 1), serial=f"{n:03d}")
        services.ticket_issue(hall=city.h1, service=city.pension, id_number=born)
    services.ticket_call_next(window=city.w1)
    assert Alert.objects.filter(hall=city.h1).count() >= 20
    return city


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_fits_a_phone(busy_hall, open_page, language):
    city = busy_hall
    for who, path, name in [
        (city.alice, "/halls/h1/", "hall"),
        (city.alice, "/halls/h1/board/", "board"),
        (city.carol, "/halls/h1/tablet/", "tablet"),
        (city.bob, f"/windows/{city.w1.pk}/console/", "console"),
        (city.dave, "/overview/", "overview"),
    ]:
        page = open_page(who, path, size=PHONE, language=language)
        # brand, hall and account: two short rows at most, not a column of characters
        assert_laid_out(page, f"phone-{name}-{language}", max_header=120)
        page.close()


@pytest.mark.parametrize("size", [TABLET_PORTRAIT, TABLET_LANDSCAPE], ids=["portrait", "landscape"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_it_shows_the_greet_list_on_the_tablet_s_first_screen(busy_hall, open_page, size, language):
    page = open_page(busy_hall.carol, "/halls/h1/tablet/", size=size, language=language)
    live(page)
    orientation = "portrait" if size == TABLET_PORTRAIT else "landscape"
    first = page.locator(".greet-item").first
    box = first.bounding_box()
    assert box is not None, "no one on the greet list"
    # where floor staff see it without scrolling
    assert box["y"] + box["height"] <= size[1], f"first greet entry at {box['y']:.0f} px"
    assert_laid_out(page, f"tablet-{orientation}-{language}", max_header=130)
    for path, name in [("/halls/h1/board/", "board"), ("/halls/h1/", "hall")]:
        other = open_page(busy_hall.alice, path, size=size, language=language)
        assert_laid_out(other, f"{name}-{orientation}-{language}", max_header=130)
        other.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_fills_the_kiosk_s_portrait_screen_with_large_targets(busy_hall, open_page, language):
    page = open_page(busy_hall.kiosk1, "/halls/h1/kiosk/", size=KIOSK, language=language)
    live(page)
    found = assert_laid_out(page, f"kiosk-portrait-{language}", max_header=140)
    height = KIOSK[1]
    assert found["scrollHeight"] <= height + 1, "the kiosk scrolls"
    used = page.evaluate(
        """() => Math.max(...[...document.querySelectorAll('main *')]
                 .map(el => el.getBoundingClientRect())
                 .filter(r => r.height > 0).map(r => r.bottom))"""
    )
    assert used >= 0.85 * height, f"content ends at {used:.0f} of {height} px"
    for button in page.locator(".service-button").all():
        box = button.bounding_box()
        assert box is not None and box["height"] >= 200 and box["width"] >= 480, box
    key = page.locator(".key").first.bounding_box()
    assert key is not None and key["height"] >= 80 and key["width"] >= 120, key

    page.get_by_role(
        "button", name=busy_hall.pension.name_zh if language != "en" else "Pensions"
    ).click()
    page.wait_for_selector("[data-ticket-number]")
    found = assert_laid_out(page, f"kiosk-portrait-ticket-{language}", max_header=140)
    assert found["scrollHeight"] <= height + 1, "the ticket screen scrolls"
    number = page.locator(".ticket-big").bounding_box()
    assert number is not None and number["height"] >= 200, number
    done = page.locator(".kiosk-ticket .btn-huge").last.bounding_box()
    assert done is not None and done["height"] >= 80, done


@pytest.mark.parametrize("size", [KIOSK, TABLET_PORTRAIT], ids=["kiosk", "portrait"])
def test_the_calling_display_fits_a_portrait_screen(busy_hall, open_page, size):
    """The demo's display on a 1080x1920 screen was 1,418 px wide: the number sized by
    the screen's height pushed the recent calls off the right edge."""
    page = open_page(busy_hall.kiosk1, "/halls/h1/display/", size=size)
    live(page)
    shot(page, f"display-{size[0]}x{size[1]}")
    width = size[0]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for selector in (".board-latest", ".board-recent", ".board-number", ".board-window"):
        box = page.locator(selector).first.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (
            selector,
            box,
        )
    recent = page.locator(".board-recent").bounding_box()
    assert recent is not None and recent["y"] + 80 <= size[1], f"recent calls off screen {recent}"

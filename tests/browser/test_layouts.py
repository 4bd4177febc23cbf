"""The screens at the sizes they are used at: a phone (390x844), a tablet in portrait
(768x1024) and landscape (1024x768), the kiosk's portrait screen (1080x1920), in both
languages. Each check is a fact a person would notice: a header taller than a few lines,
a page that scrolls sideways, text broken one character per line, a cut-off button, the
floor tablet's greet list below the fold, a kiosk that leaves most of its screen empty.
Screenshots go to HALL_OPS_SCREENSHOTS for a person to look at."""

from __future__ import annotations

import datetime as dt
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

# Facts about the page as laid out, measured in the browser.
FACTS = """() => {
  const vw = window.innerWidth;
  // drawn: in the layout, not hidden, not inside a closed <details>
  const visible = el => { const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && el.checkVisibility({visibilityProperty: true}); };
  const clipsX = el => ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(el).overflowX);
  const inScroller = el => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement)
    if (clipsX(p)) return true; return false; };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const overflowing = [];
  document.querySelectorAll('body *').forEach(el => {
    if (!visible(el) || inScroller(el)) return;
    const r = el.getBoundingClientRect();
    if (r.right > 0 && r.left < vw && (r.right > vw + 1 || r.left < -1)) overflowing.push(name(el) + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
  });
  // text laid out about one character per line: at least 3 lines, at most 2 characters each
  const brokenText = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    if (text.length < 3 || !node.parentElement || !visible(node.parentElement)) continue;
    const range = document.createRange(); range.selectNodeContents(node);
    const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
    if (tops.size >= 3 && text.replace(/\\s+/g, '').length <= tops.size * 2) brokenText.push(text.slice(0, 30));
  }
  // a label cut off inside its own box ("Englis")
  const clipped = [];
  document.querySelectorAll('button, a.btn, .lang, .brand, .topbar-hall, .topbar-user').forEach(el => {
    if (visible(el) && el.scrollWidth > el.clientWidth + 1) clipped.push(name(el) + ' ' + el.textContent.trim().slice(0, 20));
  });
  const header = document.querySelector('header.topbar, header.kiosk-head');
  return {
    viewport: [vw, window.innerHeight],
    scrollWidth: document.documentElement.scrollWidth,
    scrollHeight: document.documentElement.scrollHeight,
    header: header ? Math.round(header.getBoundingClientRect().height) : null,
    overflowing: overflowing.slice(0, 10), brokenText: brokenText.slice(0, 10), clipped: clipped.slice(0, 10),
  };
}"""


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
    assert_laid_out(page, f"tablet-{orientation}-{language}", max_header=130)
    first = page.locator(".greet-item").first
    box = first.bounding_box()
    assert box is not None, "no one on the greet list"
    # where floor staff see it without scrolling
    assert box["y"] + box["height"] <= size[1], f"first greet entry at {box['y']:.0f} px"
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
        """() => { let bottom = 0; document.querySelectorAll('main *').forEach(el => {
             const r = el.getBoundingClientRect(); if (r.height > 0) bottom = Math.max(bottom, r.bottom); });
           return bottom; }"""
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

"""Every main page runs under the Content-Security-Policy in a real Chromium: no
violation is reported, and the page's own JS still works (the live socket comes up,
htmx and the page scripts run)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import live, shot
from tests.browser.test_zone_editor import post_snapshot, zones_url
from tests.vision_app_support import make_camera

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

RECORD = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(
    e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile + ":" + e.lineNumber
  );
});
"""


def watched(open_page, user, path: str, **kw) -> tuple[Page, list[str]]:
    page = open_page(user, None, language="en", **kw)
    messages: list[str] = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    page.add_init_script(RECORD)
    page.goto(path)
    return page, messages


def assert_clean(page: Page, messages: list[str]) -> None:
    page.wait_for_timeout(300)
    violations = page.evaluate("window.__csp")
    assert violations == [], violations
    refused = [m for m in messages if "Content Security Policy" in m or "pageerror" in m]
    assert refused == [], refused


def test_the_main_pages_run_with_no_csp_violation(city, open_page, server_url):
    camera = make_camera(city.h1)
    post_snapshot(server_url, camera)
    pages = [
        (city.alice, "/halls/h1/board/", "board"),
        (city.carol, "/halls/h1/tablet/", "tablet"),
        (city.bob, f"/windows/{city.w1.pk}/console/", "console"),
        (city.kiosk1, "/halls/h1/kiosk/", "kiosk"),
        (city.kiosk1, "/halls/h1/display/", "display"),
    ]
    for user, path, name in pages:
        page, messages = watched(open_page, user, path)
        live(page)  # live.js ran and its socket (connect-src 'self') is open
        shot(page, f"csp-{name}")
        assert_clean(page, messages)

    # htmx works: the kiosk's service button swaps in a ticket slip
    page, messages = watched(open_page, city.kiosk1, "/halls/h1/kiosk/")
    page.get_by_role("button", name="Pensions").click()
    expect(page.locator("[data-ticket-number]")).to_be_visible()
    assert_clean(page, messages)

    # the zone editor's script draws the zone table from the saved zones
    page, messages = watched(open_page, city.alice, zones_url(camera))
    page.wait_for_function("document.getElementById('zone-snapshot').naturalWidth === 640")
    expect(page.locator("#zone-svg")).to_be_visible()
    shot(page, "csp-zones")
    assert_clean(page, messages)

    page, messages = watched(open_page, city.alice, "/halls/h1/report/")
    expect(page.locator("[data-print]").first).to_be_visible()
    assert_clean(page, messages)

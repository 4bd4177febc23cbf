"""The zone editor (static/js/zones.js) in a real browser against a real daphne: the
hall manager draws a zone by clicking on the worker's blurred snapshot, sets its kind,
capacity and service, saves, and finds it after a reload and in the database in 0-1
coordinates; drags a corner, removes a corner and a zone; and a polygon the server
refuses shows the server's reason while the drawing and the saved zones stay."""

from __future__ import annotations

import json
import urllib.request

import cv2
import numpy as np
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.support import shot
from tests.vision_app_support import camera_client, make_camera, make_zone
from vision.models import Camera, Zone

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

LEFT = [[0.05, 0.05], [0.45, 0.05], [0.45, 0.45], [0.05, 0.45]]
RIGHT = [[0.55, 0.55], [0.95, 0.55], [0.95, 0.95], [0.55, 0.95]]


def zones_url(camera: Camera) -> str:
    return f"/halls/{camera.hall.code}/cameras/{camera.pk}/zones/"


def post_snapshot(server_url: str, camera: Camera) -> None:
    """The worker's blurred snapshot, 640x480, posted to the running server (whose
    cache is its own): the editor then draws on a 4:3 picture."""
    ok, jpeg = cv2.imencode(".jpg", np.full((480, 640, 3), 150, dtype=np.uint8))
    assert ok
    request = urllib.request.Request(
        f"{server_url}/api/v1/vision/cameras/{camera.pk}/snapshot",
        data=jpeg.tobytes(),
        headers={
            "Authorization": f"Bearer {camera_client(camera).key}",
            "Content-Type": "image/jpeg",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 204


def click_at(page: Page, x: float, y: float) -> None:
    """A click at (x, y) in 0-1 coordinates of the picture."""
    box = page.locator("#zone-svg").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])


def drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    box = page.locator("#zone-svg").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + start[0] * box["width"], box["y"] + start[1] * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + end[0] * box["width"], box["y"] + end[1] * box["height"], steps=5)
    page.mouse.up()


def row(page: Page, index: int) -> Locator:
    return page.locator("#zone-table tbody tr").nth(index)


def near(polygon: list[list[float]], expected: list[list[float]], tolerance: float = 0.01) -> bool:
    return len(polygon) == len(expected) and all(
        abs(a - b) <= tolerance
        for p, q in zip(polygon, expected, strict=True)
        for a, b in zip(p, q, strict=True)
    )


def save(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Save zones").click()


def test_it_draws_a_zone_on_the_snapshot_and_keeps_it_after_a_reload(city, open_page, server_url):
    camera = make_camera(city.h1)
    post_snapshot(server_url, camera)
    page = open_page(city.alice, zones_url(camera), language="en")
    picture = page.locator("img#zone-snapshot")
    expect(picture).to_be_visible()
    page.wait_for_function("document.getElementById('zone-snapshot').naturalWidth === 640")

    page.get_by_role("button", name="New zone").click()
    corners = [[0.2, 0.3], [0.6, 0.3], [0.6, 0.8], [0.2, 0.8]]
    for x, y in corners:
        click_at(page, x, y)
    first = row(page, 0)
    expect(first.locator("td").nth(4)).to_have_text("4")
    first.locator("input").first.fill("Queue A")
    first.locator("select").first.select_option("queue_line")
    first.locator("input[type=number]").fill("8")
    first.locator("select").nth(1).select_option(str(city.pension.pk))
    shot(page, "zone-editor-drawn")
    save(page)

    assert page.url.endswith(zones_url(camera))  # redirected: saved
    expect(page.locator("#zones-error")).to_have_count(0)
    page.reload()
    first = row(page, 0)
    expect(first.locator("input").first).to_have_value("Queue A")
    expect(first.locator("select").first).to_have_value("queue_line")
    expect(first.locator("input[type=number]")).to_have_value("8")
    expect(page.locator("#zone-svg polygon")).to_have_count(1)

    zone = Zone.objects.get(camera=camera)
    assert (zone.name, zone.kind, zone.capacity) == ("Queue A", "queue_line", 8)
    assert zone.service == city.pension
    # clicks on the 4:3 picture land in 0-1 picture coordinates
    assert near(zone.polygon, corners), zone.polygon
    assert all(0 <= c <= 1 for point in zone.polygon for c in point)


def test_it_moves_and_removes_corners_and_removes_a_zone(city, open_page):
    camera = make_camera(city.h1)
    left = make_zone(camera, "left", polygon=LEFT, capacity=5)
    make_zone(camera, "right", polygon=RIGHT, capacity=6)
    page = open_page(city.alice, zones_url(camera), language="en")
    expect(page.locator("#zone-svg polygon")).to_have_count(2)
    expect(page.locator("#zone-svg circle")).to_have_count(4)  # the first zone is selected

    drag(page, (0.05, 0.05), (0.15, 0.2))
    box = page.locator("#zone-svg").bounding_box()
    assert box is not None
    page.mouse.dblclick(box["x"] + 0.45 * box["width"], box["y"] + 0.45 * box["height"])
    expect(row(page, 0).locator("td").nth(4)).to_have_text("3")

    click_at(page, 0.75, 0.75)  # selects the right zone
    expect(row(page, 1)).to_have_class("selected")
    expect(page.locator("#zone-svg circle")).to_have_count(4)
    page.get_by_role("button", name="Remove selected zone").click()
    expect(page.locator("#zone-table tbody tr")).to_have_count(1)
    save(page)

    expect(page.locator("#zones-error")).to_have_count(0)
    assert list(camera.zones.values_list("name", flat=True)) == ["left"]
    left.refresh_from_db()
    assert near(left.polygon, [[0.15, 0.2], [0.45, 0.05], [0.05, 0.45]]), left.polygon


def test_it_shows_the_servers_reason_for_a_bad_polygon_and_loses_nothing(city, open_page):
    camera = make_camera(city.h1)
    make_zone(camera, "left", polygon=LEFT, capacity=5)
    page = open_page(city.alice, zones_url(camera), language="en")

    # two corners only; a click inside the left zone adds a corner, not a selection
    page.get_by_role("button", name="New zone").click()
    click_at(page, 0.3, 0.3)
    click_at(page, 0.8, 0.3)
    save(page)
    error = page.get_by_role("alert")
    expect(error).to_contain_text("Zone 2 (polygon): Give 3 to 64 corners.")
    expect(page.locator("#zone-table tbody tr")).to_have_count(2)
    expect(row(page, 1).locator("td").nth(4)).to_have_text("2")
    assert list(camera.zones.values_list("name", flat=True)) == ["left"]

    # two more corners make a rectangle; dragging two of them across makes a bow tie
    # (lopsided: the lobes of a symmetric one cancel out, and 'no area' comes first)
    row(page, 1).locator("input").first.click()
    for x, y in ([0.8, 0.8], [0.3, 0.8]):
        click_at(page, x, y)
    drag(page, (0.8, 0.8), (0.35, 0.65))
    drag(page, (0.3, 0.8), (0.7, 0.45))
    save(page)
    expect(page.get_by_role("alert")).to_contain_text(
        "Zone 2 (polygon): The polygon's edges cross each other."
    )
    expect(page.locator("#zone-table tbody tr")).to_have_count(2)
    expect(row(page, 1).locator("td").nth(4)).to_have_text("4")
    assert list(camera.zones.values_list("name", flat=True)) == ["left"]
    shot(page, "zone-editor-refused")

    # untangled from the refused page's drawing, it saves
    row(page, 1).locator("input").first.click()
    drag(page, (0.35, 0.65), (0.8, 0.8))
    drag(page, (0.7, 0.45), (0.3, 0.8))
    save(page)
    expect(page.locator("#zones-error")).to_have_count(0)
    saved = camera.zones.get(name="Zone 2")
    assert near(saved.polygon, [[0.3, 0.3], [0.8, 0.3], [0.8, 0.8], [0.3, 0.8]]), saved.polygon
    assert camera.zones.count() == 2


def test_it_takes_zones_typed_into_the_json_box(city, open_page):
    camera = make_camera(city.h1)
    make_zone(camera, "left", polygon=LEFT, capacity=5)
    page = open_page(city.alice, zones_url(camera), language="en")
    page.get_by_text("Zones as JSON").click()
    typed = [{"id": None, "name": "typed", "kind": "waiting_area", "capacity": 4, "polygon": RIGHT}]
    page.locator("#id_zones").fill(json.dumps(typed))
    # the drawing follows the box, and the box is posted as typed
    expect(page.locator("#zone-table tbody tr")).to_have_count(1)
    expect(page.locator("#zone-svg polygon")).to_have_count(1)
    save(page)
    expect(page.locator("#zones-error")).to_have_count(0)
    zone = camera.zones.get()
    assert (zone.name, zone.capacity, zone.polygon) == ("typed", 4, RIGHT)

    page.get_by_text("Zones as JSON").click()
    page.locator("#id_zones").fill('[{"name": "typed", "capacity": 4, "polygon": "square"}]')
    save(page)
    expect(page.get_by_role("alert")).to_contain_text("typed (polygon)")
    expect(page.locator("#id_zones")).to_have_value(
        '[{"name": "typed", "capacity": 4, "polygon": "square"}]'
    )
    assert camera.zones.get().polygon == RIGHT

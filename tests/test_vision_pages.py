"""The zone editor page and its snapshot: who may see them, saving, refusing bad zones."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from tests.conftest import login
from tests.vision_app_support import SQUARE, make_camera, make_zone
from vision.models import Zone
from vision.services import snapshot_cache_key

JPEG = b"\xff\xd8\xff\xe0blurred"


@pytest.fixture
def camera(city):
    camera = make_camera(city.h1)
    make_zone(camera, "waiting", capacity=12)
    yield camera
    cache.delete(snapshot_cache_key(camera.pk))


def zones_url(camera, code: str = "h1") -> str:
    return f"/halls/{code}/cameras/{camera.pk}/zones/"


def snapshot_url(camera, code: str = "h1") -> str:
    return f"/halls/{code}/cameras/{camera.pk}/snapshot.jpg"


def post_zones(client: Client, camera, zones) -> Any:
    return client.post(
        zones_url(camera), {"zones": json.dumps(zones)}, headers={"Accept-Language": "en"}
    )


def test_it_sends_anonymous_users_to_the_login_page(camera):
    for url in (zones_url(camera), snapshot_url(camera)):
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_refuses_staff_who_do_not_manage_the_hall(camera, city):
    for user in (city.bob, city.carol, city.dave, city.eve):
        client = login(user)
        assert client.get(zones_url(camera)).status_code == 403, user
        assert client.get(snapshot_url(camera)).status_code == 403, user
        assert post_zones(client, camera, []).status_code == 403, user
    assert Zone.objects.filter(camera=camera).count() == 1


def test_it_hides_a_camera_behind_another_halls_address(camera, city):
    client = login(city.eve)
    assert client.get(zones_url(camera, code="h2")).status_code == 404
    assert client.get(snapshot_url(camera, code="h2")).status_code == 404


def test_it_shows_the_editor_with_the_zones(camera, city, django_assert_max_num_queries):
    client = login(city.alice)
    with django_assert_max_num_queries(10):
        response = client.get(zones_url(camera), headers={"Accept-Language": "en"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "zones.js" in body and 'id="zones-data"' in body
    assert '"name": "waiting"' in body
    assert "No snapshot" in body


def test_it_serves_the_snapshot_from_the_cache_without_storing_it(camera, city):
    client = login(city.alice)
    assert client.get(snapshot_url(camera)).status_code == 404
    cache.set(snapshot_cache_key(camera.pk), JPEG, 60)
    response = client.get(snapshot_url(camera))
    assert response.status_code == 200
    assert response.content == JPEG
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "no-store"
    assert "snapshot.jpg" in client.get(zones_url(camera)).content.decode()


def test_it_saves_edited_new_and_removed_zones(camera, city):
    existing = camera.zones.get()
    removed = make_zone(camera, "old")
    triangle = [[0.1, 0.1], [0.5, 0.1], [0.3, 0.6]]
    response = post_zones(
        login(city.alice),
        camera,
        [
            {
                "id": existing.pk,
                "name": "hall",
                "kind": "waiting_area",
                "capacity": 30,
                "polygon": SQUARE,
            },
            {
                "id": None,
                "name": "queue A",
                "kind": "queue_line",
                "capacity": 8,
                "polygon": triangle,
                "service": city.pension.pk,
            },
        ],
    )
    assert response.status_code == 302
    zones = {z.name: z for z in camera.zones.all()}
    assert set(zones) == {"hall", "queue A"}
    assert zones["hall"].pk == existing.pk and zones["hall"].capacity == 30
    assert zones["queue A"].service == city.pension
    assert not Zone.objects.filter(pk=removed.pk).exists()


@pytest.mark.parametrize(
    ("zones", "message"),
    [
        (
            [
                {
                    "name": "x",
                    "kind": "waiting_area",
                    "capacity": 5,
                    "polygon": [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]],
                }
            ],
            "polygon",
        ),
        ([{"name": "x", "kind": "waiting_area", "capacity": 0, "polygon": SQUARE}], "capacity"),
        ([{"name": "x", "kind": "lobby", "capacity": 5, "polygon": SQUARE}], "kind"),
        ([{"name": "", "kind": "waiting_area", "capacity": 5, "polygon": SQUARE}], "name"),
        (
            [
                {
                    "name": "x",
                    "kind": "waiting_area",
                    "capacity": 5,
                    "polygon": SQUARE,
                    "service": 999999,
                }
            ],
            "service",
        ),
        ({"name": "x"}, "list"),
    ],
)
def test_it_refuses_bad_zones_and_keeps_the_saved_ones(camera, city, zones, message):
    response = post_zones(login(city.alice), camera, zones)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert list(camera.zones.values_list("name", flat=True)) == ["waiting"]


def test_it_refuses_text_that_is_not_json(camera, city):
    response = login(city.alice).post(zones_url(camera), {"zones": "{not json"})
    assert response.status_code == 422
    assert "{not json" in response.content.decode()
    assert camera.zones.count() == 1


def test_it_refuses_deeply_nested_json_with_a_message_not_a_500(camera, city):
    response = login(city.alice).post(
        zones_url(camera), {"zones": "[" * 100_000}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    assert "nested" in response.content.decode()
    assert camera.zones.count() == 1


def test_it_refuses_a_zone_name_with_a_lone_surrogate(camera, city):
    zone = {"name": "wait@ing", "kind": "waiting", "capacity": 5, "polygon": SQUARE}
    posted = json.dumps([zone]).replace("@", "\\ud800")  # JSON's escape of a lone surrogate
    response = login(city.alice).post(
        zones_url(camera), {"zones": posted}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    assert "not valid text" in response.content.decode()
    assert list(camera.zones.values_list("name", flat=True)) == ["waiting"]

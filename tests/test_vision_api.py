"""The vision worker's API: who may call it, what it refuses, that a retry changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from tests.api_support import API, ApiClient, token_client
from tests.vision_app_support import (
    batch,
    camera_client,
    make_camera,
    make_zone,
    minute,
    this_minute,
)
from vision.models import Camera, LineCrossing, ZoneMinute
from vision.services import snapshot_cache_key

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100


@pytest.fixture
def cams(city):
    camera = make_camera(city.h1)
    zone = make_zone(camera)
    other = make_camera(city.h2, name="h2 door")
    other_zone = make_zone(other)
    return camera, zone, other, other_zone


def routes(camera, zone):
    return [
        ("POST", "/vision/counts", batch(camera, minute(zone))),
        ("GET", f"/vision/cameras/{camera.pk}/config", {}),
    ]


def post_snapshot(api: ApiClient, camera: Camera, body: bytes = JPEG, ctype: str = "image/jpeg"):
    headers = {"Authorization": f"Bearer {api.key}"} if api.key else {}
    return Client().post(
        f"{API}/vision/cameras/{camera.pk}/snapshot", data=body, content_type=ctype, headers=headers
    )


def test_it_refuses_an_anonymous_or_wrong_key(cams):
    camera, zone, *_ = cams
    for api in (ApiClient(key=None), ApiClient(key="not-a-key")):
        for method, path, body in routes(camera, zone):
            assert api.call(method, path, body).status_code == 401, path
        assert post_snapshot(api, camera).status_code == 401
    assert not ZoneMinute.objects.exists()


def test_it_refuses_a_queue_token_of_the_same_hall(cams, city):
    camera, zone, *_ = cams
    api = token_client(city.h1)
    for method, path, body in routes(camera, zone):
        assert api.call(method, path, body).status_code == 403, path
    assert post_snapshot(api, camera).status_code == 403


def test_it_refuses_a_token_for_another_camera(cams):
    camera, zone, other, _other_zone = cams
    api = camera_client(other)
    for method, path, body in routes(camera, zone):
        response = api.call(method, path, body)
        assert response.status_code == 403, path
        assert str(camera.pk) in response.json()["detail"]
    assert post_snapshot(api, camera).status_code == 403
    assert not ZoneMinute.objects.exists()
    camera.refresh_from_db()
    assert camera.last_seen_at is None


def test_it_answers_404_for_an_unknown_camera(cams):
    camera, zone, *_ = cams
    api = camera_client(camera)
    assert api.get("/vision/cameras/999999/config").status_code == 404
    assert api.post("/vision/counts", {**batch(camera), "camera": 999999}).status_code == 404


def test_it_keeps_a_camera_token_out_of_the_queue_api(cams, city):
    api = camera_client(cams[0])
    assert api.get(f"/halls/{city.h1.code}/state").status_code == 403


def test_it_serves_the_camera_config_with_zones_and_placeholders(cams):
    camera, zone, *_ = cams
    response = camera_client(camera).get(f"/vision/cameras/{camera.pk}/config")
    assert response.status_code == 200
    body = response.json()
    assert body["source"] == camera.source and "${CAMERA_ENTRANCE_PASSWORD}" in body["source"]
    assert body["hall"] == "h1"
    assert body["zones"] == [
        {
            "id": zone.pk,
            "name": "waiting",
            "kind": "waiting_area",
            "capacity": 10,
            "polygon": zone.polygon,
            "line": None,
        }
    ]


def test_it_stores_minutes_crossings_and_health(cams):
    camera, zone, *_ = cams
    door = make_zone(camera, "door", kind="entrance", line=[[0.1, 0.5], [0.9, 0.5]])
    body = batch(
        camera,
        minute(zone, ago=1, mean=2.5, peak=4, samples=60),
        minute(zone, ago=0, mean=3.0, peak=3, samples=20),
        crossings=[{"zone": door.pk, "minute": this_minute().isoformat(), "in": 3, "out": 1}],
    )
    body["health"].update(tracker="bytetrack", dropped_minutes=42)
    response = camera_client(camera).post("/vision/counts", body)
    assert response.status_code == 200, response.content
    assert response.json() == {"minutes": 2, "crossings": 1, "unchanged": 0}
    rows = list(ZoneMinute.objects.order_by("minute").values_list("mean", "peak", "samples"))
    assert rows == [(2.5, 4, 60), (3.0, 3, 20)]
    crossing = LineCrossing.objects.get()
    assert (crossing.in_count, crossing.out_count) == (3, 1)
    camera.refresh_from_db()
    assert camera.last_seen_at is not None
    assert camera.last_health["backend"] == "hog"
    # what the worker's full outbox lost is on record for the operator
    assert camera.last_health["tracker"] == "bytetrack"
    assert camera.last_health["dropped_minutes"] == 42


def test_it_changes_nothing_when_a_batch_is_retried(cams):
    camera, zone, *_ = cams
    api = camera_client(camera)
    body = batch(camera, minute(zone, ago=1), minute(zone))
    assert api.post("/vision/counts", body).json()["minutes"] == 2
    before = list(ZoneMinute.objects.order_by("pk").values())
    again = api.post("/vision/counts", body)
    assert again.json() == {"minutes": 0, "crossings": 0, "unchanged": 2}
    assert list(ZoneMinute.objects.order_by("pk").values()) == before


def test_it_keeps_the_running_minute_with_the_most_samples(cams):
    camera, zone, *_ = cams
    api = camera_client(camera)
    api.post("/vision/counts", batch(camera, minute(zone, mean=1.0, peak=2, samples=10)))
    api.post("/vision/counts", batch(camera, minute(zone, mean=2.0, peak=5, samples=40)))
    # a stale retry of the first post arrives last: it does not win
    late = api.post("/vision/counts", batch(camera, minute(zone, mean=1.0, peak=2, samples=10)))
    assert late.json()["unchanged"] == 1
    row = ZoneMinute.objects.get()
    assert (row.mean, row.peak, row.samples) == (2.0, 5, 40)


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"zone": "other"}, ["body", "minutes", 1, "zone"]),
        ({"minute": "2026-03-02T09:15:30+08:00"}, ["body", "minutes", 1, "minute"]),
        ({"minute": "2026-03-02T09:15:00"}, ["body", "minutes", 1, "minute"]),
        ({"mean": 9.0, "peak": 3}, ["body", "minutes", 1]),
        ({"mean": -1}, ["body", "minutes", 1, "mean"]),
        ({"samples": 0}, ["body", "minutes", 1, "samples"]),
        ({"peak": "many"}, ["body", "minutes", 1, "peak"]),
        ({"future": True}, ["body", "minutes", 1, "minute"]),
    ],
)
def test_it_refuses_a_bad_minute_naming_the_field_and_saves_nothing(cams, change, loc):
    camera, zone, _other, other_zone = cams
    bad = minute(zone, ago=2)
    if change.pop("zone", None):
        bad["zone"] = other_zone.pk
    if change.pop("future", None):
        bad["minute"] = (this_minute() + dt.timedelta(hours=1)).isoformat()
    bad.update(change)
    response = camera_client(camera).post("/vision/counts", batch(camera, minute(zone), bad))
    assert response.status_code == 422, response.content
    assert [e["loc"] for e in response.json()["detail"]] == [loc]
    assert not ZoneMinute.objects.exists()
    camera.refresh_from_db()
    assert camera.last_seen_at is None


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"health": None}, ["body", "health"]),
        ({"health": {"fps": -1}}, ["body", "health", "fps"]),
        ({"health": {"fps": 1, "dropped_minutes": -3}}, ["body", "health", "dropped_minutes"]),
        ({"camera": "x"}, ["body", "camera"]),
        ({"crossings": [{"zone": 1, "minute": "x", "in": 1, "out": 0}]}, ["body", "crossings", 0]),
    ],
)
def test_it_refuses_a_bad_batch_naming_the_field(cams, body, loc):
    camera, *_ = cams
    response = camera_client(camera).post("/vision/counts", {**batch(camera), **body})
    assert response.status_code == 422, response.content
    locs = [e["loc"] for e in response.json()["detail"]]
    assert len(locs) == 1
    assert locs[0][: len(loc)] == loc
    assert Camera.objects.get(pk=camera.pk).last_seen_at is None


def test_it_refuses_a_body_that_is_not_an_object(cams):
    camera, *_ = cams
    response = camera_client(camera).post("/vision/counts", raw="[1, 2]")
    assert response.status_code == 400


def test_it_accepts_a_heartbeat_without_minutes(cams):
    camera, *_ = cams
    before = timezone.now()
    response = camera_client(camera).post("/vision/counts", batch(camera))
    assert response.status_code == 200
    camera.refresh_from_db()
    assert camera.last_seen_at is not None and camera.last_seen_at >= before


def test_it_keeps_a_snapshot_in_the_cache_only(cams):
    camera, *_ = cams
    api = camera_client(camera)
    assert post_snapshot(api, camera).status_code == 204
    assert cache.get(snapshot_cache_key(camera.pk)) == JPEG
    assert post_snapshot(api, camera, body=b"GIF89a").status_code == 422
    assert post_snapshot(api, camera, ctype="image/png").status_code == 415
    cache.delete(snapshot_cache_key(camera.pk))


def test_it_refuses_crossings_for_a_zone_of_another_camera(cams):
    camera, zone, _other, other_zone = cams
    crossing = {"zone": other_zone.pk, "minute": this_minute().isoformat(), "in": 1, "out": 0}
    body = batch(camera, minute(zone), crossings=[crossing])
    response = camera_client(camera).post("/vision/counts", body)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "crossings", 0, "zone"]]
    assert not ZoneMinute.objects.exists() and not LineCrossing.objects.exists()

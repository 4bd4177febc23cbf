"""Cameras and zones: what the models refuse, credentials kept out, the minute math."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from queueing.models import ApiToken
from queueing.tokens import api_token_verify
from tests.vision_app_support import make_camera, make_zone
from vision.geometry import contains
from vision.minutes import minute_figures
from vision.models import Camera, Zone
from vision.sources import SourceError, expand_source

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_it_accepts_a_camera_source_with_a_password_placeholder(city):
    camera = make_camera(city.h1)
    camera.full_clean()


@pytest.mark.parametrize(
    "source", ["rtsp://admin:secret@10.0.0.5/sub", "ftp://10.0.0.5/x", "http://u:p4ss@x/y"]
)
def test_it_refuses_a_camera_source_with_a_literal_password(city, source):
    camera = make_camera(city.h1, source=source)
    with pytest.raises(ValidationError) as error:
        camera.full_clean()
    assert "source" in error.value.message_dict


def test_it_expands_source_placeholders_from_the_environment(tmp_path):
    source = "rtsp://viewer:${CAM_PW}@10.0.0.5/sub"
    assert expand_source(source, {"CAM_PW": "s3"}) == "rtsp://viewer:s3@10.0.0.5/sub"
    secret = tmp_path / "pw"
    secret.write_text("fromfile\n")
    assert "fromfile@" in expand_source(source, {"CAM_PW_FILE": str(secret)})
    with pytest.raises(SourceError):
        expand_source(source, {})


@pytest.mark.parametrize(
    "polygon",
    [
        [[0.1, 0.1], [0.5, 0.5]],  # two points
        [[0.1, 0.1], [1.2, 0.1], [0.5, 0.5]],  # outside 0..1
        [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]],  # a bow tie
        [[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]],  # no area
        [[0.1, "a"], [0.2, 0.2], [0.3, 0.1]],
        "square",
    ],
)
def test_it_refuses_a_bad_zone_polygon(city, polygon):
    zone = Zone(camera=make_camera(city.h1), name="z", kind="waiting_area", polygon=polygon)
    with pytest.raises(ValidationError) as error:
        zone.full_clean()
    assert "polygon" in error.value.message_dict


def test_it_accepts_a_concave_zone_and_places_points_by_it(city):
    concave = [[0.1, 0.1], [0.9, 0.1], [0.5, 0.5], [0.9, 0.9], [0.1, 0.9]]
    zone = make_zone(make_camera(city.h1), polygon=concave)
    zone.full_clean()
    assert contains(zone.points, 0.2, 0.5)
    assert not contains(zone.points, 0.8, 0.5)


def test_it_allows_a_service_only_on_a_queue_line(city):
    zone = make_zone(make_camera(city.h1), service=city.pension)
    with pytest.raises(ValidationError) as error:
        zone.full_clean()
    assert "service" in error.value.message_dict
    zone.kind = Zone.Kind.QUEUE_LINE
    zone.full_clean()


def test_it_weights_the_minute_mean_by_time():
    # 2 people for 50 s, then 8 people for 10 s: the mean is 3, not 5
    figures = minute_figures([(at(0), 2), (at(50), 8)], until=at(60), max_hold=dt.timedelta(60))
    (only,) = figures
    assert (only.minute, only.mean, only.peak, only.samples) == (T0, 3.0, 8, 2)


def test_it_does_not_count_an_unobserved_stretch_as_zero():
    # a sample at 0 s held 10 s at most, then nothing until 50 s: 20 s observed
    figures = minute_figures([(at(0), 4), (at(50), 4)], until=at(60))
    assert figures[0].mean == 4.0
    assert figures[0].observed_s == 20.0


def test_it_leaves_a_minute_without_samples_absent():
    figures = minute_figures([(at(0), 1), (at(185), 5)], until=at(190))
    assert [f.minute for f in figures] == [T0, T0 + dt.timedelta(minutes=3)]


def test_it_splits_a_sample_across_a_minute_boundary():
    figures = minute_figures(
        [(at(55), 6), (at(65), 0)], until=at(70), max_hold=dt.timedelta(seconds=30)
    )
    first, second = figures
    assert first.mean == 6.0 and first.samples == 1
    # the next minute holds 5 s of the 6 and 5 s of the 0: mean 3, peak 6
    assert (second.mean, second.peak, second.samples) == (3.0, 6, 1)


def test_it_creates_a_camera_token_that_works_only_for_its_cameras(city):
    camera = make_camera(city.h1)
    out = io.StringIO()
    call_command("create_camera_token", "edge box", "--camera", str(camera.pk), stdout=out)
    key = out.getvalue().splitlines()[1]
    token = api_token_verify(key)
    assert token is not None
    assert list(Camera.objects.filter(api_tokens=token)) == [camera]
    assert not token.halls.exists()
    assert not ApiToken.objects.filter(key_hash=key).exists()  # only the hash is kept


def test_it_refuses_a_camera_token_for_an_unknown_camera(city):
    with pytest.raises(CommandError):
        call_command("create_camera_token", "edge box", "--camera", "999999")
    with pytest.raises(CommandError):
        call_command("create_camera_token", "edge box")

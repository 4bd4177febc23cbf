"""`manage.py count_video` on a rendered video whose true counts are known."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from vision import detectors
from vision.synthetic import ColourDetector, Walker, people_at, write_video

WALKERS = [
    Walker((0.2, 0.9), (0.2, 0.9), 0.0, 6.0),  # stands in the left half
    Walker((0.9, 0.7), (0.6, 0.7), 1.0, 5.0),  # arrives on the right, then leaves
    Walker((0.4, 0.4), (0.4, 0.4), 3.0, 6.0),  # appears later in the left half
]


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "scene.avi"
    write_video(str(path), WALKERS, seconds=6, fps=10)
    return path


@pytest.fixture
def colour_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(detectors.BACKENDS, "colour", ColourDetector)


def read(path: Path) -> list[dict[str, str]]:
    with open(path) as handle:
        return list(csv.DictReader(handle))


def test_it_writes_the_people_counted_on_each_sampled_frame(
    video: Path, tmp_path: Path, colour_backend: None
) -> None:
    out = tmp_path / "counts.csv"
    call_command(
        "count_video", str(video), "--out", str(out), "--sample-fps", "2", "--backend", "colour"
    )
    rows = read(out)
    assert list(rows[0]) == ["frame", "t_s", "people"]
    assert [int(r["frame"]) for r in rows] == list(range(0, 60, 5))
    for row in rows:
        assert int(row["people"]) == people_at(WALKERS, float(row["t_s"]))


def test_it_adds_a_column_per_zone(video: Path, tmp_path: Path, colour_backend: None) -> None:
    zones = tmp_path / "zones.json"
    zones.write_text(
        json.dumps(
            {
                "zones": [
                    {"id": 1, "name": "left", "polygon": [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]},
                    {"id": 2, "name": "right", "polygon": [[0.5, 0], [1, 0], [1, 1], [0.5, 1]]},
                ]
            }
        )
    )
    out = tmp_path / "counts.csv"
    call_command(
        "count_video", str(video), "--out", str(out), "--backend", "colour", "--zones", str(zones)
    )
    rows = read(out)
    assert len(rows) == 60  # every frame without --sample-fps
    assert list(rows[0]) == ["frame", "t_s", "people", "left", "right"]
    by_time = {round(float(r["t_s"]), 1): r for r in rows}
    # Debounced: the right-hand walker (from t=1) shows once present for 2 s.
    assert by_time[0.5]["left"] == "1" and by_time[0.5]["right"] == "0"
    assert by_time[2.0]["right"] == "0"
    assert by_time[3.2]["right"] == "1"
    assert by_time[5.5]["left"] == "2"


def test_it_counts_real_footage_with_the_default_backend(tmp_path: Path) -> None:
    from tests.vision_support import vtest_path

    out = tmp_path / "vtest.csv"
    call_command("count_video", str(vtest_path()), "--out", str(out), "--sample-fps", "1")
    rows = read(out)
    assert len(rows) == 80  # 795 frames at 10 fps, one a second
    assert all(int(r["people"]) <= 12 for r in rows)
    assert sum(int(r["people"]) for r in rows) / len(rows) > 3  # 3-9 people in view


def test_it_reports_bad_arguments_clearly(video: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "c.csv")
    with pytest.raises(CommandError, match="sample-fps"):
        call_command("count_video", str(video), "--out", out, "--sample-fps", "0")
    with pytest.raises(CommandError, match="unknown detector backend"):
        call_command("count_video", str(video), "--out", out, "--backend", "nope")
    with pytest.raises(CommandError, match="cannot open video file"):
        call_command("count_video", str(tmp_path / "none.avi"), "--out", out)
    bad = tmp_path / "zones.json"
    bad.write_text("[{}]")
    with pytest.raises(CommandError, match="--zones"):
        call_command("count_video", str(video), "--out", out, "--zones", str(bad))

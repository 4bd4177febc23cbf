"""Tracking people and counting entrance line crossings, with both trackers: Ultralytics'
ByteTrack (the [vision] extra, installed here) and the IoU fallback for where it is not.
Scenes are rendered or drawn with known truth, so the counts must be exact."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence

import pytest

from vision.detectors import Box
from vision.pipeline.analyzer import FrameAnalyzer
from vision.pipeline.bytetrack import ByteTracker, TrackerUnavailable
from vision.pipeline.camera import CameraSpec, CameraWorker
from vision.pipeline.tracker import (
    HISTORY,
    LineCounter,
    PersonTracker,
    Tracker,
    make_tracker,
)
from vision.pipeline.zones import ZoneSpec
from vision.synthetic import ColourDetector, Walker, frames

DOOR = ZoneSpec(
    id=2,
    name="door",
    kind="entrance",
    polygon=((0, 0), (1, 0), (1, 1), (0, 1)),
    line=((0.0, 0.5), (1.0, 0.5)),
)
TRACKERS = ["bytetrack", "iou"]


@pytest.fixture(params=TRACKERS)
def tracker(request: pytest.FixtureRequest) -> PersonTracker:
    made = make_tracker(request.param)
    assert made.name == request.param
    return made


def walk(
    tracker: PersonTracker, lines: LineCounter, path: list[float], t0: float = 0
) -> tuple[int, int]:
    ins = outs = 0
    for i, y in enumerate(path):
        box = Box(90, y * 200 - 40, 110, y * 200)
        got = lines.update(tracker.update([box], t0 + i, 200, 200))
        ins += got[2][0]
        outs += got[2][1]
    return ins, outs


def test_it_counts_a_line_crossing_once_per_crossing(tracker: PersonTracker) -> None:
    lines = LineCounter({2: DOOR.line})  # type: ignore[dict-item]
    # Walking down across y=0.5: from the line's left (above) to its right: "in".
    assert walk(tracker, lines, [0.3, 0.4, 0.55, 0.6, 0.7, 0.8]) == (1, 0)
    # Dithering on the line is not a crossing; stepping back over it is one "out".
    assert walk(tracker, lines, [0.7, 0.6, 0.51, 0.49, 0.51, 0.49, 0.45, 0.4, 0.3], t0=6) == (0, 1)


def count_crossings(
    walkers: Sequence[Walker], tracker: PersonTracker, seconds: float, fps: float
) -> tuple[int, int]:
    analyzer = FrameAnalyzer(ColourDetector(), [DOOR], tracker=tracker)
    ins = outs = 0
    for t, frame in frames(walkers, seconds=seconds, fps=fps):
        got = analyzer.analyze(frame, t).crossings.get(2, (0, 0))
        ins, outs = ins + got[0], outs + got[1]
    return ins, outs


def test_it_counts_crossings_of_rendered_walkers(tracker: PersonTracker) -> None:
    walkers = [
        Walker((0.2, 0.2), (0.2, 0.9), 0, 6),  # in
        Walker((0.7, 0.9), (0.7, 0.2), 2, 8),  # out
    ]
    assert count_crossings(walkers, tracker, seconds=10, fps=4) == (1, 1)


def test_it_counts_a_busy_entrance_exactly(tracker: PersonTracker) -> None:
    walkers = [
        # two side by side crossing in together, one crossing out between them later
        Walker((0.15, 0.15), (0.15, 0.9), 0, 5),
        Walker((0.35, 0.15), (0.35, 0.9), 0.5, 5.5),
        Walker((0.25, 0.9), (0.25, 0.15), 7, 12),
        # one standing on the line all along: no crossing
        Walker((0.6, 0.51), (0.6, 0.51), 0, 14),
        # one walking along the line, then in
        Walker((0.8, 0.3), (0.95, 0.3), 0, 4),
        Walker((0.9, 0.3), (0.9, 0.8), 5, 9),
        # one coming in, turning back: in then out
        Walker((0.45, 0.3), (0.45, 0.7), 8, 10),
        Walker((0.45, 0.7), (0.45, 0.3), 10, 12),
    ]
    assert count_crossings(walkers, tracker, seconds=14, fps=2) == (4, 2)


def test_it_keeps_memory_bounded_over_a_long_run(tracker: PersonTracker) -> None:
    """Half an hour at 2 fps: a person crosses in one of five lanes every 1.6 s (in
    and out alternately); every crossing is counted once and the tracker holds only
    the people of the last seconds."""
    lines = LineCounter({2: DOOR.line})  # type: ignore[dict-item]
    fps, seconds, every = 2.0, 1800, 8.0
    walkers = [
        Walker((x, 0.15), (x, 0.9), t0, t0 + 6)
        if k % 2 == 0
        else Walker((x, 0.9), (x, 0.15), t0, t0 + 6)
        for lane, x in enumerate((0.1, 0.3, 0.5, 0.7, 0.9))
        for k, t0 in enumerate(lane * every / 5 + i * every for i in range(int(seconds / every)))
    ]
    ins = outs = largest = 0
    for i in range(int(seconds * fps)):
        t = i / fps
        boxes = []
        for walker in walkers:
            feet = walker.feet_at(t)
            if feet is not None:
                x, y = feet[0] * 320, feet[1] * 240
                boxes.append(Box(x - 8, y - 48, x + 8, y))
        got = lines.update(tracker.update(boxes, t, 320, 240))
        ins, outs = ins + got[2][0], outs + got[2][1]
        largest = max(largest, len(tracker.tracks))
        assert all(len(track.feet) <= HISTORY for track in tracker.tracks.values())
    last = (int(seconds * fps) - 1) / fps

    def crossed(walker: Walker) -> bool:
        """Seen beyond the line (and its margin) on the far side by the last frame."""
        feet = walker.feet_at(math.floor(min(walker.t1, last) * fps) / fps)
        if feet is None:
            return False
        beyond = feet[1] - 0.5 if walker.end[1] > 0.5 else 0.5 - feet[1]
        return beyond > 0.02

    assert ins == sum(crossed(w) for w in walkers if w.end[1] > 0.5)
    assert outs == sum(crossed(w) for w in walkers if w.end[1] < 0.5)
    assert largest <= 20  # about 4 people in view at a time, and the recently lost
    if isinstance(tracker, ByteTracker):
        assert len(tracker._byte.removed_stracks) <= 1000  # Ultralytics' own bound


def test_it_uses_bytetrack_where_ultralytics_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VISION_TRACKER", raising=False)
    assert make_tracker().name == "bytetrack"
    monkeypatch.setenv("VISION_TRACKER", "iou")
    assert isinstance(make_tracker(), Tracker)
    monkeypatch.setenv("VISION_TRACKER", "kalman")
    with pytest.raises(ValueError, match="bytetrack or iou"):
        make_tracker()


def test_it_falls_back_to_the_iou_tracker_without_ultralytics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VISION_TRACKER", raising=False)
    monkeypatch.setitem(sys.modules, "ultralytics.trackers.byte_tracker", None)  # not installed
    assert make_tracker().name == "iou"
    with pytest.raises(TrackerUnavailable):
        make_tracker("bytetrack")


def test_it_reports_the_tracker_in_the_cameras_health(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in TRACKERS:
        monkeypatch.setenv("VISION_TRACKER", name)
        worker = CameraWorker(
            CameraSpec(id=3, source="x", zones=[DOOR]),
            detector=ColourDetector(),
            open_source=lambda s: None,  # type: ignore[arg-type,return-value]
            submit=lambda b: None,
        )
        assert worker.health()["tracker"] == name
    worker.update_zones([])  # no counting line: no tracker at all
    assert worker.health()["tracker"] == "none"

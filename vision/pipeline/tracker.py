"""Person tracking, one tracker per camera, and entrance line crossings.

`make_tracker` picks the tracker: Ultralytics' ByteTrack (vision/pipeline/bytetrack.py)
where the [vision] extra is installed, else the small IoU / centroid tracker below,
whose greedy IoU matching (falling back to the nearest centroid for small, fast boxes)
is enough at 1-5 frames per second. Either gives track ids; the crossings
(LineCounter: sides, margin, once per crossing) are counted here for both.
VISION_TRACKER=iou or =bytetrack forces one."""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from vision.detectors import Box, iou
from vision.geometry import Point

log = logging.getLogger(__name__)
HISTORY = 16  # foot points kept per track: memory stays bounded however long it lives
TRACKER_SETTING = "VISION_TRACKER"


@dataclass
class Track:
    id: int
    box: Box
    seen_at: float
    feet: deque[Point] = field(default_factory=lambda: deque(maxlen=HISTORY))
    sides: dict[int, int] = field(default_factory=dict)  # zone id -> last firm side


class PersonTracker(Protocol):
    name: str
    tracks: dict[int, Track]

    def update(self, boxes: Sequence[Box], t: float, width: int, height: int) -> list[Track]: ...


def make_tracker(name: str | None = None) -> PersonTracker:
    """ByteTrack if Ultralytics is installed, else the IoU tracker; `name` (or
    VISION_TRACKER) "bytetrack" insists on ByteTrack, "iou" takes the IoU tracker."""
    wanted = (name or os.environ.get(TRACKER_SETTING, "") or "auto").lower()
    if wanted == "iou":
        return Tracker()
    if wanted not in {"auto", "bytetrack"}:
        raise ValueError(f"{TRACKER_SETTING} must be bytetrack or iou, not {wanted!r}")
    from .bytetrack import ByteTracker, TrackerUnavailable

    try:
        return ByteTracker()
    except TrackerUnavailable as exc:
        if wanted == "bytetrack":
            raise
        log.info("%s; tracking with the IoU tracker", exc)
        return Tracker()


class Tracker:
    name = "iou"

    def __init__(
        self, *, min_iou: float = 0.2, max_jump: float = 0.12, max_age_s: float = 3.0
    ) -> None:
        self.min_iou = min_iou
        self.max_jump = max_jump  # fraction of the frame diagonal a centroid may jump
        self.max_age_s = max_age_s
        self.tracks: dict[int, Track] = {}
        self._next = 1

    def update(self, boxes: Sequence[Box], t: float, width: int, height: int) -> list[Track]:
        """Match boxes to tracks; return the tracks seen in this frame."""
        pairs = []
        diag = (width**2 + height**2) ** 0.5
        for tid, track in self.tracks.items():
            for bi, box in enumerate(boxes):
                overlap = iou(track.box, box)
                (ax, ay), (bx, by) = track.box.centre, box.centre
                dist = ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 / diag
                if overlap >= self.min_iou or dist <= self.max_jump:
                    pairs.append((-overlap, dist, tid, bi))
        pairs.sort()
        used_tracks: set[int] = set()
        used_boxes: set[int] = set()
        seen = []
        for _, _, tid, bi in pairs:
            if tid in used_tracks or bi in used_boxes:
                continue
            used_tracks.add(tid)
            used_boxes.add(bi)
            seen.append(self._move(self.tracks[tid], boxes[bi], t, width, height))
        for bi, box in enumerate(boxes):
            if bi not in used_boxes:
                track = Track(id=self._next, box=box, seen_at=t)
                self._next += 1
                self.tracks[track.id] = track
                seen.append(self._move(track, box, t, width, height))
        for tid in [k for k, v in self.tracks.items() if t - v.seen_at > self.max_age_s]:
            del self.tracks[tid]
        return seen

    @staticmethod
    def _move(track: Track, box: Box, t: float, width: int, height: int) -> Track:
        track.box = box
        track.seen_at = t
        x, y = box.foot
        track.feet.append((x / width, y / height))
        return track


def side_of(line: tuple[Point, Point], point: Point, margin: float) -> int:
    """+1 right of the line's direction (image coordinates, y down), -1 left, 0 within
    `margin` of it (undecided: jitter on the line is not a crossing)."""
    (x1, y1), (x2, y2) = line
    px, py = point
    length = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5 or 1.0
    signed = ((x2 - x1) * (py - y1) - (y2 - y1) * (px - x1)) / length
    if abs(signed) < margin:
        return 0
    return 1 if signed > 0 else -1


def _within_segment(line: tuple[Point, Point], point: Point) -> bool:
    (x1, y1), (x2, y2) = line
    dx, dy = x2 - x1, y2 - y1
    along = ((point[0] - x1) * dx + (point[1] - y1) * dy) / ((dx * dx + dy * dy) or 1.0)
    return -0.05 <= along <= 1.05


class LineCounter:
    """Counts, per zone with a line, tracks whose feet go from one firm side to the
    other: left→right of the line's direction is "in", right→left "out". A track
    counts once per crossing; wandering along the line (within `margin`) counts
    nothing, and walking back out counts an "out"."""

    def __init__(self, lines: dict[int, tuple[Point, Point]], *, margin: float = 0.02) -> None:
        self.lines = lines
        self.margin = margin

    def update(self, tracks: Sequence[Track]) -> dict[int, tuple[int, int]]:
        totals = {zone: [0, 0] for zone in self.lines}
        for track in tracks:
            foot = track.feet[-1]
            for zone, line in self.lines.items():
                side = side_of(line, foot, self.margin)
                if side == 0 or not _within_segment(line, foot):
                    continue
                before = track.sides.get(zone)
                track.sides[zone] = side
                if before is None or before == side:
                    continue
                totals[zone][0 if side > 0 else 1] += 1
        return {zone: (ins, outs) for zone, (ins, outs) in totals.items()}

"""One frame through the pipeline: motion gate → detector → zones → tracker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from vision.detectors import Box, Detector, Frame

from .motion import MotionGate
from .tracker import LineCounter, PersonTracker, make_tracker
from .zones import DebouncedCount, ZoneSpec, zone_counts


@dataclass
class Observation:
    t: float
    people: int
    detected: bool  # false: motion gating reused the last detection
    zones: dict[int, int] = field(default_factory=dict)  # debounced people per zone
    raw_zones: dict[int, int] = field(default_factory=dict)
    crossings: dict[int, tuple[int, int]] = field(default_factory=dict)


class FrameAnalyzer:
    def __init__(
        self,
        detector: Detector,
        zones: Sequence[ZoneSpec] = (),
        *,
        gate: MotionGate | None = None,
        enter_s: float = 2.0,
        exit_s: float = 5.0,
        tracker: PersonTracker | None = None,
    ) -> None:
        self.detector = detector
        self.zones = list(zones)
        self.gate = gate
        self.lines = LineCounter({z.id: z.line for z in self.zones if z.line})
        # Tracks serve the counting lines only: without one, no ByteTrack (whose import
        # brings PyTorch into the process) and "none" in the camera's health.
        self.tracker: PersonTracker | None = tracker or (
            make_tracker() if self.lines.lines else None
        )
        self._debounce = {z.id: DebouncedCount(enter_s=enter_s, exit_s=exit_s) for z in zones}
        self._boxes: list[Box] = []
        self.detections = 0

    @property
    def last_boxes(self) -> list[Box]:
        return list(self._boxes)

    def analyze(self, frame: Frame, t: float) -> Observation:
        """`t` is the capture time in seconds (any origin, increasing)."""
        height, width = frame.shape[:2]
        detected = self.gate is None or self.gate.should_detect(frame, t)
        if detected:
            self._boxes = self.detector.detect(frame)
            self.detections += 1
        raw = zone_counts(self._boxes, self.zones, width, height)
        crossings: dict[int, tuple[int, int]] = {}
        if detected and self.tracker is not None and self.lines.lines:
            tracks = self.tracker.update(self._boxes, t, width, height)
            crossings = self.lines.update(tracks)
        return Observation(
            t=t,
            people=len(self._boxes),
            detected=detected,
            zones={z: self._debounce[z].update(t, n) for z, n in raw.items()},
            raw_zones=raw,
            crossings=crossings,
        )

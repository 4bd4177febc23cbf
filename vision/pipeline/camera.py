"""One camera's worker loop: sample the latest frame by capture time, analyse it, add
the counts to the minute figures, hand batches to the sender. One thread per camera;
the watchdog reports the camera offline after `offline_after_s` without a frame and
reconnects with backoff."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vision.detectors import Detector

from .aggregate import MinuteAggregator
from .analyzer import FrameAnalyzer
from .capture import FrameSource, LatestFrame, Watchdog
from .motion import MotionGate
from .snapshot import snapshot_jpeg
from .zones import ZoneSpec

log = logging.getLogger(__name__)


@dataclass
class CameraSpec:
    id: int
    source: str
    sample_fps: float = 1.0
    offline_after_s: float = 20.0
    zones: list[ZoneSpec] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CameraSpec:
        return cls(
            id=int(data["camera"]),
            source=str(data["source"]),
            sample_fps=float(data.get("sample_fps", 1.0)),
            offline_after_s=float(data.get("offline_after_s", 20.0)),
            zones=[ZoneSpec.from_json(z) for z in data.get("zones", [])],
        )


class CameraWorker:
    def __init__(
        self,
        spec: CameraSpec,
        *,
        detector: Detector,
        open_source: Callable[[str], FrameSource],
        submit: Callable[[dict[str, Any]], object],
        snapshot: Callable[[int, bytes], object] | None = None,
        dropped_minutes: Callable[[int], int] | None = None,
        snapshot_every_s: float = 300.0,
        batch_every_s: float = 10.0,
        redetect_s: float = 10.0,
        backoff_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.spec = spec
        self.detector = detector
        self.open_source = open_source
        self.submit = submit
        self.snapshot = snapshot
        self.dropped_minutes = dropped_minutes
        self.snapshot_every_s = snapshot_every_s
        self._next_snapshot = float("-inf")
        self.batch_every_s = batch_every_s
        self.clock = clock
        self.wall = wall
        self.analyzer = FrameAnalyzer(detector, spec.zones, gate=MotionGate(redetect_s=redetect_s))
        self.aggregator = MinuteAggregator()
        self.watchdog = Watchdog(offline_after_s=spec.offline_after_s, backoff_s=backoff_s)
        self.online = False
        self.reported_offline = False
        self.analysed = 0
        self.last_frame_wall: dt.datetime | None = None
        self._stop = threading.Event()
        self._recent: list[float] = []
        self.thread = threading.Thread(target=self.run, daemon=True, name=f"camera-{spec.id}")

    def stop(self) -> None:
        self._stop.set()

    def update_zones(self, zones: list[ZoneSpec]) -> None:
        """Take zones edited in the app: a new analyser from the next frame on (the
        debounce and tracks restart; figures already summed are kept)."""
        if zones != self.spec.zones:
            self.spec.zones = zones
            self.analyzer = FrameAnalyzer(
                self.detector,
                zones,
                gate=MotionGate(
                    redetect_s=self.analyzer.gate.redetect_s if self.analyzer.gate else 10.0
                ),
            )

    def health(self) -> dict[str, Any]:
        now = self.clock()
        self._recent = [t for t in self._recent if now - t <= 60]
        return {
            "fps": round(len(self._recent) / 60, 3),
            "last_frame_at": self.last_frame_wall.isoformat() if self.last_frame_wall else None,
            "backend": self.detector.name,
            "tracker": self.analyzer.tracker.name if self.analyzer.tracker else "none",
            "online": self.online,
            "dropped_minutes": self.dropped_minutes(self.spec.id) if self.dropped_minutes else 0,
        }

    def _send(self) -> None:
        minutes, crossings = self.aggregator.drain(self.wall())
        self.submit(
            {
                "camera": self.spec.id,
                "batch": f"{self.spec.id}-{self.wall().strftime('%Y-%m-%dT%H:%M:%SZ')}",
                "health": self.health(),
                "minutes": minutes,
                "crossings": crossings,
            }
        )

    def _open(self) -> LatestFrame | None:
        try:
            return LatestFrame(self.open_source(self.spec.source), clock=self.clock)
        except OSError as exc:
            log.warning("camera %s: %s", self.spec.id, exc)
            return None

    def run(self) -> None:
        step = 1.0 / self.spec.sample_fps
        reader = self._open()
        last_new = opened_at = self.clock()  # the stall clocks start at the first open
        reconnect_at = last_new if reader is None else float("inf")
        last_serial = 0
        next_batch = last_new + self.batch_every_s
        while not self._stop.is_set():
            now = self.clock()
            if reader is not None:
                serial, at, frame = reader.latest()
                if serial != last_serial and frame is not None:
                    last_serial, last_new = serial, now
                    self._observe(frame, at, now)
                elif reader.ended or self.watchdog.stalled(max(last_new, opened_at), now):
                    # Each capture gets offline_after_s to deliver, a new one included.
                    # A hung read stays hung in the reader's thread; we only let go.
                    reader.close()
                    reader = None
                    reconnect_at = now + self.watchdog.next_delay()
            if self.watchdog.stalled(last_new, now) and not self.reported_offline:
                self.online = False
                self.reported_offline = True
                log.warning("camera %s offline: no frame for %ss", self.spec.id, now - last_new)
                self._send()  # tell the app now, not at the next batch
                next_batch = now + self.batch_every_s
            if reader is None and now >= reconnect_at:
                reader = self._open()
                opened_at, last_serial = now, 0
                reconnect_at = now + self.watchdog.next_delay() if reader is None else float("inf")
            if now >= next_batch:
                self._send()
                next_batch = now + self.batch_every_s
            # Sample by capture time: sleep to the next sampling instant; frames that
            # arrive meanwhile replace each other in the reader (dropped, not queued).
            self._stop.wait(max(0.0, step - (self.clock() - now)))
        if reader is not None:
            reader.close()
        self._send()

    def _observe(self, frame: Any, at: float, now: float) -> None:
        self.online = True
        self.reported_offline = False
        self.watchdog.recovered()
        wall = self.wall()
        self.last_frame_wall = wall
        obs = self.analyzer.analyze(frame, at)
        if self.snapshot is not None and now >= self._next_snapshot:
            self._next_snapshot = now + self.snapshot_every_s
            boxes = self.analyzer.last_boxes
            if not obs.detected:  # the gate reused old boxes: blur what is there now
                boxes = self.detector.detect(frame)
            self.snapshot(self.spec.id, snapshot_jpeg(frame, boxes))
        self._recent.append(now)
        self.analysed += 1
        self.aggregator.add(wall, obs.zones)
        self.aggregator.add_crossings(wall, obs.crossings)

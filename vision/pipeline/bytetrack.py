"""Ultralytics' ByteTrack (`ultralytics.trackers.byte_tracker.BYTETracker`) behind the
interface of our own tracker (vision/pipeline/tracker.py), fed with the boxes of any
detector backend. Only the track ids come from ByteTrack: the feet, the sides of each
counting line and so the crossings stay ours (LineCounter), as with the fallback.

Ultralytics is the optional AGPL extra ([vision]); it is imported here only, and only
when a worker asks for this tracker (`make_tracker`). Its import pulls PyTorch: a few
seconds and a few hundred MB once per worker process."""

from __future__ import annotations

import os
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from vision.detectors import Box

from .tracker import Track, Tracker


class TrackerUnavailable(RuntimeError):
    pass


class _Detections:
    """The results-like object BYTETracker.update() reads: `conf`, `cls`, `xywh`
    (centre x, centre y, width, height), `xyxy`, len() and boolean indexing."""

    def __init__(self, xyxy: np.ndarray, conf: np.ndarray) -> None:
        self.xyxy = xyxy
        self.conf = conf
        self.cls = np.zeros(len(conf), dtype=np.float32)  # one class: person

    @classmethod
    def of(cls, boxes: Sequence[Box], buffer: float) -> _Detections:
        xyxy = np.array(
            [
                [b.x1 - buffer * w, b.y1 - buffer * h, b.x2 + buffer * w, b.y2 + buffer * h]
                for b in boxes
                for w, h in [(b.x2 - b.x1, b.y2 - b.y1)]
            ],
            dtype=np.float32,
        ).reshape(-1, 4)
        # Every backend thresholds its own boxes already: ByteTrack takes them all as
        # confident (its low-score second pass has nothing to recover here).
        return cls(xyxy, np.ones(len(boxes), dtype=np.float32))

    @property
    def xywh(self) -> np.ndarray:
        x1, y1, x2, y2 = self.xyxy.T
        return np.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], axis=1)

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, mask: Any) -> _Detections:
        return _Detections(self.xyxy[mask], self.conf[mask])


class ByteTracker:
    """One per camera. `lost_frames` is how many analysed frames a person may go
    unseen and keep their id (ByteTrack's `track_buffer`): 10 s at 1 fps.

    ByteTrack matches by box overlap, made for video rates; we sample 1-5 frames a
    second, when a walking person moves a body width or more between frames and their
    boxes no longer overlap. So ByteTrack is given each box grown by `buffer` times its
    size on every side (the "buffered IoU" of C-BIoU, Yang et al. 2023), and a match
    needs an overlap of 1 - `match_thresh` (0.1) of those; the feet are taken from the
    detector's own box."""

    name = "bytetrack"

    def __init__(
        self, *, lost_frames: int = 10, match_thresh: float = 0.9, buffer: float = 1.0
    ) -> None:
        os.environ.setdefault("YOLO_OFFLINE", "1")  # never let Ultralytics reach out
        try:
            from ultralytics.trackers.byte_tracker import BYTETracker
        except ImportError as exc:
            raise TrackerUnavailable(f"Ultralytics' ByteTrack is not installed ({exc})") from exc
        args = SimpleNamespace(
            track_high_thresh=0.5,
            track_low_thresh=0.1,
            new_track_thresh=0.5,
            track_buffer=lost_frames,
            match_thresh=match_thresh,
            fuse_score=False,
        )
        self._byte = BYTETracker(args)
        self.buffer = buffer
        self.tracks: dict[int, Track] = {}

    def update(self, boxes: Sequence[Box], t: float, width: int, height: int) -> list[Track]:
        """Boxes of one analysed frame in; the tracks seen in it out."""
        rows = self._byte.update(_Detections.of(boxes, self.buffer))
        seen = []
        for row in rows.reshape(-1, 8):
            track_id, index = int(row[4]), int(row[7])
            box = boxes[index]  # where the detector saw the person, not the Kalman guess
            track = self.tracks.get(track_id)
            if track is None:
                track = self.tracks[track_id] = Track(id=track_id, box=box, seen_at=t)
            seen.append(Tracker._move(track, box, t, width, height))
        # Our state per track lives as long as ByteTrack keeps the track (tracked or
        # lost): bounded however long the camera runs. ByteTrack itself keeps at most
        # 1000 removed tracks.
        alive = {s.track_id for s in self._byte.tracked_stracks + self._byte.lost_stracks}
        for track_id in [k for k in self.tracks if k not in alive]:
            del self.tracks[track_id]
        return seen

"""Frames in: a video file read by capture time, and live sources read by a thread that
keeps only the latest frame (frames are dropped, never queued), watched by a watchdog.

OpenCV's `read()` can block forever after an RTSP drop, so the worker never calls it
itself: a reader thread does, and a reader that stops delivering is abandoned (it is a
daemon thread holding nothing else) and a new capture opened with backoff."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol, cast

import cv2

from vision.detectors import Frame

log = logging.getLogger(__name__)


class FrameSource(Protocol):
    """What a reader needs from a capture: `cv2.VideoCapture` has this shape."""

    def read(self) -> tuple[bool, Frame | None]: ...

    def release(self) -> None: ...


def open_capture(source: str) -> FrameSource:
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        raise OSError(f"cannot open video source {source!r}")
    return capture  # type: ignore[return-value]


def sample_video(path: str, sample_fps: float | None) -> Iterator[tuple[int, float, Frame]]:
    """(frame index, time in seconds, frame) for each sampled frame of a video file:
    the first frame at or after each multiple of 1/sample_fps of video time. Skipped
    frames are only grabbed, not decoded into images."""
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise OSError(f"cannot open video file {path!r}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    step = 1.0 / sample_fps if sample_fps else 0.0
    due = 0.0
    index = 0
    try:
        while capture.grab():
            t = index / fps
            if t + 1e-9 >= due:
                ok, frame = capture.retrieve()
                if not ok:
                    break
                yield index, t, cast(Frame, frame)
                due = due + step if step else t
                while step and due <= t:
                    due += step
            index += 1
    finally:
        capture.release()


class LatestFrame:
    """A reader thread over one capture that keeps only the newest frame."""

    def __init__(self, capture: FrameSource, clock: Callable[[], float] = time.monotonic):
        self._capture = capture
        self._clock = clock
        self._lock = threading.Lock()
        self._frame: Frame | None = None
        self._at = 0.0
        self._serial = 0
        self.ended = False  # the source said it has no more frames
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="frame-reader")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ok, frame = self._capture.read()
            except Exception:  # a driver error is a dead stream, like a failed read
                log.exception("camera read failed")
                ok, frame = False, None
            if not ok or frame is None:
                self.ended = True
                return
            with self._lock:
                self._frame, self._at = frame, self._clock()
                self._serial += 1

    def latest(self) -> tuple[int, float, Frame | None]:
        """(serial, capture time, frame): the serial grows with each new frame."""
        with self._lock:
            return self._serial, self._at, self._frame

    def close(self) -> None:
        """Stop and release without waiting: a read blocked forever stays blocked in
        its daemon thread, but the worker moves on."""
        self._stop.set()
        capture = self._capture
        threading.Thread(target=capture.release, daemon=True, name="frame-release").start()


class Watchdog:
    """Decides when a stream is offline (no new frame for `offline_after_s`) and when
    to try to reconnect (backoff doubling from `backoff_s` to `max_backoff_s`)."""

    def __init__(
        self,
        *,
        offline_after_s: float = 20.0,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
    ) -> None:
        self.offline_after_s = offline_after_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.failures = 0

    def stalled(self, last_frame_at: float, now: float) -> bool:
        return now - last_frame_at >= self.offline_after_s

    def next_delay(self) -> float:
        delay = min(self.max_backoff_s, self.backoff_s * 2**self.failures)
        self.failures += 1
        return delay

    def recovered(self) -> None:
        self.failures = 0

"""Rendered test scenes whose true counts are known: person-like figures (a body and a
head in one pure colour, on a grey floor) walking straight lines at set times.

Real detectors are not trained on such figures, so tests pair these scenes with
`ColourDetector`, which finds the figures by their colour: that tests the pipeline's
logic (sampling, zones, debouncing, tracking, line crossings, aggregation) exactly,
while the real detectors' accuracy is measured on real footage (tests/data/)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from vision.detectors import Box, Frame

FIGURE_BGR = (0, 0, 230)
FLOOR_BGR = (128, 128, 128)


@dataclass(frozen=True)
class Walker:
    """A figure walking from `start` to `end` (0-1 coordinates of its feet) between
    `t0` and `t1` seconds; absent before and after."""

    start: tuple[float, float]
    end: tuple[float, float]
    t0: float
    t1: float
    height: float = 0.2  # share of the frame height

    def feet_at(self, t: float) -> tuple[float, float] | None:
        if not self.t0 <= t <= self.t1:
            return None
        k = (t - self.t0) / (self.t1 - self.t0) if self.t1 > self.t0 else 0.0
        return (
            self.start[0] + (self.end[0] - self.start[0]) * k,
            self.start[1] + (self.end[1] - self.start[1]) * k,
        )


def render(walkers: Sequence[Walker], t: float, size: tuple[int, int] = (320, 240)) -> Frame:
    width, height = size
    frame = np.full((height, width, 3), FLOOR_BGR, dtype=np.uint8)
    for walker in walkers:
        feet = walker.feet_at(t)
        if feet is None:
            continue
        fx, fy = feet[0] * width, feet[1] * height
        h = walker.height * height
        w = h * 0.35
        cv2.rectangle(
            frame,
            (round(fx - w / 2), round(fy - h * 0.8)),
            (round(fx + w / 2), round(fy)),
            FIGURE_BGR,
            -1,
        )
        cv2.circle(frame, (round(fx), round(fy - h * 0.9)), max(2, round(h * 0.1)), FIGURE_BGR, -1)
    return frame


def people_at(walkers: Sequence[Walker], t: float) -> int:
    return sum(1 for w in walkers if w.feet_at(t) is not None)


def write_video(
    path: str,
    walkers: Sequence[Walker],
    *,
    seconds: float,
    fps: float = 10.0,
    size: tuple[int, int] = (320, 240),
) -> int:
    """Render the scene to an MJPG AVI; returns the number of frames."""
    fourcc = cv2.VideoWriter.fourcc(*"MJPG")
    writer = cv2.VideoWriter(path, fourcc, fps, size)
    if not writer.isOpened():
        raise OSError(f"cannot write {path}")
    frames = round(seconds * fps)
    for i in range(frames):
        writer.write(render(walkers, i / fps, size))
    writer.release()
    return frames


def frames(
    walkers: Sequence[Walker], *, seconds: float, fps: float
) -> Iterator[tuple[float, Frame]]:
    for i in range(round(seconds * fps)):
        yield i / fps, render(walkers, i / fps)


class ColourDetector:
    """Finds the synthetic figures by their colour (tolerant of video compression)."""

    name = "synthetic-colour"

    def __init__(self, min_area: int = 20) -> None:
        self.min_area = min_area

    def detect(self, frame: Frame) -> list[Box]:
        b, g, r = cv2.split(frame.astype(np.int16))
        mask = ((r > 150) & (g < 90) & (b < 90)).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        boxes = []
        for i in range(1, count):
            x, y, w, h, area = stats[i]
            if area >= self.min_area:
                boxes.append(Box(float(x), float(y), float(x + w), float(y + h), 1.0))
        return boxes

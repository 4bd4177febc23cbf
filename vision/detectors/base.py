"""What every people detector gives the pipeline: boxes in pixels with a score."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]  # BGR, height x width x 3, as OpenCV reads it


@dataclass(frozen=True, slots=True)
class Box:
    """A detected person: corners in pixels of the frame it came from."""

    x1: float
    y1: float
    x2: float
    y2: float
    score: float = 1.0

    @property
    def foot(self) -> tuple[float, float]:
        """Bottom centre: where the person stands, which decides the zone."""
        return ((self.x1 + self.x2) / 2, self.y2)

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2)

    @property
    def area(self) -> float:
        return max(0.0, self.x2 - self.x1) * max(0.0, self.y2 - self.y1)


@runtime_checkable
class Detector(Protocol):
    """A people detector. `name` is what the worker reports as its backend."""

    name: str

    def detect(self, frame: Frame) -> list[Box]: ...


class DetectorUnavailable(RuntimeError):
    """A backend cannot run here: its package is missing or its model file is absent."""


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a.x2, b.x2) - max(a.x1, b.x1))
    iy = max(0.0, min(a.y2, b.y2) - max(a.y1, b.y1))
    inter = ix * iy
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


def resize_to_width(frame: Frame, width: int | None) -> tuple[Frame, float]:
    """The frame scaled down to `width` pixels wide (never up) and the factor from the
    scaled frame back to the original."""
    import cv2

    h, w = frame.shape[:2]
    if not width or w <= width:
        return frame, 1.0
    scale = width / w
    small = cv2.resize(frame, (width, round(h * scale)), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(small, dtype=np.uint8), 1 / scale

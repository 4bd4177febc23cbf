"""Motion gating: skip detection on frames where nothing moved since the last detection,
but detect again every `redetect_s` however still the scene is, because people who sit
or stand still do not move and would otherwise be lost (or never found)."""

from __future__ import annotations

import cv2
import numpy as np

from vision.detectors import Frame

THUMB = (64, 48)


class MotionGate:
    def __init__(
        self, *, pixel_delta: int = 12, changed_share: float = 0.002, redetect_s: float = 10.0
    ) -> None:
        self.pixel_delta = pixel_delta
        self.changed_share = changed_share
        self.redetect_s = redetect_s
        self._reference: np.ndarray | None = None
        self._detected_at = float("-inf")
        self.skipped = 0

    @staticmethod
    def _thumb(frame: Frame) -> np.ndarray:
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        return cv2.GaussianBlur(cv2.resize(grey, THUMB, interpolation=cv2.INTER_AREA), (3, 3), 0)

    def should_detect(self, frame: Frame, t: float) -> bool:
        """Whether to run the detector on this frame (and, if so, remember it as the
        reference the next frames are compared with)."""
        thumb = self._thumb(frame)
        moved = True
        if self._reference is not None:
            diff = cv2.absdiff(thumb, self._reference)
            moved = float(np.count_nonzero(diff > self.pixel_delta)) / diff.size > (
                self.changed_share
            )
        if moved or t - self._detected_at >= self.redetect_s:
            self._reference = thumb
            self._detected_at = t
            return True
        self.skipped += 1
        return False

"""OpenCV's built-in HOG + linear SVM people detector: the last fallback. It needs no
model file, but is slow and misses people who are small, seated or partly hidden."""

from __future__ import annotations

import cv2
import numpy as np

from .base import Box, DetectorUnavailable, Frame, resize_to_width


class HogDetector:
    name = "hog"

    def __init__(self, *, width: int | None = 640, threshold: float = 0.3) -> None:
        if not hasattr(cv2, "HOGDescriptor_getDefaultPeopleDetector"):
            # OpenCV 5 removed it; pyproject pins <5 for this reason.
            raise DetectorUnavailable("this OpenCV has no HOG people detector (need < 5)")
        self.width = width
        self.threshold = threshold
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def detect(self, frame: Frame) -> list[Box]:
        small, back = resize_to_width(frame, self.width)
        rects, weights = self._hog.detectMultiScale(
            small, winStride=(8, 8), padding=(8, 8), scale=1.05
        )
        if len(rects) == 0:
            return []
        scores = np.asarray(weights, dtype=np.float32).reshape(-1)
        boxes = [[int(x), int(y), int(w), int(h)] for x, y, w, h in rects]
        keep = cv2.dnn.NMSBoxes(boxes, scores.tolist(), self.threshold, 0.45)
        out = []
        for i in np.asarray(keep).reshape(-1):
            x, y, w, h = boxes[int(i)]
            out.append(Box(x * back, y * back, (x + w) * back, (y + h) * back, float(scores[i])))
        return out

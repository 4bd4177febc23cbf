"""The calibration snapshot for the zone editor: one frame, people blurred beyond
recognition, JPEG-encoded in memory. Frames are never stored or sent otherwise; the
app keeps this one in its cache for a few minutes only (vision/schemas.py, 3)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from vision.detectors import Box, Frame

MAX_BYTES = 2 * 1024 * 1024  # the app refuses more
PAD = 0.15  # share of a box added around it: hair, elbows, a bag


def blur_people(frame: Frame, boxes: Sequence[Box]) -> Frame:
    """A copy of the frame with each person's box, padded, pixelated and blurred."""
    out = frame.copy()
    height, width = frame.shape[:2]
    for box in boxes:
        pad_x, pad_y = (box.x2 - box.x1) * PAD, (box.y2 - box.y1) * PAD
        x1, y1 = max(0, int(box.x1 - pad_x)), max(0, int(box.y1 - pad_y))
        x2, y2 = min(width, int(box.x2 + pad_x) + 1), min(height, int(box.y2 + pad_y) + 1)
        if x2 <= x1 or y2 <= y1:
            continue
        region = out[y1:y2, x1:x2]
        # Pixelate to about 4 blocks across, then blur the blocks' edges away.
        small = cv2.resize(
            region, (4, max(1, round(4 * (y2 - y1) / (x2 - x1)))), interpolation=cv2.INTER_AREA
        )
        coarse = cv2.resize(small, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST)
        out[y1:y2, x1:x2] = cv2.GaussianBlur(coarse, (0, 0), max(2.0, (x2 - x1) / 6))
    return out


def snapshot_jpeg(frame: Frame, boxes: Sequence[Box], *, max_bytes: int = MAX_BYTES) -> bytes:
    """The blurred frame as JPEG, scaled down until it fits in `max_bytes`."""
    image: np.ndarray = blur_people(frame, boxes)
    quality = 85
    while True:
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise ValueError("JPEG encoding failed")
        if len(data) <= max_bytes:
            return np.asarray(data).tobytes()
        image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2))
        quality = 75

"""Zones: which people stand in which polygon, with debounced counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vision.detectors import Box
from vision.geometry import Point, contains


@dataclass(frozen=True)
class ZoneSpec:
    """A zone as the app's camera config gives it (vision/schemas.py ZoneOut)."""

    id: int
    name: str
    polygon: tuple[Point, ...]
    kind: str = "waiting_area"
    line: tuple[Point, Point] | None = None

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ZoneSpec:
        line = data.get("line")
        return cls(
            id=int(data["id"]),  # type: ignore[call-overload]
            name=str(data.get("name", data["id"])),
            kind=str(data.get("kind", "waiting_area")),
            polygon=tuple((float(x), float(y)) for x, y in data["polygon"]),  # type: ignore[attr-defined]
            line=tuple((float(x), float(y)) for x, y in line) if line else None,  # type: ignore[arg-type,attr-defined]
        )


def foot_point(box: Box, width: int, height: int) -> Point:
    """Bottom centre of the box in 0-1 coordinates: a person is where their feet are,
    not where the middle of their body is (which, seen from above, is a metre off)."""
    x, y = box.foot
    return (min(max(x / width, 0.0), 1.0), min(max(y / height, 0.0), 1.0))


def zone_counts(
    boxes: Sequence[Box], zones: Sequence[ZoneSpec], width: int, height: int
) -> dict[int, int]:
    """People per zone (a person in two overlapping zones counts in both)."""
    counts = {zone.id: 0 for zone in zones}
    for box in boxes:
        x, y = foot_point(box, width, height)
        for zone in zones:
            if contains(zone.polygon, x, y):
                counts[zone.id] += 1
    return counts


class DebouncedCount:
    """A count that follows the raw count only once the change has lasted: a rise after
    `enter_s`, a fall after `exit_s` (exit grace: a person hidden for a moment behind
    a pillar, or missed by the detector on one frame, is not counted as gone)."""

    def __init__(self, *, enter_s: float = 2.0, exit_s: float = 5.0) -> None:
        self.enter_s = enter_s
        self.exit_s = exit_s
        self.value: int | None = None
        self._pending: int | None = None
        self._since = 0.0

    def update(self, t: float, raw: int) -> int:
        if self.value is None:  # the first observation is taken as it is
            self.value = raw
            return raw
        if raw == self.value:
            self._pending = None
            return self.value
        # A change in the same direction keeps its start time; the value it settles to
        # is the one nearest the current value seen over the wait.
        same_way = self._pending is not None and (self._pending > self.value) == (raw > self.value)
        if not same_way:
            self._pending, self._since = raw, t
        else:
            assert self._pending is not None
            nearer = min if raw > self.value else max
            self._pending = nearer(self._pending, raw)
        wait = self.enter_s if raw > self.value else self.exit_s
        if t - self._since >= wait:
            self.value, self._pending = self._pending, None
        return self.value

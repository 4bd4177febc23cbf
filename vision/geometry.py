"""Polygons and lines in 0–1 image coordinates (x right, y down): checks and the
point-in-polygon test, shared by the models' validation and the worker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Point = tuple[float, float]


class GeometryError(ValueError):
    """`code` names the fault (count, point, range, area, crossing) for a translated
    message; the text is English, for logs and the worker."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_points(value: Any, *, at_least: int, at_most: int) -> list[Point]:
    """`value` as a list of (x, y) with each coordinate in 0..1, or GeometryError."""
    if not isinstance(value, list | tuple) or not at_least <= len(value) <= at_most:
        raise GeometryError("count", f"give {at_least} to {at_most} points")
    points: list[Point] = []
    for point in value:
        if (
            not isinstance(point, list | tuple)
            or len(point) != 2
            or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in point)
        ):
            raise GeometryError("point", "each point must be [x, y]")
        x, y = float(point[0]), float(point[1])
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise GeometryError("range", "coordinates must lie between 0 and 1")
        points.append((x, y))
    return points


def _orientation(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """Proper or touching intersection of two segments."""
    d1, d2 = _orientation(q1, q2, p1), _orientation(q1, q2, p2)
    d3, d4 = _orientation(p1, p2, q1), _orientation(p1, p2, q2)
    if ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)) and d1 and d2 and d3 and d4:
        return True

    def on(a: Point, b: Point, c: Point, d: float) -> bool:
        return (
            d == 0
            and min(a[0], b[0]) <= c[0] <= max(a[0], b[0])
            and min(a[1], b[1]) <= c[1] <= max(a[1], b[1])
        )

    return on(q1, q2, p1, d1) or on(q1, q2, p2, d2) or on(p1, p2, q1, d3) or on(p1, p2, q2, d4)


def check_polygon(points: Sequence[Point]) -> None:
    """A simple polygon: non-zero area, no edge crossing another (adjacent edges share
    only their corner)."""
    n = len(points)
    area = sum(
        points[i][0] * points[(i + 1) % n][1] - points[(i + 1) % n][0] * points[i][1]
        for i in range(n)
    )
    if abs(area) < 1e-9:
        raise GeometryError("area", "the polygon has no area")
    edges = [(points[i], points[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue  # neighbours share a corner
            if _segments_cross(*edges[i], *edges[j]):
                raise GeometryError("crossing", "the polygon's edges cross each other")


def contains(points: Sequence[Point], x: float, y: float) -> bool:
    """Whether (x, y) lies inside the polygon (even-odd rule)."""
    inside = False
    n = len(points)
    for i in range(n):
        (x1, y1), (x2, y2) = points[i], points[(i + 1) % n]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside

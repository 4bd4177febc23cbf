"""What a simulated hall's overview camera sees.

Each demo hall has one camera looking at the floor: an entrance zone (visitors on
their way from the door to the kiosk), a queue line per service (the next few of each
queue stand by the windows), and the waiting area (seats, filled in arrival order);
the windows' row is in view but in no zone. `place` puts every simulated person on a
spot, `zone_counts` says how many stand in each zone, and `render` draws the frame
with vision.synthetic's figures, so that the real pipeline (ColourDetector, zones by
the feet) counts exactly what the simulator meant. Nobody overlaps: spots are spaced
wider than a figure. People beyond the seats are out of the camera's view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from queueing.simulation.engine import Scene
from vision.detectors import Frame
from vision.synthetic import Walker
from vision.synthetic import render as render_walkers

CAMERA_NAME = "sim-overview"
FRAME_SIZE = (640, 480)
FIGURE_HEIGHT = 0.065  # share of the frame height: 31 px at 480
QUEUE_SLOTS = 3

ENTRANCE = "entrance"
WAITING = "waiting"
Point = tuple[float, float]

_ENTRANCE_SPOTS = [(x, y) for y in (0.82, 0.92) for x in (0.04, 0.08, 0.12)]
_SEATS = [(0.23 + 0.04 * i, 0.56 + 0.085 * j) for j in range(6) for i in range(19)]
_QUEUE_Y = (0.22, 0.31, 0.40)


@dataclass(frozen=True)
class ZoneLayout:
    key: str  # "entrance", "waiting" or "queue:<prefix>"
    name: str
    kind: str  # vision.models.Zone.Kind value
    polygon: tuple[Point, ...]
    capacity: int
    service: str | None = None


def _queue_x(index: int) -> float:
    return 0.2 + 0.13 * index


def layout(services: Sequence[str]) -> list[ZoneLayout]:
    """The camera's zones for a hall offering `services` (prefixes, in order)."""
    zones = [
        ZoneLayout(
            ENTRANCE,
            "入口",
            "entrance",
            ((0.0, 0.72), (0.16, 0.72), (0.16, 1.0), (0.0, 1.0)),
            len(_ENTRANCE_SPOTS),
        ),
        ZoneLayout(
            WAITING,
            "等候区",
            "waiting_area",
            ((0.2, 0.48), (0.98, 0.48), (0.98, 1.0), (0.2, 1.0)),
            len(_SEATS),
        ),
    ]
    for i, prefix in enumerate(services):
        x = _queue_x(i)
        zones.append(
            ZoneLayout(
                f"queue:{prefix}",
                f"{prefix} 排队线",
                "queue_line",
                ((x - 0.05, 0.12), (x + 0.05, 0.12), (x + 0.05, 0.44), (x - 0.05, 0.44)),
                QUEUE_SLOTS,
                prefix,
            )
        )
    return zones


@dataclass(frozen=True)
class Placement:
    feet: Point
    zone: str | None  # a layout key; None: in view, in no zone (at a window)


def place(scene: Scene, services: Sequence[str], windows: Sequence[str]) -> list[Placement]:
    """A spot for everyone the camera sees in `scene`."""
    spots: list[Placement] = [
        Placement(feet, ENTRANCE) for feet in _ENTRANCE_SPOTS[: scene.entering]
    ]
    seated: list[tuple[dt.datetime, int]] = []
    for i, prefix in enumerate(services):
        queue = scene.waiting.get(prefix, [])
        for slot, _ticket in zip(_QUEUE_Y, queue, strict=False):
            spots.append(Placement((_queue_x(i), slot), f"queue:{prefix}"))
        seated += [(t.issued_at, t.ref.id) for t in queue[QUEUE_SLOTS:]]
    for seat, _who in zip(_SEATS, sorted(seated), strict=False):
        spots.append(Placement(seat, WAITING))
    for label in scene.at_windows:
        k = list(windows).index(label)
        spots.append(Placement((0.05 + 0.07 * k, 0.08), None))
    return spots


def zone_counts(placements: Sequence[Placement]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for p in placements:
        if p.zone is not None:
            counts[p.zone] = counts.get(p.zone, 0) + 1
    return counts


def render(placements: Sequence[Placement], size: tuple[int, int] = FRAME_SIZE) -> Frame:
    walkers = [Walker(p.feet, p.feet, 0.0, 0.0, FIGURE_HEIGHT) for p in placements]
    return render_walkers(walkers, 0.0, size)

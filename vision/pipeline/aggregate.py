"""Per-minute figures per zone (vision/minutes.py does the arithmetic) and per-minute
line crossings, kept for the minutes not yet sent."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from vision.minutes import minute_figures, minute_start


class MinuteAggregator:
    def __init__(self) -> None:
        self._samples: dict[int, list[tuple[dt.datetime, int]]] = defaultdict(list)
        self._crossings: dict[tuple[int, dt.datetime], list[int]] = defaultdict(lambda: [0, 0])
        self._final_before: dt.datetime | None = None  # minutes before it were sent final

    def add(self, at: dt.datetime, counts: dict[int, int]) -> None:
        for zone, people in counts.items():
            self._samples[zone].append((at, people))

    def add_crossings(self, at: dt.datetime, crossings: dict[int, tuple[int, int]]) -> None:
        for zone, (ins, outs) in crossings.items():
            if ins or outs:
                tally = self._crossings[(zone, minute_start(at))]
                tally[0] += ins
                tally[1] += outs

    def drain(self, now: dt.datetime) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        """Figures of every minute held, the running one included (the app keeps the
        post with the most samples, so sending a minute again is safe). Finished
        minutes are then forgotten, except the last sample before the running minute,
        which holds into it."""
        current = minute_start(now)
        minutes: list[dict[str, object]] = []
        for zone, samples in self._samples.items():
            for fig in minute_figures(samples, until=now):
                if self._final_before and fig.minute < self._final_before:
                    continue  # the sample kept to hold over, not a new figure
                minutes.append(
                    {
                        "zone": zone,
                        "minute": fig.minute.isoformat(),
                        "mean": fig.mean,
                        "peak": fig.peak,
                        "samples": fig.samples,
                    }
                )
            earlier = [s for s in samples if s[0] < current]
            later = [s for s in samples if s[0] >= current]
            self._samples[zone] = (earlier[-1:] if earlier else []) + later
        crossings: list[dict[str, object]] = [
            {"zone": zone, "minute": minute.isoformat(), "in": ins, "out": outs}
            for (zone, minute), (ins, outs) in sorted(self._crossings.items())
        ]
        for key in [k for k in self._crossings if k[1] < current]:
            del self._crossings[key]
        self._final_before = current
        return minutes, crossings

"""Per-minute figures from samples: the time-weighted mean, the peak, the sample count.

Each sample holds from its capture time until the next sample (or until `until`, the
end of what was observed), so a burst of frames does not outweigh a quiet stretch.
Seconds of a minute with no sample before them are not observed: they do not count as
zero, and a minute with no sample at all yields no figures. The worker accumulates
with this and sends the result (see vision/schemas.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

MINUTE = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class MinuteFigures:
    minute: dt.datetime
    mean: float
    peak: int
    samples: int
    observed_s: float


def minute_start(at: dt.datetime) -> dt.datetime:
    return at.replace(second=0, microsecond=0)


def minute_figures(
    samples: Iterable[tuple[dt.datetime, int]],
    *,
    until: dt.datetime,
    max_hold: dt.timedelta = dt.timedelta(seconds=10),
) -> list[MinuteFigures]:
    """Figures for each minute that holds at least one sample, oldest first.

    `samples` are (capture time, people) in any order; a sample holds until the next
    one, `until`, or `max_hold` after it, whichever comes first (a stalled stream is
    not observed). A sample spanning a minute boundary is split between the minutes.
    """
    ordered = sorted(samples)
    weighted: dict[dt.datetime, float] = {}
    seconds: dict[dt.datetime, float] = {}
    peaks: dict[dt.datetime, int] = {}
    counts: dict[dt.datetime, int] = {}
    for i, (at, people) in enumerate(ordered):
        own = minute_start(at)
        peaks[own] = max(peaks.get(own, 0), people)
        counts[own] = counts.get(own, 0) + 1
        weighted.setdefault(own, 0.0)
        seconds.setdefault(own, 0.0)
        end = min(ordered[i + 1][0] if i + 1 < len(ordered) else until, at + max_hold)
        start = at
        while start < end:
            minute = minute_start(start)
            piece_end = min(end, minute + MINUTE)
            span = (piece_end - start).total_seconds()
            weighted[minute] = weighted.get(minute, 0.0) + people * span
            seconds[minute] = seconds.get(minute, 0.0) + span
            peaks[minute] = max(peaks.get(minute, 0), people)
            counts.setdefault(minute, 0)
            start = piece_end
    figures = []
    for minute in sorted(counts):
        if counts[minute] == 0:
            continue  # only held over from the minute before: report it there
        observed = seconds[minute]
        mean = weighted[minute] / observed if observed else float(peaks[minute])
        figures.append(
            MinuteFigures(
                minute=minute,
                mean=round(mean, 3),
                peak=peaks[minute],
                samples=counts[minute],
                observed_s=round(observed, 3),
            )
        )
    return figures

"""Wait estimates: expected seconds from issue to first call, with an 80 % interval.

`estimate_hall` reads the hall's queue and windows (3 or 4 queries) and its model
learned from history (`distributions`: 4 more queries, at most every two minutes), simulates
the queue forward many times (`forward`) and answers for
every waiting ticket and for a new arrival per service, all from the same runs.
Deterministic for a given hall, instant and seed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Q
from django.utils import timezone

from queueing.estimation.distributions import HallModel, hall_model
from queueing.estimation.forward import PAUSE_RESUME_S, RUNS, Params, Snapshot, simulate
from queueing.models import Hall, Service, Ticket, Window

__all__ = ["Estimate", "HallEstimate", "estimate_arrival", "estimate_hall", "estimate_wait"]

LOW_Q, HIGH_Q = 0.10, 0.90
# Below this share of runs reaching a ticket, we do not pretend to know its wait.
MIN_REACHED = 0.5


@dataclass(frozen=True)
class Estimate:
    """Seconds from issue to first call: the point estimate (the median of the
    simulated waits) and the 80 % interval. `base_s` is the point estimate before the
    online correction (`correction`), stored with a quote (Ticket.quoted_base_s) so
    that the correction learns from it without correcting itself."""

    expected_s: int
    low_s: int
    high_s: int
    base_s: int | None = None

    @property
    def minutes(self) -> tuple[int, int, int]:
        return _minutes(self.expected_s), _minutes(self.low_s), _minutes(self.high_s)


def _minutes(seconds: int) -> int:
    return int(round(seconds / 60))


@dataclass
class HallEstimate:
    hall: Hall
    at: dt.datetime
    tickets: dict[int, Estimate | None] = field(default_factory=dict)  # by ticket id
    # a regular visitor taking a number now, by service id
    arrivals: dict[int, Estimate | None] = field(default_factory=dict)
    priority_arrivals: dict[int, Estimate | None] = field(default_factory=dict)


def _seed(hall: Hall, at: dt.datetime, seed: int | None) -> int:
    # the same hall at the same instant gets the same answer
    return seed if seed is not None else (hall.pk * 1_000_003 + int(at.timestamp())) % 2**32


def estimate_hall(
    hall: Hall,
    *,
    at: dt.datetime | None = None,
    seed: int | None = None,
    runs: int = RUNS,
    arrivals: bool = True,
    tickets: bool = True,
    service_ids: list[int] | None = None,
    probe: tuple[int, bool] | None = None,
) -> HallEstimate:
    """Estimate every waiting ticket of the hall's business day (unless not `tickets`)
    and, with `arrivals`, a new arrival (regular and priority) for each service the
    hall offers (`service_ids`, when the caller has read them already). Both come
    from the same runs; leaving one out saves only summaries. With `probe`
    (service id, priority), only that arrival is estimated, and the runs stop once it
    is called: the answer is the same, since probes draw nothing.

    3 queries (4 with arrivals), plus the model's 4 when it is relearned."""
    now = at or timezone.now()
    day = hall.business_date(now)
    if not arrivals:
        service_ids = []
    elif service_ids is None:
        service_ids = list(
            Service.objects.filter(
                hall_services__hall=hall, hall_services__enabled=True
            ).values_list("pk", flat=True)
        )
    service_ids = sorted(service_ids)
    # today's queue in call order, and the tickets the windows hold
    waiting = list(
        Ticket.objects.waiting()
        .filter(hall=hall, business_date=day)
        .in_call_order()
        .annotate(priority=Q(is_elderly=True) | Q(is_disabled=True) | Q(has_appointment=True))
        .values_list(
            "pk",
            "service_id",
            "queue_key",
            "priority",
            # a quote at issue needs no ticket's own wait so far
            *(["issued_at"] if tickets else []),
        )
    )
    current = {
        window_id: (service_id, (now - (started or called or now)).total_seconds())
        for window_id, service_id, called, started in Ticket.objects.current()
        .filter(hall=hall)
        .order_by()
        .values_list("window_id", "service_id", "called_at", "started_at")
    }
    all_ids = sorted(set(service_ids) | {r[1] for r in waiting} | {c[0] for c in current.values()})
    index = {sid: i for i, sid in enumerate(all_ids)}
    model = hall_model(hall, at=now)
    head_start = hall.priority_head_start_min * 60.0

    # tickets in call order, then one ghost probe per service and priority class
    keys = [(r[2] - now).total_seconds() for r in waiting]
    services = [index[r[1]] for r in waiting]
    priority = [bool(r[3]) for r in waiting]
    occupies = [True] * len(waiting)
    probes: list[tuple[int, bool]] = []
    for sid in service_ids:
        for is_priority in (False, True):
            if probe is not None and probe != (sid, is_priority):
                continue
            probes.append((sid, is_priority))
            keys.append(-head_start if is_priority else 0.0)
            services.append(index[sid])
            priority.append(is_priority)
            occupies.append(False)
    # probes were appended after every ticket: sort stably by key to restore call order
    order = np.argsort(np.asarray(keys), kind="stable")
    snap = Snapshot(
        n_services=len(all_ids),
        head_start_s=head_start,
        ticket_service=np.asarray(services, dtype=np.int64)[order],
        ticket_priority=np.asarray(priority, dtype=bool)[order],
        ticket_key=np.asarray(keys, dtype=float)[order],
        ticket_occupies=np.asarray(occupies, dtype=bool)[order],
        **_windows(hall, index, current),
    )
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    waits = simulate(
        snap,
        _params(model, all_ids, hall.local_now(now).hour),
        runs=runs,
        seed=_seed(hall, now, seed),
        # a quote at issue needs only the probes: stop once they are called
        only=None if tickets else position[len(waiting) :],
    )
    result = HallEstimate(hall=hall, at=now)
    columns = position if tickets else position[len(waiting) :]
    elapsed = [max(0.0, (now - r[4]).total_seconds()) for r in waiting] if tickets else []
    summaries = _summarise(
        waits[:, columns], np.asarray(elapsed + [0.0] * len(probes)), model.correction
    )
    if tickets:
        result.tickets = {r[0]: summaries[i] for i, r in enumerate(waiting)}
    for j, (sid, is_priority) in enumerate(probes):
        estimate = summaries[len(summaries) - len(probes) + j]
        (result.priority_arrivals if is_priority else result.arrivals)[sid] = estimate
    return result


def _windows(
    hall: Hall, index: dict[int, int], current: dict[int, tuple[int, float]]
) -> dict[str, np.ndarray]:
    """Open windows call now; paused ones after a break; closed ones only when no open
    or paused window has a skill (else its queue would look endless). A window with no
    skill calls nobody, so reading windows through their skills loses nothing."""
    skills: dict[int, list[int]] = {}
    windows: dict[int, tuple[str, bool]] = {}
    for window_id, service_id, status, is_priority in Window.skills.through.objects.filter(
        window__hall=hall
    ).values_list("window_id", "service_id", "window__status", "window__is_priority"):
        windows[window_id] = (status, is_priority)
        if service_id in index:
            skills.setdefault(window_id, []).append(index[service_id])
    covered = {
        s
        for wid, (status, _p) in windows.items()
        if status != Window.Status.CLOSED
        for s in skills.get(wid, [])
    }
    chosen = []
    for wid, (status, is_priority) in sorted(windows.items()):
        if status == Window.Status.OPEN:
            start = 0.0
        elif status == Window.Status.PAUSED or set(skills.get(wid, [])) - covered:
            start = PAUSE_RESUME_S
        else:
            continue
        chosen.append((wid, start, is_priority))
    mask = np.zeros((len(chosen), len(index)), dtype=bool)
    for i, (wid, _start, _p) in enumerate(chosen):
        mask[i, skills.get(wid, [])] = True
    busy = [current.get(wid) for wid, _s, _p in chosen]
    return {
        "window_skills": mask,
        "window_priority": np.asarray([p for _w, _s, p in chosen], dtype=bool),
        "window_start_s": np.asarray([s for _w, s, _p in chosen], dtype=float),
        "window_busy_service": np.asarray(
            [index.get(b[0], -1) if b else -1 for b in busy], dtype=np.int64
        ),
        "window_busy_elapsed_s": np.asarray([max(0.0, b[1]) if b else 0.0 for b in busy]),
    }


def _params(model: HallModel, service_ids: list[int], hour: int | None = None) -> Params:
    """Service times as learned for the hour of the day it is now (hall time)."""
    fits = [model.for_service(sid, hour) for sid in service_ids]
    return Params(
        mu=np.asarray([f.mu for f in fits]),
        sigma=np.asarray([f.sigma for f in fits]),
        n_obs=np.asarray([f.n for f in fits]),
        no_show_p=model.no_show_p,
        no_show_s=model.no_show_s,
        abandon_p=model.abandon_p,
        priority_rate=np.asarray([model.priority_rate.get(sid, 0.0) for sid in service_ids]),
    )


def _summarise(
    remaining: np.ndarray, elapsed: np.ndarray, correction: float = 1.0
) -> list[Estimate | None]:
    """Per column of runs × tickets: the median and the 10th/90th percentiles of the
    runs that reached it (the median: it minimises the absolute error), the remaining
    part scaled by the online correction, plus the time already waited. `base_s` is
    the median uncorrected."""
    if remaining.shape[1] == 0:
        return []
    finite = np.isfinite(remaining)
    reached = finite.sum(axis=0)
    ok = reached >= max(1, MIN_REACHED * remaining.shape[0])
    if finite.all():
        low, mid, high = np.quantile(remaining, [LOW_Q, 0.5, HIGH_Q], axis=0)
    else:
        safe = np.where(ok[None, :] & finite, remaining, np.nan)
        safe[:, ~ok] = 0.0
        low, mid, high = np.nanquantile(safe, [LOW_Q, 0.5, HIGH_Q], axis=0)
    out: list[Estimate | None] = []
    for i in range(remaining.shape[1]):
        if not ok[i]:
            out.append(None)
            continue
        out.append(
            Estimate(
                expected_s=int(round(elapsed[i] + correction * mid[i])),
                low_s=int(round(elapsed[i] + correction * low[i])),
                high_s=int(round(elapsed[i] + correction * high[i])),
                base_s=int(round(elapsed[i] + mid[i])),
            )
        )
    return out


def estimate_wait(*, ticket: Ticket, at: dt.datetime | None = None) -> Estimate | None:
    """One waiting ticket's estimate (the whole hall is simulated anyway)."""
    return estimate_hall(ticket.hall, at=at).tickets.get(ticket.pk)


def estimate_arrival(
    *, hall: Hall, service: Service, priority: bool = False, at: dt.datetime | None = None
) -> Estimate | None:
    """What a visitor taking a number of `service` now would be quoted."""
    # one probe: the runs stop as soon as it is called (probes draw nothing, so the
    # answer is the one estimate_hall gives with every probe)
    result = estimate_hall(hall, at=at, tickets=False, probe=(service.pk, priority))
    return (result.priority_arrivals if priority else result.arrivals).get(service.pk)

"""Monte Carlo forward simulation of a hall's queue under the real calling policy.

The policy (docs/calling-policy.md) keeps one total order, so it simulates exactly:
each service's waiting tickets form two sorted sub-queues, regular and priority, by
queue key. A free ordinary window takes the smallest queue key among the heads of the
sub-queues of its skills; a priority window first takes the smallest priority head.
The runs themselves are compiled (`kernel.run_queue`), one at a time, each visitor's
service time drawn when a window calls them; a seed fixes the answer.

Future regular arrivals never get ahead of a waiting ticket, so only future priority
arrivals are simulated (Poisson per service): they overtake within the head start and
take priority windows first. Times are seconds from the moment of the estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from queueing.estimation.kernel import run_queue

RUNS = 128
ARRIVAL_HORIZON_S = 2 * 3600.0
MAX_FUTURE_ARRIVALS = 120
# A paused window is expected back after this long (a break, lunch); closed ones are not.
PAUSE_RESUME_S = 30 * 60.0
# The run-wide speed factor: day-to-day drift of service times beyond parameter noise.
SPEED_SIGMA = 0.12
PRIORITY_OFFSET = 1e9  # seconds: beyond any queue key


@dataclass
class Snapshot:
    """The queue as the simulation sees it. Tickets are in call order (queue key, id);
    `keys` are queue keys in seconds from now (negative: issued earlier)."""

    n_services: int
    head_start_s: float
    ticket_service: np.ndarray  # int, per ticket
    ticket_priority: np.ndarray  # bool
    ticket_key: np.ndarray  # float
    ticket_occupies: np.ndarray  # bool: False for a "ghost" arrival probe
    window_skills: np.ndarray  # bool, windows × services
    window_priority: np.ndarray  # bool
    window_start_s: np.ndarray  # float: when it can call next (0 open, resume if paused)
    window_busy_service: np.ndarray  # int: service it serves now, -1 when free
    window_busy_elapsed_s: np.ndarray  # float


@dataclass
class Params:
    mu: np.ndarray  # per service index, log seconds
    sigma: np.ndarray
    n_obs: np.ndarray  # observations behind each fit
    no_show_p: float
    no_show_s: float
    abandon_p: float
    priority_rate: np.ndarray  # per service, arrivals per second


def simulate(
    snap: Snapshot,
    params: Params,
    *,
    runs: int = RUNS,
    seed: int = 0,
    only: np.ndarray | None = None,
) -> np.ndarray:
    """Seconds from now until each ticket is first called, runs × tickets (inf: never).

    With `only` (ticket indices), each run stops once those are called: the other
    columns may then read inf although they would be called later. Each run has its
    own stream, so the columns asked for are the same either way."""
    n = len(snap.ticket_service)
    n_win = len(snap.window_priority)
    if n == 0 or n_win == 0:
        return np.full((runs, n), np.inf)
    s_count = snap.n_services
    q_count = 2 * s_count  # sub-queue q: service q % S, priority when q >= S
    lam = float(params.priority_rate.max(initial=0.0)) * ARRIVAL_HORIZON_S
    k = int(min(MAX_FUTURE_ARRIVALS, np.ceil(lam + 4 * np.sqrt(lam) + 1))) if lam > 0 else 0

    # each sub-queue's tickets, in call order, one after another
    sub_queue = snap.ticket_service + s_count * snap.ticket_priority.astype(np.int64)
    q_members = np.argsort(sub_queue, kind="stable")
    q_start = np.searchsorted(sub_queue[q_members], np.arange(q_count + 1))
    q_service = np.arange(q_count) % s_count
    q_is_priority = np.arange(q_count) >= s_count
    skilled = np.ascontiguousarray(snap.window_skills[:, q_service])
    # A priority window prefers priority sub-queues: their keys, offset far below any
    # other, win whenever one of their heads is ready.
    reach = np.where(snap.window_priority[:, None] & q_is_priority[None, :], -PRIORITY_OFFSET, 0.0)
    # Run-wide speed: parameter noise of each service's fit plus day drift.
    speed_sigma = np.sqrt(SPEED_SIGMA**2 + params.sigma**2 / np.maximum(params.n_obs, 1.0))
    watch = np.zeros(0, dtype=np.int64) if only is None else np.asarray(only, dtype=np.int64)
    return run_queue(
        runs,
        seed,
        snap.ticket_service.astype(np.int64),
        snap.ticket_key.astype(float),
        snap.ticket_occupies.astype(np.bool_),
        q_start.astype(np.int64),
        q_members.astype(np.int64),
        skilled,
        reach,
        snap.window_start_s.astype(float),
        snap.window_busy_service.astype(np.int64),
        snap.window_busy_elapsed_s.astype(float),
        params.mu.astype(float),
        params.sigma.astype(float),
        speed_sigma.astype(float),
        float(params.no_show_p),
        float(params.no_show_s),
        float(params.abandon_p),
        params.priority_rate.astype(float),
        float(snap.head_start_s),
        ARRIVAL_HORIZON_S,
        k,
        watch,
        3 * (n + s_count * k) + 2 * n_win + 10,
    )

"""Monte Carlo forward simulation of a hall's queue under the real calling policy.

The policy (docs/calling-policy.md) keeps one total order, so it simulates exactly:
each service's waiting tickets form two sorted sub-queues, regular and priority, by
queue key. A free ordinary window takes the smallest queue key among the heads of the
sub-queues of its skills; a priority window first takes the smallest priority head.
All runs advance together, one call per run per step, on numpy arrays of runs ×
sub-queues, so the cost grows with the number of calls, not with runs × tickets.

Future regular arrivals never get ahead of a waiting ticket, so only future priority
arrivals are simulated (Poisson per service): they overtake within the head start and
take priority windows first. Times are seconds from the moment of the estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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

    With `only` (ticket indices), the runs stop once those are called: the other
    columns may then read inf although they would be called later. Every draw is
    made up front, so the columns asked for are the same either way."""
    rng = np.random.default_rng(seed)
    n = len(snap.ticket_service)
    waits = np.full((runs, n), np.inf)
    n_win = len(snap.window_priority)
    if n == 0 or n_win == 0:
        return waits
    s_count = snap.n_services
    q_count = 2 * s_count  # sub-queue q: service q % S, priority when q >= S

    # Future priority arrivals per run and service, as sorted times (inf: none).
    lam = params.priority_rate * ARRIVAL_HORIZON_S
    k = int(min(MAX_FUTURE_ARRIVALS, np.ceil(lam.max() + 4 * np.sqrt(lam.max()) + 1)))
    if lam.max() <= 0:
        k = 0
    arrivals = np.full((runs, s_count, k), np.inf)
    if k:
        rate = np.maximum(params.priority_rate, 1e-12)[None, :, None]
        gaps = rng.exponential(1.0, size=(runs, s_count, k)) / rate
        arrivals = np.cumsum(gaps, axis=2)
        arrivals[arrivals > ARRIVAL_HORIZON_S] = np.inf

    # Run-wide speed: parameter noise of each service's fit plus day drift.
    speed_sigma = np.sqrt(SPEED_SIGMA**2 + params.sigma**2 / np.maximum(params.n_obs, 1.0))
    speed = np.exp(rng.standard_normal((runs, s_count)) * speed_sigma[None, :])

    # How long each ticket would hold its window, drawn up front for every run: a
    # service time, a no-show's short wait, or nothing for a visitor who left or a probe.
    def holding(service: np.ndarray, occupies: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        draw = np.exp(params.mu[service] + params.sigma[service] * rng.standard_normal(shape))
        draw *= np.take(speed, service, axis=1)
        draw[rng.random(shape) < params.no_show_p] = params.no_show_s
        draw[~occupies | (rng.random(shape) < params.abandon_p)] = 0.0
        return draw

    ticket_hold = holding(
        snap.ticket_service, np.broadcast_to(snap.ticket_occupies, (runs, n)), (runs, n)
    )

    # Sub-queue tables, runs × sub-queues × positions: queue key, when it is there to
    # be called, how long it holds the window, and (after the run) when it was called.
    members = [
        np.flatnonzero(
            (snap.ticket_service == q % s_count) & (snap.ticket_priority == (q >= s_count))
        )
        for q in range(q_count)
    ]
    length = max(len(m) for m in members) + k + 1
    qkey = np.full((runs, q_count, length), np.inf)
    qavail = np.full((runs, q_count, length), np.inf)
    qhold = np.zeros((runs, q_count, length))
    for q, m in enumerate(members):
        qkey[:, q, : len(m)] = snap.ticket_key[m]
        qavail[:, q, : len(m)] = -np.inf
        qhold[:, q, : len(m)] = ticket_hold[:, m]
        if q >= s_count and k:
            future = arrivals[:, q - s_count, :]
            qkey[:, q, len(m) : len(m) + k] = future - snap.head_start_s
            qavail[:, q, len(m) : len(m) + k] = future
            service = np.full(k, q - s_count)
            qhold[:, q, len(m) : len(m) + k] = holding(service, np.ones(k, bool), (runs, k))
    need = np.asarray([len(m) for m in members])  # positions holding today's tickets
    q_service = np.arange(q_count) % s_count
    q_is_priority = np.arange(q_count) >= s_count
    window_q = snap.window_skills[:, q_service]  # windows × sub-queues

    free = np.tile(snap.window_start_s.astype(float), (runs, 1))
    busy = snap.window_busy_service >= 0
    if busy.any():
        free[:, busy] += _residual(snap, params, speed, rng, busy)

    # Flat views: one gather per step instead of a three-way fancy index.
    flat_key = qkey.ravel()
    flat_avail = qavail.ravel()
    flat_hold = qhold.ravel()
    flat_called = np.full(qkey.size, np.inf)
    rr = np.arange(runs)
    base = (rr[:, None] * q_count + np.arange(q_count)[None, :]) * length
    # A priority window prefers priority sub-queues: their keys, offset far below any
    # other, win the argmin whenever one of their heads is ready.
    # Unskilled sub-queues are out of reach (+inf).
    reach = np.where(
        window_q,
        np.where(snap.window_priority[:, None] & q_is_priority[None, :], -PRIORITY_OFFSET, 0.0),
        np.inf,
    )
    # idx: each run's head of each sub-queue, as a position in the flat tables
    idx = base.copy()
    idx_flat = idx.ravel()
    end = base + need[None, :]
    watch = None
    if only is not None:
        # where each watched ticket sits in the flat tables, per run
        slot = np.empty(n, dtype=np.int64)
        for q, m in enumerate(members):
            slot[m] = q * length + np.arange(len(m))
        watch = (rr[:, None] * q_count * length + slot[np.asarray(only)][None, :]).ravel()
    # per-step numpy overhead dominates (a step is one call in every run): flat takes
    # and puts instead of fancy indexing, and no readiness test without future arrivals
    # (then every ticket's head is ready and the padding's key is +inf anyway)
    free_flat = free.ravel()
    win_row = rr * n_win
    q_row = rr * q_count
    max_steps = 3 * (n + s_count * k) + 2 * n_win + 10
    for step in range(max_steps):
        wi = win_row + free.argmin(axis=1)
        tau = free_flat.take(wi)
        if step % 16 == 0 and (
            (idx >= end).all()
            or np.isinf(tau).all()
            or (watch is not None and np.isfinite(flat_called[watch]).all())
        ):
            break
        w = wi - win_row
        keyed = flat_key.take(idx) + reach.take(w, axis=0)
        if k:
            head_avail = flat_avail.take(idx)
            cand = np.where(head_avail <= tau[:, None], keyed, np.inf)
        else:
            cand = keyed
        qi = q_row + cand.argmin(axis=1)
        chosen = idx_flat.take(qi)
        nxt = tau + flat_hold.take(chosen)
        got = np.isfinite(cand.ravel().take(qi))
        if got.all():
            flat_called[chosen] = tau
            idx_flat[qi] += 1
        else:
            flat_called[chosen[got]] = tau[got]
            idx_flat[qi] += got
            # a window with nothing ready sleeps until its next priority arrival
            if k:
                skilled = window_q[w]
                later = np.where(skilled & (head_avail > tau[:, None]), head_avail, np.inf)
                nxt = np.where(got, nxt, later.min(axis=1))
            else:
                nxt = np.where(got, nxt, np.inf)
        free_flat[wi] = nxt
    called = flat_called.reshape(runs, q_count, length)
    for q, m in enumerate(members):
        waits[:, m] = called[:, q, : len(m)]
    return waits


def _residual(
    snap: Snapshot,
    params: Params,
    speed: np.ndarray,
    rng: np.random.Generator,
    busy: np.ndarray,
) -> np.ndarray:
    """Remaining service of the tickets at the windows now, given how long they have
    been served: the first of a few draws that outlasts the elapsed time, less it."""
    service = snap.window_busy_service[busy]
    elapsed = snap.window_busy_elapsed_s[busy]
    draws = (
        np.exp(
            params.mu[service][None, :, None]
            + params.sigma[service][None, :, None]
            * rng.standard_normal((speed.shape[0], len(service), 6))
        )
        * speed[:, service][:, :, None]
    )
    left = draws - elapsed[None, :, None]
    positive = left > 0
    first = positive.argmax(axis=2)
    chosen = np.take_along_axis(left, first[:, :, None], axis=2)[:, :, 0]
    fallback = 0.5 * np.exp(params.mu[service])[None, :]
    return np.where(positive.any(axis=2), chosen, fallback)

"""The forward simulation's runs, compiled (numba): one run at a time, one call per
iteration, each visitor's draws made when a window calls them.

`forward.simulate` turns the queue into plain arrays and calls `run_queue`. Compiled
on first use and cached on disk (NUMBA_CACHE_DIR, else beside this file). A busy
day's replay makes ~6,000 simulations of ~200 calls in each of 128 runs; numpy,
stepping all runs together, spent ~60 µs of call overhead per step and more on
drawing every visitor's service time up front for every run, reached or not.

Each run seeds its own stream (seed + run), so stopping a run once the watched
tickets are called changes nothing about them: the same seed gives the same waits for
them with or without the others.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# A run's stream: the estimate's seed plus this many times the run's number.
RUN_SEED_STRIDE = 7919


@njit(cache=True, nogil=True)
def _hold(  # noqa: PLR0913
    service: int,
    occupies: bool,
    speed: np.ndarray,
    mu: np.ndarray,
    sigma: np.ndarray,
    no_show_p: float,
    no_show_s: float,
    abandon_p: float,
) -> float:
    """How long a called visitor holds the window: a service time, a no-show's short
    wait, or nothing for a visitor who left, or for a probe, which is nobody and
    draws nothing (so probes change no other ticket's draws)."""
    if not occupies:
        return 0.0
    u = np.random.random()
    if u < abandon_p:
        return 0.0
    if u < abandon_p + no_show_p:
        return no_show_s
    return math.exp(mu[service] + sigma[service] * np.random.standard_normal()) * speed[service]


@njit(cache=True, nogil=True)
def run_queue(  # noqa: PLR0913, PLR0912, PLR0915 - plain arrays in, for the compiler
    runs: int,
    seed: int,
    t_service: np.ndarray,  # per ticket in call order: service index
    t_key: np.ndarray,  # queue key, seconds from now
    t_occupies: np.ndarray,  # False for a ghost probe
    q_start: np.ndarray,  # sub-queue q's tickets are q_members[q_start[q]:q_start[q + 1]]
    q_members: np.ndarray,
    skilled: np.ndarray,  # windows × sub-queues
    reach: np.ndarray,  # windows × sub-queues: key offset (-1e9: preferred)
    w_start: np.ndarray,  # when each window can first call (0 open, later if paused)
    w_busy: np.ndarray,  # service being served now, -1 when free
    w_elapsed: np.ndarray,  # how long it has been served
    mu: np.ndarray,
    sigma: np.ndarray,
    speed_sigma: np.ndarray,
    no_show_p: float,
    no_show_s: float,
    abandon_p: float,
    priority_rate: np.ndarray,  # per service, future priority arrivals per second
    head_start_s: float,
    horizon_s: float,
    max_future: int,  # at most this many future arrivals per service and run
    watch: np.ndarray,  # ticket indices: a run stops once all are called (empty: all)
    max_steps: int,
) -> np.ndarray:
    """Seconds from now until each ticket is first called, runs × tickets (inf: never).

    A free window (the earliest) calls the smallest key plus its reach among the ready
    heads of its sub-queues; a priority sub-queue's head is its next waiting ticket,
    then its next future arrival. With nothing ready a window sleeps until the next
    arrival of its skills, or for good."""
    n = t_service.shape[0]
    n_win, q_count = skilled.shape
    s_count = q_count // 2
    waits = np.full((runs, n), np.inf)
    watched = np.zeros(n, dtype=np.bool_)
    for i in range(watch.shape[0]):
        watched[watch[i]] = True
    speed = np.empty(s_count)
    free = np.empty(n_win)
    head = np.empty(q_count, dtype=np.int64)
    arrival = np.empty(s_count)  # the next future priority arrival, per service
    arrived = np.empty(s_count, dtype=np.int64)  # future arrivals called so far
    for r in range(runs):
        np.random.seed((seed + RUN_SEED_STRIDE * r) % 4294967296)
        for s in range(s_count):
            speed[s] = math.exp(np.random.standard_normal() * speed_sigma[s])
        for w in range(n_win):
            free[w] = w_start[w]
            s = w_busy[w]
            if s >= 0:
                # remaining service: the first of a few draws that outlasts the time
                # already served, less it
                left = 0.5 * math.exp(mu[s])
                for _try in range(6):
                    d = math.exp(mu[s] + sigma[s] * np.random.standard_normal()) * speed[s]
                    if d > w_elapsed[w]:
                        left = d - w_elapsed[w]
                        break
                free[w] += left
        for s in range(s_count):
            arrived[s] = 0
            arrival[s] = np.inf
            if priority_rate[s] > 0 and max_future > 0:
                first = np.random.exponential(1.0 / priority_rate[s])
                arrival[s] = first if first <= horizon_s else np.inf
        head[:] = 0
        left_watch = watch.shape[0]
        for _step in range(max_steps):
            w = 0
            tau = free[0]
            for j in range(1, n_win):
                if free[j] < tau:
                    tau = free[j]
                    w = j
            if tau == np.inf:
                break
            best_q = -1
            best = np.inf
            for q in range(q_count):
                if not skilled[w, q]:
                    continue
                if q_start[q] + head[q] < q_start[q + 1]:
                    key = t_key[q_members[q_start[q] + head[q]]]
                elif q >= s_count and arrival[q - s_count] <= tau:
                    key = arrival[q - s_count] - head_start_s
                else:
                    continue
                key += reach[w, q]
                if key < best:
                    best = key
                    best_q = q
            if best_q < 0:
                # nothing ready: sleep until the next arrival this window can call
                later = np.inf
                for q in range(s_count, q_count):
                    if skilled[w, q] and tau < arrival[q - s_count] < later:
                        later = arrival[q - s_count]
                free[w] = later
                continue
            position = q_start[best_q] + head[best_q]
            head[best_q] += 1
            if position < q_start[best_q + 1]:
                ticket = q_members[position]
                waits[r, ticket] = tau
                free[w] = tau + _hold(
                    t_service[ticket],
                    t_occupies[ticket],
                    speed,
                    mu,
                    sigma,
                    no_show_p,
                    no_show_s,
                    abandon_p,
                )
                if watched[ticket]:
                    left_watch -= 1
                    if left_watch == 0:
                        break
            else:
                s = best_q - s_count
                free[w] = tau + _hold(s, True, speed, mu, sigma, no_show_p, no_show_s, abandon_p)
                arrived[s] += 1
                arrival[s] += np.random.exponential(1.0 / priority_rate[s])
                if arrived[s] >= max_future or arrival[s] > horizon_s:
                    arrival[s] = np.inf
            if watch.shape[0] == 0:
                done = True
                for q in range(q_count):
                    if q_start[q] + head[q] < q_start[q + 1]:
                        done = False
                        break
                if done:
                    break
    return waits


def warm() -> None:
    """Compile (or load from the cache) before the first visitor needs a quote."""
    one = np.ones(1)
    run_queue(
        1,
        0,
        np.zeros(1, dtype=np.int64),
        np.zeros(1),
        np.ones(1, dtype=np.bool_),
        np.asarray([0, 1, 1], dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        np.ones((1, 2), dtype=np.bool_),
        np.zeros((1, 2)),
        np.zeros(1),
        np.full(1, -1, dtype=np.int64),
        np.zeros(1),
        one,
        one,
        one,
        0.0,
        90.0,
        0.0,
        np.zeros(1),
        0.0,
        7200.0,
        0,
        np.zeros(0, dtype=np.int64),
        10,
    )

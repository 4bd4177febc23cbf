"""Periodic jobs: one registry, run by Celery beat in production and by a small
in-process thread in the embedded default.

A job is a Celery task that takes no arguments and is safe to run twice. Its module
registers it once, next to its definition:

    register_periodic("queueing.close_finished_days", 5 * 60, close_finished_days)

`hall_ops.celery` turns `periodic_jobs()` into beat's schedule (the task is sent to
a worker); `EmbeddedScheduler` calls the same task functions in-process on the same
periods when no Redis is configured (settings.EMBEDDED_SCHEDULER). Every app's
`tasks` module is imported before the list is read, so both see the same jobs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections, connections
from django.utils.module_loading import autodiscover_modules

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    seconds: float
    func: Callable[[], Any]

    @property
    def task_name(self) -> str:
        """The Celery task beat sends (the function's Celery name, else its dotted path)."""
        name = getattr(self.func, "name", None)
        if isinstance(name, str):
            return name
        return f"{self.func.__module__}.{self.func.__qualname__}"


_registry: dict[str, PeriodicJob] = {}
_registry_lock = threading.Lock()


def register_periodic(name: str, seconds: float, func: Callable[[], Any]) -> PeriodicJob:
    """Run `func()` every `seconds`. Registering the same name again with the same
    function is a no-op (a module imported twice); with another function, an error."""
    if seconds <= 0:
        raise ValueError(f"periodic job {name!r}: period must be positive, got {seconds}")
    job = PeriodicJob(name=name, seconds=seconds, func=func)
    with _registry_lock:
        existing = _registry.get(name)
        if existing is not None and existing.task_name != job.task_name:
            raise ValueError(f"periodic job {name!r} is already registered for {existing.func!r}")
        _registry[name] = job
    return job


def unregister_periodic(name: str) -> None:
    with _registry_lock:
        _registry.pop(name, None)


def periodic_jobs() -> list[PeriodicJob]:
    """Every registered job, after importing each installed app's `tasks` module."""
    autodiscover_modules("tasks")
    with _registry_lock:
        return sorted(_registry.values(), key=lambda job: job.name)


def beat_schedule() -> dict[str, dict[str, Any]]:
    """The registry as Celery's `beat_schedule`."""
    return {
        job.name: {"task": job.task_name, "schedule": float(job.seconds)} for job in periodic_jobs()
    }


def run_job(job: PeriodicJob) -> bool:
    """Run one job on a fresh database connection of this thread, closed afterwards.

    A failure is logged and swallowed: the next period tries again. Returns whether
    the run succeeded.
    """
    close_old_connections()
    try:
        result = job.func()
    except Exception:
        log.exception("periodic job %s failed", job.name)
        return False
    else:
        if result:  # one line per job and period: for who looks, not the console
            log.debug("periodic job %s: %s", job.name, result)
        return True
    finally:
        # Threads keep their own connections; one left open would hold SQLite's lock or
        # a PostgreSQL backend until the process exits.
        connections.close_all()


class EmbeddedScheduler(threading.Thread):
    """A daemon thread that runs the periodic jobs in-process: each one right after
    start, then every `job.seconds`. `stop()` ends it within one tick."""

    def __init__(self, jobs: Iterable[PeriodicJob] | None = None, *, tick: float = 1.0) -> None:
        super().__init__(name="hall-ops-scheduler", daemon=True)
        self._jobs = list(jobs) if jobs is not None else None
        self._tick = tick
        self._stopped = threading.Event()

    def stop(self, timeout: float | None = 10) -> None:
        self._stopped.set()
        if self.is_alive():
            self.join(timeout)

    def run(self) -> None:
        try:
            jobs = self._jobs if self._jobs is not None else periodic_jobs()
        except Exception:
            log.exception("embedded scheduler: could not load the periodic jobs")
            return
        log.info("embedded scheduler: %s", ", ".join(f"{j.name}/{j.seconds:g}s" for j in jobs))
        due = dict.fromkeys((job.name for job in jobs), time.monotonic())
        while not self._stopped.is_set():
            for job in jobs:
                if self._stopped.is_set():
                    break
                if time.monotonic() >= due[job.name]:
                    run_job(job)
                    due[job.name] = time.monotonic() + job.seconds
            next_due = min(due.values(), default=time.monotonic() + self._tick)
            self._stopped.wait(max(0.0, min(self._tick, next_due - time.monotonic())))


_embedded: EmbeddedScheduler | None = None
_embedded_lock = threading.Lock()


def start_embedded_scheduler() -> EmbeddedScheduler:
    """Start the process's one embedded scheduler (later calls return the same one)."""
    global _embedded
    with _embedded_lock:
        if _embedded is None or not _embedded.is_alive():
            _embedded = EmbeddedScheduler()
            _embedded.start()
        return _embedded

"""What the estimator learns from a hall's history, read at one instant.

Everything here looks only at rows that ended (or were issued) before `at`, so a replay
that asks at each event's moment never sees the future.

- Window occupancy per service (called_at → ended_at of completed tickets, which holds
  the walk to the window and any recalls): a lognormal, fitted on logs and shrunk
  toward the hall's pooled fit, which is itself shrunk toward a prior (6 min median),
  so a service with three completed tickets does not get a wild distribution.
- No-shows: the share of called tickets that ended as no-shows, and how long a window
  waits for one (called_at → ended_at).
- Abandonment: the share of issued tickets cancelled before any call.
- Priority arrivals per service over the last hour: future priority visitors overtake
  waiting regular ones within the head start, and a priority window serves them first.
- Per hour of the day (hall time, by when the ticket was called): each service's
  fit for that hour, shrunk toward the service's all-day fit by HOUR_PRIOR_N
  pseudo-observations, so an hour with a handful of tickets stays near the day's.
- Today against the history (`todays_drift`): when today's completed services run
  slower or faster than the fits beyond chance, every fit is shifted by the difference.
- How far the recent quotes have been off (`correction`): a factor on the remaining
  wait, applied only when the quotes judged lean one way beyond chance.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.db.models import Count, Min, Q

from queueing.estimation.correction import learn_correction
from queueing.models import Hall, Ticket

HISTORY = dt.timedelta(days=14)
HISTORY_ROWS = 1500
# A hall's model is relearned at most this often: it moves slowly, and reading two
# weeks of rows on every issue would cost more than the simulation itself.
MODEL_TTL = dt.timedelta(minutes=2)
ARRIVAL_WINDOW = dt.timedelta(hours=1)
MIN_EXPOSURE_S = 900.0

# The prior: a 6-minute median with a moderate tail, worth PRIOR_N observations.
PRIOR_MU = math.log(360.0)
PRIOR_SIGMA = 0.6
PRIOR_N = 5.0
PRIOR_NO_SHOW_S = 90.0
LOW_Q, HIGH_Q = 0.10, 0.90
HOUR_PRIOR_N = 50.0
# today's services against the fits (todays_drift)
DRIFT_MIN = 20
DRIFT_Z = 3.0
DRIFT_CLIP = math.log(1.3)


@dataclass(frozen=True)
class LogNormal:
    mu: float
    sigma: float
    n: float  # observations behind it (prior excluded)

    @property
    def median_s(self) -> float:
        return math.exp(self.mu)


@dataclass
class HallModel:
    """The learned inputs of one simulation; plain numbers, cheap to pass around."""

    service_time: dict[int, LogNormal]
    pooled: LogNormal
    no_show_p: float = 0.0
    no_show_s: float = PRIOR_NO_SHOW_S
    abandon_p: float = 0.0
    priority_rate: dict[int, float] = field(default_factory=dict)  # arrivals per second
    # (service, local hour) -> fit, shrunk toward the service's; absent: the service's
    by_hour: dict[tuple[int, int], LogNormal] = field(default_factory=dict)
    # how far recent quotes ran long (> 1) or short, when plainly so (correction.py)
    correction: float = 1.0

    def for_service(self, service_id: int, hour: int | None = None) -> LogNormal:
        if hour is not None and (service_id, hour) in self.by_hour:
            return self.by_hour[(service_id, hour)]
        return self.service_time.get(service_id, self.pooled)


def fit_lognormal(durations: list[float], *, prior: LogNormal, prior_n: float) -> LogNormal:
    """Conjugate-style shrinkage on the log scale: prior_n pseudo-observations of `prior`."""
    logs = [math.log(max(d, 1.0)) for d in durations]
    n = len(logs)
    if n == 0:
        return LogNormal(prior.mu, prior.sigma, 0.0)
    mean = sum(logs) / n
    ss = sum((x - mean) ** 2 for x in logs)
    mu = (prior_n * prior.mu + n * mean) / (prior_n + n)
    # pooled variance, plus the spread between the prior's centre and the data's
    var = (prior_n * prior.sigma**2 + ss + prior_n * n / (prior_n + n) * (mean - prior.mu) ** 2) / (
        prior_n + n
    )
    return LogNormal(mu, max(math.sqrt(var), 0.05), float(n))


def todays_drift(todays: list[tuple[int, float]], fits: dict[int, LogNormal]) -> float:
    """How much slower (> 0, on the log scale) today's services run than the fits
    say, when today's completions show it beyond chance: their mean log residual is
    DRIFT_Z standard errors from zero over at least DRIFT_MIN of them. Clipped to
    ±30 %. Service times are known minutes after they happen, unlike waits, so a slow
    day shows within the hour; a day like the history shows nothing."""
    residuals = [math.log(max(s, 1.0)) - fits[sid].mu for sid, s in todays if sid in fits]
    n = len(residuals)
    if n < DRIFT_MIN:
        return 0.0
    mean = sum(residuals) / n
    sd = math.sqrt(sum((r - mean) ** 2 for r in residuals) / (n - 1))
    if abs(mean) * math.sqrt(n) < DRIFT_Z * max(sd, 0.05):
        return 0.0
    return max(-DRIFT_CLIP, min(DRIFT_CLIP, mean))


def _shifted(fit: LogNormal, shift: float) -> LogNormal:
    return LogNormal(fit.mu + shift, fit.sigma, fit.n)


_cache: dict[int, tuple[dt.datetime, HallModel]] = {}


def hall_model(hall: Hall, *, at: dt.datetime) -> HallModel:
    """The hall's model as learned at most MODEL_TTL before `at` (never after it: a
    replay asking at each event's time must not see later rows through the cache)."""
    cached = _cache.get(hall.pk)
    if cached is not None and dt.timedelta(0) <= at - cached[0] < MODEL_TTL:
        return cached[1]
    model = learn_hall_model(hall, at=at)
    _cache[hall.pk] = (at, model)
    return model


def forget_hall_models() -> None:
    """Drop every cached model (a replay starts a new database whose ids repeat)."""
    _cache.clear()


def learn_hall_model(hall: Hall, *, at: dt.datetime) -> HallModel:
    """Read the hall's recent history (4 queries) into a HallModel."""
    ended = list(
        Ticket.objects.filter(
            hall=hall,
            ended_at__gte=at - HISTORY,
            ended_at__lt=at,
            called_at__isnull=False,
            status__in=[Ticket.Status.COMPLETED, Ticket.Status.NO_SHOW],
        )
        .order_by("-ended_at")
        .values_list("service_id", "status", "called_at", "ended_at")[:HISTORY_ROWS]
    )
    by_service: dict[int, list[float]] = {}
    by_hour: dict[tuple[int, int], list[float]] = {}
    no_show_s: list[float] = []
    tz = hall.tz
    today = hall.business_date(at)
    todays: list[tuple[int, float]] = []
    for service_id, status, called_at, ended_at in ended:
        if called_at is None or ended_at is None:  # excluded by the filter; for mypy
            continue
        seconds = (ended_at - called_at).total_seconds()
        if status == Ticket.Status.NO_SHOW:
            no_show_s.append(seconds)
        else:
            by_service.setdefault(service_id, []).append(seconds)
            by_hour.setdefault((service_id, called_at.astimezone(tz).hour), []).append(seconds)
            if ended_at.astimezone(tz).date() == today:
                todays.append((service_id, seconds))
    prior = LogNormal(PRIOR_MU, PRIOR_SIGMA, 0.0)
    pooled = fit_lognormal(
        [d for ds in by_service.values() for d in ds], prior=prior, prior_n=PRIOR_N
    )
    service_time = {
        sid: fit_lognormal(ds, prior=pooled, prior_n=PRIOR_N) for sid, ds in by_service.items()
    }
    hour_fits = {
        key: fit_lognormal(ds, prior=service_time[key[0]], prior_n=HOUR_PRIOR_N)
        for key, ds in by_hour.items()
    }
    shift = todays_drift(todays, service_time)
    if shift:
        pooled = _shifted(pooled, shift)
        service_time = {sid: _shifted(f, shift) for sid, f in service_time.items()}
        hour_fits = {key: _shifted(f, shift) for key, f in hour_fits.items()}
    called = len(ended)
    # one pseudo-call without a no-show keeps a first no-show from meaning 100 %
    no_show_p = len(no_show_s) / (called + 1)
    mean_no_show = (sum(no_show_s) + PRIOR_NO_SHOW_S) / (len(no_show_s) + 1)

    issued = Ticket.objects.filter(hall=hall, issued_at__gte=at - HISTORY, issued_at__lt=at)
    priority = Q(is_elderly=True) | Q(is_disabled=True) | Q(has_appointment=True)
    rows = issued.values("service_id").annotate(
        n=Count("id"),
        abandoned=Count(
            "id",
            filter=Q(status=Ticket.Status.CANCELLED, called_at__isnull=True, ended_at__lt=at),
        ),
        recent_priority=Count("id", filter=priority & Q(issued_at__gte=at - ARRIVAL_WINDOW)),
        first_recent=Min("issued_at", filter=Q(issued_at__gte=at - ARRIVAL_WINDOW)),
    )
    total = abandoned = 0
    recent: dict[int, int] = {}
    firsts = []
    for row in rows:
        total += row["n"]
        abandoned += row["abandoned"]
        recent[row["service_id"]] = row["recent_priority"]
        if row["first_recent"] is not None:
            firsts.append(row["first_recent"])
    # Arrivals counted over the hour, or since the hall began issuing if that is
    # later (at 09:15 the last hour holds a quarter hour of arrivals, not an hour's).
    exposure = ARRIVAL_WINDOW.total_seconds()
    if firsts:
        exposure = min(exposure, max(MIN_EXPOSURE_S, (at - min(firsts)).total_seconds()))
    priority_rate = {sid: n / exposure for sid, n in recent.items()}

    return HallModel(
        service_time=service_time,
        pooled=pooled,
        no_show_p=no_show_p,
        no_show_s=mean_no_show,
        abandon_p=abandoned / (total + 1),
        priority_rate=priority_rate,
        by_hour=hour_fits,
        correction=learn_correction(hall, at=at),
    )

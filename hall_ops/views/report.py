"""The weekly report of a hall, for its managers and directors: per service, tickets
issued and served, mean and 90th-percentile wait, the share past target, how well the
quotes held (mean absolute error, share of waits inside the quoted interval), no-shows,
the busiest hours, and next week's staffing advice by day and hour.

`?week=YYYY-Www` (ISO week) picks the week, by default the last full one; a malformed
or future week is a 400 naming the field. `?format=csv` downloads the service table.
The page prints (a print stylesheet drops the navigation). A fixed number of queries.
"""

from __future__ import annotations

import csv
import datetime as dt
import re

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from hall_ops.dashboards.selectors import WaitFigures, WeeklyReport, weekly_report
from queueing.access import access_hall_for_user
from queueing.estimation.staffing import next_week_plan
from queueing.models import Hall, StaffRole
from queueing.views.common import StaffRequest

TEMPLATE = "hall_ops/report.html"
REPORT_ROLES = (StaffRole.Role.MANAGER, StaffRole.Role.DIRECTOR)
WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class BadWeek(ValueError):
    pass


def iso_week(start: dt.date) -> str:
    year, week, _day = start.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(value: str | None, *, today: dt.date) -> dt.date:
    """The Monday of `value` (YYYY-Www), or of the last full week when it is absent."""
    if value is None or value == "":
        return today - dt.timedelta(days=today.weekday() + 7)
    match = WEEK.match(value)
    if match is None:
        raise BadWeek(_("Give the week as YYYY-Www, for example 2026-W47."))
    try:
        monday = dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise BadWeek(_("That year has no such week.")) from None
    if monday > today:
        raise BadWeek(_("That week has not started yet."))
    return monday


@require_GET
@login_required
def report(request: StaffRequest, code: str) -> HttpResponse:
    hall = access_hall_for_user(request.user, code, REPORT_ROLES)
    today = hall.business_date()
    try:
        start = parse_week(request.GET.get("week"), today=today)
    except BadWeek as exc:
        context = {"hall": hall, "error": {"field": "week", "message": str(exc)}}
        return render(request, TEMPLATE, context, status=400)
    data = weekly_report(hall, start=start)
    if request.GET.get("format") == "csv":
        return _csv(hall, data)
    previous = start - dt.timedelta(weeks=1)
    following = start + dt.timedelta(weeks=1)
    context = {
        "hall": hall,
        "report": data,
        "week": iso_week(start),
        "previous_week": iso_week(previous),
        "next_week": iso_week(following) if following <= today else None,
        "staffing": next_week_plan(hall, at=timezone.now()),
    }
    return render(request, TEMPLATE, context)


def _minutes(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 60:.1f}"


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _csv(hall: Hall, data: WeeklyReport) -> HttpResponse:
    """The service table, one row per service and a total; minutes and shares as plain
    numbers for a spreadsheet (column names stay English: they are data)."""
    week = iso_week(data.start)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{hall.code}-{week}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "hall",
            "week",
            "service",
            "issued",
            "served",
            "no_shows",
            "cancelled",
            "mean_wait_min",
            "p90_wait_min",
            "share_past_target",
            "quote_mae_min",
            "share_inside_quote",
        ]
    )
    rows: list[tuple[str, WaitFigures]] = [(s.prefix, f) for s, f in data.services]
    rows.append(("total", data.total))
    for name, f in rows:
        writer.writerow(
            [
                hall.code,
                week,
                name,
                f.issued,
                f.served,
                f.no_shows,
                f.cancelled,
                _minutes(f.mean_wait_s),
                _minutes(f.p90_wait_s),
                _share(f.share_past_target),
                _minutes(f.quote_mae_s),
                _share(f.share_inside_quote),
            ]
        )
    return response

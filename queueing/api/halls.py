"""A hall's live state: its queues per service and its windows."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from queueing.api.auth import access_hall_for_token, token_of
from queueing.api.schemas import (
    ERRORS,
    CurrentTicketOut,
    EstimateOut,
    HallPath,
    HallStateOut,
    HallTotalsOut,
    NearbyHallOut,
    ServiceQueueOut,
    WindowStateOut,
)
from queueing.estimation import Estimate
from queueing.estimation.neighbours import Neighbour, nearby_halls
from queueing.models import Ticket, Window
from queueing.selectors import arrival_estimates, hall_state

router = Router(tags=["halls"])


@router.get("/halls/{hall}/state", response={200: HallStateOut, **ERRORS})
def get_hall_state(request: HttpRequest, hall: HallPath) -> HallStateOut:
    """Queues per service (waiting, longest wait, issued and served today, the wait
    a new arrival can expect, and the nearby halls offering it with theirs), every
    window (status, skills, the ticket it holds, seconds in that state) and totals."""
    state = hall_state(access_hall_for_token(token_of(request), hall))
    estimates = arrival_estimates(
        state.hall, services=[q.service for q in state.services], at=state.at
    )
    nearby = nearby_halls(state.hall, here=estimates, at=state.at)
    statuses = [ws.window.status for ws in state.windows]
    return HallStateOut(
        hall=state.hall.code,
        name=state.hall.display_name,
        at=state.at,
        business_date=state.business_date,
        totals=HallTotalsOut(
            waiting=state.waiting,
            issued_today=sum(q.issued_today for q in state.services),
            served_today=sum(q.served_today for q in state.services),
            windows_open=statuses.count(Window.Status.OPEN),
            windows_paused=statuses.count(Window.Status.PAUSED),
            windows_closed=statuses.count(Window.Status.CLOSED),
        ),
        services=[
            ServiceQueueOut(
                service=q.service.prefix,
                name=q.service.display_name,
                waiting=q.waiting,
                longest_wait_s=q.longest_wait_s,
                target_wait_min=q.service.target_wait_min,
                issued_today=q.issued_today,
                served_today=q.served_today,
                estimate=_estimate_out(estimates.get(q.service.pk)),
                nearby=[_nearby_out(n) for n in nearby.get(q.service.pk, [])],
            )
            for q in state.services
        ],
        windows=[
            WindowStateOut(
                id=ws.window.pk,
                label=ws.window.label,
                status=Window.Status(ws.window.status),
                is_priority=ws.window.is_priority,
                skills=[s.prefix for s in ws.skills],
                ticket=CurrentTicketOut(
                    id=ws.ticket.pk,
                    number=ws.ticket.number,
                    service=ws.ticket.service.prefix,
                    status=Ticket.Status(ws.ticket.status),
                    called_at=ws.ticket.called_at,
                    started_at=ws.ticket.started_at,
                )
                if ws.ticket
                else None,
                seconds_in_state=ws.seconds_in_state,
                staffed=ws.window.clerk_id is not None,
            )
            for ws in state.windows
        ],
    )


def _estimate_out(estimate: Estimate | None) -> EstimateOut | None:
    if estimate is None:
        return None
    return EstimateOut(expected_s=estimate.expected_s, low_s=estimate.low_s, high_s=estimate.high_s)


def _nearby_out(neighbour: Neighbour) -> NearbyHallOut:
    return NearbyHallOut(
        hall=neighbour.hall.code,
        name=neighbour.hall.display_name,
        distance_km=round(neighbour.distance_km, 1),
        estimate=_estimate_out(neighbour.estimate),
        much_shorter=neighbour.much_shorter,
    )

"""Bulk ingest for a hall that runs its own queue system (see queueing.services.ingest)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from queueing.api.auth import access_hall_for_token, token_of
from queueing.api.schemas import (
    ERRORS,
    EventIn,
    HallPath,
    IngestBatchIn,
    IngestBatchOut,
    IngestResultOut,
)
from queueing.services.ingest import ExternalEvent, ingest_events

router = Router(tags=["ingest"])


def _external(event: EventIn) -> ExternalEvent:
    # the schemas name their fields as ExternalEvent does
    fields = event.model_dump(exclude={"id", "event", "ts"})
    if "priority" in fields:
        fields["priority"] = bool(fields["priority"])
    return ExternalEvent(external_id=event.id, kind=event.event, at=event.ts, **fields)


@router.post("/halls/{hall}/events", response={200: IngestBatchOut, **ERRORS})
def ingest_hall_events(
    request: HttpRequest, hall: HallPath, payload: IngestBatchIn
) -> IngestBatchOut:
    """Apply a batch of up to 1000 events from the hall's own queue system, in order.

    Idempotent by event `id`: an id applied before (in any batch) is a `duplicate` and
    changes nothing. An event the state forbids is `rejected` with the field at fault
    and the reason, and the others still apply. A batch of the wrong shape is a 422
    naming the field with the event's index, and nothing is applied.
    """
    hall_row = access_hall_for_token(token_of(request), hall)
    results = ingest_events(hall=hall_row, events=[_external(e) for e in payload.events])
    return IngestBatchOut(
        applied=sum(r.status == "applied" for r in results),
        duplicate=sum(r.status == "duplicate" for r in results),
        rejected=sum(r.status == "rejected" for r in results),
        results=[
            IngestResultOut(
                index=r.index,
                id=r.external_id,
                status=r.status,
                ticket=r.ticket_id,
                field=r.field,
                reason=r.reason,
            )
            for r in results
        ],
    )

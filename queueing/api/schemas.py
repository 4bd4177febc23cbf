"""Request and response shapes of the JSON API; the OpenAPI schema is generated from
them. Every string that reaches the database is bounded and refused when PostgreSQL
could not store it (NUL characters, lone surrogates), so bad input is a 422, not a 500.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Path, Schema
from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StrictBool,
)
from pydantic_core import core_schema

from queueing.models import Outcome, Ticket, Window

BIGINT_MAX = 2**63 - 1
# Events further ahead of our clock than this are a clock fault, not a queue fact
# (an issued ticket stamped ahead would be called before it was issued): README, API.
MAX_CLOCK_SKEW = dt.timedelta(minutes=2)
EARLIEST_EVENT = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
MAX_BATCH = 1000


def _storable(value: str) -> str:
    # The messages say what is wrong, never the value: it may be an ID number.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _plausible_time(value: dt.datetime) -> dt.datetime:
    if not EARLIEST_EVENT <= value <= timezone.now() + MAX_CLOCK_SKEW:
        raise ValueError("must lie between the year 2000 and 2 minutes ahead of the server clock")
    return value


class _Storable:
    """Refuses what PostgreSQL cannot store, and says so in the schema: a pattern
    without NUL characters (JSON text has no lone surrogates to state)."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_after_validator_function(_storable, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        return {**handler(schema), "pattern": "^[^\x00]*$"}


Storable = _Storable()
ObjectId = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
HallCode = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[-a-zA-Z0-9_]+$")]
ServicePrefix = Annotated[
    str, Field(pattern=r"^[A-Z]{1,2}$", description="A service's number prefix, e.g. A")
]
TicketNumber = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{1,2}[0-9]{1,6}$",
        description="e.g. A023, unique per day however zero-padded (A23 and A0023 are A023); "
        "at most 999999",
    ),
]
WindowLabel = Annotated[str, Field(min_length=1, max_length=16), Storable]
ExternalId = Annotated[str, Field(min_length=1, max_length=100), Storable]
EventTime = Annotated[
    AwareDatetime,
    AfterValidator(_plausible_time),
    Field(description="ISO 8601 with a UTC offset, e.g. 2026-03-02T09:15:00+08:00"),
]
Reason = Annotated[str, Field(max_length=200), Storable]
MissingDocuments = Annotated[str, Field(max_length=300), Storable]
# Long enough for a number typed with spaces; the service checks the rest.
IdNumber = Annotated[str, Field(max_length=32), Storable]

HallPath = Annotated[HallCode, Path(description="The hall's code")]
TicketPath = Annotated[ObjectId, Path(description="The ticket's id")]
WindowPath = Annotated[ObjectId, Path(description="The window's id")]


# --- errors ---------------------------------------------------------------------------


class ErrorOut(Schema):
    detail: str


class FieldErrorOut(Schema):
    loc: list[str | int] = Field(description='Where: ["body", "service"], ["path", "hall"]')
    msg: str
    type: str


class ValidationErrorOut(Schema):
    detail: list[FieldErrorOut]


# The answers every route may give besides its own (see queueing.api.errors).
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    422: ValidationErrorOut,
    503: ErrorOut,
}


# --- tickets --------------------------------------------------------------------------


class WindowRefOut(Schema):
    id: int
    label: str


class EstimateOut(Schema):
    expected_s: int = Field(description="Expected seconds from issue to first call")
    low_s: int = Field(description="The 80 % interval's lower end, seconds")
    high_s: int = Field(description="The 80 % interval's upper end, seconds")


def quote_out(ticket: Ticket) -> EstimateOut | None:
    """The wait a ticket was quoted at issue, or None when none could be made."""
    if ticket.quoted_wait_s is None or ticket.quoted_low_s is None or ticket.quoted_high_s is None:
        return None
    return EstimateOut(
        expected_s=ticket.quoted_wait_s, low_s=ticket.quoted_low_s, high_s=ticket.quoted_high_s
    )


class TicketOut(Schema):
    id: int
    hall: str = Field(description="The hall's code")
    number: str
    service: str = Field(description="The service's prefix")
    status: Ticket.Status
    business_date: dt.date
    issued_at: dt.datetime
    called_at: dt.datetime | None
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    window: WindowRefOut | None = Field(description="The window calling or serving it")
    position: int | None = Field(
        description="Waiting tickets of its service ahead of it; null unless waiting"
    )
    recall_count: int
    is_elderly: bool
    is_disabled: bool
    has_appointment: bool
    is_priority: bool
    visitor: str | None = Field(
        description="The visitor's ID number masked but for its last two characters, if given"
    )
    outcome: Outcome | None
    missing_documents: str
    end_reason: str
    estimate: EstimateOut | None = Field(
        default=None, description="The wait quoted at issue (expected and 80 % interval), if any"
    )


class TicketIssueIn(Schema):
    service: ServicePrefix
    id_number: IdNumber | None = Field(
        None,
        description=(
            "Resident ID number (18 characters); only a keyed hash, its last two characters "
            "and the birth year are kept"
        ),
    )
    # strict: `"yes"` or `0` for a flag is a client bug to report, not to guess at
    is_disabled: StrictBool = False
    has_appointment: StrictBool = False


class TicketCallIn(Schema):
    window: ObjectId = Field(description="The id of a window of the ticket's hall")


class TicketCompleteIn(Schema):
    outcome: Outcome = Outcome.DONE
    missing_documents: MissingDocuments = Field(
        "", description="Which documents were missing; required for missing_documents"
    )


class TicketTransferIn(Schema):
    service: ServicePrefix


class TicketCancelIn(Schema):
    reason: Reason = ""


# --- windows --------------------------------------------------------------------------


class QueueEntryOut(Schema):
    id: int
    number: str
    service: str
    issued_at: dt.datetime
    is_priority: bool


class WindowOut(Schema):
    id: int
    hall: str
    label: str
    status: Window.Status
    status_changed_at: dt.datetime
    is_priority: bool
    auto_call: bool
    skills: list[str] = Field(description="Prefixes of the services it handles")
    ticket: TicketOut | None = Field(description="The ticket it is calling or serving")
    queue: list[QueueEntryOut] = Field(description="Waiting tickets in the order it calls them")


class WindowStatusIn(Schema):
    status: Window.Status


class CallNextOut(Schema):
    ticket: TicketOut | None = Field(description="The called ticket; null when nobody waits")


# --- halls ----------------------------------------------------------------------------


class NearbyHallOut(Schema):
    hall: str
    name: str
    distance_km: float
    estimate: EstimateOut | None = Field(
        description="The wait a regular visitor taking a number there now can expect"
    )
    much_shorter: bool = Field(
        description="Saves at least 15 minutes and is under half the wait here"
    )


class ServiceQueueOut(Schema):
    service: str
    name: str
    waiting: int
    longest_wait_s: int
    target_wait_min: int
    issued_today: int
    served_today: int
    estimate: EstimateOut | None = Field(
        default=None, description="The wait a regular visitor taking a number now can expect"
    )
    nearby: list[NearbyHallOut] = Field(
        default_factory=list,
        description="Other halls within HALL_NEARBY_KM offering the service, quickest first "
        "(their estimates may be up to 30 s old)",
    )


class CurrentTicketOut(Schema):
    id: int
    number: str
    service: str
    status: Ticket.Status
    called_at: dt.datetime | None
    started_at: dt.datetime | None


class WindowStateOut(Schema):
    id: int
    label: str
    status: Window.Status
    is_priority: bool
    skills: list[str]
    ticket: CurrentTicketOut | None
    seconds_in_state: int = Field(description="Serving (or calling) its ticket, else in status")
    staffed: bool = Field(
        description="A person signed in has the window (its current clerk: who opened it "
        "or last acted at it from a console or the board); false: only API calls drive it"
    )


class HallTotalsOut(Schema):
    waiting: int
    issued_today: int
    served_today: int
    windows_open: int
    windows_paused: int
    windows_closed: int


class HallStateOut(Schema):
    hall: str
    name: str
    at: dt.datetime
    business_date: dt.date
    totals: HallTotalsOut
    services: list[ServiceQueueOut]
    windows: list[WindowStateOut]


# --- ingest ---------------------------------------------------------------------------


class _EventIn(Schema):
    id: ExternalId = Field(description="The external system's event id (idempotency key)")
    ts: EventTime


class WindowEventIn(_EventIn):
    event: Literal["window_open", "window_pause", "window_close"]
    window: WindowLabel


class IssuedEventIn(_EventIn):
    event: Literal["issued"]
    ticket: TicketNumber
    service: ServicePrefix
    priority: Literal[0, 1] = Field(0, description="1: a priority visitor (kept as appointment)")


class CalledEventIn(_EventIn):
    event: Literal["called"]
    ticket: TicketNumber
    window: WindowLabel


class CompletedEventIn(_EventIn):
    event: Literal["completed"]
    ticket: TicketNumber
    outcome: Outcome = Outcome.DONE
    missing_documents: MissingDocuments = ""


class EndedEventIn(_EventIn):
    event: Literal["no_show", "cancelled"]
    ticket: TicketNumber
    reason: Reason = ""


class TransferredEventIn(_EventIn):
    event: Literal["transferred"]
    ticket: TicketNumber
    service: ServicePrefix = Field(description="The new service's prefix")


EventIn = Annotated[
    WindowEventIn
    | IssuedEventIn
    | CalledEventIn
    | CompletedEventIn
    | EndedEventIn
    | TransferredEventIn,
    Field(discriminator="event"),
]


class IngestBatchIn(Schema):
    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH)


class IngestResultOut(Schema):
    index: int = Field(description="The event's position in the batch, from 0")
    id: str
    status: Literal["applied", "duplicate", "rejected"]
    ticket: int | None = Field(description="The id of the ticket it changed")
    field: str | None = Field(description="The event's field at fault, when rejected")
    reason: str = Field(description="Why it was rejected")


class IngestBatchOut(Schema):
    applied: int
    duplicate: int
    rejected: int
    results: list[IngestResultOut]

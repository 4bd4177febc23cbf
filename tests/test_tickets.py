"""The ticket lifecycle through the service functions: every transition, every refusal."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from queueing import services
from queueing.models import Outcome, Ticket, TicketEvent, Visitor, Window
from queueing.services import QueueError
from tests.factories import make_service, national_id

T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def issue(city, service=None, minute=0.0, **kw):
    return services.ticket_issue(hall=city.h1, service=service or city.pension, at=at(minute), **kw)


def kinds(ticket):
    return list(ticket.events.values_list("kind", flat=True))


def test_it_numbers_tickets_per_service_prefix(city):
    numbers = [issue(city, s, i).number for i, s in enumerate([city.pension, city.social] * 2)]
    assert numbers == ["A001", "B001", "A002", "B002"]


def test_it_restarts_numbers_on_the_next_business_day(city):
    issue(city)
    next_day = services.ticket_issue(
        hall=city.h1, service=city.pension, at=at(24 * 60)
    )  # same clock time tomorrow
    assert next_day.number == "A001"
    assert next_day.business_date == at(24 * 60).date()


def test_it_uses_the_halls_local_date_as_business_day(city):
    # 23:30 UTC on the 22nd is 07:30 on the 23rd in Shanghai
    ticket = services.ticket_issue(
        hall=city.h1, service=city.pension, at=dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.UTC)
    )
    assert ticket.business_date == dt.date(2026, 11, 23)


def test_it_refuses_a_service_the_hall_does_not_offer(city):
    other = make_service("Z")
    with pytest.raises(QueueError) as exc:
        issue(city, other)
    assert exc.value.field == "service"
    assert not Ticket.objects.exists()


def test_it_stores_only_the_pseudonym_of_an_id_number(city):
    number = national_id(dt.date(1955, 5, 5))
    ticket = issue(city, id_number=number)
    visitor = Visitor.objects.get()
    assert ticket.visitor == visitor
    assert visitor.masked_id == "*" * 16 + number[-2:]
    assert visitor.birth_year == 1955
    assert number not in (visitor.id_hmac, visitor.masked_id)
    assert ticket.is_elderly and ticket.age_at_issue == 71


def test_it_recognises_the_same_visitor_again(city):
    number = national_id(dt.date(1990, 5, 5))
    first = issue(city, id_number=number)
    second = issue(city, city.social, 1, id_number=number)
    assert first.visitor_id == second.visitor_id
    assert Visitor.objects.count() == 1
    assert not second.is_elderly


def test_it_uses_the_halls_elderly_threshold(city):
    city.h1.elderly_age = 65
    city.h1.save()
    ticket = issue(city, id_number=national_id(dt.date(1963, 1, 1)))  # 63 years old
    assert not ticket.is_elderly


def test_it_rejects_a_bad_id_number_and_issues_nothing(city):
    with pytest.raises(QueueError) as exc:
        issue(city, id_number="440305195803071235")
    assert exc.value.field == "id_number"
    assert not Ticket.objects.exists()
    assert not Visitor.objects.exists()


def test_it_calls_the_longest_waiting_ticket_among_the_window_skills(city):
    a1 = issue(city, city.pension, 0)
    b1 = issue(city, city.social, 1)
    issue(city, city.pension, 2)
    assert services.ticket_call_next(window=city.w1, at=at(5)) == a1
    # W02 handles only pensions: the older social ticket is not its business
    second = services.ticket_call_next(window=city.w2, at=at(5))
    assert second is not None and second.number == "A002"
    called = Ticket.objects.get(pk=a1.pk)
    assert called.status == Ticket.Status.CALLED and called.window == city.w1
    assert Ticket.objects.get(pk=b1.pk).status == Ticket.Status.WAITING


def test_it_returns_none_when_nobody_waits(city):
    assert services.ticket_call_next(window=city.w1, at=at(1)) is None


def test_it_calls_a_priority_ticket_ahead_within_the_head_start(city):
    regular = issue(city, minute=0)
    elderly = issue(city, minute=10, id_number=national_id(dt.date(1950, 1, 1)))
    # head start is 20 minutes: the elderly visitor who came 10 minutes later goes first
    assert services.ticket_call_next(window=city.w2, at=at(11)) == elderly
    assert services.ticket_call_next(window=city.w1, at=at(11)) == regular


def test_it_never_lets_priority_overtake_a_ticket_older_than_the_head_start(city):
    regular = issue(city, minute=0)
    issue(city, minute=25, has_appointment=True)
    # the fairness bound: a regular ticket waits at most 20 extra minutes for priority
    assert services.ticket_call_next(window=city.w2, at=at(26)) == regular


def test_it_makes_a_priority_window_take_priority_tickets_first(city):
    issue(city, minute=0)
    disabled = issue(city, minute=40, is_disabled=True)
    assert services.ticket_call_next(window=city.w3, at=at(41)) == disabled


def test_it_refuses_to_call_at_a_window_that_is_not_open(city):
    issue(city)
    services.window_pause(window=city.w2)
    with pytest.raises(QueueError, match="paused"):
        services.ticket_call_next(window=city.w2, at=at(1))


def test_it_refuses_a_second_ticket_at_a_busy_window(city):
    issue(city)
    issue(city, minute=1)
    services.ticket_call_next(window=city.w2, at=at(2))
    with pytest.raises(QueueError, match="A001"):
        services.ticket_call_next(window=city.w2, at=at(3))
    assert Ticket.objects.current().filter(window=city.w2).count() == 1


def test_it_walks_a_ticket_through_its_whole_life(city):
    ticket = issue(city)
    services.ticket_call_next(window=city.w1, at=at(3))
    ticket = services.ticket_recall(ticket=ticket, at=at(4))
    ticket = services.ticket_start(ticket=ticket, at=at(5))
    ticket = services.ticket_complete(ticket=ticket, outcome=Outcome.DONE, at=at(15))
    assert ticket.status == Ticket.Status.COMPLETED
    assert ticket.window is None
    assert ticket.waited_seconds() == 180
    assert kinds(ticket) == ["issued", "called", "recalled", "started", "completed"]
    completed = ticket.events.get(kind="completed")
    assert completed.window == city.w1 and completed.outcome == "done"


def test_it_allows_completing_straight_from_called(city):
    ticket = issue(city)
    services.ticket_call_next(window=city.w1, at=at(1))
    ticket = services.ticket_complete(ticket=ticket, outcome=Outcome.CONSULTATION, at=at(3))
    assert ticket.started_at == at(1)


def test_it_requires_the_missing_documents_for_an_incomplete_outcome(city):
    ticket = issue(city)
    services.ticket_call_next(window=city.w1, at=at(1))
    with pytest.raises(QueueError) as exc:
        services.ticket_complete(ticket=ticket, outcome=Outcome.MISSING_DOCUMENTS, at=at(2))
    assert exc.value.field == "missing_documents"
    ticket = services.ticket_complete(
        ticket=ticket,
        outcome=Outcome.MISSING_DOCUMENTS,
        missing_documents="户口簿原件",
        at=at(2),
    )
    assert ticket.missing_documents == "户口簿原件"
    assert ticket.events.get(kind="completed").data == {"missing_documents": "户口簿原件"}


def test_it_rejects_an_unknown_outcome(city):
    ticket = issue(city)
    services.ticket_call_next(window=city.w1, at=at(1))
    with pytest.raises(QueueError) as exc:
        services.ticket_complete(ticket=ticket, outcome="great", at=at(2))
    assert exc.value.field == "outcome"
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.CALLED


def test_it_bounds_recalls(city):
    ticket = issue(city)
    services.ticket_call_next(window=city.w1, at=at(1))
    for n in range(city.h1.recall_limit):
        ticket = services.ticket_recall(ticket=ticket, at=at(2 + n))
    with pytest.raises(QueueError, match="no-show"):
        services.ticket_recall(ticket=ticket, at=at(9))
    assert ticket.events.filter(kind="recalled").count() == city.h1.recall_limit


def test_it_frees_the_window_on_a_no_show(city):
    first = issue(city)
    second = issue(city, minute=1)
    services.ticket_call_next(window=city.w2, at=at(2))
    first = services.ticket_no_show(ticket=first, at=at(5))
    assert first.status == Ticket.Status.NO_SHOW
    assert services.ticket_call_next(window=city.w2, at=at(6)) == second


def test_it_refuses_transitions_from_the_wrong_state(city):
    ticket = issue(city)
    for change in (services.ticket_recall, services.ticket_start, services.ticket_no_show):
        with pytest.raises(QueueError, match="A001"):
            change(ticket=ticket)
    with pytest.raises(QueueError):
        services.ticket_complete(ticket=ticket, outcome="done")
    assert kinds(ticket) == ["issued"]


def test_it_keeps_the_issue_time_on_transfer(city):
    early = issue(city, city.pension, 0)
    issue(city, city.social, 5)
    services.ticket_call_next(window=city.w2, at=at(10))
    moved = services.ticket_transfer(ticket=early, service=city.social, at=at(12))
    assert moved.status == Ticket.Status.WAITING and moved.window is None
    assert moved.number == "A001" and moved.issued_at == at(0)
    # it is ahead of the social ticket issued after it, not at the back of the queue
    assert services.ticket_call_next(window=city.w1, at=at(13)) == moved
    event = moved.events.get(kind="transferred")
    assert event.data == {"from_service": "A", "to_service": "B"}
    assert event.window == city.w2


def test_it_refuses_a_transfer_to_the_same_or_an_unoffered_service(city):
    ticket = issue(city)
    with pytest.raises(QueueError):
        services.ticket_transfer(ticket=ticket, service=city.pension)
    with pytest.raises(QueueError) as exc:
        services.ticket_transfer(ticket=ticket, service=make_service("Q"))
    assert exc.value.field == "service"


def test_it_cancels_with_a_reason_and_keeps_the_row(city):
    ticket = issue(city)
    ticket = services.ticket_cancel(ticket=ticket, reason="left the hall", at=at(3))
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.CANCELLED
    assert ticket.events.get(kind="cancelled").data == {"reason": "left the hall"}
    with pytest.raises(QueueError):
        services.ticket_cancel(ticket=ticket)


def test_it_auto_calls_the_next_ticket_when_one_completes(city):
    services.window_set_auto_call(window=city.w2, enabled=True)
    first = issue(city)
    second = issue(city, minute=1)
    services.ticket_call_next(window=city.w2, at=at(2))
    services.ticket_complete(ticket=first, outcome="done", at=at(6))
    second.refresh_from_db()
    assert second.status == Ticket.Status.CALLED and second.window_id == city.w2.pk
    assert second.called_at == at(6)


def test_it_does_not_auto_call_at_a_paused_window(city):
    services.window_set_auto_call(window=city.w2, enabled=True)
    first = issue(city)
    second = issue(city, minute=1)
    services.ticket_call_next(window=city.w2, at=at(2))
    services.window_pause(window=city.w2)
    services.ticket_complete(ticket=first, outcome="done", at=at(6))
    second.refresh_from_db()
    assert second.status == Ticket.Status.WAITING


def test_it_only_calls_tickets_of_the_current_business_day(city):
    issue(city, minute=-24 * 60)  # left over from yesterday
    assert services.ticket_call_next(window=city.w2, at=at(1)) is None


def test_it_appends_events_and_never_rewrites_them(city):
    ticket = issue(city)
    services.ticket_call_next(window=city.w1, at=at(1))
    services.ticket_no_show(ticket=ticket, at=at(4))
    events = list(TicketEvent.objects.order_by("id").values_list("kind", "at"))
    assert events == [("issued", at(0)), ("called", at(1)), ("no_show", at(4))]


def test_it_uses_the_wall_clock_when_no_time_is_given(city):
    before = timezone.now()
    ticket = services.ticket_issue(hall=city.h1, service=city.pension)
    assert before <= ticket.issued_at <= timezone.now()
    assert ticket.business_date == city.h1.business_date()


def test_it_rolls_back_a_call_whose_event_cannot_be_written(city, monkeypatch):
    ticket = issue(city)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(TicketEvent.objects, "create", broken)
    with pytest.raises(RuntimeError):
        services.ticket_call_next(window=city.w1, at=at(1))
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.WAITING and ticket.window is None
    assert Window.objects.get(pk=city.w1.pk).status == Window.Status.OPEN

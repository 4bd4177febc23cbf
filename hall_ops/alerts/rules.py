"""Where alerts are raised.

Two kinds of rule. Event rules run after a ticket event commits (registered as a
listener of queueing.events): an elderly visitor or a repeat visit is known the moment
the ticket is issued. Time rules run in the periodic scan (every 15 s from Celery beat,
or the embedded scheduler): a long wait, an idle window, an alert nobody took.
Each rule is safe to run again: alert_raise deduplicates by key.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Max
from django.utils import timezone

from hall_ops.alerts.services import alert_escalate, alert_expire, alert_raise
from hall_ops.models import Alert, AlertRules
from queueing.estimation import estimate_hall
from queueing.models import Hall, Ticket, TicketEvent, Window

K = Alert.Kind
SEV = Alert.Severity
TE = TicketEvent.Kind
ENDED = (Ticket.Status.COMPLETED, Ticket.Status.NO_SHOW, Ticket.Status.CANCELLED)
# The kinds raised about one ticket, in the order a card names its reasons.
TICKET_KINDS = (K.LONG_WAIT, K.REPEAT_VISIT, K.ELDERLY)


def rules_for(hall: Hall) -> AlertRules:
    """The hall's thresholds, or the defaults when the admin never saved any."""
    return AlertRules.objects.filter(hall=hall).first() or AlertRules(hall=hall)


def ticket_key(kind: str, ticket: Ticket) -> str:
    return f"{kind}:ticket:{ticket.pk}"


def window_key(window: Window) -> str:
    return f"{K.IDLE_WINDOW}:window:{window.pk}"


def _ticket_context(ticket: Ticket) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "service": ticket.service.prefix,
        "service_zh": ticket.service.name_zh,
        "service_en": ticket.service.name_en,
        "issued_at": ticket.issued_at.isoformat(),
        "age": ticket.age_at_issue,
        "elderly": ticket.is_elderly,
        "disabled": ticket.is_disabled,
        "visitor": ticket.visitor.masked_id if ticket.visitor else None,
    }


# ----------------------------------------------------------------- event rules


def on_ticket_event(event: TicketEvent) -> None:
    """Listener of committed ticket events (see HallOpsConfig.ready)."""
    ticket = Ticket.objects.select_related("hall", "service", "visitor").get(pk=event.ticket_id)
    if event.kind == TE.ISSUED:
        rules = rules_for(ticket.hall)
        # one card per ticket: a repeat visit by an elderly visitor is the repeat-visit
        # alert, carrying "elderly" among its reasons (the card shows both)
        repeat = None
        if rules.repeat_visit_enabled and ticket.visitor_id:
            elderly = rules.elderly_enabled and ticket.is_elderly
            repeat = raise_repeat_visit(
                ticket, days=rules.repeat_visit_days, at=event.at, elderly=elderly
            )
        if repeat is None and rules.elderly_enabled and ticket.is_elderly:
            raise_elderly(ticket, at=event.at)
    # Every alert about a ticket ends once it is called to a window or leaves the queue:
    # staff greet visitors who are waiting, the clerk serves the one at the window.
    keys: list[str] = []
    if event.kind == TE.CALLED or event.kind in (TE.COMPLETED, TE.NO_SHOW, TE.CANCELLED):
        keys += [ticket_key(kind, ticket) for kind in TICKET_KINDS]
    if event.kind == TE.CALLED and event.window_id:
        keys.append(f"{K.IDLE_WINDOW}:window:{event.window_id}")
    if keys:
        _expire(keys, ticket.hall, f"ticket {event.kind}", event.at)


def raise_elderly(ticket: Ticket, *, at: dt.datetime) -> Alert:
    return alert_raise(
        hall=ticket.hall,
        kind=K.ELDERLY,
        key=ticket_key(K.ELDERLY, ticket),
        severity=SEV.WARNING,
        ticket=ticket,
        service=ticket.service,
        context=_ticket_context(ticket) | {"reasons": [K.ELDERLY.value]},
        at=at,
    )


def raise_repeat_visit(
    ticket: Ticket, *, days: int, at: dt.datetime, elderly: bool = False
) -> Alert | None:
    """The visitor took a ticket for this service before, within `days`, in any hall."""
    if ticket.visitor_id is None:
        return None
    earlier = list(
        Ticket.objects.filter(
            visitor_id=ticket.visitor_id,
            service_id=ticket.service_id,
            issued_at__gte=ticket.issued_at - dt.timedelta(days=days),
            issued_at__lt=ticket.issued_at,
        )
        .exclude(pk=ticket.pk)
        .select_related("hall")
        .order_by("-issued_at")[:10]
    )
    if not earlier:
        return None
    visits = [
        {
            "date": t.business_date.isoformat(),
            "hall": t.hall.code,
            "hall_name": t.hall.name,
            "number": t.number,
            "status": t.status,
            "outcome": t.outcome,
            "missing_documents": t.missing_documents,
        }
        for t in earlier
    ]
    served_today = any(
        t.business_date == ticket.business_date and t.status == Ticket.Status.COMPLETED
        for t in earlier
    )
    reasons = [K.REPEAT_VISIT.value] + ([K.ELDERLY.value] if elderly else [])
    context = _ticket_context(ticket) | {
        "visits": visits,
        "served_today": served_today,
        "reasons": reasons,
    }
    severity = SEV.HIGH if len(earlier) >= 2 else SEV.WARNING
    return alert_raise(
        hall=ticket.hall,
        kind=K.REPEAT_VISIT,
        key=ticket_key(K.REPEAT_VISIT, ticket),
        severity=severity,
        ticket=ticket,
        service=ticket.service,
        context=context,
        at=at,
    )


def _expire(keys: list[str], hall: Hall, reason: str, at: dt.datetime) -> None:
    """Expire the hall's active alerts under `keys`: one query when there are none."""
    for alert in Alert.objects.filter(hall=hall, key__in=keys, state__in=Alert.ACTIVE_STATES):
        alert_expire(alert=alert, reason=reason, at=at)


# ------------------------------------------------------------------ time rules


def long_wait_severity(waited_s: float, target_min: int) -> int | None:
    """Warning past the target, high at 1.5×, critical at 2×; None below the target."""
    ratio = waited_s / (target_min * 60)
    if ratio >= 2:
        return SEV.CRITICAL
    if ratio >= 1.5:
        return SEV.HIGH
    if ratio >= 1:
        return SEV.WARNING
    return None


def _active_by_key(kind: str) -> dict[tuple[int, str], Alert]:
    return {
        (a.hall_id, a.key): a
        for a in Alert.objects.filter(kind=kind, state__in=Alert.ACTIVE_STATES)
    }


def _rules_by_hall() -> dict[int, AlertRules]:
    saved = {r.hall_id: r for r in AlertRules.objects.all()}
    return {h.pk: saved.get(h.pk) or AlertRules(hall=h) for h in Hall.objects.all()}


def _reasons(*kinds: str) -> list[str]:
    """The reasons of a ticket's card, each once, in TICKET_KINDS order."""
    return [k.value for k in TICKET_KINDS if k in kinds]


def scan_long_waits(*, at: dt.datetime | None = None) -> int:
    """One alert per waiting ticket past its target, its severity rising with the wait.
    A ticket that has a card already (elderly, repeat visit) gets "long wait" added to
    that card's reasons instead of a second card.

    A fixed number of queries per hall, plus one write per alert that is new or rises.
    """
    now = at or timezone.now()
    active = _active_by_key(K.LONG_WAIT)
    ticket_alerts = {
        a.ticket_id: a
        for a in Alert.objects.filter(
            kind__in=[K.ELDERLY, K.REPEAT_VISIT],
            state__in=Alert.ACTIVE_STATES,
            ticket__isnull=False,
        )
    }
    changed = 0
    for hall_id, rules in _rules_by_hall().items():
        hall = rules.hall
        if not rules.long_wait_enabled:
            continue
        waiting = (
            Ticket.objects.waiting()
            .filter(hall_id=hall_id, business_date=hall.business_date(now))
            .select_related("service", "visitor")
        )
        for ticket in waiting:
            waited = (now - ticket.issued_at).total_seconds()
            severity = long_wait_severity(waited, ticket.service.target_wait_min)
            if severity is None:
                continue
            ticket.hall = hall
            target = {"target_min": ticket.service.target_wait_min}
            card = ticket_alerts.get(ticket.pk)
            if card is not None:
                reasons = card.context.get("reasons") or [card.kind]
                if K.LONG_WAIT in reasons and card.severity >= severity:
                    continue
                alert_raise(
                    hall=hall,
                    kind=card.kind,
                    key=card.key,
                    severity=severity,
                    ticket=ticket,
                    service=ticket.service,
                    context=card.context | target | {"reasons": _reasons(K.LONG_WAIT, *reasons)},
                    at=now,
                )
                changed += 1
                continue
            key = ticket_key(K.LONG_WAIT, ticket)
            current = active.get((hall_id, key))
            if current is not None and current.severity >= severity:
                continue
            alert_raise(
                hall=hall,
                kind=K.LONG_WAIT,
                key=key,
                severity=severity,
                ticket=ticket,
                service=ticket.service,
                context=_ticket_context(ticket) | target | {"reasons": [K.LONG_WAIT.value]},
                at=now,
            )
            changed += 1
    # safety net behind the event rule: a ticket called or gone needs no card
    about_tickets = list(active.values()) + list(ticket_alerts.values())
    still_waiting = set(
        Ticket.objects.waiting()
        .filter(pk__in=[a.ticket_id for a in about_tickets])
        .values_list("pk", flat=True)
    )
    for alert in about_tickets:
        if alert.ticket_id not in still_waiting:
            alert_expire(alert=alert, reason="ticket no longer waiting", at=now)
    return changed


# A raised prediction stays while some ticket's point estimate holds above this share
# of the target, so a service hovering at the target does not raise and expire on
# alternate scans.
PREDICTED_BREACH_KEEP = 0.9
# Tickets named on a service's card; the count says how many in all.
PREDICTED_BREACH_NAMED = 5


def _count_moved(shown: int, now: int) -> bool:
    """Whether a card's count is worth a new push: by 2 and a quarter of it at least."""
    return abs(now - shown) >= max(2, shown // 4)


def service_key(kind: str, service_id: int) -> str:
    return f"{kind}:service:{service_id}"


def scan_predicted_breaches(*, at: dt.datetime | None = None) -> int:
    """One alert per service whose waiting tickets will confidently pass its target
    before being called: the lower end of a ticket's 80 % interval
    (queueing.estimation) is past the target while the ticket has not reached it yet.
    The card counts those tickets; past the target, each one's long-wait alert takes
    over. A point estimate merely near the target raises nothing: it is right about
    half the time, and a card per such ticket buried the board. Follows the hall's
    long-wait switch.

    Two queries, then per hall with tickets still within their target its rules and
    one simulation (a fixed number of queries), plus one write per new or changed card.
    """
    now = at or timezone.now()
    active = _active_by_key(K.PREDICTED_BREACH)
    within: dict[int, list[Ticket]] = {}
    for ticket in (
        Ticket.objects.waiting()
        .filter(issued_at__gt=now - dt.timedelta(days=1))
        .select_related("hall", "service", "visitor")
        .order_by("issued_at", "pk")
    ):
        waited = (now - ticket.issued_at).total_seconds()
        today = ticket.hall.business_date(now)
        if ticket.business_date == today and waited < ticket.service.target_wait_min * 60:
            within.setdefault(ticket.hall_id, []).append(ticket)
    saved = {r.hall_id: r for r in AlertRules.objects.filter(hall_id__in=within)} if within else {}
    keep: set[tuple[int, str]] = set()
    changed = 0
    for hall_id, tickets in within.items():
        hall = tickets[0].hall
        if not (saved.get(hall_id) or AlertRules(hall=hall)).long_wait_enabled:
            continue
        estimates = estimate_hall(hall, at=now, arrivals=False).tickets
        confident: dict[int, list[Ticket]] = {}
        near: set[int] = set()
        for ticket in tickets:
            target_s = ticket.service.target_wait_min * 60
            estimate = estimates.get(ticket.pk)
            if estimate is None:
                continue
            if estimate.low_s > target_s:
                confident.setdefault(ticket.service_id, []).append(ticket)
            if estimate.expected_s > PREDICTED_BREACH_KEEP * target_s:
                near.add(ticket.service_id)
        for service_id in near:
            key = service_key(K.PREDICTED_BREACH, service_id)
            late = confident.get(service_id)
            if not late:
                if (hall_id, key) in active:
                    keep.add((hall_id, key))  # still near: the card stays as it was
                continue
            keep.add((hall_id, key))
            service = late[0].service
            current = active.get((hall_id, key))
            context = {
                "service": service.prefix,
                "service_zh": service.name_zh,
                "service_en": service.name_en,
                "target_min": service.target_wait_min,
                "count": len(late),
                "tickets": [t.number for t in late[:PREDICTED_BREACH_NAMED]],
            }
            if current is not None and not _count_moved(current.context.get("count", 0), len(late)):
                continue  # the estimate wobbles by a ticket or two: no push for that
            alert_raise(
                hall=hall,
                kind=K.PREDICTED_BREACH,
                key=key,
                severity=SEV.WARNING,
                service=service,
                context=context,
                at=now,
            )
            changed += 1
    for (hall_id, key), alert in active.items():
        if (hall_id, key) not in keep:
            alert_expire(alert=alert, reason="breach no longer predicted", at=now)
    return changed


def scan_idle_windows(*, at: dt.datetime | None = None) -> int:
    """An open window that has called nobody for N minutes while its skills have a queue.

    Alerts of windows that got busy, paused, closed or whose queue emptied expire.
    """
    now = at or timezone.now()
    rules = _rules_by_hall()
    windows = list(
        Window.objects.filter(status=Window.Status.OPEN)
        .exclude(tickets__status__in=Ticket.CURRENT_STATUSES)
        .select_related("hall")
        .prefetch_related("skills")
    )
    last_event = dict(
        TicketEvent.objects.filter(window__in=windows)
        .values("window_id")
        .annotate(last=Max("at"))
        .values_list("window_id", "last")
    )
    halls = {w.hall_id: w.hall for w in windows}
    waiting: dict[tuple[int, int], int] = {}
    for row in (
        Ticket.objects.waiting()
        .filter(hall_id__in=halls)
        .values("hall_id", "service_id", "business_date")
        .annotate(n=Count("id"))
    ):
        if row["business_date"] == halls[row["hall_id"]].business_date(now):
            waiting[(row["hall_id"], row["service_id"])] = row["n"]
    idle_keys: set[tuple[int, str]] = set()
    for window in windows:
        hall_rules = rules[window.hall_id]
        if not hall_rules.idle_window_enabled:
            continue
        since = max(filter(None, [window.status_changed_at, last_event.get(window.pk)]))
        queue = sum(waiting.get((window.hall_id, s.pk), 0) for s in window.skills.all())
        if queue and (now - since).total_seconds() >= hall_rules.idle_window_min * 60:
            idle_keys.add((window.hall_id, window_key(window)))
            alert_raise(
                hall=window.hall,
                kind=K.IDLE_WINDOW,
                key=window_key(window),
                severity=SEV.WARNING,
                window=window,
                context={"window": window.label, "idle_since": since.isoformat()},
                at=now,
            )
    for (hall_id, key), alert in _active_by_key(K.IDLE_WINDOW).items():
        if (hall_id, key) not in idle_keys:
            alert_expire(alert=alert, reason="window no longer idle", at=now)
    return len(idle_keys)


def scan_escalations(*, at: dt.datetime | None = None) -> int:
    """Escalate, once, every alert still unacknowledged past the hall's limit."""
    now = at or timezone.now()
    rules = _rules_by_hall()
    escalated = 0
    for alert in Alert.objects.filter(state=Alert.State.OPEN, escalated_at__isnull=True):
        limit = dt.timedelta(minutes=rules[alert.hall_id].escalate_after_min)
        if now - alert.raised_at >= limit:
            alert_escalate(alert=alert, at=now)
            escalated += 1
    return escalated


def run_alert_scans(*, at: dt.datetime | None = None) -> dict[str, int]:
    """The periodic job: every time rule, in order."""
    now = at or timezone.now()
    return {
        "long_wait": scan_long_waits(at=now),
        "predicted_breach": scan_predicted_breaches(at=now),
        "idle_window": scan_idle_windows(at=now),
        "escalated": scan_escalations(at=now),
    }

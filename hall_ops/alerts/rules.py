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
        if rules.elderly_enabled and ticket.is_elderly:
            raise_elderly(ticket, at=event.at)
        if rules.repeat_visit_enabled and ticket.visitor_id:
            raise_repeat_visit(ticket, days=rules.repeat_visit_days, at=event.at)
    ended = event.kind in (TE.COMPLETED, TE.NO_SHOW, TE.CANCELLED)
    keys: list[str] = []
    if event.kind == TE.CALLED or ended:
        keys += [ticket_key(K.LONG_WAIT, ticket), ticket_key(K.PREDICTED_BREACH, ticket)]
    if ended:
        keys += [ticket_key(K.ELDERLY, ticket), ticket_key(K.REPEAT_VISIT, ticket)]
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
        context=_ticket_context(ticket),
        at=at,
    )


def raise_repeat_visit(ticket: Ticket, *, days: int, at: dt.datetime) -> Alert | None:
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
    context = _ticket_context(ticket) | {"visits": visits, "served_today": served_today}
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


def scan_long_waits(*, at: dt.datetime | None = None) -> int:
    """One alert per waiting ticket past its target, its severity rising with the wait.

    A fixed number of queries per hall, plus one write per alert that is new or rises.
    """
    now = at or timezone.now()
    active = _active_by_key(K.LONG_WAIT)
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
            key = ticket_key(K.LONG_WAIT, ticket)
            current = active.get((hall_id, key))
            if current is not None and current.severity >= severity:
                continue
            ticket.hall = hall
            alert_raise(
                hall=hall,
                kind=K.LONG_WAIT,
                key=key,
                severity=severity,
                ticket=ticket,
                service=ticket.service,
                context=_ticket_context(ticket) | {"target_min": ticket.service.target_wait_min},
                at=now,
            )
            changed += 1
    # safety net behind the event rule: a ticket that left the queue needs no alert
    still_waiting = set(
        Ticket.objects.waiting()
        .filter(pk__in=[a.ticket_id for a in active.values()])
        .values_list("pk", flat=True)
    )
    for alert in active.values():
        if alert.ticket_id not in still_waiting:
            alert_expire(alert=alert, reason="ticket no longer waiting", at=now)
    return changed


# A raised prediction stays while the estimate holds above this share of the target,
# so an estimate hovering at the target does not raise and expire on alternate scans.
PREDICTED_BREACH_KEEP = 0.9


def scan_predicted_breaches(*, at: dt.datetime | None = None) -> int:
    """One alert per waiting ticket whose expected wait (queueing.estimation) passes its
    service's target while it has not reached it yet; past the target, the long-wait
    alert takes over and this one expires. Follows the hall's long-wait switch.

    Two queries, then per hall with tickets still within their target its rules and
    one simulation (a fixed number of queries), plus one write per new alert.
    """
    now = at or timezone.now()
    active = _active_by_key(K.PREDICTED_BREACH)
    within: dict[int, list[Ticket]] = {}
    for ticket in (
        Ticket.objects.waiting()
        .filter(issued_at__gt=now - dt.timedelta(days=1))
        .select_related("hall", "service", "visitor")
    ):
        waited = (now - ticket.issued_at).total_seconds()
        today = ticket.hall.business_date(now)
        if ticket.business_date == today and waited < ticket.service.target_wait_min * 60:
            within.setdefault(ticket.hall_id, []).append(ticket)
    saved = {r.hall_id: r for r in AlertRules.objects.filter(hall_id__in=within)} if within else {}
    keep: set[tuple[int, str]] = set()
    raised = 0
    for hall_id, tickets in within.items():
        hall = tickets[0].hall
        if not (saved.get(hall_id) or AlertRules(hall=hall)).long_wait_enabled:
            continue
        estimates = estimate_hall(hall, at=now, arrivals=False).tickets
        for ticket in tickets:
            target_s = ticket.service.target_wait_min * 60
            estimate = estimates.get(ticket.pk)
            key = ticket_key(K.PREDICTED_BREACH, ticket)
            if estimate is None:
                continue
            if (hall_id, key) in active and estimate.expected_s > PREDICTED_BREACH_KEEP * target_s:
                keep.add((hall_id, key))
                continue
            if estimate.expected_s <= target_s:
                continue
            keep.add((hall_id, key))
            alert_raise(
                hall=hall,
                kind=K.PREDICTED_BREACH,
                key=key,
                severity=SEV.WARNING,
                ticket=ticket,
                service=ticket.service,
                context=_ticket_context(ticket)
                | {
                    "target_min": ticket.service.target_wait_min,
                    "expected_s": estimate.expected_s,
                    "low_s": estimate.low_s,
                    "high_s": estimate.high_s,
                },
                at=now,
            )
            raised += 1
    for (hall_id, key), alert in active.items():
        if (hall_id, key) not in keep:
            alert_expire(alert=alert, reason="breach no longer predicted", at=now)
    return raised


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

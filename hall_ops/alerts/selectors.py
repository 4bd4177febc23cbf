"""Reads of alerts that the board, the tablet, the consumer and the API share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from hall_ops.models import Alert
from queueing.models import Hall, Ticket

ALERT_FIELDS = ("hall", "ticket", "window", "service", "acknowledged_by", "closed_by")


def active_alerts(hall: Hall) -> QuerySet[Alert]:
    """Open and acknowledged alerts, most severe first, newest first within a severity."""
    return (
        Alert.objects.filter(hall=hall, state__in=Alert.ACTIVE_STATES)
        .select_related(*ALERT_FIELDS)
        .order_by("-severity", "-raised_at", "-id")
    )


def alerts_since(hall: Hall, seq: int, *, limit: int = 500) -> list[Alert]:
    """Every alert whose latest change came after sequence number `seq`, oldest change
    first: what a reconnecting client missed."""
    return list(
        Alert.objects.filter(hall=hall, seq__gt=seq)
        .select_related(*ALERT_FIELDS)
        .order_by("seq")[:limit]
    )


def last_seq(hall: Hall) -> int:
    return Alert.objects.filter(hall=hall).aggregate(m=Max("seq"))["m"] or 0


def alert_as_dict(alert: Alert) -> dict[str, Any]:
    """The JSON shape pushed to browsers and served by the API. No raw personal data:
    the context holds the masked ID at most."""
    return {
        "id": alert.pk,
        "seq": alert.seq,
        "hall": alert.hall.code,
        "kind": alert.kind,
        "kind_label": str(alert.get_kind_display()),
        "severity": alert.severity,
        "severity_label": str(alert.get_severity_display()),
        "state": alert.state,
        "state_label": str(alert.get_state_display()),
        "ticket": alert.ticket.number if alert.ticket else None,
        "ticket_id": alert.ticket_id,
        "window": alert.window.label if alert.window else None,
        "service": alert.service.display_name if alert.service else None,
        "context": alert.context,
        "raised_at": alert.raised_at.isoformat(),
        "acknowledged_at": _iso(alert.acknowledged_at),
        "acknowledged_by": alert.acknowledged_by.get_username() if alert.acknowledged_by else None,
        "escalated": alert.escalated_at is not None,
        "closed_at": _iso(alert.closed_at),
        "closed_by": alert.closed_by.get_username() if alert.closed_by else None,
        "note": alert.note,
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass
class GreetEntry:
    ticket: Ticket
    waited_s: int
    elderly: bool
    repeat: bool
    alert: Alert | None


def greet_list(hall: Hall, *, at: dt.datetime | None = None) -> list[GreetEntry]:
    """Elderly and repeat visitors waiting right now, longest wait first (2 queries)."""
    now = at or timezone.now()
    alerts = list(
        Alert.objects.filter(
            hall=hall,
            kind__in=[Alert.Kind.ELDERLY, Alert.Kind.REPEAT_VISIT],
            ticket__status=Ticket.Status.WAITING,
        ).select_related("acknowledged_by")
    )
    repeat_ids = {a.ticket_id for a in alerts if a.kind == Alert.Kind.REPEAT_VISIT}
    # one alert per ticket to show: the repeat visit one tells staff more
    flagged = {
        a.ticket_id: a
        for a in sorted(
            alerts, key=lambda a: a.ticket_id in repeat_ids and a.kind == Alert.Kind.REPEAT_VISIT
        )
    }
    tickets = (
        Ticket.objects.waiting()
        .filter(hall=hall, business_date=hall.business_date(now))
        .filter(Q(is_elderly=True) | Q(pk__in=list(flagged)))
        .select_related("service", "visitor")
        .order_by("issued_at")
    )
    return [
        GreetEntry(
            ticket=t,
            waited_s=int((now - t.issued_at).total_seconds()),
            elderly=t.is_elderly,
            repeat=t.pk in repeat_ids,
            alert=flagged.get(t.pk),
        )
        for t in tickets
    ]

from queueing.models.ingest import IngestedEvent
from queueing.models.organisation import ApiToken, Hall, HallService, Service, StaffRole, Window
from queueing.models.tickets import Outcome, Ticket, TicketCounter, TicketEvent, Visitor

__all__ = [
    "ApiToken",
    "Hall",
    "HallService",
    "IngestedEvent",
    "Outcome",
    "Service",
    "StaffRole",
    "Ticket",
    "TicketCounter",
    "TicketEvent",
    "Visitor",
    "Window",
]

"""The demo city's halls as the simulator sees them: desks and the service mix.

(queueing.demo imports the simulator, so the city is imported inside the functions.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from queueing.simulation.engine import DeskSpec

if TYPE_CHECKING:
    from queueing.demo.city import HallSpec


def desk_specs(spec: HallSpec) -> list[DeskSpec]:
    return [
        DeskSpec(
            label=w.label,
            skills=frozenset(w.skills),
            priority=w.priority,
            clerk=w.clerk,
            plan=w.plan,
        )
        for w in spec.windows
    ]


def service_shares(spec: HallSpec) -> dict[str, float]:
    """Share of new visitors per service the hall offers, summing to 1."""
    from queueing.demo.city import SERVICE_BY_PREFIX

    total = sum(SERVICE_BY_PREFIX[p].share for p in spec.services)
    return {p: SERVICE_BY_PREFIX[p].share / total for p in spec.services}

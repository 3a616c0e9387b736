"""The one timeline: where each step of a route sits, in weeks, and the route's critical path.

A route's weeks (``Route.timeline``) and the report's Gantt chart both come from ``schedule``.
"""

from __future__ import annotations

from collections.abc import Sequence
from ..rulebase.records import PHASES, _Record, record
from . import memo
from .results import RouteStep, Span


@record
class StepTiming(_Record):
    """Where one step sits on a route's timeline, in weeks from the start.

    ``start_min``/``end_min`` place it when every step takes its shortest time,
    ``start_max``/``end_max`` when every step takes its longest; ``known`` is false
    for a step without a stated or statutory duration (drawn, but not counted).
    """

    number: int
    phase: str
    start_min: float
    end_min: float
    start_max: float
    end_max: float
    known: bool


@record
class Schedule(_Record):
    """Every step's timing, the critical path's length and how many steps have no time."""

    steps: tuple[StepTiming, ...]
    weeks: Span
    unknown_steps: int


def schedule(steps: Sequence[RouteStep]) -> Schedule:
    """Place each step of an (ordered) checklist on its timeline.

    Pre-issuance steps and the onshore vehicle's set-up run in parallel from week 0;
    moving the funds starts when both are done. Within a phase a step starts when the
    steps it comes ``after`` end. A step of unknown duration takes no time and is
    flagged, so a chart can show it as open and the route counts it apart.
    """
    # Routes of one plan differ in a step or two (a QFLP city's approval): key on content.
    key = tuple(
        (s.step.id, s.step.phase, s.step.after, None if s.weeks is None else (s.weeks.min, s.weeks.max))
        for s in steps
    )
    hit = memo.SCHEDULES.get(key)
    if hit is None:
        hit = memo.SCHEDULES.put(key, _schedule(steps))
    return hit


def _schedule(steps: Sequence[RouteStep]) -> Schedule:
    starts: dict[str, dict[int, float]] = {"min": {}, "max": {}}
    ends: dict[str, dict[int, float]] = {"min": {}, "max": {}}
    total: dict[str, float] = {}
    for attr in ("min", "max"):
        phase_end: dict[str, float] = {}
        for phase in PHASES:
            items = {s.step.id: i for i, s in enumerate(steps) if s.step.phase == phase}
            # the funds move when the issue and the vehicle are both ready
            offset = (
                max(phase_end.get("pre_issuance", 0.0), phase_end.get("setup", 0.0))
                if phase == "funds"
                else 0.0
            )

            def finish(
                sid: str, items: dict[str, int] = items, offset: float = offset, attr: str = attr
            ) -> float:
                i = items[sid]
                if i not in ends[attr]:
                    s = steps[i]
                    start = max((finish(a) for a in s.step.after if a in items), default=offset)
                    starts[attr][i] = start
                    ends[attr][i] = start + (getattr(s.weeks, attr) if s.weeks is not None else 0.0)
                return ends[attr][i]

            phase_end[phase] = max((finish(sid) for sid in items), default=offset)
        total[attr] = phase_end["funds"]
    timings = tuple(
        StepTiming(
            number=i + 1,
            phase=s.step.phase,
            start_min=round(starts["min"][i], 1),
            end_min=round(ends["min"][i], 1),
            start_max=round(starts["max"][i], 1),
            end_max=round(ends["max"][i], 1),
            known=s.weeks is not None,
        )
        for i, s in enumerate(steps)
    )
    unknown = sum(1 for s in steps if s.weeks is None)
    return Schedule(timings, Span(round(total["min"], 1), round(total["max"], 1)), unknown)

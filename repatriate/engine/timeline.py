"""The one timeline: where each step of a route sits, in weeks, and the route's critical path.

A route's weeks (``Route.timeline``) and the report's Gantt chart both come from ``schedule``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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


# --- typical durations (issue 11) -----------------------------------------------------------


@record
class TypicalStep(_Record):
    """A step's typical weeks and where they come from: ``typical`` (practitioner or service
    guide), ``statutory`` / ``stated`` (the step's own limit), or ``assumed`` from its kind."""

    id: str
    phase: str
    min: float
    max: float
    basis: str
    sources: tuple[str, ...] = ()
    extra: bool = False  # a delay outside the checklist (HK attestation, bank KYC)


@record
class TypicalSchedule(_Record):
    """The typical critical path of a route, and how many steps are assumed from their kind."""

    steps: tuple[TypicalStep, ...]
    timings: tuple[StepTiming, ...]
    weeks: Span
    assumed_steps: int


class _Pseudo:
    """What ``_schedule`` reads of a step: ``step.id/phase/after`` and ``weeks.min/max``."""

    __slots__ = ("step", "weeks")

    def __init__(self, sid: str, phase: str, after: tuple[str, ...], lo: float, hi: float) -> None:
        self.step = _PStep(sid, phase, after)
        self.weeks = Span(lo, hi)


class _PStep:
    __slots__ = ("id", "phase", "after")

    def __init__(self, sid: str, phase: str, after: tuple[str, ...]) -> None:
        self.id, self.phase, self.after = sid, phase, after


def typical_schedule(rb: Any, channels: tuple[str, ...], steps: Sequence[RouteStep]) -> TypicalSchedule:
    """The typical end-to-end weeks on a route's critical path.

    Each step takes its typical range (``data/typical.yaml``), else its own limit, else the
    weeks ``scoring.yaml`` assumes for its kind (marked ``assumed``, never zero). The route's
    extra delays (HK attestation, bank KYC) run before the other steps of their phase.
    """
    key = ("typical", rb.digest, channels[:1], tuple(s.key or (s.step.id,) for s in steps))
    hit = memo.SCHEDULES.get(key)
    if hit is None:
        hit = memo.SCHEDULES.put(key, _typical(rb, channels, steps))
    return hit  # type: ignore[no-any-return]


def _typical(rb: Any, channels: tuple[str, ...], steps: Sequence[RouteStep]) -> TypicalSchedule:
    extras = [x for x in rb.typical.extras if channels and channels[0] in x.channels]
    chosen: list[TypicalStep] = []
    for x in extras:
        chosen.append(TypicalStep(x.id, x.phase, x.weeks.min, x.weeks.max, "typical", x.weeks.sources, True))
    for s in steps:
        t = rb.typical.steps.get(s.step.id)
        if t is not None:
            chosen.append(TypicalStep(s.step.id, s.step.phase, t.min, t.max, "typical", t.sources))
        elif s.weeks is not None:
            w = s.weeks
            chosen.append(TypicalStep(s.step.id, s.step.phase, w.min, w.max, w.basis, s.sources))
        else:
            guess = float(rb.scoring.unknown_duration_weeks.get(s.step.kind, 1.0))
            chosen.append(TypicalStep(s.step.id, s.step.phase, guess, guess, "assumed"))
    extra_ids = {x.phase: tuple(e.id for e in extras if e.phase == x.phase) for x in extras}
    pseudo = []
    chain: dict[str, str] = {}
    for c in chosen:
        if c.extra:  # the extras of a phase run one after another, first
            after: tuple[str, ...] = (chain[c.phase],) if c.phase in chain else ()
            chain[c.phase] = c.id
        else:
            own = next(s for s in steps if s.step.id == c.id).step.after
            after = (*own, *extra_ids.get(c.phase, ()))
        pseudo.append(_Pseudo(c.id, c.phase, after, c.min, c.max))
    sched = _schedule(pseudo)  # type: ignore[arg-type]
    assumed = sum(1 for c in chosen if c.basis == "assumed")
    return TypicalSchedule(tuple(chosen), sched.steps, sched.weeks, assumed)

"""Shared fixtures: the real rule base and a profile builder (no mock rule base)."""

from __future__ import annotations

import datetime as dt

import pytest

from repatriate.api import load_rulebase
from repatriate.engine.profile import make_profile
from repatriate.engine.search import plan

TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="session")
def rb():
    return load_rulebase()


@pytest.fixture(scope="session")
def run(rb):
    """Plan a profile given as raw fields, on a fixed date unless ``as_of`` is given."""

    def _run(as_of=TODAY, optimize="balanced", top=None, local_only=False, **fields):
        if isinstance(as_of, str):
            as_of = dt.date.fromisoformat(as_of)
        return plan(make_profile(rb, **fields), rb, as_of=as_of, optimize=optimize, top=top, local_only=local_only)

    return _run


def step_ids(route):
    return [s.step.id for s in route.steps]


def routes_by_channel(p, channel):
    return [r for r in p.routes if channel in r.channels]


def exclusions_by_channel(p, channel):
    return [e for e in p.excluded if channel in e.channels]

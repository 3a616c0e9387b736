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


# --- rule cases as data (OpenFisca style): tests/cases/*.yaml ------------------------------------
#
# Each file holds a list of cases:
#
#   - name: what the case shows
#     rule: the rule it checks and its source (the case's docstring)
#     profile: {asset_class: equity, province: 广东, amount: "50,000,000", ...}   # raw, as a user types
#     as_of: 2026-11-25                   # optional, default TODAY; also optimize, local_only
#     expect:
#       routes: [[fdi, fie_direct], ...]  # exactly these channel paths are feasible ([] = none)
#       routes_include: [...]             # at least these are feasible
#       routes_exclude: [...]             # these have no feasible route
#       excluded: {PATH: [rule ids]}      # each id is a reason of an exclusion of PATH
#       steps: {PATH: [step ids]}         # every feasible route of PATH has these steps
#       no_steps: {PATH: [step ids]}      # no feasible route of PATH has these steps
#       warnings: {PATH: [rule ids]}      # every feasible route of PATH warns so
#       no_warnings: {PATH: [rule ids]}
#
# PATH is the channels joined by "+" (fdi+fie_direct), "*" for every path, and may end in
# "@city" to look only at routes or exclusions located in that city.


def pytest_collect_file(parent, file_path):
    folder = file_path.parent
    if file_path.suffix == ".yaml" and folder.name == "cases" and folder.parent.name == "tests":
        return CaseFile.from_parent(parent, path=file_path)
    return None


class CaseFile(pytest.File):
    def collect(self):
        import yaml

        for case in yaml.safe_load(self.path.read_text(encoding="utf-8")) or []:
            yield CaseItem.from_parent(self, name=case["name"], case=case)


class CaseFailure(AssertionError):
    pass


class CaseItem(pytest.Item):
    def __init__(self, *, case, **kwargs):
        super().__init__(**kwargs)
        self.case = case

    def runtest(self):
        from repatriate.api import load_rulebase, plan_route

        case = self.case
        as_of = case.get("as_of", TODAY)
        p = plan_route(
            load_rulebase(), as_of=as_of, optimize=case.get("optimize", "balanced"),
            local_only=case.get("local_only", False), **case["profile"],
        )
        check_case(p, case.get("expect", {}))

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, CaseFailure):
            return f"{self.case['name']} ({self.case.get('rule', '')}):\n  {excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, f"case: {self.name}"


def _select(items, key):
    path, _, city = key.partition("@")
    chosen = [i for i in items if path == "*" or "+".join(i.channels) == path]
    return [i for i in chosen if not city or i.location.city == city]


def check_case(p, expect):
    feasible = {tuple(r.channels) for r in p.routes}

    def fail(msg):
        raise CaseFailure(msg)

    if "routes" in expect and feasible != {tuple(c) for c in expect["routes"]}:
        fail(f"feasible paths {sorted(feasible)} != {expect['routes']}")
    for c in expect.get("routes_include", []):
        if tuple(c) not in feasible:
            fail(f"no feasible route through {c} (feasible: {sorted(feasible)})")
    for c in expect.get("routes_exclude", []):
        if tuple(c) in feasible:
            fail(f"a route through {c} is feasible")
    for key, rules in expect.get("excluded", {}).items():
        reasons = {f.rule for e in _select(p.excluded, key) for f in e.reasons}
        for rule in rules:
            if rule not in reasons:
                fail(f"{key}: no exclusion for {rule!r} (reasons: {sorted(reasons)})")
    for field, present in (("steps", True), ("no_steps", False), ("warnings", True), ("no_warnings", False)):
        for key, ids in expect.get(field, {}).items():
            routes = _select(p.routes, key)
            if present and not routes:
                fail(f"{field}: no feasible route for {key}")
            for r in routes:
                steps = field.endswith("steps")
                have = {s.step.id for s in r.steps} if steps else {w.rule for w in r.warnings}
                where = r.location.city or r.location.province
                for i in ids:
                    if (i in have) != present:
                        fail(f"{key} @ {where}: {i!r} {'missing' if present else 'present'}")

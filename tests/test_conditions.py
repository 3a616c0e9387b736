"""Rule conditions are data: declarative matchers and safe formulas, never eval."""

import datetime as dt

import pytest

from repatriate.rulebase.conditions import Facts, check_formula, check_matcher, evaluate, matches

FACTS = Facts(
    asset_class="debt", sector="real_estate", holder_type="lgfv", amount=100.0, net_assets=50.0,
    term_months=36, as_of=dt.date(2024, 1, 1), sector_status="permitted", sector_tags=("real_estate",),
    location_easings=("bank_level_registration",), province="CN-GD", city=None, currency="USD",
    spv_owner="group", location_province="CN-GD", location_city=None,
)


@pytest.mark.parametrize(
    "when, expected",
    [
        ({}, True),
        ({"asset_class": "debt"}, True),
        ({"asset_class": ["equity", "abs"]}, False),
        ({"term_months": {"gte": 12}}, True),
        ({"term_months": {"gte": 12, "lt": 24}}, False),
        ({"net_assets": {"gt": 10}, "holder_type": "lgfv"}, True),
        ({"any": [{"asset_class": "equity"}, {"sector": "real_estate"}]}, True),
        ({"not": {"sector_tags": ["real_estate"]}}, False),
        ({"location_in_pilot": "bank_level_registration"}, True),
        ({"expr": "amount > net_assets * 1.5"}, True),
        ({"expr": "amount > net_assets * 2"}, False),
    ],
)
def test_matchers(when, expected):
    assert matches(when, FACTS) is expected


def test_missing_number_never_matches():
    facts = Facts(FACTS, term_months=None)
    assert not matches({"term_months": {"gte": 0}}, facts)
    assert matches({"not": {"term_months": {"gte": 0}}}, facts)


def test_check_matcher_names_bad_keys_and_sectors():
    problems = check_matcher({"colour": "red", "sector": "casinos", "amount": {"about": 3}}, sectors={"real_estate"})
    assert any("colour" in p for p in problems)
    assert any("casinos" in p for p in problems)
    assert any("amount" in p for p in problems)


def test_time_is_not_a_condition():
    """One way to date a step or rule: its ``valid: {from, to}``; the matchers know no dates."""
    for key in ("as_of_before", "as_of_from"):
        assert any(key in p for p in check_matcher({key: "2023-02-10"}, sectors=set()))


def test_formula_arithmetic_only():
    assert evaluate("net_assets * 2 * p", {"net_assets": 10.0, "p": 1.5}) == 30.0
    for hostile in ("__import__('os').system('true')", "().__class__.__bases__", "open('x')"):
        with pytest.raises(Exception):  # noqa: B017 - any refusal will do; what matters is no execution
            evaluate(hostile, {"net_assets": 1.0})


def test_check_formula_reports_unknown_names_and_syntax():
    assert check_formula("net_assets * leverage", {"leverage"}) == []
    assert "unknown name 'levrage'" in check_formula("net_assets * levrage", {"leverage"})[0]
    assert "syntax error" in check_formula("net_assets *", {"leverage"})[0]

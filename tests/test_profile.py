"""Profile normalisation: every province by code and both names; bad values named."""

import pytest

from repatriate.engine.profile import Places, make_profile
from repatriate.errors import RepatriateError


def test_every_province_resolves_by_code_and_names(rb):
    places = Places(rb)
    assert len(rb.provinces) == 31
    for code, pv in rb.provinces.items():
        names = [code, code.lower(), code[3:], pv.name.en, pv.name.en.upper(), pv.name.zh, pv.name.zh_hant, *pv.aliases]
        for name in filter(None, names):
            assert places.province(name) == code, name


@pytest.mark.parametrize("name", ["Guangdong Province", "广东省", "廣東", " cn-gd "])
def test_province_variants(rb, name):
    assert Places(rb).province(name) == "CN-GD"


@pytest.mark.parametrize(
    "fields, fragment",
    [
        ({"province": "Atlantis"}, "unknown province 'Atlantis'"),
        ({"asset_class": "crypto"}, "unknown asset class 'crypto' (accepted: equity, abs, debt)"),
        ({"amount": "-5"}, "amount -5 must be positive"),
        ({"amount": "lots"}, "amount 'lots' is not a number"),
        ({"currency": "XYZ"}, "unknown currency 'XYZ'"),
        ({"sector": "casinos"}, "unknown sector 'casinos' (accepted:"),
        ({"holder_type": "trust"}, "unknown holder type 'trust'"),
        ({"term_months": "2.5"}, "term months '2.5' is not a whole number"),
        ({"amount": "1e20"}, "absurdly large"),
    ],
)
def test_bad_values_are_named(rb, fields, fragment):
    base = {"asset_class": "equity", "province": "CN-GD", "amount": 1_000_000}
    with pytest.raises(RepatriateError) as exc:
        make_profile(rb, **{**base, **fields})
    assert fragment in str(exc.value)
    assert "\n" not in str(exc.value)


def test_missing_required_field(rb):
    with pytest.raises(RepatriateError, match="missing asset class"):
        make_profile(rb, province="CN-GD", amount=1)


def test_amount_with_thousands_separators(rb):
    assert make_profile(rb, asset_class="abs", province="CN-GD", amount="50,000,000").amount == 50_000_000


def test_city_typo_suggests_the_known_city(rb):
    with pytest.raises(RepatriateError, match="did you mean 'shenzhen'"):
        make_profile(rb, asset_class="equity", province="CN-GD", amount=1, city="shenzen")

"""The gazetteer of real places (data/places.yaml) and city resolution under a province (issue 9, item 9).

Source: the MCA list of county-and-above administrative division codes, as at 31 Dec 2024
(source ``gb2260_mca_2024``; provenance in docs/research/gazetteer_provenance.md).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from repatriate.cli import app
from repatriate.engine.profile import Places, make_profile
from repatriate.errors import RepatriateError

runner = CliRunner()
ROUTE = [
    "route", "--asset-class", "equity", "--sector", "manufacturing", "--amount", "5000000",
    "--as-of", "2026-11-25",
]


def route_json(*args):
    res = runner.invoke(app, [*ROUTE, *args, "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def refused(*args):
    res = runner.invoke(app, [*ROUTE, *args])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), res.output
    return lines[0]


def city_of(rb, province, value):
    return make_profile(rb, asset_class="equity", province=province, amount=1, city=value).city


def _all_places(rb):
    return [(code, p) for code, items in rb.places.places.items() for p in items]


# --- the data -------------------------------------------------------------------------------


def test_gazetteer_holds_every_prefecture_and_county_level_city(rb):
    """MCA 2024 list: 333 prefecture-level divisions + 4 municipalities, 397 county-level cities."""
    levels = [p.level for _, p in _all_places(rb)]
    assert levels.count("prefecture") == 337 and levels.count("county_city") == 397
    assert set(rb.places.places) == set(rb.provinces)
    assert rb.places.source in rb.sources and rb.sources[rb.places.source].tier == "official"


def test_gazetteer_is_part_of_the_digest(tmp_path):
    """Changing the gazetteer changes the rule base's digest (a cached copy is never reused)."""
    import shutil

    from repatriate.rulebase.loader import collect_files, default_data_dir, digest_of

    data = tmp_path / "data"
    shutil.copytree(default_data_dir(), data)
    before = digest_of(collect_files(data))
    path = data / "places.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("杭州市, 杭州", "杭州市, 杭州 "), encoding="utf-8")
    assert digest_of(collect_files(data)) != before


# --- resolution under the province given ------------------------------------------------------


@pytest.mark.parametrize("value", ["hangzhou", "杭州", "杭州市", "Hangzhou", " HANGZHOU "])
def test_hangzhou_by_id_and_name(rb, value):
    assert city_of(rb, "CN-ZJ", value) == "hangzhou"


@pytest.mark.parametrize("province, value", [("CN-JS", "suzhou"), ("CN-JS", "苏州"), ("CN-JS", "苏州市"),
                                             ("CN-AH", "suzhou"), ("CN-AH", "宿州"), ("CN-AH", "宿州市")])
def test_suzhou_is_the_city_of_its_province(rb, province, value):
    """`suzhou` is 苏州 under CN-JS (a QFLP city of the rule base) and 宿州 under CN-AH."""
    assert city_of(rb, province, value) == "suzhou"


def test_suzhou_in_anhui_is_suzhou_of_anhui_not_the_jiangsu_pilot():
    d = route_json("--province", "CN-AH", "--city", "宿州")
    assert d["query"]["province"] == "CN-AH" and d["query"]["city"] == "suzhou"
    warned = {w["rule"]: w for r in d["routes"] for w in r["warnings"]}
    assert "宿州市" in warned["city_without_local_rules"]["text"]["zh"]
    js = route_json("--province", "CN-JS", "--city", "苏州")
    assert not any(w["rule"] == "city_without_local_rules" for r in js["routes"] for w in r["warnings"])


def test_city_without_local_rules_answers_with_provincial_rules_and_says_so():
    d = route_json("--province", "CN-ZJ", "--city", "杭州")
    assert d["query"]["city"] == "hangzhou" and d["routes"]
    for r in d["routes"]:
        finding = next(w for w in r["warnings"] if w["rule"] == "city_without_local_rules")
        assert "Zhejiang" in finding["text"]["en"] and "杭州市" in finding["text"]["en"]


def test_a_city_that_does_not_exist_is_refused_with_suggestions_from_its_province():
    line = refused("--province", "CN-ZJ", "--city", "hangzou")
    assert "unknown city 'hangzou' in CN-ZJ" in line and "'hangzhou'" in line
    line = refused("--province", "CN-ZJ", "--city", "atlantis")
    assert "unknown city 'atlantis'" in line


def test_suggestions_come_only_from_the_province_given():
    """`shenzen` is close to Shenzhen (CN-GD) but under CN-ZJ only Zhejiang's places are offered."""
    line = refused("--province", "CN-ZJ", "--city", "shenzen")
    assert "shenzhen" not in line
    assert "did you mean 'shenzhen'" in refused("--province", "CN-GD", "--city", "shenzen")


def test_a_real_city_of_another_province_is_refused_naming_its_province():
    line = refused("--province", "CN-JS", "--city", "hangzhou")
    assert "'hangzhou' is in CN-ZJ (Zhejiang), not in CN-JS" in line
    assert "is in CN-ZJ" in refused("--province", "CN-JS", "--city", "杭州")


def test_an_id_of_several_other_provinces_names_them_all():
    line = refused("--province", "CN-GD", "--city", "suzhou")
    assert "is in CN-AH (Anhui), CN-JS (Jiangsu), not in CN-GD" in line


@pytest.mark.parametrize(
    "province, value, expected",
    [
        ("CN-YN", "大理", "dali"),  # a prefecture and its seat city share a short name: the prefecture
        ("CN-YN", "大理市", "dalishi"),
        ("CN-YN", "dalishi", "dalishi"),
        ("CN-SX", "吕梁", "lvliang"),
        ("CN-SX", "luliang", "lvliang"),  # ü written u, an alias of the data
        ("CN-QH", "hainan", "hainan"),  # 海南藏族自治州, in Qinghai
        ("CN-XJ", "wulumuqi", "urumqi"),  # a rule-base city keeps its own id
        ("CN-XJ", "乌鲁木齐市", "urumqi"),
        ("CN-GD", "dongguan", "dongguan"),
    ],
)
def test_named_cases(rb, province, value, expected):
    assert city_of(rb, province, value) == expected


def test_hainan_is_not_the_province(rb):
    with pytest.raises(RepatriateError, match="is in CN-QH"):
        city_of(rb, "CN-HI", "hainan")


@pytest.mark.parametrize(
    "province, value, expected",
    [
        ("CN-GD", "hengqin", "hengqin"),  # an area of the rule base, not a prefecture-level city
        ("CN-GD", "横琴粤澳深度合作区", "hengqin"),
        ("CN-GD", "南沙", "guangzhou"),
        ("CN-GD", "shenzhen", "shenzhen"),
        ("CN-TJ", "滨海新区", "tianjin"),
        ("CN-SH", "shanghai", "shanghai"),
        ("CN-JS", "taizhou", "taizhou"),
    ],
)
def test_rule_base_cities_keep_resolving(rb, province, value, expected):
    assert city_of(rb, province, value) == expected


def test_every_rule_base_city_resolves_by_its_id_and_names(rb):
    for code, pv in rb.provinces.items():
        for cid, city in pv.cities.items():
            for n in (cid, city.name.en, city.name.zh, *city.aliases):
                assert city_of(rb, code, n) == cid, (code, n)


def _expected(rb, code, place):
    """The id a place resolves to: its own, or that of the rule base's city of the same name."""
    for cid, city in rb.provinces[code].cities.items():
        if {place.name_zh, place.short_zh} & {city.name.zh, *city.aliases}:
            return cid
    return place.id


def test_every_place_resolves_by_id_full_name_and_short_name(rb):
    """Exhaustive: each of the 734 places under its province, by id, full name and short name."""
    places = Places(rb)
    for code, p in _all_places(rb):
        want = _expected(rb, code, p)
        assert places.city(code, p.id) == want, (code, p.id)
        assert places.city(code, p.name_zh) == want, (code, p.name_zh)
        short = places.city(code, p.short_zh)
        # a seat city shares its short name with its prefecture, which keeps it (大理 -> dali)
        seat_city = p.level == "county_city" and short == p.id.removesuffix("shi")
        assert short == want or seat_city, (code, p.short_zh)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_property_any_place_any_spelling(rb, data):
    code, p = data.draw(st.sampled_from(_all_places(rb)))
    spellings = [p.id, p.id.upper(), p.id.title(), f" {p.id} ", p.name_zh, f"{p.name_zh} "]
    spelling = data.draw(st.sampled_from(spellings))
    got = city_of(rb, code, spelling)
    assert got == _expected(rb, code, p)
    assert city_of(rb, code, got) == got  # a resolved id resolves to itself


# --- batch goes through the same resolution --------------------------------------------------


def test_batch_accepts_the_same_names(tmp_path):
    import csv
    import io

    book = tmp_path / "book.csv"
    book.write_text(
        "asset_id,asset_class,sector,province,city,amount\n"
        "A,equity,manufacturing,CN-ZJ,杭州,5000000\n"
        "B,equity,manufacturing,CN-AH,suzhou,5000000\n"
        "C,equity,manufacturing,CN-JS,苏州市,5000000\n"
        "D,equity,manufacturing,CN-JS,hangzhou,5000000\n"
        "E,equity,manufacturing,CN-ZJ,atlantis,5000000\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["batch", str(book), "--as-of", "2026-11-25"])
    assert res.exit_code in (0, 1), res.output
    rows = {r["asset_id"]: r for r in csv.DictReader(io.StringIO(res.stdout))}
    assert [rows[k]["status"] for k in "ABCDE"] == ["ok", "ok", "ok", "error", "error"]
    assert "CN-ZJ" in rows["D"]["error"] and "atlantis" in rows["E"]["error"]


@settings(max_examples=200, deadline=None)
@given(province=st.sampled_from(["CN-GD", "CN-JS", "CN-AH", "CN-QH", "CN-BJ"]), text=st.text(max_size=16))
def test_any_text_as_a_city_resolves_or_is_refused_in_one_line(rb, province, text):
    try:
        got = city_of(rb, province, text)
    except RepatriateError as exc:
        assert "\n" not in str(exc) and "city" in str(exc)
    else:
        assert city_of(rb, province, got) == got


def test_a_real_place_is_named_in_chinese_in_a_chinese_report():
    res = runner.invoke(app, [*ROUTE, "--province", "CN-AH", "--city", "suzhou", "--lang", "zh"])
    assert res.exit_code == 0, res.output
    assert "安徽 / 宿州市" in res.stdout

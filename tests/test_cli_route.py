"""`repatriate route` through CliRunner: the JSON contract, the human formats, the errors."""

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from repatriate.cli import app

runner = CliRunner()
BASE = [
    "route",
    "--asset-class",
    "equity",
    "--sector",
    "renewable_energy",
    "--province",
    "CN-GD",
    "--amount",
    "50000000",
    "--currency",
    "USD",
]


def invoke(*args):
    return runner.invoke(app, list(args))


def test_json_contract():
    res = invoke(*BASE, "--format", "json", "--as-of", "2026-11-25")
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["schema_version"] == "1"
    assert {"query", "as_of", "rulebase", "routes", "excluded", "sources"} <= d.keys()
    assert d["as_of"] == "2026-11-25" and len(d["rulebase"]["digest"]) == 64
    assert d["query"]["province"] == "CN-GD" and d["query"]["amount"] == 50_000_000
    assert d["routes"], "a permitted sector in Guangdong has routes"
    for r in d["routes"]:
        assert {
            "rank",
            "channels",
            "path",
            "location",
            "steps",
            "timeline_weeks",
            "approvals",
            "documents",
            "warnings",
            "score",
        } <= r.keys()
        assert r["path"][0] == "hk_issuer_spv" and r["path"][-1] == "asset_holder"
        assert {"province", "city"} <= r["location"].keys()
        assert r["timeline_weeks"]["min"] <= r["timeline_weeks"]["max"]
        for s in r["steps"]:
            assert {"channel", "action", "authority", "responsible", "weeks", "documents", "sources"} <= s.keys()
            assert {"en", "zh"} <= s["action"].keys()
            assert all(src in d["sources"] for src in s["sources"])
        for doc in r["documents"]:
            assert {"id", "name", "issuer", "step"} <= doc.keys()
        for w in r["warnings"]:
            assert {"message", "sources"} <= w.keys()
    for e in d["excluded"]:
        assert e["reasons"] and all({"rule", "message", "sources"} <= x.keys() for x in e["reasons"])
    for s in d["sources"].values():
        assert {"title", "doc_no", "issuer", "date", "url"} <= s.keys()


def test_json_is_deterministic():
    a = invoke(*BASE, "--format", "json", "--as-of", "2026-01-01").stdout
    b = invoke(*BASE, "--format", "json", "--as-of", "2026-01-01").stdout
    assert a == b


def test_table_explain_and_chinese():
    res = invoke(*BASE, "--sector", "news_media", "--explain")
    assert res.exit_code == 0
    assert "Excluded and why" in res.stdout and "prohibited" in res.stdout
    zh = invoke(*BASE, "--lang", "zh", "--explain")
    assert "路线1" in zh.stdout and "不构成法律意见" in zh.stdout


def test_markdown_and_csv():
    md = invoke(*BASE, "--format", "md", "--explain").stdout
    assert "| #" in md and "## Sources" in md
    rows = list(csv.DictReader(io.StringIO(invoke(*BASE, "--format", "csv").stdout)))
    assert rows and rows[0]["rank"] == "1" and rows[0]["channels"]


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--province", "Narnia"], "unknown province 'Narnia'"),
        (["--asset-class", "nft"], "unknown asset class 'nft'"),
        (["--currency", "ABC"], "unknown currency 'ABC'"),
        (["--amount", "-1"], "--amount: -1 must be positive"),
        (["--amount", "ten"], "--amount: 'ten' is not a number"),
        (["--as-of", "2026-13-01"], "invalid date '2026-13-01'"),
        (["--format", "pdf"], "unknown format 'pdf'"),
        (["--optimize", "fun"], "unknown objective 'fun'"),
        (["--top", "0"], "--top: 0 must be 1 or more"),
        (["--top", "x"], "'x'"),
        (["--lang", "fr"], "unknown language 'fr'"),
        (["--sector", "casinos"], "unknown sector 'casinos'"),
        (["--holder-type", "trust"], "unknown holder type 'trust'"),
        (["--city", "Gotham!"], "unknown city 'Gotham!'"),
        (["--term-months", "0"], "--term-months: 0 is out of range"),
        (["--bogus"], "--bogus"),
    ],
)
def test_bad_input_one_line_exit_2(args, fragment):
    res = invoke(*BASE, *args)
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), res.output
    assert fragment in lines[0]
    assert "Traceback" not in res.output


def test_version_and_help():
    assert invoke("--version").stdout.startswith("repatriate ")
    res = invoke("route", "--help")
    assert res.exit_code == 0 and "Example" in res.stdout


def test_browsing_commands():
    assert "qflp" in invoke("channels").stdout
    assert "qflp_pilot_qualification" in invoke("channels", "qflp").stdout
    assert "CN-GD" in invoke("provinces").stdout
    assert "Guangdong" in invoke("provinces", "廣東").stdout
    assert "ndrc_registration_certificate" in invoke("documents").stdout
    assert "ndrc_order_56" in invoke("sources").stdout
    assert json.loads(invoke("graph", "--format", "json").stdout)["nodes"]
    assert "digraph" in invoke("graph", "--format", "dot").stdout
    assert "<graphml" in invoke("graph", "--format", "graphml").stdout
    cov = json.loads(invoke("data", "coverage", "--format", "json").stdout)
    assert len(cov["provinces"]) == 31
    assert invoke("channels", "teleport").exit_code == 2


def test_output_file_is_atomic_and_never_clobbered(tmp_path):
    target = tmp_path / "routes.txt"
    assert invoke(*BASE, "-o", str(target)).exit_code == 0
    assert target.read_text(encoding="utf-8").startswith("Asset: equity")
    res = invoke(*BASE, "-o", str(target))
    assert res.exit_code == 2 and "exists (use --force" in res.output
    assert invoke(*BASE, "--format", "json", "-o", str(target), "--force").exit_code == 0
    assert json.loads(target.read_text(encoding="utf-8"))["schema_version"] == "1"
    res = invoke(*BASE, "--format", "json", "-o", str(tmp_path / "missing" / "x.json"))
    assert res.exit_code == 2 and "cannot write" in res.output


def test_city_of_another_province_is_refused():
    res = invoke(*BASE, "--province", "甘肃", "--city", "shenzhen")
    assert res.exit_code == 2 and "is in CN-GD" in res.output


def test_unverified_sources_are_listed():
    out = invoke("sources", "--unverified").stdout
    assert out.strip() and "UNVERIFIED" in out and all("UNVERIFIED" in line for line in out.strip().splitlines())

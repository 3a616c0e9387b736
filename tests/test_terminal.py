"""Issue 13, item 11: narrow terminals and Chinese.

At 80 columns no word is split and no column disappears (stacked layout instead); CJK width is
measured with wcwidth in Markdown tables; --lang zh translates errors, headers, badges and units
(万/亿); REPATRIATE_LANG sets the default language.
"""

from __future__ import annotations

import re

import pytest
from conftest import TODAY
from rich.cells import cell_len
from typer.testing import CliRunner

from repatriate.api import plan_route
from repatriate.cli import app
from repatriate.engine.compare import compare
from repatriate.render.labels import HEAD, REPORT
from repatriate.render.report import render_html
from repatriate.render.report import table_text as report_text
from repatriate.render.route import render_plan
from repatriate.render.route import table_text as route_text
from repatriate.render.units import money

EQUITY = {"asset_class": "equity", "sector": "renewable_energy", "amount": 5e7}
ROUTE_ARGS = [
    "route",
    "--asset-class",
    "equity",
    "--amount",
    "50000000",
    "--province",
    "CN-GD",
    "--city",
    "shenzhen",
    "--as-of",
    TODAY.isoformat(),
]


def _tokens(text: str) -> set[str]:
    """Latin words of three letters or more, as printed."""
    return set(re.findall(r"[A-Za-z]{3,}", text))


@pytest.fixture(scope="module")
def route_plan(rb):
    return plan_route(
        rb, as_of=TODAY, top=10, asset_class="equity", amount=5e7, province="CN-GD", city="shenzhen"
    )


@pytest.fixture(scope="module")
def report(rb):
    return compare(
        rb, profile_fields=EQUITY, provinces=["CN-GD", "CN-HI", "CN-SH"], cities=[], as_of=TODAY, top=3
    )


@pytest.mark.parametrize("width", [60, 80])
def test_route_view_at_narrow_widths_splits_no_word_and_keeps_every_column(rb, route_plan, width):
    narrow = route_text(route_plan, rb, width=width)
    wide = route_text(route_plan, rb, width=400)
    assert max(cell_len(line) for line in narrow.splitlines()) <= width
    # a word cut in two would show up as a fragment that the wide view never prints
    assert _tokens(narrow) <= _tokens(wide), _tokens(narrow) - _tokens(wide)
    for head in HEAD["en"][3:]:  # every column's name is there for every route
        assert narrow.count(head) >= len(route_plan.routes), head
    assert "FDI → REINVEST · Guangdong / Shenzhen" in narrow


def test_route_view_keeps_the_table_at_130_columns(rb, route_plan):
    # the typical-weeks column (issue 11) and the cash pool's two-hop label widened the table past 100
    text = route_text(route_plan, rb, width=130)
    assert " ".join(HEAD["en"][1:4]) in " ".join(text.split())  # the header row of the table


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_compare_view_at_80_columns_splits_no_word(rb, report, lang):
    narrow = report_text(report, rb, lang, width=80)
    wide = report_text(report, rb, lang, width=400)
    assert max(cell_len(line) for line in narrow.splitlines()) <= 80
    # (the source list's web addresses are single words longer than 80 columns: they must fold)
    cut = f"\n{REPORT[lang]['sources']}\n"
    assert cut in narrow
    body, wide_body = narrow.rsplit(cut, 1)[0], wide.rsplit(cut, 1)[0]
    assert _tokens(body) <= _tokens(wide_body), _tokens(body) - _tokens(wide_body)
    lab = REPORT[lang]
    for key in ("weeks_short", "approvals_short", "certainty_short", "capacity", "feasible_short"):
        assert lab[key] in narrow, key  # no column silently dropped


def test_cli_route_at_80_columns_is_stacked():
    res = CliRunner().invoke(app, ROUTE_ARGS, env={"COLUMNS": "80"}, terminal_width=80)
    assert res.exit_code == 0, res.output
    assert max(cell_len(line) for line in res.stdout.splitlines()) <= 80


def test_markdown_tables_measure_chinese_as_two_columns(rb, route_plan):
    from wcwidth import wcswidth

    md = render_plan(route_plan, rb, "md", "zh")
    tables: list[list[str]] = [[]]  # each run of table lines (the summary, then route 1's checklist)
    for line in md.splitlines():
        if line.startswith("|"):
            tables[-1].append(line)
        elif tables[-1]:
            tables.append([])
    tables = [t for t in tables if t]
    assert tables and any(re.search("[\u4e00-\u9fff]", line) for t in tables for line in t)
    for table in tables:
        assert len({wcswidth(line) for line in table}) == 1, "columns do not line up in a monospace font"


def test_tabulate_uses_wcwidth():
    import tabulate

    assert tabulate.wcwidth is not None  # installed as a dependency (pyproject)


@pytest.mark.parametrize(
    "value, currency, text",
    [
        (5e7, "USD", "5,000万 USD"),
        (1.5e9, None, "15亿"),
        (2_333_333_333, "USD", "23.33亿 USD"),
        (9_999, None, "9,999"),
    ],
)
def test_chinese_amounts_in_wan_and_yi(value, currency, text):
    assert money(value, currency, "zh") == text
    assert money(5e7, "USD") == "50,000,000 USD"


def test_zh_report_has_chinese_amounts_headers_and_badges(rb, report):
    html = render_html(report, rb, "zh")
    assert "5,000万 USD" in html and "帕累托最优" in html and ">Pareto<" not in html
    assert "摘要与建议" in html and "目录" in html


def test_zh_route_table_headers_and_amount(rb, route_plan):
    text = route_text(route_plan, rb, "zh", width=120)
    assert "5,000万" in text and "渠道" in text and "确定性" in text


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--province", "CN-XX"], "未知的省份 'CN-XX'"),
        ([], "缺少地点"),
        (["--province", "CN-GD", "--top", "0"], "不符合要求"),
        (["--province", "CN-GD", "--bogus"], "没有该选项"),
    ],
)
def test_zh_errors(args, needle):
    res = CliRunner().invoke(
        app, ["compare", "--asset-class", "equity", "--amount", "5000", "--lang", "zh", *args]
    )
    assert res.exit_code == 2 and res.stderr.startswith("错误：") and needle in res.stderr, res.stderr


def test_repatriate_lang_sets_the_default():
    res = CliRunner().invoke(app, ROUTE_ARGS, env={"REPATRIATE_LANG": "zh", "COLUMNS": "120"})
    assert res.exit_code == 0 and "资产：" in res.stdout
    res = CliRunner().invoke(
        app, ["compare", "--amount", "5", "--province", "CN-GD"], env={"REPATRIATE_LANG": "zh"}
    )
    assert res.exit_code == 2 and res.stderr.startswith("错误：--asset-class：缺少必填选项")
    # --lang on the command line wins over the environment
    res = CliRunner().invoke(
        app, [*ROUTE_ARGS, "--lang", "en"], env={"REPATRIATE_LANG": "zh", "COLUMNS": "120"}
    )
    assert "Asset:" in res.stdout


def test_data_coverage_takes_lang():
    res = CliRunner().invoke(app, ["data", "coverage", "--lang", "zh"])
    assert res.exit_code == 0 and "省份" in res.stdout and "广东" in res.stdout
    res = CliRunner().invoke(app, ["data", "coverage"], env={"REPATRIATE_LANG": "zh"})
    assert "省份" in res.stdout

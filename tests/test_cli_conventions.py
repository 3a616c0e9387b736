"""CLI conventions (issue 13 items 9-10): -h, choices, one error style, suggestions, completion,
formats inferred from -o, the route checklist in Markdown, browse formats and `sectors`."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from repatriate.cli import app

runner = CliRunner()
AS_OF = "2026-03-01"
ROUTE = ["route", "--asset-class", "equity", "--province", "广东", "--city", "shenzhen", "--amount", "5e7",
         "--as-of", AS_OF]
COMPARE = ["compare", "--asset-class", "equity", "--amount", "5e7", "--province", "CN-GD", "--as-of", AS_OF]
COMMANDS = ["route", "compare", "batch", "channels", "provinces", "documents", "sources", "sectors", "graph",
            "data", "data validate", "data schema", "data coverage"]


def invoke(*args):
    return runner.invoke(app, list(args))


# --- item 9: help, choices, errors, completion -------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_dash_h_works_everywhere(command):
    res = invoke(*command.split(), "-h")
    assert res.exit_code == 0, res.output
    assert re.match(r"Usage: \S+ " + command + " ", res.stdout), res.stdout[:80]  # CliRunner's prog is 'root'


@pytest.mark.parametrize(
    "command, shown",
    [
        ("route", "--asset-class [equity|abs|debt]"),
        ("route", "--holder-type [private|soe|lgfv|listed|fie|financial]"),
        ("route", "--optimize [balanced|speed|cost|certainty]"),
        ("route", "--format [table|json|md|csv]"),
        ("route", "--spv-owner [group|third_party|individual]"),
        ("compare", "--format [table|md|html|json|pdf]"),
        ("compare", "--lang [en|zh]"),
        ("batch", "--format [csv|xlsx|jsonl]"),
        ("channels", "--format [table|json|csv|md]"),
    ],
)
def test_fixed_values_show_their_choices(command, shown):
    res = invoke(command, "--help")
    assert shown in " ".join(res.stdout.split())


def test_objectives_in_help_are_the_engines():
    from repatriate.cli import OBJECTIVES
    from repatriate.engine.search import OBJECTIVES as ENGINE

    assert OBJECTIVES == ENGINE


STYLE = re.compile(r"^error: (--?[a-z][a-z-]*|[a-z]+): \S")


@pytest.mark.parametrize(
    "args, flag",
    [
        (ROUTE + ["--asset-class", "nft"], "--asset-class"),
        (ROUTE + ["--amount", "-1"], "--amount"),
        (ROUTE + ["--top", "x"], "--top"),
        (ROUTE + ["--as-of", "soon"], "--as-of"),
        (ROUTE + ["--sector", "casinos"], "--sector"),
        (ROUTE + ["--format", "xml"], "--format"),
        (ROUTE + ["--bogus"], "--bogus"),
        (["route", "--asset-class", "equity", "--amount", "1"], "--province"),
        (ROUTE + ["-o", "out.html"], "-o"),
        (["batch", "in.csv", "--optimize", "fast"], "--optimize"),
        (["channels", "-o", "x.yaml"], "-o"),
        (["sectors", "--lang", "fr"], "--lang"),
    ],
)
def test_errors_share_one_style(args, flag):
    """issue 13 item 9: every usage or input error reads 'error: <flag>: <message>', one line, exit 2."""
    res = invoke(*args)
    assert res.exit_code == 2, res.output
    assert STYLE.match(res.stderr) and res.stderr.startswith(f"error: {flag}: "), res.stderr
    assert res.stderr.count("\n") == 1


def test_batch_without_a_portfolio_names_the_argument():
    res = invoke("batch")
    assert res.exit_code == 2 and res.stderr.startswith("error: PORTFOLIO: missing")


def test_mistyped_command_suggests_once():
    res = invoke("rout")
    assert res.exit_code == 2
    assert res.stderr == "error: rout: no such command (did you mean route?)\n"
    assert res.stderr.lower().count("did you mean") == 1


def _complete(words: str, cword: int) -> list[str]:
    env = {**os.environ, "_REPATRIATE_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(cword)}
    res = subprocess.run([sys.executable, "-m", "repatriate"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    return res.stdout.split()


@pytest.mark.parametrize(
    "words, cword, expected",
    [
        ("repatriate route --province CN-G", 3, {"CN-GD", "CN-GX", "CN-GZ", "CN-GS"}),
        ("repatriate route --province 广东 --city sh", 5, {"shenzhen"}),
        ("repatriate route --sector ren", 3, {"renewable_energy"}),
        ("repatriate channels qf", 2, {"qflp", "qfii"}),
        ("repatriate route --asset-class e", 3, {"equity"}),
    ],
)
def test_shell_completion_completes_rule_base_values(words, cword, expected):
    """issue 13 item 9: province, city, sector and channel values complete, read from the rule base."""
    assert expected <= set(_complete(words, cword))


def test_install_completion_writes_the_script(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path), "SHELL": "/bin/bash"}
    res = subprocess.run([sys.executable, "-m", "repatriate", "--install-completion", "bash"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    script = tmp_path / ".bash_completions" / "repatriate.sh"
    assert script.exists() and "_REPATRIATE_COMPLETE" in script.read_text()
    assert "repatriate.sh" in (tmp_path / ".bashrc").read_text()


# --- item 10: output formats ---------------------------------------------------------------------------


@pytest.mark.parametrize("ext, check", [
    ("json", lambda t: json.loads(t)["schema_version"]),
    ("md", lambda t: t.startswith("# ")),
    ("csv", lambda t: next(csv.reader(io.StringIO(t)))[0] == "rank"),
])
def test_route_infers_the_format_from_o(tmp_path, ext, check):
    out = tmp_path / f"plan.{ext}"
    res = invoke(*ROUTE, "-o", str(out))
    assert res.exit_code == 0, res.stderr
    assert check(out.read_text(encoding="utf-8"))
    again = invoke(*ROUTE, "-o", str(out))  # and refuses to replace it without --force
    assert again.exit_code == 2 and "use --force" in again.stderr


def test_an_explicit_format_wins_over_the_extension(tmp_path):
    out = tmp_path / "plan.txt"
    assert invoke(*ROUTE, "--format", "json", "-o", str(out)).exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8"))["routes"]


def test_compare_infers_html_and_refuses_or_writes_pdf(tmp_path):
    from repatriate.render.report import FORMATS

    html = tmp_path / "report.html"
    assert invoke(*COMPARE, "-o", str(html)).exit_code == 0
    assert html.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
    pdf = tmp_path / "report.pdf"
    res = invoke(*COMPARE, "-o", str(pdf))
    if "pdf" in FORMATS:  # once the PDF renderer has landed
        assert res.exit_code == 0 and pdf.read_bytes().startswith(b"%PDF")
    else:
        assert res.exit_code == 2 and res.stderr.startswith("error: -o: pdf output is not available")
        assert not pdf.exists()


def test_route_markdown_has_the_checklist():
    """issue 13 item 10: `route --format md` shows route 1's steps (who, authority, weeks, documents)."""
    md = invoke(*ROUTE, "--format", "md").stdout
    assert "Route 1 checklist" in md
    table = md[md.index("Route 1 checklist"):]
    assert "| Who / authority" in table and "| Weeks" in table and "| Documents" in table
    assert "Bank, under SAFE delegation" in table  # an authority, as the table view shows it
    assert "Documents: " in table


BROWSE = [["channels"], ["channels", "qflp"], ["provinces"], ["provinces", "广东"], ["documents"],
          ["sources"], ["sectors"]]


@pytest.mark.parametrize("args", BROWSE, ids=" ".join)
@pytest.mark.parametrize("fmt", ["table", "json", "csv", "md"])
def test_browse_commands_take_every_format(args, fmt):
    res = invoke(*args, "--format", fmt)
    assert res.exit_code == 0, res.stderr
    text = res.stdout
    if fmt == "json":
        json.loads(text)
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) >= 2 and all(len(r) == len(rows[0]) for r in rows)
    elif fmt == "md":
        assert "|---" in text or "| ---" in text or not text.startswith("|")


@pytest.mark.parametrize("args", BROWSE, ids=" ".join)
def test_browse_commands_write_o_with_the_format_of_its_extension(tmp_path, args):
    out = tmp_path / "view.csv"
    res = invoke(*args, "-o", str(out))
    assert res.exit_code == 0, res.stderr and res.stdout == ""
    assert next(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))


def test_sectors_lists_the_vocabulary_with_negative_list_status(rb):
    """issue 13 item 10: `repatriate sectors` gives id, names and the negative list's status that day."""
    data = json.loads(invoke("sectors", "--format", "json", "--as-of", AS_OF).stdout)
    rows = {r["id"]: r for r in data["sectors"]}
    assert set(rows) == set(rb.sectors)
    assert rows["news_media"]["negative_list"] == "prohibited"  # 2024 list: news organisations prohibited
    assert rows["renewable_energy"]["zh"]
    assert "repatriate sectors" in " ".join(invoke("route", "--help").stdout.split())

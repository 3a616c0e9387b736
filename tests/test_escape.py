"""Untrusted text stays text (issue 14): no rich markup, no ESC sequences, no live Markdown or HTML.

Overlays (``--data-dir``) plant hostile text in the data; ``--label`` plants it in an option.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from repatriate.cli import app
from repatriate.errors import short
from repatriate.render.escape import clean_text, md_cell, md_escape, md_link_text, safe_url
from repatriate.rulebase import loader

runner = CliRunner()
ROUTE = [
    "route",
    "--asset-class",
    "abs",  # the ABS-token CSRC filing carries the planted text (issue 9 item 4)
    "--sector",
    "renewable_energy",
    "--province",
    "CN-GD",
    "--amount",
    "50000000",
]
COMPARE = [
    "compare",
    "--asset-class",
    "abs",
    "--sector",
    "renewable_energy",
    "--province",
    "CN-GD",
    "--amount",
    "50000000",
]
ACTION = "File the offshore issue of asset-backed security tokens with the CSRC before issuance"
ESC = "\x1b[2J\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\\x1b[31mred"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPATRIATE_CACHE_DIR", str(tmp_path / "cache"))


def _overlay(tmp_path, rel: str, old: str, new: str):
    root = tmp_path / "overlay"
    dst = root / rel
    dst.parent.mkdir(parents=True, exist_ok=True)
    text = (loader.default_data_dir() / rel).read_text(encoding="utf-8")
    assert old in text
    dst.write_text(text.replace(old, new, 1), encoding="utf-8")
    return str(root)


def _action(tmp_path, action: str) -> str:
    """An overlay whose CSRC filing step (in every ABS-token route) has ``action`` as its English text."""
    return _overlay(tmp_path, "prerequisites.yaml", ACTION, json.dumps(action))


def invoke(*args):
    res = runner.invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res.output


# --- rich markup -------------------------------------------------------------------------


def test_closing_tag_in_data_does_not_crash_route(tmp_path):
    """Finding: a step action `Apply [/bold] now` in an overlay crashed the route table."""
    out = invoke(*ROUTE, "--data-dir", _action(tmp_path, "Apply [/bold] now"))
    assert "Apply [/bold] now" in out


def test_link_markup_in_data_stays_text(tmp_path):
    """Finding: `[link=…]` in the data became a terminal hyperlink."""
    out = invoke(*ROUTE, "--data-dir", _action(tmp_path, "[link=https://evil.example/]click[/link] now"))
    assert "[link=https://evil.example/]" in out and "[/link]" in out


def test_markup_in_a_channel_name_stays_text(tmp_path):
    root = _overlay(tmp_path, "channels/fdi.yaml", "short: {en: FDI,", 'short: {en: "[bold red]FDI[/]",')
    out = invoke(*ROUTE, "--data-dir", root)
    assert "[bold red]FDI[/]" in out


# --- ESC sequences -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        [*ROUTE, "--explain"],
        [*ROUTE, "--format", "md"],
        COMPARE,
        [*COMPARE, "--format", "md"],
        ["channels"],
        ["channels", "fdi"],
        ["sources"],
        ["documents"],
    ],
)
def test_esc_sequences_in_data_never_reach_the_output(tmp_path, command):
    """Finding: ESC sequences (OSC-8 links, clear-screen, colours) passed into the tables."""
    root = _overlay(tmp_path, "prerequisites.yaml", ACTION, json.dumps("File " + ESC))
    root = _overlay(
        tmp_path,
        "channels/fdi.yaml",
        "name: {en: Foreign direct investment,",
        f"name: {{en: {json.dumps('FDI ' + ESC)},",
    )
    root = _overlay(
        tmp_path,
        "sources/national.yaml",
        "en: Foreign Investment Law of the People's Republic of China",
        "en: " + json.dumps("Law " + ESC),
    )
    res = runner.invoke(app, [*command, "--data-dir", root])
    assert res.exit_code in (0, 2), res.output
    assert "\x1b" not in res.output and "\x9b" not in res.output and "\x07" not in res.output


def test_esc_in_data_is_stripped_at_load(tmp_path):
    root = _overlay(tmp_path, "prerequisites.yaml", ACTION, json.dumps("File " + ESC + "\x07\x00\x85 now"))
    rb = loader.load(overlay=root)
    texts = [s.action.en for p in rb.prerequisites for s in p.steps]
    assert "File clickred now" in texts


@pytest.mark.parametrize("fmt", ["table", "md", "json", "html"])
def test_label_esc_sequences_never_reach_the_output(fmt):
    """Finding: `--label` ESC sequences reached the terminal."""
    out = invoke(*COMPARE, "--label", "Acme " + ESC, "--format", fmt)
    assert "\x1b" not in out and "Acme" in out


# --- Markdown ------------------------------------------------------------------------------


def test_route_markdown_escapes_titles_and_urls(tmp_path):
    """Finding: `route --format md` wrote HTML tags and newline-injected lines from titles and URLs."""
    root = _overlay(
        tmp_path,
        "sources/national.yaml",
        "en: Circular on Further Simplifying and Improving Policies for Foreign Exchange"
        " Administration for Direct Investment",
        "en: " + json.dumps("Law <img src=x onerror=alert(1)>\n# Injected heading\n| a | b |"),
    )
    md = invoke(*ROUTE, "--format", "md", "--explain", "--data-dir", root)
    assert "<img" not in md and "&lt;img" in md
    assert not any(line.startswith(("# Injected", "| a |")) for line in md.splitlines())


def test_route_markdown_escapes_data_in_tables(tmp_path):
    root = _overlay(tmp_path, "channels/fdi.yaml", "short: {en: FDI,", 'short: {en: "<b>FDI</b> | x",')
    md = invoke(*ROUTE, "--format", "md", "--data-dir", root)
    assert "<b>" not in md and "&lt;b&gt;FDI&lt;/b&gt; \\| x" in md


def test_compare_markdown_link_syntax_stays_inert(tmp_path):
    """Finding: compare md left `[x](javascript:…)` live."""
    md = invoke(
        *COMPARE, "--format", "md", "--data-dir", _action(tmp_path, "Read [x](javascript:alert(1)) first")
    )
    assert "[x](javascript:" not in md and "\\[x\\](javascript:alert(1)) first" in md


def test_route_markdown_link_syntax_stays_inert(tmp_path):
    root = _overlay(
        tmp_path, "channels/fdi.yaml", "short: {en: FDI,", 'short: {en: "[x](javascript:alert(1))",'
    )
    md = invoke(*ROUTE, "--format", "md", "--data-dir", root)
    assert "[x](javascript:" not in md


def test_markdown_links_only_for_http(tmp_path):
    md = invoke(*COMPARE, "--format", "md")
    assert "<https://" in md or "<http://" in md  # web sources are links
    assert md_link_text("see javascript:alert(1)", "javascript:alert(1)") == "see javascript:alert(1)"
    assert md_link_text("at https://a.org/x_y", "https://a.org/x_y") == "at <https://a.org/x_y>"


def test_label_cannot_inject_markdown():
    md = invoke(*COMPARE, "--format", "md", "--label", "Acme\n# Owned <script>[x](javascript:1)")
    assert "<script>" not in md and "[x](javascript:" not in md
    assert not any(line.startswith("# Owned") for line in md.splitlines())


# --- helpers ---------------------------------------------------------------------------------


@given(st.text())
def test_clean_text_leaves_no_controls(s):
    out = clean_text(s)
    assert "\x1b" not in out and "\r" not in out
    assert all(c == "\n" or not (ord(c) < 32 or 0x7F <= ord(c) <= 0x9F) for c in out)


@given(st.text())
def test_md_escape_is_one_inert_line(s):
    out = md_escape(s)
    assert "\n" not in out and "<" not in out and ">" not in out
    # with escaped backslashes taken out, every [ ] | ` left has its backslash
    assert re.search(r"(?<!\\)[\[\]|`]", out.replace("\\\\", "")) is None


@given(st.text())
def test_md_cell_has_no_line_break_or_raw_pipe(s):
    out = md_cell(s)
    assert "\n" not in out and "<" not in out
    assert "|" not in out.replace("\\|", "")


@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://www.gov.cn/x_y.htm", True),
        ("http://a.org", True),
        ("HTTPS://A.ORG/", True),
        ("javascript:alert(1)", False),
        ("https://", False),
        ("https://a.org/<script>", False),
        ("https://a.org/ x", False),
        ("data:text/html,x", False),
        (None, False),
    ],
)
def test_safe_url(url, ok):
    assert (safe_url(url) is not None) == ok


# --- option values ---------------------------------------------------------------------------


def test_short_cuts_long_values():
    assert short("abc") == "'abc'"
    long = short("x" * 100_000)
    assert len(long) <= 90 and "…" in long
    assert "\x1b" not in short("\x1b[2J")


@pytest.mark.parametrize(
    "option", ["--province", "--currency", "--asset-class", "--format", "--optimize", "--amount", "--top"]
)
def test_long_bad_option_values_are_echoed_short(option):
    """Finding: a bad option value of 5-100 KB was echoed whole."""
    args = [a for a in ROUTE]
    if option in args:
        i = args.index(option)
        args[i + 1] = "Z" * 50_000
    else:
        args += [option, "Z" * 50_000]
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert "Z" * 81 not in res.output and "…" in res.output
    assert len(res.output) < 600, res.output[:200]

"""`data validate` is the loader plus a dry run (issue 14): what breaks a query is refused.

Each refusal names the file and field.

Every case is an overlay (``--data-dir``) over the packaged rule base, as an adviser would write one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repatriate.cli import app
from repatriate.rulebase import loader

runner = CliRunner()
ROUTE = [
    "route",
    "--asset-class",
    "debt",
    "--province",
    "CN-GD",
    "--amount",
    "5000000",
    "--net-assets",
    "100000000",
]


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPATRIATE_CACHE_DIR", str(tmp_path / "cache"))


def overlay(
    tmp_path: Path, rel: str, old: str | None = None, new: str | None = None, text: str | None = None
) -> Path:
    """An overlay folder holding one file: the packaged ``rel`` with ``old`` replaced, or ``text``."""
    root = tmp_path / "overlay"
    dst = root / rel
    dst.parent.mkdir(parents=True, exist_ok=True)
    if text is None:
        text = (loader.default_data_dir() / rel).read_text(encoding="utf-8")
        assert old in text, old
        text = text.replace(old, new, 1)
    dst.write_text(text, encoding="utf-8")
    return root


def validate(root: Path):
    return runner.invoke(app, ["data", "validate", "--data-dir", str(root)])


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "repatriate", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ.copy(),
    )


def assert_refused(root: Path, *fragments: str) -> None:
    res = validate(root)
    assert res.exit_code == 2, res.output
    assert all(f in res.output for f in fragments), res.output
    route = runner.invoke(app, [*ROUTE, "--data-dir", str(root)])
    assert route.exit_code == 2, route.output
    assert "rule base is invalid" in route.output


def test_cycle_in_after(tmp_path):
    """Finding: a cycle in a step's `after` passed validation; route then died with RecursionError."""
    root = overlay(
        tmp_path,
        "channels/fdi.yaml",
        "after: [mofcom_related_party_mna_approval]",
        "after: [fdi_fx_registration]",
    )
    assert_refused(root, "channels/fdi.yaml", "after", "cycle")


def test_self_cycle_in_after(tmp_path):
    root = overlay(
        tmp_path,
        "channels/fdi.yaml",
        "after: [mofcom_related_party_mna_approval]",
        "after: [fie_registration]",
    )
    assert_refused(root, "channels/fdi.yaml", "steps.0(fie_registration): after", "cycle")


def _laughs(levels: int = 10, width: int = 10) -> str:
    node = "&a0 {asset_class: equity}"
    for k in range(1, levels):
        node = f"&a{k} {{all: [{node}" + f", *a{k - 1}" * (width - 1) + "]}"
    return node


def test_billion_laughs_matcher_is_refused_quickly(tmp_path):
    """Finding: a billion-laughs matcher made validate (and route) hang."""
    text = (loader.default_data_dir() / "channels/fdi.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "rules:\n",
        f"rules:\n  - id: laughs\n    when: {_laughs()}\n    effect: warn\n" "    message: {en: x, zh: x}\n",
        1,
    )
    root = overlay(tmp_path, "channels/fdi.yaml", text=text)
    res = cli("data", "validate", "--data-dir", str(root), timeout=30)
    assert res.returncode == 2, res.stderr
    assert "channels/fdi.yaml" in res.stderr and "alias" in res.stderr
    res = cli(*ROUTE, "--data-dir", str(root), timeout=30)
    assert res.returncode == 2 and "rule base is invalid" in res.stderr


def test_recursive_alias_is_refused(tmp_path):
    """Finding: a recursive YAML alias hung validate."""
    root = overlay(tmp_path, "channels/fdi.yaml", "when: {sector_status: prohibited}", "when: &w {any: [*w]}")
    res = cli("data", "validate", "--data-dir", str(root), timeout=30)
    assert res.returncode == 2, res.stderr
    assert "channels/fdi.yaml" in res.stderr and "recursive" in res.stderr


def test_deep_matcher_is_refused(tmp_path):
    deep = "{asset_class: equity}"
    for _ in range(200):
        deep = f"{{not: {deep}}}"
    root = overlay(tmp_path, "channels/fdi.yaml", "when: {sector_status: prohibited}", f"when: {deep}")
    res = cli("data", "validate", "--data-dir", str(root), timeout=30)
    assert res.returncode == 2, res.stderr
    assert "channels/fdi.yaml" in res.stderr and "deep" in res.stderr


FORMULA = "formula: net_assets * leverage_ratio_enterprise"


@pytest.mark.parametrize(
    "formula, words",
    [
        ("net_assets / (amount - amount)", "division by zero"),
        ("net_assets / net_assets", "division by zero"),
        ("net_assets ** 10**10", "capacity.formula"),
        ("net_assets + term_months", "capacity.formula"),
        ("'x' + 1", "capacity.formula"),
        ("net_assets > 1", "not a number"),
    ],
)
def test_formulas_that_fail_only_at_run_time(tmp_path, formula, words):
    """Finding: formulas that fail at run time (0 division, huge powers, type errors) passed validation."""
    text = (loader.default_data_dir() / "channels/foreign_debt.yaml").read_text(encoding="utf-8")
    start = text.index("formula: ")
    end = text.index("\n", start)
    root = overlay(
        tmp_path,
        "channels/foreign_debt.yaml",
        text=text[:start] + f"formula: {json.dumps(formula)}" + text[end:],
    )
    assert_refused(root, "channels/foreign_debt.yaml", "capacity.formula", words)


def test_the_real_formula_passes_the_dry_run():
    assert loader.validate() == []


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "'NaN'", "'Infinity'"])
def test_non_finite_numbers_are_refused(tmp_path, value):
    """Finding: a NaN weight passed validation and route wrote `"score": NaN` (invalid JSON)."""
    root = overlay(tmp_path, "scoring.yaml", "{time: 0.35,", f"{{time: {value},")
    assert_refused(root, "scoring.yaml", "objectives.balanced.time", "finite")


def test_non_finite_weeks_are_refused(tmp_path):
    root = overlay(tmp_path, "channels/fdi.yaml", "weeks: {min: 0, max: 1.2", "weeks: {min: 0, max: .inf")
    assert_refused(root, "channels/fdi.yaml", "steps.0.weeks.max", "finite")


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "file:///etc/passwd", "data:text/html,<b>x</b>", "ftp://x.org/a"]
)
def test_urls_must_be_http(tmp_path, url):
    root = overlay(tmp_path, "sources/national.yaml", "  url: null\n", f"  url: {json.dumps(url)}\n")
    assert_refused(root, "sources/national.yaml", ".url", "http")


def test_overlay_symlink_loop_in_folders_exits_2(tmp_path):
    """Finding: a symlink loop in an overlay gave exit 1 "unexpected"."""
    root = tmp_path / "overlay"
    (root / "channels").mkdir(parents=True)
    (root / "channels" / "loop").symlink_to(root / "channels")
    (root / "self.yaml").symlink_to(root / "self.yaml")
    for args in (["data", "validate", "--data-dir", str(root)], [*ROUTE, "--data-dir", str(root)]):
        res = cli(*args)
        assert res.returncode == 2, res.stderr
        assert "Traceback" not in res.stderr and "unexpected" not in res.stderr
        assert "self.yaml" in res.stderr or "loop" in res.stderr


def test_overlay_that_is_a_symlink_loop_exits_2(tmp_path):
    root = tmp_path / "overlay"
    root.symlink_to(root)
    res = cli(*ROUTE, "--data-dir", str(root))
    assert res.returncode == 2, res.stderr
    assert "unexpected" not in res.stderr


def test_validate_and_load_agree(tmp_path):
    """validate == load: what validate refuses, load refuses, and what load takes, validate takes."""
    root = overlay(
        tmp_path,
        "channels/fdi.yaml",
        "after: [mofcom_related_party_mna_approval]",
        "after: [fie_registration]",
    )
    problems = loader.validate(overlay=root)
    with pytest.raises(Exception) as exc:
        loader.load(overlay=root, use_cache=False)
    assert problems and problems == exc.value.problems
    shutil.rmtree(root)
    root.mkdir()
    assert loader.validate(overlay=root) == []


def test_dry_run_catches_what_only_a_query_meets(tmp_path):
    """A matcher that compares the amount with text passes the shape check but breaks every query."""
    root = overlay(
        tmp_path, "channels/fdi.yaml", "when: {sector_status: prohibited}", "when: {amount: {gt: abc}}"
    )
    res = validate(root)
    assert res.exit_code == 2, res.output
    assert "(dry run): route --asset-class" in res.output and "TypeError" in res.output


def test_huge_file_is_refused_unread(tmp_path):
    """Size cap on loaded YAML: a multi-megabyte file is not parsed."""
    root = tmp_path / "overlay"
    root.mkdir()
    (root / "structures.yaml").write_text("# padding\n" * 500_000, encoding="utf-8")
    res = validate(root)
    assert res.exit_code == 2 and "structures.yaml: (file): larger than" in res.output

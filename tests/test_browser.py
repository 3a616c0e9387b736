"""The HTML report in a real browser (headless Chromium): parsed DOM, screenshots, printed PDF.

Locally the tests skip when Chromium is missing; in CI (CI=true) they fail instead, because
.ci/run installs Chromium (Debian: apt-get install chromium fonts-noto-cjk poppler-utils).
Set REPATRIATE_SCREENS=DIR to keep the screenshots.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repatriate.cli import app
from repatriate.render.pdf import chromium_command, find_chromium

AS_OF = ["--as-of", "2026-11-25"]
EQUITY = [
    "compare",
    "--asset-class",
    "equity",
    "--sector",
    "renewable_energy",
    "--amount",
    "50000000",
    *AS_OF,
]
PLACES = ["--province", "CN-GD", "--province", "CN-HI", "--province", "CN-SH"]
XSS = "<script>alert(1)</script>"


def _need(tool: str | None, what: str) -> str:
    """The tool's path; a skip locally, a failure in CI, when it is missing."""
    if tool:
        return tool
    message = f"{what} is not installed (Debian: apt-get install chromium fonts-noto-cjk poppler-utils)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}: .ci/run must install it")
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> str:
    return _need(find_chromium(), "Chromium")


def _invoke(*args: str):
    res = CliRunner().invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res


def _run(cmd: list[str], home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(home)}
    )


def _screens(tmp_path: Path) -> Path:
    out = Path(os.environ.get("REPATRIATE_SCREENS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_html_opens_in_headless_chromium(browser, tmp_path):
    page = tmp_path / "report.html"
    _invoke(*EQUITY, *PLACES, "--top", "2", "--format", "html", "--label", f"Acme {XSS}", "-o", str(page))
    done = _run(chromium_command(browser, str(tmp_path / "profile"), "--dump-dom", page.as_uri()), tmp_path)
    dom = done.stdout
    assert done.returncode == 0 and "<body" in dom, done.stderr[-2000:]
    # The browser parsed the page: the summary, the chart and the notice are in its DOM,
    # and the label stayed text (a parsed <script> element would appear as a tag).
    assert "Summary and recommendation" in dom and "Best route in each place" in dom
    assert "<svg" in dom and "not legal advice" in dom
    assert XSS not in dom and "&lt;script&gt;alert(1)&lt;/script&gt;" in dom


# (name, places, window height): the first page, then one place whose first route's Gantt
# chart sits within a tall window (a #fragment is not scrolled to before a headless shot).
SHOTS = [("html-first-page", PLACES, 1500), ("html-gantt", ["--city", "shenzhen"], 2600)]


@pytest.mark.parametrize("name, places, height", SHOTS)
def test_screenshots_of_the_first_page_and_a_gantt_chart(browser, tmp_path, name, places, height):
    page = tmp_path / "report.html"
    _invoke(
        *EQUITY,
        *places,
        "--top",
        "2",
        "--format",
        "html",
        "--label",
        "Acme Solar",
        "--prepared-for",
        "Acme Holdings",
        "--prepared-by",
        "Li & Partners",
        "-o",
        str(page),
    )
    shot = _screens(tmp_path) / f"{name}.png"
    cmd = chromium_command(
        browser,
        str(tmp_path / "profile"),
        "--hide-scrollbars",
        f"--window-size=1200,{height}",
        f"--screenshot={shot}",
        page.as_uri(),
    )
    done = _run(cmd, tmp_path)
    assert shot.exists() and shot.stat().st_size > 10_000, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_allocation_html_opens_in_headless_chromium_with_its_bar(browser, tmp_path):
    """The allocation report (issue 12) parses in a real browser: section, stacked bar, timeline, notice."""
    page = tmp_path / "split.html"
    _invoke("allocate", "--asset-class", "equity", "--sector", "value_added_telecom", "--province", "CN-GD",
            "--amount", "400000000", "--net-assets", "100000000", "--spv-owner", "third_party", "--yield", "5",
            *AS_OF, "-o", str(page))
    done = _run(chromium_command(browser, str(tmp_path / "profile"), "--dump-dom", page.as_uri()), tmp_path)
    dom = done.stdout
    assert done.returncode == 0 and "<body" in dom, done.stderr[-2000:]
    assert 'id="allocation"' in dom and dom.count('class="seg"') == 3  # two legs and the unplaced rest
    assert "<svg" in dom and "not legal advice" in dom and "Value-added telecom" in dom
    shot = _screens(tmp_path) / "html-allocation.png"
    _run(chromium_command(browser, str(tmp_path / "profile2"), "--hide-scrollbars", "--window-size=1200,1400",
                          f"--screenshot={shot}", page.as_uri()), tmp_path)
    assert shot.exists() and shot.stat().st_size > 10_000

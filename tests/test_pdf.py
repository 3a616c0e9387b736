"""`compare --format pdf`: a real PDF, checked by rendering page 1 (pdftoppm) and reading its text.

Skips locally without Chromium/poppler; fails in CI, where .ci/run installs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repatriate.cli import app
from repatriate.render.pdf import find_chromium

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
FIRST_PAGE = ["--label", "Acme Solar", "--prepared-for", "Acme Holdings", "--prepared-by", "Li & Partners"]


def _need(tool: str | None, what: str) -> str:
    if tool:
        return tool
    message = f"{what} is not installed (Debian: apt-get install chromium fonts-noto-cjk poppler-utils)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}: .ci/run must install it")
    pytest.skip(message)


@pytest.fixture(scope="module")
def tools() -> dict[str, str]:
    return {
        "chromium": _need(find_chromium(), "Chromium"),
        "pdftoppm": _need(shutil.which("pdftoppm"), "pdftoppm"),
        "pdftotext": _need(shutil.which("pdftotext"), "pdftotext"),
    }


def _pdf(tmp_path: Path, *args: str, name: str = "report.pdf") -> Path:
    target = tmp_path / name
    res = CliRunner().invoke(app, [*EQUITY, *args, "-o", str(target)])
    assert res.exit_code == 0, res.output
    return target


def _page1_text(tools: dict[str, str], pdf: Path) -> str:
    done = subprocess.run(
        [tools["pdftotext"], "-f", "1", "-l", "1", "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return " ".join(done.stdout.split())


def test_pdf_page_one_renders_and_reads_as_the_summary(tools, tmp_path):
    pdf = _pdf(tmp_path, "--province", "CN-GD", "--province", "CN-SH", "--format", "pdf", *FIRST_PAGE)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    png = tmp_path / "page1"
    subprocess.run(
        [tools["pdftoppm"], "-f", "1", "-l", "1", "-r", "60", "-png", str(pdf), str(png)], check=True
    )
    shots = list(tmp_path.glob("page1*.png"))
    assert shots and shots[0].stat().st_size > 10_000  # a drawn page, not a blank one
    text = _page1_text(tools, pdf)
    for needle in (
        "Acme Solar",
        "Prepared for",
        "Acme Holdings",
        "Li & Partners",
        "Summary and recommendation",
        "Guangdong",
        "Shanghai",
        "Recommended route",
        "Contents",
        "Rules as of 2026-11-25",
    ):
        assert needle in text, needle


def test_output_name_ending_pdf_implies_pdf_and_chinese_renders(tools, tmp_path):
    pdf = _pdf(tmp_path, "--province", "CN-SH", "--lang", "zh", *FIRST_PAGE, name="报告.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = _page1_text(tools, pdf)
    # pdftotext gives the characters back only when a CJK font drew them (no tofu boxes)
    assert "摘要与建议" in text and "建议路线" in text and "上海" in text


def test_pdf_refuses_to_replace_a_file_without_force(tools, tmp_path):
    target = tmp_path / "old.pdf"
    target.write_bytes(b"keep")
    res = CliRunner().invoke(app, [*EQUITY, "--province", "CN-SH", "-o", str(target)])
    assert res.exit_code == 2 and "--force" in res.stderr and target.read_bytes() == b"keep"


def test_weasyprint_engine_when_installed(tmp_path):
    """The optional second engine (pip install 'repatriate[pdf]'): the same HTML prints."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        pytest.skip("WeasyPrint is optional and not installed")
    from repatriate.api import load_rulebase
    from repatriate.engine.compare import compare
    from repatriate.render.report import render_pdf

    rb = load_rulebase()
    report = compare(
        rb,
        profile_fields={"asset_class": "equity", "amount": 5e7},
        provinces=["CN-SH"],
        cities=[],
        as_of="2026-11-25",
    )
    assert render_pdf(report, rb, engine="weasyprint")[:5] == b"%PDF-"


def test_allocation_pdf_has_the_section_the_bar_and_chinese_words(tools, tmp_path):
    """`allocate -o split.pdf` prints the allocation through the report's PDF engine (issue 12)."""
    target = tmp_path / "分配.pdf"
    res = CliRunner().invoke(
        app,
        ["allocate", "--asset-class", "equity", "--sector", "value_added_telecom", "--province", "广东",
         "--amount", "400000000", "--net-assets", "100000000", "--spv-owner", "third_party", "--yield", "5",
         "--as-of", "2026-11-25", "--lang", "zh", "-o", str(target)],
    )
    assert res.exit_code == 0, res.output
    assert target.read_bytes()[:5] == b"%PDF-"
    text = _page1_text(tools, target)
    assert "跨渠道资金分配方案" in text and "外债" in text and "无法分配" in text
    subprocess.run([tools["pdftoppm"], "-f", "1", "-l", "1", "-r", "60", "-png", str(target), str(tmp_path / "p")],
                   check=True)
    assert next(tmp_path.glob("p*.png")).stat().st_size > 10_000

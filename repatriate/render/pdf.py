"""Print a report's HTML to PDF: headless Chromium's print-to-PDF, or WeasyPrint when installed.

Imported only for ``--format pdf``; neither engine is loaded by any other command.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import RepatriateError

# Chromium is the same engine as the browser test: what a reader sees on screen is what prints.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Flags for a quiet, offline, throwaway browser: no sandbox (CI runs as root), no GPU, no
# network side-traffic (QUIC, updates, sync), no first-run dialogs.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)

INSTALL_HINT = (
    "no PDF engine found: install Chromium (Debian: apt-get install chromium fonts-noto-cjk) "
    "or WeasyPrint (pip install weasyprint), or set REPATRIATE_CHROMIUM to a Chromium binary"
)


def find_chromium() -> str | None:
    """The Chromium binary: ``$REPATRIATE_CHROMIUM``, else the first of ``BROWSERS`` on the PATH."""
    env = os.environ.get("REPATRIATE_CHROMIUM")
    if env:
        return env if Path(env).exists() else shutil.which(env)
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_command(binary: str, profile_dir: str, *extra: str) -> list[str]:
    """Chromium's command line with ``CHROMIUM_FLAGS`` and a new empty user-data folder."""
    return [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}", *extra]


def _chromium_pdf(binary: str, html: str, timeout: float) -> bytes:
    with tempfile.TemporaryDirectory(prefix="repatriate-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        out = Path(tmp) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        cmd = chromium_command(
            binary,
            str(Path(tmp) / "profile"),
            f"--print-to-pdf={out}",
            "--no-pdf-header-footer",
            "--print-to-pdf-no-header",
            page.as_uri(),
        )
        try:
            res = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RepatriateError(f"Chromium could not print the PDF ({type(exc).__name__})") from None
        if not out.exists() or out.stat().st_size == 0:
            last = (res.stderr.decode("utf-8", "replace").strip().splitlines() or ["no output"])[-1]
            raise RepatriateError(f"Chromium could not print the PDF (exit {res.returncode}: {last[:200]})")
        return out.read_bytes()


def html_to_pdf(html: str, *, engine: str | None = None, timeout: float = 120.0) -> bytes:
    """The PDF bytes of ``html`` (a self-contained page: inline CSS and SVG, no fetches).

    Parameters
    ----------
    engine : {'chromium', 'weasyprint'}, optional
        Default: Chromium when found, else WeasyPrint when importable.

    Raises
    ------
    RepatriateError
        When no engine is installed or the engine fails.
    """
    if engine not in (None, "chromium", "weasyprint"):
        raise RepatriateError.choice("PDF engine", engine, ("chromium", "weasyprint"))
    binary = find_chromium() if engine in (None, "chromium") else None
    if binary:
        return _chromium_pdf(binary, html, timeout)
    if engine in (None, "weasyprint"):
        try:
            import weasyprint  # lazy: heavy, and optional
        except (ImportError, OSError):  # OSError: pango missing on the system
            pass
        else:
            return weasyprint.HTML(string=html).write_pdf()
    raise RepatriateError(INSTALL_HINT)

"""The one atomic writer and the one spreadsheet escaping (``repatriate.files``), and clean failure.

Disk-full runs on a small tmpfs where this process may mount one (root); signals on a real subprocess.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from repatriate.errors import RepatriateError, clip
from repatriate.files import atomic_write, safe_cell
from repatriate.render.escape import clean_text

ROOT = Path(__file__).resolve().parents[1]


def debris(directory: Path) -> list[str]:
    return sorted(
        p.name for p in directory.iterdir() if p.name.endswith((".tmp", ".partial")) or p.name.startswith(".")
    )


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "out.txt"
    with atomic_write(target, force=False) as fh:
        fh.write("one")
    assert target.read_text() == "one"
    with pytest.raises(RepatriateError, match="exists.*--force|force"):
        with atomic_write(target, force=False) as fh:
            fh.write("two")
    with pytest.raises(ZeroDivisionError):
        with atomic_write(target, force=True) as fh:
            fh.write("three")
            raise ZeroDivisionError
    assert target.read_text() == "one" and debris(tmp_path) == []
    with atomic_write(target, force=True, mode="wb") as fh:
        fh.write(b"four")
    assert target.read_bytes() == b"four" and oct(target.stat().st_mode & 0o777) != "0o600"


def test_atomic_write_refuses_an_input_path(tmp_path):
    """issue 14: -o could point at the input file."""
    src = tmp_path / "in.csv"
    src.write_text("x")
    with pytest.raises(RepatriateError, match="is also an input"):
        with atomic_write(tmp_path / "." / "in.csv", force=True, inputs=[src]):
            pass
    assert src.read_text() == "x"


def test_long_name_and_missing_directory_are_clear_errors(tmp_path):
    """issue 14: a 300-character -o name gave exit 1 'unexpected'."""
    with pytest.raises(RepatriateError, match="cannot write .*name too long"):
        with atomic_write(tmp_path / ("x" * 300 + ".csv"), force=False):
            pass
    with pytest.raises(RepatriateError, match="cannot write"):
        with atomic_write(tmp_path / "no" / "dir.csv", force=False):
            pass
    assert debris(tmp_path) == []


def test_temp_is_unlinked_when_close_fails(tmp_path, monkeypatch):
    """issue 14: the temp unlink sat behind a close() that raised again."""
    target = tmp_path / "out.txt"
    with pytest.raises(RepatriateError, match="cannot write"):
        with atomic_write(target, force=False) as fh:
            fh.write("x")

            def fail():
                raise OSError(28, "No space left on device")

            monkeypatch.setattr(fh, "close", fail)
    assert not target.exists() and debris(tmp_path) == []


def test_safe_cell_is_the_one_escaping():
    assert [safe_cell(v) for v in ("=1", "+1", "-1", "@x", "\tx", "\rx", "ok", 5, None)] == [
        "'=1",
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "'\rx",
        "ok",
        5,
        None,
    ]


def test_text_helpers():
    assert clean_text("a\x1b[2Jb\x07c\u202ed") == "abcd"
    assert len(clip("x" * 100_000)) <= 80 and clip("short") == "short"


# --- disk full ---------------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path):
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("disk-full test needs root to mount a 64 KiB tmpfs")
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def portfolio(path: Path, rows: int) -> Path:
    lines = ["asset_id,label,asset_class,province,amount"]
    lines += [f"A{i},label {i} {'x' * 40},equity,CN-GD,50000000" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cli(*args, env=None, **kw):
    return subprocess.run(
        [sys.executable, "-m", "repatriate", *args], capture_output=True, text=True, env=env, cwd=ROOT, **kw
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl"])
def test_disk_full_is_exit_2_without_debris(tmp_path, tiny_disk, fmt):
    """issue 14: disk full gave 'unexpected OSError', exit 1, and left .partial and .tmp files."""
    src = portfolio(tmp_path / "in.csv", 3000)
    systmp = tmp_path / "systmp"
    systmp.mkdir()
    env = {**os.environ, "TMPDIR": str(systmp)}
    res = cli("batch", str(src), "-o", str(tiny_disk / f"out.{fmt}"), env=env)
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith("error: cannot write") and "Traceback" not in res.stderr
    assert res.stderr.count("\n") == 1 and "No space left on device" in res.stderr
    assert list(tiny_disk.iterdir()) == [] and list(systmp.iterdir()) == []  # nor openpyxl's temp files


def test_summary_json_on_a_full_disk_leaves_no_file(tmp_path, tiny_disk):
    """issue 14: --summary-json on a full disk left a 0-byte file."""
    fd = os.open(tiny_disk / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"x" * 512):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    src = portfolio(tmp_path / "in.csv", 2)
    res = cli("batch", str(src), "-o", str(tmp_path / "out.csv"), "--summary-json", str(tiny_disk / "s.json"))
    assert res.returncode == 2 and "cannot write" in res.stderr
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler"]


# --- signals -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_portfolio(tmp_path_factory):
    return portfolio(tmp_path_factory.mktemp("big") / "in.csv", 300_000)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_signal_leaves_no_temp_files(tmp_path, big_portfolio, sig, fmt):
    """issue 14: SIGTERM/SIGHUP left .partial files and openpyxl temp files; Ctrl-C printed tracebacks."""
    src = big_portfolio
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    tmp_dir = tmp_path / "systmp"
    tmp_dir.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "repatriate", "batch", str(src), "-o", str(out_dir / f"out.{fmt}")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    deadline = time.time() + 60
    while not any(out_dir.iterdir()) and time.time() < deadline:  # the temp output exists: rows are streaming
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "Traceback" not in err
    assert list(out_dir.iterdir()) == [] and list(tmp_dir.iterdir()) == []


def test_home_unset_is_not_unexpected(tmp_path):
    """issue 14: `HOME` unset gave exit 1 'unexpected'."""
    src = portfolio(tmp_path / "in.csv", 2)
    env = {k: v for k, v in os.environ.items() if k not in ("HOME", "XDG_CACHE_HOME")}
    res = cli("batch", str(src), env=env)
    assert res.returncode == 0, res.stderr

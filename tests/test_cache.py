"""The rule-base cache (issue 14): nothing unsigned is unpickled, unsafe places are never read.

Each test points the cache at its own folder through ``REPATRIATE_CACHE_DIR``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from repatriate.rulebase import loader

ROUTE = [
    sys.executable,
    "-m",
    "repatriate",
    "route",
    "--asset-class",
    "equity",
    "--sector",
    "renewable_energy",
    "--province",
    "CN-GD",
    "--amount",
    "50000000",
    "--format",
    "json",
]


class _Payload:
    """A pickle that runs a shell command when loaded: what an attacker plants."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture()
def cache_root(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("REPATRIATE_CACHE_DIR", str(root))
    return root


def _entries(root: Path) -> list[Path]:
    return sorted((root / "repatriate").glob("rulebase-*.pickle"))


def _filled(root: Path) -> Path:
    """Load once so that the cache holds the packaged rule base; return its entry."""
    loader.load()
    entries = _entries(root)
    assert len(entries) == 1, entries
    return entries[0]


def test_a_cache_entry_is_written_and_reused(cache_root):
    entry = _filled(cache_root)
    before = entry.stat().st_mtime_ns
    rb = loader.load()
    assert rb.digest == loader.digest_of(loader.collect_files())
    assert entry.stat().st_mtime_ns >= before
    assert stat.S_IMODE((cache_root / "repatriate").stat().st_mode) & 0o077 == 0


def test_planted_pickle_does_not_run(cache_root, tmp_path):
    """Finding: a pickle planted at the cache path ran os.system on a plain `repatriate route`."""
    entry = _filled(cache_root)
    marker = tmp_path / "pwned"
    entry.write_bytes(pickle.dumps(_Payload(marker)))
    rb = loader.load()
    assert not marker.exists(), "the planted pickle ran"
    assert "CN-GD" in rb.provinces


def test_planted_pickle_does_not_run_from_the_cli(cache_root, tmp_path):
    entry = _filled(cache_root)
    marker = tmp_path / "pwned"
    entry.write_bytes(pickle.dumps(_Payload(marker)))
    res = subprocess.run(ROUTE, capture_output=True, text=True, timeout=60, env=os.environ.copy())
    assert res.returncode == 0, res.stderr
    assert not marker.exists(), "the planted pickle ran"


def test_tampered_pickle_is_not_used(cache_root):
    """Finding: a pickle with a changed province name was used silently."""
    entry = _filled(cache_root)
    data = entry.read_bytes()
    assert b"Guangdong" in data
    entry.write_bytes(data.replace(b"Guangdong", b"Guangxxxx"))
    rb = loader.load()
    assert rb.provinces["CN-GD"].name.en == "Guangdong"


def test_world_writable_cache_dir_is_refused(cache_root, tmp_path):
    """Finding: a world-writable cache folder made by someone else was used without a check."""
    entry = _filled(cache_root)
    os.chmod(cache_root / "repatriate", 0o777)
    marker = tmp_path / "pwned"
    planted = pickle.dumps(_Payload(marker))
    entry.write_bytes(planted)
    rb = loader.load()
    assert not marker.exists()
    assert "CN-GD" in rb.provinces
    assert entry.read_bytes() == planted  # neither read nor written


def test_world_writable_dir_is_neither_read_nor_written(cache_root):
    (cache_root / "repatriate").mkdir(parents=True)
    os.chmod(cache_root / "repatriate", 0o777)
    loader.load()
    assert list((cache_root / "repatriate").iterdir()) == []


def test_a_signed_entry_in_an_unsafe_dir_is_not_read(cache_root):
    entry = _filled(cache_root)
    os.chmod(cache_root / "repatriate", 0o775)
    os.utime(entry)  # even a valid entry: the folder could have been swapped under us
    from repatriate.rulebase import cache

    assert cache.get(loader.digest_of(loader.collect_files())) is None


def test_cache_dir_owned_by_someone_else_is_refused(cache_root, monkeypatch):
    _filled(cache_root)
    real = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: real + 4242)
    from repatriate.rulebase import cache

    assert cache.get(loader.digest_of(loader.collect_files())) is None


def test_symlinked_cache_dir_is_refused(cache_root, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    cache_root.mkdir()
    (cache_root / "repatriate").symlink_to(elsewhere)
    loader.load()
    assert list(elsewhere.iterdir()) == []


def test_fifo_at_the_cache_path_is_skipped(cache_root):
    """Finding: a FIFO at the cache path made `route` hang forever on open()."""
    entry = _filled(cache_root)
    entry.unlink()
    os.mkfifo(entry)
    res = subprocess.run(ROUTE, capture_output=True, text=True, timeout=60, env=os.environ.copy())
    assert res.returncode == 0, res.stderr


def test_old_entries_are_evicted(cache_root):
    """Finding: cache pickles were never evicted."""
    from repatriate.rulebase import cache

    digests = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(cache.KEEP + 3)]
    for d in digests:
        cache.put(d, {"digest": d})
        for p in _entries(cache_root):  # make the order of writing visible to mtime
            os.utime(p, ns=(p.stat().st_mtime_ns - 10**9, p.stat().st_mtime_ns - 10**9))
    left = _entries(cache_root)
    assert len(left) == cache.KEEP
    assert cache.get(digests[-1]) == {"digest": digests[-1]}
    assert cache.get(digests[0]) is None


def test_orphaned_temp_files_are_removed_on_start(cache_root):
    """Finding: a SIGKILL during a cache write left .tmp files for ever."""
    entry = _filled(cache_root)
    orphan = entry.with_name(entry.name + ".999999999.tmp")
    orphan.write_bytes(b"half a pickle")
    old = time.time() - 3600
    os.utime(orphan, (old, old))
    loader.load()
    assert not orphan.exists()


def test_killed_writer_leaves_nothing_behind(cache_root):
    root = cache_root / "repatriate"
    code = (
        "import os, repatriate.rulebase.loader as L\n"
        "def replace(*a, **k):\n"
        "    os.kill(os.getpid(), 9)\n"
        "os.replace = replace\n"
        "L.load()\n"
    )
    subprocess.run([sys.executable, "-c", code], timeout=60, env=os.environ.copy())
    assert [p.name for p in root.iterdir() if p.name.endswith(".tmp")], "the killed writer left a temp file"
    loader.load()
    assert [p.name for p in root.iterdir() if p.name.endswith(".tmp")] == []


def test_home_unset_does_not_crash(monkeypatch, tmp_path):
    """Finding: `HOME` unset gave exit 1."""
    for var in ("REPATRIATE_CACHE_DIR", "XDG_CACHE_HOME", "HOME"):
        monkeypatch.delenv(var, raising=False)

    def no_home(*_a, **_k):
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", classmethod(lambda cls: no_home()))
    monkeypatch.setattr(os.path, "expanduser", lambda p: p)
    rb = loader.load()
    assert "CN-GD" in rb.provinces


def test_unusable_cache_dir_only_costs_speed(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("REPATRIATE_CACHE_DIR", str(blocker))
    env = {k: v for k, v in os.environ.items() if k != "HOME"}
    res = subprocess.run(ROUTE, capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 0, res.stderr
    assert "CN-GD" in loader.load().provinces


def test_key_file_is_private(cache_root):
    _filled(cache_root)
    keys = [p for p in (cache_root / "repatriate").iterdir() if not p.name.startswith("rulebase-")]
    assert keys, "a key file sits beside the entries"
    for k in keys:
        assert stat.S_IMODE(k.stat().st_mode) == 0o600


def test_cache_dir_under_a_parent_others_can_write_is_refused(cache_root):
    """Others could rename our folder away and put theirs in its place: like ssh, refuse it."""
    entry = _filled(cache_root)
    os.chmod(cache_root, 0o777)  # world-writable, no sticky bit
    try:
        from repatriate.rulebase import cache

        assert cache.get(loader.digest_of(loader.collect_files())) is None
        os.chmod(cache_root, 0o1777)  # a sticky folder such as /tmp is fine
        assert cache.get(loader.digest_of(loader.collect_files())) is not None
    finally:
        os.chmod(cache_root, 0o755)
    assert entry.exists()

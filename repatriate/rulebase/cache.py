"""The rule-base cache: one signed pickle per rule-base digest, in a folder only the user can write.

Unpickling runs code, so nothing is unpickled before its HMAC-SHA256 under a per-user random
key checks out, and a folder or file that someone else could have put there is never read.
Every failure only costs speed: the caller loads the YAML afresh.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import stat
import time
from pathlib import Path
from typing import Any

VERSION = "11"  # bump when the pickled records change shape
KEEP = 4  # entries kept: the packaged rule base plus a few overlays
KEY_NAME = "key"  # 32 random bytes, mode 0600, beside the entries
MAGIC = b"repatriate-rulebase-hmac-sha256\n"
MAX_ENTRY = 64 * 1024 * 1024  # far above a real rule base; a bigger file is not read
ORPHAN_AGE = 60.0  # seconds after which a temp file of a dead or stuck writer is removed

_OPEN_READ = (
    os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
)
_OPEN_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def cache_dir() -> Path | None:
    """``$REPATRIATE_CACHE_DIR``, ``$XDG_CACHE_HOME`` or ``~/.cache``, then ``repatriate``.

    None when there is no home to put it in (``HOME`` unset and no password entry).
    """
    root = os.environ.get("REPATRIATE_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    if not root:
        try:
            home = Path.home()
        except (RuntimeError, KeyError, OSError):  # HOME unset and no password entry
            return None
        if not home.is_absolute():
            return None
        root = str(home / ".cache")
    return Path(root) / "repatriate"


def _uid() -> int | None:
    return os.getuid() if hasattr(os, "getuid") else None


def _private_dir(st: os.stat_result) -> bool:
    """A real folder of ours that nobody else can write (the check pip and ssh make)."""
    if not stat.S_ISDIR(st.st_mode):
        return False
    uid = _uid()
    return uid is None or (st.st_uid == uid and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def _safe_dir(create: bool) -> Path | None:
    """The cache folder when it is safe to use, made (0700) when ``create``; else None."""
    path = cache_dir()
    if path is None:
        return None
    try:
        parent = os.stat(path.parent)
        # a parent others can write without the sticky bit lets them swap our folder
        if _uid() is not None and parent.st_mode & stat.S_IWOTH and not parent.st_mode & stat.S_ISVTX:
            return None
    except OSError:
        if not create:
            return None
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        if not create:
            return None
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.mkdir(path, 0o700)
            st = os.lstat(path)
        except OSError:
            return None
    except OSError:
        return None
    return path if _private_dir(st) else None


def _read_private(path: Path, limit: int) -> bytes | None:
    """The bytes of a regular file of ours, or None: never follows a link, never blocks on a FIFO."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
        return None
    try:
        fd = os.open(path, _OPEN_READ)
    except OSError:
        return None
    try:
        fst = os.fstat(fd)
        uid = _uid()
        if (fst.st_ino, fst.st_dev) != (st.st_ino, st.st_dev) or not stat.S_ISREG(fst.st_mode):
            return None
        if uid is not None and (fst.st_uid != uid or fst.st_mode & 0o077 and path.name == KEY_NAME):
            return None
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _key(folder: Path, create: bool) -> bytes | None:
    path = folder / KEY_NAME
    key = _read_private(path, 64)
    if key is not None and len(key) == 32:
        return key
    if not create:
        return None
    import secrets  # only when a key is made: keeps the start of every command light

    try:  # a key that is wrong in size or mode is replaced; the old entries then fail their check
        if os.path.lexists(path):
            os.unlink(path)
        tmp = folder / f"{KEY_NAME}.{os.getpid()}.tmp"
        fd = os.open(tmp, _OPEN_NEW, 0o600)
        try:
            os.write(fd, secrets.token_bytes(32))
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # atomic and exclusive: of two racing writers one key wins
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    except OSError:
        return None
    key = _read_private(path, 64)
    return key if key is not None and len(key) == 32 else None


def _entry(folder: Path, digest: str) -> Path:
    return folder / f"rulebase-{VERSION}-{digest[:32]}.pickle"


def _mac(key: bytes, digest: str, payload: bytes) -> bytes:
    # the digest is signed too, so an entry cannot stand in for another rule base's
    return hmac.new(key, digest.encode() + b"\0" + payload, hashlib.sha256).digest()


def get(digest: str) -> Any | None:
    """The cached object for ``digest``, or None. Nothing is unpickled unless its MAC checks out."""
    folder = _safe_dir(create=False)
    if folder is None:
        return None
    _clean(folder)
    key = _key(folder, create=False)
    if key is None:
        return None
    path = _entry(folder, digest)
    data = _read_private(path, MAX_ENTRY)
    if data is None or not data.startswith(MAGIC):
        return None
    mac, payload = data[len(MAGIC) : len(MAGIC) + 32], data[len(MAGIC) + 32 :]
    if not hmac.compare_digest(mac, _mac(key, digest, payload)):
        return None
    try:
        value = pickle.loads(payload)
    except Exception:  # signed by us but unreadable by this code: rebuilt by the caller
        return None
    try:
        os.utime(path)  # eviction keeps the entries used last
    except OSError:
        pass
    return value


def put(digest: str, value: Any) -> None:
    """Store ``value`` for ``digest``, signed, by an atomic rename; then keep the newest ``KEEP``."""
    folder = _safe_dir(create=True)
    if folder is None:
        return
    key = _key(folder, create=True)
    if key is None:
        return
    from ..errors import RepatriateError
    from ..files import atomic_write

    path = _entry(folder, digest)
    try:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        with atomic_write(path, force=True, mode="wb", file_mode=0o600) as fh:
            fh.write(MAGIC + _mac(key, digest, payload) + payload)
    except (RepatriateError, pickle.PicklingError):
        return  # an unusable cache only costs speed; atomic_write left no temp file
    _evict(folder)


def _clean(folder: Path) -> None:
    """Remove temp files left by writers that died (SIGKILL, power loss)."""
    try:
        names = [e for e in os.scandir(folder) if e.name.endswith(".tmp")]
    except OSError:
        return
    now = time.time()
    for e in names:
        try:
            pid = int(e.name.rsplit(".", 3)[-3])  # .<entry>.<pid>.<random>.tmp (files.atomic_write)
        except (ValueError, IndexError):
            pid = 0
        try:
            old = now - e.stat(follow_symlinks=False).st_mtime > ORPHAN_AGE
            if old or not _alive(pid):
                os.unlink(e.path)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but someone else's
        return True
    return True


def _evict(folder: Path) -> None:
    try:
        entries = [
            e for e in os.scandir(folder) if e.name.startswith("rulebase-") and e.name.endswith(".pickle")
        ]
        entries.sort(key=lambda e: e.stat(follow_symlinks=False).st_mtime_ns, reverse=True)
    except OSError:
        return
    for e in entries[KEEP:]:
        try:
            os.unlink(e.path)
        except OSError:
            pass
    _clean(folder)


def clear() -> None:
    """Remove every cache entry (the key stays)."""
    folder = _safe_dir(create=False)
    if folder is None:
        return
    for e in os.scandir(folder):
        if e.name.startswith("rulebase-"):
            try:
                os.unlink(e.path)
            except OSError:
                pass

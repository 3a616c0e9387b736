"""The boundary where results leave the process: one atomic writer, one spreadsheet escaping.

Every file repatriate writes (route/compare -o, batch outputs, --summary-json, the rule-base cache)
goes through ``atomic_write``; every spreadsheet cell through ``safe_cell``.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from .errors import RepatriateError, clip

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP: what a spreadsheet may read as a formula


def safe_cell(value: Any) -> Any:
    """Make a text cell inert in spreadsheets (OWASP CSV injection); other values pass unchanged.

    >>> safe_cell("=HYPERLINK(1)"), safe_cell("plain"), safe_cell(-5)
    ("'=HYPERLINK(1)", 'plain', -5)
    """
    if isinstance(value, str) and value[:1] in _FORMULA_START:
        return "'" + value
    return value


# --- temp files removed on a signal -----------------------------------------------------------

_LIVE: set[str] = set()  # temp files in flight, removed on SIGTERM/SIGHUP
_SIGNALS = tuple(
    s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None
)
_saved: dict[int, Any] = {}
_depth = 0


class OutputExists(RepatriateError):
    """The target exists and ``force`` is false; ``path`` names it (the CLI words the remedy)."""

    def __init__(self, path: Path):
        super().__init__(f"{clip(str(path))} exists (pass force=True to overwrite it)")
        self.path = path


class Interrupted(BaseException):
    """SIGTERM or SIGHUP arrived: unwinds like Ctrl-C, so every ``atomic_write`` removes its temp file.

    A BaseException, as KeyboardInterrupt, so that no ``except Exception`` swallows it.
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, frame: Any) -> None:
    for path in list(_LIVE):
        with contextlib.suppress(OSError):
            os.unlink(path)
    raise Interrupted(signum)


@contextlib.contextmanager
def _signals_clean_up() -> Iterator[None]:
    import threading

    global _depth
    main = threading.current_thread() is threading.main_thread()
    if main and _depth == 0:
        for s in _SIGNALS:
            if signal.getsignal(s) is signal.SIG_DFL:  # a caller's own handler stays in charge
                _saved[s] = signal.signal(s, _on_signal)
    _depth += main
    try:
        yield
    finally:
        _depth -= main
        if main and _depth == 0:
            for s, old in _saved.items():
                signal.signal(s, old)
            _saved.clear()


def register_temp(path: str | os.PathLike) -> None:
    """Remove ``path`` if SIGTERM/SIGHUP arrives while it is registered (e.g. a library's own temp file)."""
    _LIVE.add(os.fspath(path))


def unregister_temp(path: str | os.PathLike) -> None:
    _LIVE.discard(os.fspath(path))


# --- the atomic writer -------------------------------------------------------------------------


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def check_target(path: str | os.PathLike, *, force: bool, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Refuse an output path before any work is done: an input, a directory, an existing file, a bad name.

    Raises
    ------
    RepatriateError
    """
    target = Path(path)
    try:
        return _check_target(target, force, inputs)
    except OSError as exc:  # a name too long, a loop of links
        raise RepatriateError(f"cannot write {clip(str(target))!r}: {_why(exc)}") from None


def _check_target(target: Path, force: bool, inputs: Iterable[str | os.PathLike]) -> Path:
    for other in inputs:
        if other is not None and os.fspath(other) not in ("", "-") and _same_file(target, Path(other)):
            raise RepatriateError(f"cannot write {clip(str(target))!r}: it is also an input")
    if target.is_dir():
        raise RepatriateError(
            f"cannot write {clip(str(target))!r}: it is a directory (accepted: a file path)"
        )
    if target.exists() and not force:
        raise OutputExists(target)
    directory = target.parent
    if not directory.is_dir():
        raise RepatriateError(f"cannot write {clip(str(target))!r}: no directory {clip(str(directory))!r}")
    try:
        limit = os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        limit = 255
    if len(os.fsencode(target.name)) > limit:
        raise RepatriateError(
            f"cannot write {clip(str(target))!r}: File name too long (at most {limit} bytes)"
        )
    return target


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike,
    *,
    force: bool,
    mode: str = "w",
    inputs: Iterable[str | os.PathLike] = (),
    encoding: str = "utf-8",
    newline: str | None = "",
    file_mode: int | None = None,
) -> Iterator[IO[Any]]:
    """Write a file through a temp file beside it, renamed into place only when the block succeeds.

    Parameters
    ----------
    path : path
        The target file.
    force : bool
        Replace an existing file; when false an existing file is refused (also if it appears
        meanwhile: the temp file is hard-linked into place).
    mode : {'w', 'wb'}
        Text (UTF-8, ``newline=''``) or bytes.
    inputs : paths
        Files this run reads; the target may be none of them.
    file_mode : int, optional
        Permissions of the new file (e.g. ``0o600`` for a private cache); default as ``open`` (umask).

    Yields
    ------
    file object
        Open on the temp file (text, or bytes with ``mode='wb'``: openpyxl saves into it).

    Raises
    ------
    RepatriateError
        A refused target, or any ``OSError`` (disk full, permissions, a name too long) as one
        clear line; the temp file is removed in every case, also on SIGTERM/SIGHUP/SIGINT.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode {mode!r} (accepted: 'w', 'wb')")
    import tempfile

    target = check_target(path, force=force, inputs=inputs)
    shown = clip(str(target))
    with _signals_clean_up():
        try:
            # the writer's pid in the name lets a later run tell a dead writer's leftovers (rulebase/cache.py)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:40]}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
        except OSError as exc:
            raise RepatriateError(f"cannot write {shown!r}: {_why(exc)}") from None
        register_temp(tmp)
        try:
            try:
                fh: IO[Any] = (
                    os.fdopen(fd, "wb") if "b" in mode else os.fdopen(fd, "w", encoding=encoding, newline=newline)
                )
            except BaseException:
                os.close(fd)
                raise
            try:
                yield fh
            finally:
                try:
                    fh.close()  # flushes: a full disk shows here
                except OSError:
                    with contextlib.suppress(OSError):
                        fh.close()
                    raise
            if file_mode is None:
                mask = os.umask(0)
                os.umask(mask)
                file_mode = 0o666 & ~mask  # mkstemp makes 0600; an output should read like any file
            os.chmod(tmp, file_mode)
            if force:
                os.replace(tmp, target)
            else:
                try:
                    # link() fails if the name appeared meanwhile: no clobbering, even in a race
                    os.link(tmp, target)
                except FileExistsError:
                    raise OutputExists(target) from None
                except OSError:
                    os.replace(tmp, target)  # a filesystem without hard links
        except OSError as exc:
            raise RepatriateError(f"cannot write {shown!r}: {_why(exc)}") from None
        finally:
            unregister_temp(tmp)
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def write_text(
    path: str | os.PathLike, text: str, *, force: bool, inputs: Iterable[str | os.PathLike] = ()
) -> Path:
    """``text`` into ``path`` through ``atomic_write``."""
    with atomic_write(path, force=force, inputs=inputs) as fh:
        fh.write(text)
    return Path(path)


def same_path(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name one file (the same inode, or the same absolute path if either is missing)."""
    return _same_file(Path(a), Path(b))

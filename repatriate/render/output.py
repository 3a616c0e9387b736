"""Write a rendered result to a file: atomically, never clobbering without ``--force``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import RepatriateError


def write_output(text: str, path: str | Path, *, force: bool = False) -> Path:
    """Write ``text`` to ``path`` atomically; refuse to replace a file unless ``force``.

    The text goes to a temporary file in the same directory first, so a reader never
    sees half a report and a crash leaves the old file intact.

    Raises
    ------
    RepatriateError
        When the file exists and ``force`` is false, or the directory is not writable.
    """
    target = Path(path)
    if target.is_dir():
        raise RepatriateError(f"{target} is a directory (accepted: a file path for -o)")
    if target.exists() and not force:
        raise RepatriateError(f"{target} exists (use --force to overwrite it)")
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise RepatriateError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600; a report should read like any file
        if force:
            os.replace(tmp, target)
        else:
            try:
                # link() fails if the name appeared meanwhile: no clobbering even in a race.
                os.link(tmp, target)
            except FileExistsError:
                raise RepatriateError(f"{target} exists (use --force to overwrite it)") from None
            except OSError:
                os.replace(tmp, target)  # a filesystem without hard links
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target

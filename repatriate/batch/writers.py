"""Writers of batch results: CSV, XLSX and JSONL, each into a file opened by ``files.atomic_write``.

Cells reach them already made inert where a spreadsheet opens them (``rows.Table`` in csv/inert mode);
the writers add what their format needs: a CSV dialect, XLSX's character and length limits, valid JSON.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from pathlib import Path
from typing import IO, Any

from ..errors import RepatriateError, clip
from ..files import register_temp, safe_cell, unregister_temp
from .readers import EXTENSIONS
from .rows import finite

OUTPUT_FORMATS = ("csv", "xlsx", "jsonl")
XLSX_CELL_MAX = 32_767  # characters Excel keeps in a cell


def output_format(output: str | None, fmt: str | None) -> str:
    """The output format: ``fmt`` if given, else from the extension of ``output``, else CSV.

    Raises
    ------
    RepatriateError
        An unknown format or extension.
    """
    if fmt is not None:
        if fmt not in OUTPUT_FORMATS:
            raise RepatriateError(f"unknown format {clip(fmt)!r} (accepted: {', '.join(OUTPUT_FORMATS)})")
        return fmt
    if output and output != "-":
        ext = Path(output).suffix.lower()
        if ext in EXTENSIONS:
            return EXTENSIONS[ext]
        raise RepatriateError(
            f"cannot tell the output format of {clip(output)!r} "
            "(accepted: .csv, .xlsx, .jsonl, or format csv|xlsx|jsonl)"
        )
    return "csv"


class CsvWriter:
    """UTF-8 CSV of cells a ``Table`` in ``csv`` mode made inert."""

    def __init__(self, stream: IO[str]):
        self._stream = stream
        # "\r\n" as RFC 4180 and Excel: the writer then also quotes a cell holding a bare "\r"
        self._writerow = csv.writer(stream, lineterminator="\r\n").writerow

    def header(self, columns: list[str]) -> None:
        self._writerow([safe_cell(c) for c in columns])

    def write(self, cells: list, routes: list | None = None) -> None:
        self._writerow(cells)

    def close(self) -> None:
        self._stream.flush()

    def abort(self) -> None:
        pass


class XlsxWriter:
    """A streamed (write-only) workbook of inert cells: characters XLSX forbids replaced, cells over
    Excel's 32,767 characters cut with a visible marker, non-finite numbers written as text."""

    def __init__(self, stream: IO[bytes]):
        from openpyxl import Workbook
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        self._illegal = ILLEGAL_CHARACTERS_RE.sub
        self._stream = stream
        self._wb = Workbook(write_only=True)
        self._ws = self._wb.create_sheet("results")

    def _track_temp_files(self) -> None:
        # openpyxl spools each write-only sheet to a temp file of its own: remove it on SIGTERM too
        from openpyxl.worksheet import _writer

        for name in _writer.ALL_TEMP_FILES:
            register_temp(name)

    def _cell(self, value: Any) -> Any:
        if value.__class__ is str:
            value = self._illegal("\ufffd", value)
            if len(value) > XLSX_CELL_MAX:
                marker = f" [truncated: {len(value)} characters]"
                value = value[: XLSX_CELL_MAX - len(marker)] + marker
            return value
        if value.__class__ is float and (value != value or value in (float("inf"), float("-inf"))):
            return str(value)
        if isinstance(value, (dt.datetime, dt.time)) and value.tzinfo is not None:
            return value.isoformat()  # Excel has no time zones
        return value

    def header(self, columns: list[str]) -> None:
        self._ws.append([self._cell(safe_cell(c)) for c in columns])
        self._track_temp_files()

    def write(self, cells: list, routes: list | None = None) -> None:
        self._ws.append([self._cell(v) for v in cells])

    def close(self) -> None:
        from zipfile import ZIP_DEFLATED, ZipFile

        from openpyxl.writer.excel import ExcelWriter

        archive = ZipFile(self._stream, "w", ZIP_DEFLATED, allowZip64=True)
        try:
            ExcelWriter(self._wb, archive).save()
        except BaseException:
            archive.fp = None  # failed (a full disk): nothing more to write when it is collected
            raise

    def abort(self) -> None:
        """Drop the workbook unsaved, with openpyxl's temp files (quietly: no 'exception ignored' later)."""
        import contextlib

        from openpyxl.worksheet import _writer

        with contextlib.suppress(Exception):
            self._ws.close()
        for name in list(_writer.ALL_TEMP_FILES):
            with contextlib.suppress(OSError):
                os.unlink(name)
            _writer.ALL_TEMP_FILES.remove(name)
            unregister_temp(name)


class JsonlWriter:
    """One JSON object per line; values keep their types (a machine format: nothing is escaped).

    Always valid JSON: a non-finite number is written as null.
    """

    def __init__(self, stream: IO[str]):
        self._stream = stream
        self._columns: list[str] = []
        self._dumps = json.JSONEncoder(ensure_ascii=False, default=str, allow_nan=False).encode

    def header(self, columns: list[str]) -> None:
        self._columns = columns

    def write(self, cells: list, routes: list | None = None) -> None:
        record = dict(zip(self._columns, cells))
        if routes is not None:
            record["routes"] = routes
        try:
            line = self._dumps(record)
        except ValueError:  # inf or nan somewhere: null, as JSON has no such numbers
            line = self._dumps(finite(record))
        self._stream.write(line + "\n")

    def close(self) -> None:
        self._stream.flush()

    def abort(self) -> None:
        pass


def make_writer(kind: str, stream: IO[Any]) -> CsvWriter | XlsxWriter | JsonlWriter:
    """The writer of format ``kind`` on an open stream (bytes for XLSX, text otherwise)."""
    if kind == "xlsx":
        return XlsxWriter(stream)
    return CsvWriter(stream) if kind == "csv" else JsonlWriter(stream)


__all__ = ["OUTPUT_FORMATS", "CsvWriter", "XlsxWriter", "JsonlWriter", "output_format", "make_writer"]

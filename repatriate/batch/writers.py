"""Writers of batch results: CSV, XLSX and JSONL, each into a file opened by ``files.atomic_write``.

Cells reach them already made inert where a spreadsheet opens them (``rows.Table`` in csv/inert mode);
the writers add what their format needs: a CSV dialect, XLSX's character and length limits, valid JSON.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from pathlib import Path
from typing import IO, Any

from ..errors import RepatriateError, clip
from ..files import register_temp, safe_cell, unregister_temp
from .readers import EXTENSIONS
from .rows import CsvTail, finite

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
            "(accepted: .csv, .xlsx, .jsonl, or format csv|xlsx|jsonl)",
            field="output",
        )
    return "csv"


class CsvWriter:
    """UTF-8 CSV of cells a ``Table`` in ``csv`` mode made inert; ``bom`` for Excel (see ``--excel``).

    Writes bytes, 512 rows at a time: a row is its cells, then its outcome's ``CsvTail``, rendered
    and encoded once per distinct outcome (issue 13's self-contained rows are about 2 KB each, mostly
    the same warnings again: encoding them row by row was a third of the batch). From a CSV
    portfolio, ``Table.csv_rows`` appends most rows to ``parts`` itself, rendered.
    """

    _PARTS = 1024  # encoded pieces (a row's cells and its tail) per write

    def __init__(self, stream: IO[Any], bom: bool = False):
        self._out = binary(stream)
        # "\r\n" as RFC 4180 and Excel: the writer then also quotes a cell holding a bare "\r"
        self._lines: list[str] = []
        self._writerow = csv.writer(_Sink(self._lines.append), lineterminator="\r\n").writerow
        self.parts: list[bytes] = []  # encoded rows not yet written, in order
        if bom:  # Excel reads a CSV without one in the locale's code page (GBK in a Chinese locale)
            self.parts.append("\ufeff".encode())

    def _line(self, cells: list) -> str:
        # writerow hands the line to the sink in one call; a failure (a value CSV cannot hold) leaves none
        lines = self._lines
        lines.clear()
        self._writerow(cells)
        return lines[0]

    def header(self, columns: list[str]) -> None:
        self.parts.append(self._line([safe_cell(c) for c in columns]).encode())

    def write(self, cells: list, routes: list | None = None) -> None:
        """One row: cells, the last of them its outcome's ``CsvTail`` (or not, for a plain row)."""
        tail = cells[-1] if cells else None
        if tail.__class__ is CsvTail:
            head = self._line(cells[:-1])[:-2].encode()  # encoded first: a cell UTF-8 cannot hold writes nothing
            self.parts.append(head)
            self.parts.append(tail)  # type: ignore[arg-type]
        else:
            self.parts.append(self._line(cells).encode())
        if len(self.parts) >= self._PARTS:
            self.spill()

    def spill(self) -> None:
        """Write the rows appended so far."""
        if self.parts:
            self._out.write(b"".join(self.parts))
            self.parts.clear()

    def close(self) -> None:
        self.spill()
        self._out.flush()

    def abort(self) -> None:
        self.parts.clear()


def binary(stream: IO[Any]) -> Any:
    """The byte stream under a text stream (stdout), or ``stream`` itself when it takes bytes.

    A text stream with no buffer under it (``io.StringIO``) gets the bytes decoded again.
    """
    if isinstance(stream, (io.RawIOBase, io.BufferedIOBase)):
        return stream
    buffer = getattr(stream, "buffer", None)
    stream.flush()  # what was written as text goes first
    return buffer if buffer is not None else _Decoded(stream)


class _Sink:
    """A file-like object whose ``write`` is a given callable (csv.writer needs one)."""

    __slots__ = ("write",)

    def __init__(self, write: Any):
        self.write = write


class _Decoded:
    """Bytes written to a text stream that has no byte stream under it (a test's ``io.StringIO``)."""

    def __init__(self, stream: IO[str]):
        self._stream = stream

    def write(self, data: bytes) -> int:
        return self._stream.write(data.decode("utf-8"))

    def flush(self) -> None:
        self._stream.flush()


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
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        # a spreadsheet user's header: bold, frozen, filtered, columns wide enough to read
        ws = self._ws
        for i, name in enumerate(columns, 1):
            ws.column_dimensions[get_column_letter(i)].width = column_width(name)
        ws.freeze_panes = "A2"
        bold = Font(bold=True)
        cells = []
        for c in columns:
            cell = WriteOnlyCell(ws, self._cell(safe_cell(c)))
            cell.font = bold
            cells.append(cell)
        ws.append(cells)
        self._columns = len(columns)
        self._rows = 1
        self._track_temp_files()

    def write(self, cells: list, routes: list | None = None) -> None:
        self._ws.append([self._cell(v) for v in cells])
        self._rows += 1

    def appendix(
        self, summary: dict[str, Any], rules: list[tuple[str, Any]], sources: list[list[Any]]
    ) -> None:
        """The Summary and Rules sheets, after the results: what the batch counted, which rules answered."""
        from openpyxl.utils import get_column_letter

        if self._rows:
            self._ws.auto_filter.ref = f"A1:{get_column_letter(max(self._columns, 1))}{self._rows}"
        sheet = self._wb.create_sheet("Summary")
        sheet.column_dimensions["A"].width = 22
        sheet.column_dimensions["B"].width = 70
        for key, value in summary.items():
            if isinstance(value, dict):  # by_channel / by_province: one line each
                value = ", ".join(f"{k} {v}" for k, v in value.items())
            sheet.append([self._cell(safe_cell(str(key))), self._cell(_inert(value))])
        sheet = self._wb.create_sheet("Rules")
        for col, width in zip("ABCDEFG", (22, 60, 28, 36, 12, 50, 10)):
            sheet.column_dimensions[col].width = width
        for key, value in rules:
            sheet.append([self._cell(safe_cell(key)), self._cell(_inert(value))])
        sheet.append([])
        for row in sources:
            sheet.append([self._cell(_inert(v)) for v in row])
        self._track_temp_files()

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

        for ws in self._wb.worksheets:  # results, and Summary and Rules once written
            with contextlib.suppress(Exception):
                ws.close()
        for name in list(_writer.ALL_TEMP_FILES):
            with contextlib.suppress(OSError):
                os.unlink(name)
            _writer.ALL_TEMP_FILES.remove(name)
            unregister_temp(name)


# widths (characters) of the columns whose content is known; the others fit their name
_WIDTHS = {"error": 60, "reason": 60, "warnings": 80, "label": 28, "rulebase_digest": 20, "weeks": 12}


def column_width(name: str) -> float:
    """A sensible width for a result column: long text wide, short codes narrow, never below the name."""
    return max(_WIDTHS.get(name, 10), min(len(str(name)) + 3, 40))


def _inert(value: Any) -> Any:
    return safe_cell(value) if isinstance(value, str) else value


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


def make_writer(kind: str, stream: IO[Any], bom: bool = False) -> CsvWriter | XlsxWriter | JsonlWriter:
    """The writer of format ``kind`` on an open stream (bytes for XLSX, text otherwise)."""
    if kind == "xlsx":
        return XlsxWriter(stream)
    return CsvWriter(stream, bom) if kind == "csv" else JsonlWriter(stream)


__all__ = ["OUTPUT_FORMATS", "CsvWriter", "XlsxWriter", "JsonlWriter", "output_format", "make_writer"]

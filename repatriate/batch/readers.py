"""Portfolio readers: CSV, XLSX and JSONL bytes in, one header and one record per input record out.

Untrusted bytes stop here: encodings are sniffed, sizes and depths are bounded, and a record that
cannot be read comes out as a ``BrokenRecord`` (an error row later), never as a lost or invented row.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import RepatriateError, clip

INPUT_FORMATS = ("csv", "xlsx", "jsonl")
OWN_SHEETS = ("results", "Summary", "Rules")  # the sheets of batch's XLSX output
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
_SNIFF_BYTES = 1 << 20  # enough text to meet the first Chinese cell in any real export
# XLSX is a zip: refuse members that would inflate past these before openpyxl reads a byte
XLSX_MEMBER_MAX = 512 << 20  # uncompressed bytes of one member (a 1M-row sheet is ~200 MB)
XLSX_RATIO_MAX = 200  # uncompressed/compressed of a member over 1 MiB (real sheets: 5-30)
CSV_FIELD_MAX = 1 << 20  # characters in one CSV cell; a longer one is a row error
JSON_DEPTH_MAX = 64  # nesting of one JSONL record


class BrokenRecord(list):
    """An input record that could not be read (a broken CSV row, a line that is not JSON).

    Empty, with the reason in ``problem``: it becomes an error row.
    """

    def __init__(self, problem: str):
        super().__init__()
        self.problem = problem


# --- opening and encodings ---------------------------------------------------------------


@dataclass
class Source:
    """An opened portfolio: its name, format, first bytes and a binary stream at its start."""

    name: str
    format: str
    stream: IO[bytes]
    head: bytes
    size: int | None = None

    def close(self) -> None:
        self.stream.close()

    @property
    def complete(self) -> bool:
        """Whether ``head`` is the whole file."""
        return self.size is not None and len(self.head) >= self.size


class _Prefixed(io.RawIOBase):
    """A binary stream that replays an already-read first block, then reads on from ``stream``."""

    def __init__(self, head: bytes, stream: IO[bytes], close: bool = True):
        self._head = memoryview(head)
        self._stream = stream
        self._close = close

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head.nbytes:
            n = min(len(buffer), self._head.nbytes)
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if self._close and not self.closed:
            self._stream.close()
        super().close()


def open_portfolio(
    path: str | os.PathLike, input_format: str | None = None, stdin: IO[bytes] | None = None
) -> Source:
    """Open a portfolio file (or ``'-'`` for stdin) and settle its format.

    Parameters
    ----------
    path : path or ``'-'``
    input_format : {'csv', 'xlsx', 'jsonl'}, optional
        Default: from the extension, else from the first bytes.
    stdin : binary stream, optional
        What ``'-'`` reads; default ``sys.stdin.buffer``.

    Raises
    ------
    RepatriateError
        A missing or unreadable file, an unknown format.
    """
    if input_format is not None and input_format not in INPUT_FORMATS:
        raise RepatriateError(
            f"unknown input format {clip(input_format)!r} (accepted: {', '.join(INPUT_FORMATS)})"
        )
    name = os.fspath(path)
    if name == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        head = stream.read(_SNIFF_BYTES)
        if head.startswith(b"PK\x03\x04"):
            # openpyxl needs a seekable file: spool stdin (to disk past a few MB)
            spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)
            spool.write(head)
            while chunk := stream.read(1 << 20):
                spool.write(chunk)
            spool.seek(0)
            return Source("<stdin>", input_format or "xlsx", spool, head)  # type: ignore[arg-type]
        # do not close the caller's stdin when the batch is done
        reader = io.BufferedReader(_Prefixed(head, stream, close=False), buffer_size=1 << 16)
        size = len(head) if len(head) < _SNIFF_BYTES else None
        return Source("<stdin>", input_format or _sniff_format("-", head), reader, head, size)
    try:
        stream = open(name, "rb")
        size = os.fstat(stream.fileno()).st_size
        head = stream.read(_SNIFF_BYTES)
        stream.seek(0)
    except IsADirectoryError:
        raise RepatriateError(f"portfolio {clip(name)!r} is a directory, not a file") from None
    except FileNotFoundError:
        raise RepatriateError(f"portfolio {clip(name)!r} does not exist") from None
    except OSError as exc:
        raise RepatriateError(f"cannot read portfolio {clip(name)!r}: {exc.strerror or exc}") from None
    return Source(name, input_format or _sniff_format(name, head), stream, head, size)


def _sniff_format(name: str, head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    ext = Path(name).suffix.lower() if name != "-" else ""
    if EXTENSIONS.get(ext) == "xlsx":
        raise RepatriateError(f"portfolio {clip(name)!r} is not an XLSX workbook (it is not a zip file)")
    if ext in EXTENSIONS:
        return EXTENSIONS[ext]
    first = head.lstrip(codecs.BOM_UTF8).lstrip()[:1]
    return "jsonl" if first == b"{" else "csv"


_BOMS = (  # UTF-32 before UTF-16: FF FE 00 00 also starts with the UTF-16 LE mark
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect_encoding(head: bytes, complete: bool = False) -> str:
    """The encoding of a text portfolio from its first bytes.

    A byte-order mark (UTF-8, UTF-16, UTF-32), else UTF-8, else GB18030 or Big5 (whichever
    reads as the more common Chinese characters), else charset-normalizer's guess.

    Parameters
    ----------
    head : bytes
        The first block of the file (up to 1 MiB).
    complete : bool
        True when ``head`` is the whole file (a cut multi-byte character is then an error).

    Raises
    ------
    RepatriateError
        When the bytes are none of these and charset-normalizer cannot tell either.
    """
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    if _decodes(head, "utf-8", complete):
        return "utf-8"
    if _decodes(head, "gb18030", complete):
        if _decodes(head, "big5", complete) and _big5_reads_better(head, complete):
            return "big5"
        return "gb18030"
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is None:
        raise RepatriateError(
            "cannot tell the text encoding of the portfolio (tried UTF-8, UTF-16, UTF-32, GB18030, Big5); "
            "pass an encoding, e.g. big5"
        )
    return best.encoding


def _decodes(head: bytes, encoding: str, complete: bool) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)().decode(head, final=complete)
        return True
    except UnicodeDecodeError:
        return False


def _big5_reads_better(head: bytes, complete: bool) -> bool:
    """Big5 and GB18030 overlap: most Big5 bytes are also valid GB18030, and the reverse.

    Each reading is scored by its share of common characters: GB2312's for GB18030, Big5's
    level 1 (lead bytes 0xA4-0xC6) for Big5. Text in one read as the other falls on rare ones.
    """
    sample = head[: 64 << 10]
    gb = codecs.getincrementaldecoder("gb18030")(errors="ignore").decode(sample, final=complete)
    b5 = codecs.getincrementaldecoder("big5")(errors="ignore").decode(sample, final=complete)

    def share(text: str, common: Any) -> float:
        wide = [c for c in text if ord(c) > 0x7F]
        return sum(1 for c in wide if common(c)) / len(wide) if wide else 0.0

    def gb2312(c: str) -> bool:
        try:
            return 0xB0 <= c.encode("gb2312")[0] <= 0xF7
        except UnicodeEncodeError:
            return False

    def big5_level1(c: str) -> bool:
        try:
            return 0xA4 <= c.encode("big5")[0] <= 0xC6
        except UnicodeEncodeError:
            return False

    return share(b5, big5_level1) > share(gb, gb2312)


def check_encoding(encoding: str) -> str:
    """The codec name of a user's ``encoding``; refuse unknown and non-text codecs (rot13, base64).

    Raises
    ------
    RepatriateError
    """
    try:
        info = codecs.lookup(encoding)
    except (LookupError, TypeError, ValueError):
        raise RepatriateError(
            f"unknown encoding {clip(encoding)!r} "
            "(accepted: a text codec such as utf-8, utf-8-sig, gb18030, big5)"
        ) from None
    if not getattr(info, "_is_text_encoding", True):
        raise RepatriateError(
            f"encoding {clip(encoding)!r} is not a text encoding "
            "(accepted: a text codec such as utf-8, gb18030, big5)"
        )
    return info.name


def _text(source: Source, encoding: str | None) -> io.TextIOWrapper:
    if encoding:
        enc = check_encoding(encoding)
        try:  # a wrong encoding must fail loudly, not garble every row
            codecs.getincrementaldecoder(enc)("strict").decode(source.head, final=source.complete)
        except UnicodeDecodeError as exc:
            guess = detect_encoding(source.head, complete=source.complete)
            raise RepatriateError(
                f"portfolio {clip(source.name)!r} is not {enc} (byte {source.head[exc.start]:#04x} at offset "
                f"{exc.start}); it looks like {guess} "
                "(accepted: utf-8, utf-8-sig, gb18030, big5, or none to detect)"
            ) from None
    else:
        enc = detect_encoding(source.head, complete=source.complete)
    # errors="replace": a stray byte deep in the file spoils one cell, not the batch
    return io.TextIOWrapper(source.stream, encoding=enc, errors="replace", newline="")


# --- CSV -----------------------------------------------------------------------------------

_SEP_LINE = re.compile(r'^"?sep=(.)"?\s*$', re.I)


def _delimiter(first_line: str) -> str:
    # Excel writes commas, or semicolons where the decimal mark is a comma; "Unicode text" is tab-separated
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


@dataclass
class CsvTable:
    """A CSV's header, its rows (lists of text, or ``BrokenRecord``), and the decimal mark
    its delimiter implies."""

    header: list[str]
    rows: Iterator[list]
    decimal: str = "."


def read_csv(source: Source, encoding: str | None = None) -> CsvTable:
    """The header and rows of a CSV: leading blank lines skipped, Excel's ``sep=`` line honoured."""
    text = _text(source, encoding)
    first = text.readline()
    while first and not first.strip():
        first = text.readline()
    if not first:
        return CsvTable([], iter(()))
    sep = _SEP_LINE.match(first.lstrip("\ufeff"))
    if sep:
        delimiter = sep.group(1)
        first = text.readline()
        while first and not first.strip():
            first = text.readline()
    else:
        delimiter = _delimiter(first)
    header = next(csv.reader([first], delimiter=delimiter), [])
    # A ';' is the separator where the decimal mark is a comma (Excel in de, fr, ru, ... locales)
    return CsvTable(header, _csv_rows(text, delimiter, len(header)), "," if delimiter == ";" else ".")


def _one_record(lines: list[str], delimiter: str, width: int) -> bool:
    """Whether ``lines`` (a record read across several lines) are one record, not an unbalanced quote.

    They must parse strictly (every quote closed before a delimiter or a line end). A record of
    the header's width is then one record even if a line of its cell looks like a row; a record of
    another width is not when one of its later lines is a whole row by itself.
    """
    try:
        records = list(csv.reader(["".join(lines)], delimiter=delimiter, strict=True))
    except csv.Error:
        return False
    if len(records) != 1:
        return False
    return len(records[0]) == width or not any(_is_row(line, delimiter, width) for line in lines[1:])


def _is_row(line: str, delimiter: str, width: int) -> bool:
    try:
        return len(next(csv.reader([line], delimiter=delimiter, strict=True), [])) == width
    except csv.Error:
        return False


def _csv_rows(text: Iterable[str], delimiter: str, width: int) -> Iterator[list]:
    """Rows of a CSV body, one per record.

    A record that spans several lines must be well formed (quotes closed before a delimiter
    or the line end) and fit the header; otherwise it has an unbalanced quote: its first line
    becomes an error row and the lines after it are read again, so no row is lost, and a
    multi-line cell is never split into invented rows.
    """
    lines = iter(text)
    consumed: list[str] = []  # the physical lines of the record being read
    pending: list[str] = []  # lines to read again after a broken record
    size = 0
    cut = False  # the file ended inside the record being read

    def feed() -> Iterator[str]:
        nonlocal size, cut
        while True:
            line = pending.pop() if pending else next(lines, None)
            if line is None:
                cut = bool(consumed)
                return
            consumed.append(line)
            size += len(line)
            if size > CSV_FIELD_MAX and len(consumed) > 1:
                # a quote left open: stop growing the record, replay from its second line
                yield '"\n'  # closes the quote so that the reader hands the record back now
                return
            yield line

    def broken() -> BrokenRecord:
        nonlocal size, cut
        first = consumed[0]
        pending.extend(reversed(consumed[1:]))
        consumed.clear()
        size, cut = 0, False
        return BrokenRecord(f"broken CSV row: an unbalanced quote in {clip(first.strip())}")

    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_MAX * 2))
    while True:
        reader = csv.reader(feed(), delimiter=delimiter)
        try:
            for cells in reader:
                if not cells or (len(cells) == 1 and not cells[0].strip()):  # a blank line is not an asset
                    consumed.clear()
                    size, cut = 0, False
                    continue
                if (len(consumed) > 1 or cut) and not _one_record(consumed, delimiter, width):
                    yield broken()
                    break
                long_cell = size > CSV_FIELD_MAX
                consumed.clear()
                size, cut = 0, False
                if long_cell:
                    yield BrokenRecord(
                        f"CSV row at line {reader.line_num} has a cell over {CSV_FIELD_MAX:,} characters"
                    )
                else:
                    yield cells
            else:
                if consumed:  # a quote left open at the end of the file
                    yield broken()
                if not pending:
                    return
        except csv.Error as exc:
            yield (
                broken()
                if len(consumed) > 1
                else BrokenRecord(f"broken CSV row at line {reader.line_num}: {exc}")
            )
            consumed.clear()
            size, cut = 0, False


# --- XLSX ----------------------------------------------------------------------------------


def _check_zip(source: Source) -> None:
    """Refuse a zip bomb: members that would inflate past the caps, before openpyxl reads any."""
    import zipfile

    try:
        with zipfile.ZipFile(source.stream) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise RepatriateError(f"cannot read {clip(source.name)} as an XLSX workbook: {exc}") from None
    finally:
        source.stream.seek(0)
    total = 0
    for m in members:
        total += m.file_size
        ratio = m.file_size / max(m.compress_size, 1)
        if m.file_size > XLSX_MEMBER_MAX or total > 4 * XLSX_MEMBER_MAX:
            raise RepatriateError(
                f"cannot read {clip(source.name)} as an XLSX workbook: {clip(m.filename)} is too large "
                f"({m.file_size:,} bytes unpacked; at most {XLSX_MEMBER_MAX:,})"
            )
        if m.file_size > (1 << 20) and ratio > XLSX_RATIO_MAX:
            raise RepatriateError(
                f"cannot read {clip(source.name)} as an XLSX workbook: {clip(m.filename)} has a compression "
                f"ratio of {ratio:,.0f} (at most {XLSX_RATIO_MAX}; a zip bomb?)"
            )


def _has_data(ws: Any) -> bool:
    return any(v is not None and v != "" for row in ws.iter_rows(values_only=True) for v in row)


def read_xlsx(source: Source, sheet: str | None = None) -> tuple[list[str], Iterator[list]]:
    """The header and rows of one sheet, streamed (openpyxl read-only; cached formula values).

    ``sheet`` names it; without a name the workbook must have one sheet holding data.

    Raises
    ------
    RepatriateError
        Not a workbook, a zip bomb, no such sheet, several sheets with data and no name, broken XML.
    """
    from openpyxl import load_workbook

    _check_zip(source)
    try:
        wb = load_workbook(source.stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises what its parsers raise: zip, XML, key and value errors
        raise RepatriateError(
            f"cannot read {clip(source.name)} as an XLSX workbook: {clip(str(exc))}"
        ) from None
    try:
        names = wb.sheetnames
        if sheet is not None:
            if sheet not in names:
                raise RepatriateError(
                    f"no sheet {clip(sheet)!r} in {clip(source.name)} "
                    f"(accepted: {', '.join(map(repr, names))})"
                )
            ws = wb[sheet]
        else:
            with_data = [n for n in names if _has_data(wb[n])]
            if with_data == list(OWN_SHEETS):  # a batch's own output read back: its results
                with_data = with_data[:1]
            if len(with_data) > 1:
                raise RepatriateError(
                    f"{clip(source.name)} has several sheets with data (accepted: one of them named: "
                    f"{', '.join(map(repr, with_data))})",
                    field="sheet",
                    accepted=with_data,
                )
            ws = wb[with_data[0] if with_data else names[0]]
        rows = ws.iter_rows(values_only=True)
        header: list[str] = []
        for values in rows:
            if any(v is not None and v != "" for v in values):
                header = ["" if v is None else str(v) for v in values]
                break
    except RepatriateError:
        wb.close()
        raise
    except Exception as exc:
        wb.close()
        raise RepatriateError(
            f"cannot read {clip(source.name)} as an XLSX workbook: {clip(str(exc))}"
        ) from None
    while header and header[-1] == "":
        header.pop()  # the empty, formatted cells right of a header row
    return header, _xlsx_rows(wb, rows, len(header), source.name)


def _xlsx_rows(wb: Any, rows: Iterator[tuple], width: int, name: str) -> Iterator[list]:
    try:
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # broken XML mid-sheet: the file is damaged, not one row
                raise RepatriateError(
                    f"cannot read {clip(name)} as an XLSX workbook: {clip(str(exc))}"
                ) from None
            if any(v is not None and v != "" for v in values):  # skip formatted but empty rows
                cells = list(values)
                while len(cells) > width and cells[-1] is None:
                    cells.pop()
                yield cells
    finally:
        wb.close()


# --- JSONL ---------------------------------------------------------------------------------


def read_jsonl(source: Source, encoding: str | None = None) -> Iterator[dict | BrokenRecord]:
    """One record per line (lines end at ``\\n`` only: a ``\\r`` is JSON whitespace); a line that
    is not a JSON object, or nests deeper than ``JSON_DEPTH_MAX``, comes as ``BrokenRecord``."""
    text = _text(source, encoding)
    text.reconfigure(newline="\n")
    for number, line in enumerate(text, 1):
        if not line.strip():
            continue
        if line.count("[") + line.count("{") > JSON_DEPTH_MAX and _too_deep(line):
            yield BrokenRecord(f"line {number} nests deeper than {JSON_DEPTH_MAX} levels")
            continue
        try:
            record = json.loads(line, parse_constant=str)  # NaN/Infinity stay text: never invalid JSON out
        except (ValueError, RecursionError) as exc:
            yield BrokenRecord(f"line {number} is not valid JSON: {clip(str(exc))}")
            continue
        if not isinstance(record, dict):
            yield BrokenRecord(
                f"line {number} is not a JSON object but {type(record).__name__} {clip(repr(record), 60)}"
            )
            continue
        yield record


def _too_deep(line: str) -> bool:
    """Whether the brackets of ``line`` (outside strings) nest deeper than ``JSON_DEPTH_MAX``."""
    depth = 0
    for token in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[{]|[\]}]', line):
        t = token.group(0)
        if t in "[{":
            depth += 1
            if depth > JSON_DEPTH_MAX:
                return True
        elif t in "]}":
            depth -= 1
    return False

"""Batch planning of asset portfolios: read CSV/XLSX/JSONL rows, plan each, write one result row per asset.

Rows stream through (memory is flat in the number of rows); each distinct profile is searched once.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import math
import os
import sys
import tempfile
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

from ..errors import RepatriateError
from ..rulebase.records import RuleBase  # the validated rule base, as runtime records
from ..engine.profile import make_profile, parse_date
from ..render.route import safe_cell
from ..engine.search import OBJECTIVES, Plan, plan

PROFILE_FIELDS = (
    "asset_class",
    "sector",
    "province",
    "city",
    "amount",
    "currency",
    "holder_type",
    "net_assets",
    "term_months",
    "spv_owner",
)
NUMERIC_FIELDS = frozenset({"amount", "net_assets", "term_months"})
RESULT_FIELDS = (
    "status",
    "error",
    "best_channels",
    "best_province",
    "best_city",
    "weeks_min",
    "weeks_max",
    "approvals",
    "documents",
    "feasible_routes",
)
INPUT_FORMATS = ("csv", "xlsx", "jsonl")
OUTPUT_FORMATS = ("csv", "xlsx", "jsonl")
_EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
_FORMULA_START = frozenset("=+-@\t\r")  # OWASP: what a spreadsheet may read as a formula
_PLAIN = frozenset({int, float, type(None)})
_SNIFF_BYTES = 1 << 20  # enough text to meet the first Chinese cell in any real export
_RAW_CACHE = 16384  # distinct raw spellings kept; bounds memory whatever the portfolio size
_PLAN_CACHE = 4096  # distinct normalised profiles kept


# --- planning ----------------------------------------------------------------------


class _Outcome:
    """What one row's profile values come to, ready to apply to that row's cells.

    ``fix`` lists ``(cell index, value)`` for the profile cells whose output differs from
    the raw text: numbers parsed (so they stay numbers) and, for spreadsheets, text made
    inert. ``tail`` is ``result`` as the writer wants it (text for CSV). Identity-hashed:
    a batch tallies its rows per outcome object.
    """

    __slots__ = ("fix", "result", "tail", "routes")

    def __init__(self, fix: tuple, result: tuple, tail: tuple, routes: list | None):
        self.fix = fix
        self.result = result
        self.tail = tail
        self.routes = routes


class Planner:
    """Plans raw profile values for one rule base, date, objective and ``top``, with two caches.

    Each table of rows keeps a cache from raw spellings (``"广东"``, ``"50,000,000"``) to
    an outcome, so a repeated row costs one look-up; the planner keeps an LRU cache from
    each normalised profile, ``(Profile.key(), as_of, optimize, top)``, to its search
    result, so ``"广东"`` and ``"CN-GD"`` share one search. Both are bounded, so memory
    stays flat however many distinct assets stream by.

    Parameters
    ----------
    rb : RuleBase
    as_of : date or ISO string, optional
        Rules in force on that date; default today.
    optimize : {'balanced', 'speed', 'cost', 'certainty'}
    top : int
        Routes kept per asset; above 1 each outcome also carries a ``routes`` list.
    cache : bool
        False searches every row afresh (to check that caching changes nothing).

    Raises
    ------
    RepatriateError
        For an unknown objective, a bad date or a ``top`` below 1.
    """

    def __init__(self, rb: RuleBase, *, as_of: str | dt.date | None = None, optimize: str = "balanced", top: int = 1, cache: bool = True):
        if optimize not in OBJECTIVES:
            raise RepatriateError(f"unknown objective {optimize!r} (accepted: {', '.join(OBJECTIVES)})")
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise RepatriateError(f"top {top!r} must be a whole number, 1 or more")
        self.rb = rb
        self.as_of = parse_date(as_of)
        self.optimize = optimize
        self.top = top
        self.cache = cache
        self.searches = 0
        self._plans: OrderedDict[tuple, tuple[tuple, list | None]] = OrderedDict()

    def search(self, fields: tuple[str, ...], values: tuple) -> tuple[tuple, list | None]:
        """The result cells (and, for ``top`` above 1, the routes) of one profile given as raw values."""
        try:
            profile = make_profile(self.rb, **dict(zip(fields, values)))
            key = (profile.key(), self.as_of, self.optimize, self.top)
            hit = self._plans.get(key) if self.cache else None
            if hit is None:
                self.searches += 1
                found = plan(profile, self.rb, as_of=self.as_of, optimize=self.optimize, top=self.top)
                hit = (_summarise(found), _routes(found) if self.top > 1 else None)
                if self.cache:
                    self._plans[key] = hit
                    if len(self._plans) > _PLAN_CACHE:
                        self._plans.popitem(last=False)
            else:
                self._plans.move_to_end(key)
            return hit
        except Exception as exc:  # a bad row becomes an error row; the batch goes on
            return _error_result(exc), self.no_routes()

    def no_routes(self) -> list | None:
        return [] if self.top > 1 else None

    def outcome(self, fields: tuple[str, ...], positions: list[int], mode: str, values: tuple, found: tuple[tuple, list | None] | None = None) -> _Outcome:
        """The outcome of one row whose ``fields`` (at cell ``positions``) hold raw ``values``.

        ``mode`` is ``'plain'`` (values as they are), ``'inert'`` (text escaped, for XLSX)
        or ``'csv'`` (escaped, and the result cells as text); ``found`` is the search
        result when a worker process already has it.
        """
        fix = []
        for f, i, v in zip(fields, positions, values):
            out = _as_number(v) if f in NUMERIC_FIELDS else v
            if mode != "plain":
                out = _safe(out)
            if out is not v:
                fix.append((i, out))
        result, routes = found if found is not None else self.search(fields, values)
        return _Outcome(tuple(fix), result, _text_cells(result) if mode == "csv" else result, routes)


def _text_cells(cells: tuple) -> tuple:
    # what csv.writer would write, done once per outcome rather than once per row
    return tuple("" if v is None else v if v.__class__ is str else str(v) for v in cells)


def _summarise(found: Plan) -> tuple:
    # Every text cell here is an id or a code, so it is inert in a spreadsheet as it stands.
    if not found.routes:
        return ("ok", "", "", "", "", None, None, None, None, found.total_routes)
    best = found.routes[0]
    return (
        "ok",
        "",
        "+".join(best.channels),
        best.location.province or "",
        best.location.city or "",
        best.timeline[0],
        best.timeline[1],
        best.approvals,
        len(best.documents),
        found.total_routes,
    )


def _routes(found: Plan) -> list[dict[str, Any]]:
    return [
        {
            "rank": r.rank,
            "channels": list(r.channels),
            "province": r.location.province,
            "city": r.location.city,
            "weeks_min": r.timeline[0],
            "weeks_max": r.timeline[1],
            "approvals": r.approvals,
            "documents": len(r.documents),
            "score": r.score,
        }
        for r in found.routes
    ]


def _error_result(exc: Exception | str) -> tuple:
    if isinstance(exc, (RepatriateError, str)):
        message = str(exc)
    else:
        message = f"unexpected {type(exc).__name__}: {exc}"
    # one line; messages begin with a word, so they are inert in a spreadsheet too
    return ("error", " ".join(message.split()), "", "", "", None, None, None, None, 0)


def _as_number(value: Any) -> Any:
    """A numeric cell as an int or float when it reads as one (so it stays a number), else unchanged."""
    if not isinstance(value, str):
        return value
    text = value.strip().replace(",", "").replace("_", "")
    if not text:
        return value
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return value
    return number if math.isfinite(number) else value


def _safe(value: Any) -> Any:
    """``render.safe_cell`` for any cell: text made inert, numbers and dates kept, JSON values as text."""
    if value.__class__ is str:
        return safe_cell(value)
    if value is None or isinstance(value, (int, float, dt.date, dt.datetime, dt.time)):
        return value
    return safe_cell(json.dumps(value, ensure_ascii=False, default=str))  # a JSON list or object cell


# --- rows ------------------------------------------------------------------------------


def canonical_column(name: Any) -> str:
    """``'Asset Class'``, ``'asset-class'`` and ``'\\ufeffasset_class'`` all name ``asset_class``."""
    return "_".join(str(name).replace("\ufeff", "").strip().lower().replace("-", " ").split())


class _Broken(list):
    """An input row that could not be read (broken CSV, a line that is not JSON): empty, with the reason."""

    def __init__(self, problem: str):
        super().__init__()
        self.problem = problem


class _Table:
    """Plans list-shaped rows under one header: the fast path for files.

    ``mode`` ``'csv'`` or ``'inert'`` makes every text cell it returns inert in a
    spreadsheet (CSV and XLSX output); ``'plain'`` keeps values as they are (JSONL
    output and ``plan_rows``).
    """

    def __init__(self, header: list[str], planner: Planner, mode: str = "plain"):
        self.planner = planner
        self.escape = mode != "plain"
        self.mode = mode
        self.width = len(header)
        canon = [canonical_column(h) for h in header]
        first = {c: i for i, c in reversed(list(enumerate(canon)))}  # the first of duplicate columns is the one read
        present = [(f, first[f]) for f in PROFILE_FIELDS if f in first]
        self.fields = tuple(f for f, _ in present)
        positions = [i for _, i in present]
        self.passthrough = [i for i in range(self.width) if i not in set(positions)]
        if len(positions) >= 2:
            self.values = itemgetter(*positions)
        elif positions:
            self.values = lambda row, i=positions[0]: (row[i],)
        else:
            self.values = lambda row: ()
        self.positions = positions
        self.cache: dict[tuple, _Outcome] = {}  # raw values -> outcome; FIFO-bounded
        taken = set(RESULT_FIELDS) | {"routes"}
        self.columns = [("input_" + h) if h in taken else h for h in map(str, header)] + list(RESULT_FIELDS)

    def row(self, cells: list) -> tuple[list, _Outcome]:
        """The output cells of one input row (a fresh list the table may change), and its outcome."""
        if cells.__class__ is _Broken:
            return self.broken(cells)
        problem = None if len(cells) == self.width else self.fit(cells)
        values = self.values(cells)
        try:
            out = self.cache.get(values)
        except TypeError:  # an unhashable cell (a JSON list or object): resolve it uncached
            out = self.planner.outcome(self.fields, self.positions, self.mode, values)
        if out is None:
            out = self.remember(values, self.planner.outcome(self.fields, self.positions, self.mode, values))
        if problem is not None:
            return self.finish(cells, out, problem)
        return self.finish(cells, out, None)

    def fit(self, cells: list) -> str | None:
        """Pad a short row, cut a long one; the problem with a long one."""
        n = len(cells)
        if n == self.width:
            return None
        if n < self.width:  # short rows are common in hand-edited CSV: the missing cells are empty
            cells.extend([None] * (self.width - n))
            return None
        extra = ", ".join(repr(c) for c in cells[self.width :])
        del cells[self.width :]
        return f"the row has {n} fields but the header has {self.width} (extra: {_clip(extra)})"

    def remember(self, values: tuple, out: _Outcome) -> _Outcome:
        if self.planner.cache:
            if len(self.cache) >= _RAW_CACHE:
                del self.cache[next(iter(self.cache))]  # oldest first: cheap, and bounds memory
            self.cache[values] = out
        return out

    def finish(self, cells: list, out: _Outcome, problem: str | None) -> tuple[list, _Outcome]:
        """Apply an outcome to its row's cells."""
        for i, v in out.fix:
            cells[i] = v
        if self.escape:
            for i in self.passthrough:
                v = cells[i]
                if v.__class__ is str:
                    if v[:1] in _FORMULA_START:
                        cells[i] = "'" + v
                elif v.__class__ not in _PLAIN:
                    cells[i] = _safe(v)
        if problem is not None:
            out = self._failed(out.fix, problem)
        cells += out.tail
        return cells, out

    def broken(self, cells: _Broken) -> tuple[list, _Outcome]:
        """The output of a row that could not be read at all."""
        return [None] * self.width + list(self._tail(_error_result(cells.problem))), self._failed((), cells.problem)

    def _tail(self, result: tuple) -> tuple:
        return _text_cells(result) if self.mode == "csv" else result

    def _failed(self, fix: tuple, problem: str) -> _Outcome:
        result = _error_result(problem)
        return _Outcome(fix, result, self._tail(result), self.planner.no_routes())


def plan_rows(
    rows: Iterable[dict[str, Any]],
    rb: RuleBase,
    *,
    as_of: str | dt.date | None = None,
    optimize: str = "balanced",
    top: int = 1,
    cache: bool = True,
) -> Iterator[dict[str, Any]]:
    """Plan each asset of a portfolio; yield one flat result row per input row, in order.

    Parameters
    ----------
    rows : iterable of dict
        Raw values keyed by column: ``asset_class, sector, province, city, amount,
        currency, holder_type, net_assets, term_months, spv_owner`` (snake_case; ``Asset
        Class`` also works), plus any other column (``asset_id``, ``label``, ...), which is
        carried through.
    rb : RuleBase
    as_of : date or ISO string, optional
        Rules in force on that date; default today.
    optimize : {'balanced', 'speed', 'cost', 'certainty'}
    top : int
        Above 1, each row also gets ``routes``: the best ``top`` routes.
    cache : bool
        Search once per distinct profile (default); False searches every row.

    Yields
    ------
    dict
        The input columns (numeric ones as numbers where they read as numbers), then
        ``status`` (``ok`` or ``error``), ``error`` (the message, or ``''``),
        ``best_channels`` (``'fdi+qflp'``), ``best_province``, ``best_city``,
        ``weeks_min``, ``weeks_max``, ``approvals``, ``documents`` (a count) and
        ``feasible_routes``. A bad row is an error row, never an exception.

    Raises
    ------
    RepatriateError
        Only for bad options (objective, date, ``top``), before any row is read.

    Examples
    --------
    >>> rows = [{"asset_id": "A1", "asset_class": "equity", "province": "广东", "amount": "5e7"}]
    >>> next(plan_rows(rows, load_rulebase()))["status"]
    'ok'
    """
    planner = Planner(rb, as_of=as_of, optimize=optimize, top=top, cache=cache)  # bad options fail here, eagerly
    return _plan_dicts(rows, planner)


def _plan_dicts(rows: Iterable[Any], planner: Planner) -> Iterator[dict[str, Any]]:
    tables = _Tables(planner)
    for row in rows:
        if not isinstance(row, dict):
            table = tables.get(())
            cells, out = table.row(_Broken(f"the row is not a record of columns but {type(row).__name__} {_clip(repr(row))}"))
        else:
            table = tables.get(tuple(row))
            cells, out = table.row(list(row.values()))
        record = dict(zip(table.columns, cells))
        if out.routes is not None:
            record["routes"] = out.routes
        yield record


class _Tables:
    """One ``_Table`` per distinct set of keys (records from JSON need not share them)."""

    def __init__(self, planner: Planner, mode: str = "plain"):
        self.planner = planner
        self.mode = mode
        self._tables: dict[tuple, _Table] = {}

    def get(self, keys: tuple) -> _Table:
        table = self._tables.get(keys)
        if table is None:
            if len(self._tables) >= 256:  # ragged records: keep memory bounded
                self._tables.clear()
            table = self._tables[keys] = _Table([str(k) for k in keys], self.planner, self.mode)
        return table


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- reading ---------------------------------------------------------------------------


def detect_encoding(head: bytes, complete: bool = False) -> str:
    """The encoding of a CSV from its first bytes: UTF-8 (with or without BOM), UTF-16, or GB18030.

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
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text" export
    for candidate in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(candidate)().decode(head, final=complete)
            return candidate
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is None:
        raise RepatriateError(
            "cannot tell the text encoding of the portfolio (tried UTF-8, UTF-8 with BOM, GB18030); pass --encoding, e.g. --encoding big5"
        )
    return best.encoding


def _check_encoding(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise RepatriateError(f"unknown encoding {encoding!r} (accepted: a Python codec name such as utf-8, utf-8-sig, gb18030, big5)") from None


class _Prefixed(io.RawIOBase):
    """A binary stream that replays an already-read first block, then reads on from ``stream``."""

    def __init__(self, head: bytes, stream: IO[bytes], close: bool = True):
        self._head = memoryview(head)
        self._stream = stream
        self._close = close

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
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


def open_portfolio(path: str | os.PathLike, input_format: str | None = None, stdin: IO[bytes] | None = None) -> Source:
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
        raise RepatriateError(f"unknown input format {input_format!r} (accepted: {', '.join(INPUT_FORMATS)})")
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
            return Source("<stdin>", input_format or "xlsx", spool, head)
        # do not close the caller's stdin when the batch is done
        reader = io.BufferedReader(_Prefixed(head, stream, close=False), buffer_size=1 << 16)
        return Source("<stdin>", input_format or _sniff_format("-", head), reader, head, len(head) if len(head) < _SNIFF_BYTES else None)
    try:
        stream = open(name, "rb")
        size = os.fstat(stream.fileno()).st_size
        head = stream.read(_SNIFF_BYTES)
        stream.seek(0)
    except IsADirectoryError:
        raise RepatriateError(f"portfolio {name!r} is a directory, not a file") from None
    except FileNotFoundError:
        raise RepatriateError(f"portfolio {name!r} does not exist") from None
    except OSError as exc:
        raise RepatriateError(f"cannot read portfolio {name!r}: {exc.strerror or exc}") from None
    return Source(name, input_format or _sniff_format(name, head), stream, head, size)


def _sniff_format(name: str, head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    ext = Path(name).suffix.lower() if name != "-" else ""
    if _EXTENSIONS.get(ext) == "xlsx":
        raise RepatriateError(f"portfolio {name!r} is not an XLSX workbook (it is not a zip file)")
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    first = head.lstrip(codecs.BOM_UTF8).lstrip()[:1]
    return "jsonl" if first == b"{" else "csv"


def _text(source: Source, encoding: str | None) -> io.TextIOWrapper:
    if encoding:
        enc = _check_encoding(encoding)
        try:  # a wrong --encoding must fail loudly, not garble every row
            codecs.getincrementaldecoder(enc)("strict").decode(source.head, final=False)
        except UnicodeDecodeError as exc:
            guess = detect_encoding(source.head, complete=source.size is not None and len(source.head) >= source.size)
            raise RepatriateError(
                f"portfolio {source.name!r} is not {encoding} (byte {source.head[exc.start]:#04x} at offset {exc.start}); it looks like {guess} (accepted: --encoding utf-8, utf-8-sig, gb18030, or none to detect)"
            ) from None
    else:
        enc = detect_encoding(source.head, complete=source.size is not None and len(source.head) >= source.size)
    # errors="replace": a stray byte deep in the file spoils one cell, not the batch
    return io.TextIOWrapper(source.stream, encoding=enc, errors="replace", newline="")


def _delimiter(first_line: str) -> str:
    # Excel writes commas, or semicolons where the decimal mark is a comma; "Unicode text" is tab-separated
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_csv(source: Source, encoding: str | None = None) -> tuple[list[str], Iterator[list]]:
    """The header and an iterator of rows (lists of text); an unreadable row comes as ``_Broken``."""
    text = _text(source, encoding)
    first = text.readline()
    if not first.strip():
        return [], iter(())
    delimiter = _delimiter(first)
    header = next(csv.reader([first], delimiter=delimiter), [])
    return header, _csv_rows(text, delimiter, len(header))


def _is_row(line: str, delimiter: str, width: int) -> bool:
    """Whether a line, read on its own, is a whole row: then no quoted cell may swallow it."""
    try:
        return len(next(csv.reader([line], delimiter=delimiter, strict=True), [])) == width
    except csv.Error:
        return False


def _csv_rows(text: Iterable[str], delimiter: str, width: int) -> Iterator[list]:
    """Rows of a CSV body. A record that spans several lines and does not fit the header,
    or that swallowed a line which is a whole row by itself, has an unbalanced quote: its
    first line becomes an error row and the lines after it are read again, so no row is lost."""
    lines = iter(text)
    consumed: list[str] = []  # the physical lines of the record being read
    pending: list[str] = []  # lines to read again after a broken record

    def feed() -> Iterator[str]:
        while True:
            line = pending.pop(0) if pending else next(lines, None)
            if line is None:
                return
            consumed.append(line)
            yield line

    reader = csv.reader(feed(), delimiter=delimiter)

    def swallowed() -> _Broken | None:
        if len(consumed) < 2:
            return None
        first = consumed[0]
        pending[:0] = consumed[1:]
        consumed.clear()
        return _Broken(f"broken CSV row: an unbalanced quote in {_clip(first.strip())}")

    while True:
        try:
            # the try sits outside the loop: free per row, and the reader resumes after an error
            for cells in reader:
                if len(consumed) > 1 and (len(cells) != width or any(_is_row(line, delimiter, width) for line in consumed[1:])):
                    yield swallowed()
                    continue
                consumed.clear()
                if cells:  # a blank line is not an asset
                    yield cells
            broken = swallowed()  # a quote left open at the end of the file
            if broken is None:
                return
            yield broken
        except csv.Error as exc:  # e.g. a field over the size limit
            broken = swallowed()
            consumed.clear()
            yield broken or _Broken(f"broken CSV row at line {reader.line_num}: {exc}")


def read_xlsx(source: Source) -> tuple[list[str], Iterator[list]]:
    """The header and rows of the first sheet, streamed (openpyxl read-only; cached formula values)."""
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(source.stream, read_only=True, data_only=True)
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header: list[str] = []
        for values in rows:
            if any(v is not None and v != "" for v in values):
                header = ["" if v is None else str(v) for v in values]
                break
    except (zipfile.BadZipFile, KeyError, IndexError, OSError, ValueError, TypeError) as exc:
        raise RepatriateError(f"cannot read {source.name} as an XLSX workbook: {exc}") from None
    while header and header[-1] == "":
        header.pop()  # the empty, formatted cells right of a header row
    return header, _xlsx_rows(wb, rows, len(header))


def _xlsx_rows(wb, rows, width: int) -> Iterator[list]:
    try:
        for values in rows:
            if any(v is not None and v != "" for v in values):  # skip formatted but empty rows
                cells = list(values)
                while len(cells) > width and cells[-1] is None:
                    cells.pop()
                yield cells
    finally:
        wb.close()


def read_jsonl(source: Source, encoding: str | None = None) -> Iterator[dict | _Broken]:
    """One record per line; a line that is not a JSON object comes as ``_Broken``."""
    text = _text(source, encoding)
    for number, line in enumerate(text, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line, parse_constant=str)  # NaN/Infinity stay text: never invalid JSON out
        except ValueError as exc:
            yield _Broken(f"line {number} is not valid JSON: {exc}")
            continue
        if not isinstance(record, dict):
            yield _Broken(f"line {number} is not a JSON object but {type(record).__name__} {_clip(repr(record), 60)}")
            continue
        yield record


# --- writing ---------------------------------------------------------------------------


class CsvWriter:
    """UTF-8 CSV of cells a ``_Table`` in ``csv`` mode made inert."""

    def __init__(self, stream: IO[str]):
        self._stream = stream
        # "\r\n" as RFC 4180 and Excel: the writer then also quotes a cell holding a bare "\r"
        self._writerow = csv.writer(stream, lineterminator="\r\n").writerow

    def header(self, columns: list[str]) -> None:
        self._writerow([_safe(c) for c in columns])

    def write(self, cells: list, routes: list | None = None) -> None:
        self._writerow(cells)

    def close(self) -> None:
        self._stream.flush()


class XlsxWriter:
    """A streamed (write-only) workbook of inert cells, with the characters XLSX forbids replaced."""

    def __init__(self, path: str | os.PathLike):
        from openpyxl import Workbook
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        self._illegal = ILLEGAL_CHARACTERS_RE.sub
        self._path = path
        self._wb = Workbook(write_only=True)
        self._ws = self._wb.create_sheet("results")

    def _cell(self, value: Any) -> Any:
        if value.__class__ is str:
            return self._illegal("\ufffd", value)
        if isinstance(value, (dt.datetime, dt.time)) and value.tzinfo is not None:
            return value.isoformat()  # Excel has no time zones
        return value

    def header(self, columns: list[str]) -> None:
        self._ws.append([self._cell(_safe(c)) for c in columns])

    def write(self, cells: list, routes: list | None = None) -> None:
        self._ws.append([self._cell(v) for v in cells])


    def close(self) -> None:
        self._wb.save(self._path)


class JsonlWriter:
    """One JSON object per line; values keep their types (a machine format: nothing is escaped)."""

    def __init__(self, stream: IO[str]):
        self._stream = stream
        self._columns: list[str] = []
        self._dumps = json.JSONEncoder(ensure_ascii=False, default=str).encode

    def header(self, columns: list[str]) -> None:
        self._columns = columns

    def write(self, cells: list, routes: list | None = None) -> None:
        record = dict(zip(self._columns, cells))
        if routes is not None:
            record["routes"] = routes
        self._stream.write(self._dumps(record) + "\n")

    def close(self) -> None:
        self._stream.flush()


def output_format(output: str | None, fmt: str | None) -> str:
    """The output format: ``fmt`` if given, else from the extension of ``output``, else CSV.

    Raises
    ------
    RepatriateError
        An unknown format or extension.
    """
    if fmt is not None:
        if fmt not in OUTPUT_FORMATS:
            raise RepatriateError(f"unknown format {fmt!r} (accepted: {', '.join(OUTPUT_FORMATS)})")
        return fmt
    if output and output != "-":
        ext = Path(output).suffix.lower()
        if ext in _EXTENSIONS:
            return _EXTENSIONS[ext]
        raise RepatriateError(f"cannot tell the output format of {output!r} (accepted: .csv, .xlsx, .jsonl, or --format csv|xlsx|jsonl)")
    return "csv"


# --- the batch -------------------------------------------------------------------------


@dataclass
class Summary:
    """What a batch did: rows, ok, errors, best channels and locations, searches run."""

    rows: int = 0
    ok: int = 0
    errors: int = 0
    no_route: int = 0
    searches: int = 0
    by_channel: Counter = field(default_factory=Counter)
    by_province: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def add(self, result: tuple, count: int = 1) -> None:
        """Count ``count`` rows with this result tuple."""
        self.rows += count
        if result[0] != "ok":
            self.errors += count
            return
        self.ok += count
        if result[2]:
            self.by_channel[result[2]] += count
            self.by_province[result[3] or "national"] += count  # QFII: no onshore vehicle to place
        else:
            self.no_route += count

    def as_dict(self) -> dict[str, Any]:
        """The summary as ``--summary-json`` writes it."""
        return {
            "rows": self.rows,
            "ok": self.ok,
            "errors": self.errors,
            "no_route": self.no_route,
            "distinct_searches": self.searches,
            "seconds": round(self.seconds, 3),
            "by_channel": dict(self.by_channel.most_common()),
            "by_province": dict(self.by_province.most_common()),
        }

    def lines(self) -> list[str]:
        """A few lines of plain text (for stderr)."""
        out = [
            f"{self.rows} rows: {self.ok} ok, {self.errors} errors, {self.no_route} without a feasible route "
            f"({self.searches} distinct searches, {self.seconds:.2f} s)"
        ]
        if self.by_channel:
            out.append("best channel: " + ", ".join(f"{k} {v}" for k, v in self.by_channel.most_common()))
        if self.by_province:
            out.append("best location: " + ", ".join(f"{k} {v}" for k, v in self.by_province.most_common()))
        return out


def run_batch(
    portfolio: str | os.PathLike,
    rb: RuleBase,
    output: str | os.PathLike | None = None,
    *,
    fmt: str | None = None,
    encoding: str | None = None,
    input_format: str | None = None,
    as_of: str | dt.date | None = None,
    optimize: str = "balanced",
    top: int = 1,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    stdin: IO[bytes] | None = None,
    stdout: IO[str] | None = None,
) -> Summary:
    """Plan a portfolio file and write one result row per asset: the engine of ``repatriate batch``.

    Parameters
    ----------
    portfolio : path or ``'-'``
        CSV (UTF-8, UTF-8 with BOM or GB18030, detected), XLSX or JSONL; ``'-'`` reads
        stdin (CSV or JSONL, or an XLSX).
    rb : RuleBase
    output : path or ``'-'``, optional
        Default stdout.
    fmt : {'csv', 'xlsx', 'jsonl'}, optional
        Default from the extension of ``output``, else CSV.
    encoding, input_format : str, optional
        Override detection.
    as_of, optimize, top
        As for ``plan_rows``; ``top`` above 1 needs JSONL output.
    progress : callable, optional
        Called with the number of rows done, every 2,048 rows and at the end.
    workers : int, optional
        Worker processes that search new profiles while this one streams rows; 0 for
        none. Default: one per core beyond the first (none where processes cannot fork).
    stdin, stdout : streams, optional
        Default ``sys.stdin.buffer`` and ``sys.stdout``.

    Returns
    -------
    Summary

    Raises
    ------
    RepatriateError
        A missing or unreadable file, an unknown encoding or format, bad options. Bad
        rows never raise: they are error rows.
    """
    import time

    started = time.perf_counter()
    output = None if output is None else os.fspath(output)
    kind = output_format(output, fmt)
    if top > 1 and kind != "jsonl":
        raise RepatriateError(f"--top {top} lists several routes per asset, which needs JSONL output (--format jsonl)")
    to_stdout = not output or output == "-"
    if kind == "xlsx" and to_stdout:
        raise RepatriateError("XLSX output needs a file: pass -o results.xlsx")
    if encoding:
        _check_encoding(encoding)
    planner = Planner(rb, as_of=as_of, optimize=optimize, top=top)
    source = open_portfolio(portfolio, input_format, stdin)
    summary = Summary()
    stream: IO[str] | None = None
    # A file output is written beside its target and renamed at the end: a failed batch
    # (a wrong encoding, a full disk) leaves any earlier results file as it was.
    partial = None if to_stdout else os.path.join(os.path.dirname(output) or ".", f".{os.path.basename(output)}.{os.getpid()}.partial")
    done = False
    try:
        if to_stdout:
            stream = stdout if stdout is not None else sys.stdout
        elif kind != "xlsx":
            try:
                stream = open(partial, "w", encoding="utf-8", newline="")
            except OSError as exc:
                raise RepatriateError(f"cannot write {output!r}: {exc.strerror or exc}") from None
        writer = XlsxWriter(partial) if kind == "xlsx" else CsvWriter(stream) if kind == "csv" else JsonlWriter(stream)
        if source.format == "jsonl" and kind == "jsonl":
            _ragged(source, planner, encoding, writer, summary, progress)
        else:
            header, rows = _rows(source, planner, encoding, kind)
            _stream(_Table(header, planner, {"csv": "csv", "xlsx": "inert"}.get(kind, "plain")), rows, writer, summary, progress, _workers(workers))
        try:
            writer.close()
            if stream is not None and not to_stdout:
                stream.close()
            if partial is not None:
                os.replace(partial, output)
        except OSError as exc:
            raise RepatriateError(f"cannot write {output!r}: {exc.strerror or exc}") from None
        done = True
    finally:
        source.close()
        if stream is not None and not to_stdout:
            stream.close()
        if partial is not None and not done and os.path.exists(partial):
            os.unlink(partial)
    if progress is not None:
        progress(summary.rows)
    summary.searches = planner.searches
    summary.seconds = time.perf_counter() - started
    return summary


def _stream(table: _Table, rows: Iterable[list], writer, summary: Summary, progress: Callable[[int], None] | None, workers: int = 0) -> None:
    """The hot loop: every row of a file under one header, in order.

    With ``workers``, profiles not seen before are searched in worker processes while
    this process reads ahead (up to ``_WINDOW`` rows) and writes every row whose
    answer is known; otherwise they are searched here, as they come.
    """
    writer.header(table.columns)
    write = writer.write
    tally: dict[_Outcome, int] = {}  # rows per outcome, folded into the summary now and then
    n = 0

    def done(cells: list, out: _Outcome) -> None:
        nonlocal n
        write(cells, out.routes)
        tally[out] = tally.get(out, 0) + 1
        n += 1
        if not n & 2047:
            if progress is not None:
                progress(n)
            if len(tally) > 4096:
                _fold(tally, summary)

    rows = iter(rows)
    if workers:
        # the first searches run here: a small portfolio never pays for starting processes
        for cells in rows:
            done(*table.row(cells))
            if table.planner.searches >= _INLINE_SEARCHES:
                _stream_pooled(table, rows, done, workers)
                break
    else:
        row = table.row
        for cells in rows:
            done(*row(cells))
    _fold(tally, summary)


def _stream_pooled(table: _Table, rows: Iterator[list], done: Callable[[list, _Outcome], None], workers: int) -> None:
    import multiprocessing

    global _WORKER_PLANNER
    planner = table.planner
    _WORKER_PLANNER = planner  # inherited by the forked workers: no pickling of the rule base
    pool = multiprocessing.get_context("fork").Pool(workers)
    pending: dict[tuple, Any] = {}  # raw values -> AsyncResult of their search
    queue: deque = deque()  # rows waiting, in input order: (cells, values, problem) or (cells, outcome, problem)
    fields, positions, mode = table.fields, table.positions, table.mode

    def settle(values: tuple) -> _Outcome:
        job = pending.pop(values)
        try:
            result, routes, searched = job.get()
            planner.searches += searched
            found = (result, routes)
        except Exception:  # a worker died: search here instead
            found = None
        return table.remember(values, planner.outcome(fields, positions, mode, values, found))

    def drain(block: bool) -> None:
        while queue:
            cells, out, problem = queue[0]
            if problem is _FINISHED:
                queue.popleft()
                done(cells, out)
                continue
            if out.__class__ is not _Outcome:
                values = out
                out = table.cache.get(values)
                if out is None:
                    if values in pending:
                        if not pending[values].ready():
                            if not block:
                                return
                            # rather than wait idle, search the newest pending profile here: the
                            # workers take them oldest first, so the two meet in the middle
                            newest = next(reversed(pending))
                            del pending[newest]
                            table.remember(newest, planner.outcome(fields, positions, mode, newest))
                            continue
                        out = settle(values)
                    else:  # answered here, or pushed out of the cache since: search here
                        out = table.remember(values, planner.outcome(fields, positions, mode, values))
            queue.popleft()
            done(*table.finish(cells, out, problem))

    try:
        for cells in rows:
            if cells.__class__ is _Broken:
                cells, out = table.broken(cells)
                if queue:
                    queue.append((cells, out, _FINISHED))
                else:
                    done(cells, out)
                continue
            problem = None if len(cells) == table.width else table.fit(cells)
            values = table.values(cells)
            try:
                out = table.cache.get(values)
            except TypeError:
                out = planner.outcome(fields, positions, mode, values)
            if out is not None and not queue:
                done(*table.finish(cells, out, problem))
                continue
            if out is None and values not in pending:
                pending[values] = pool.apply_async(_worker_search, (fields, values))
            queue.append((cells, out if out is not None else values, problem))
            drain(block=len(queue) >= _WINDOW)
        drain(block=True)
    finally:
        pool.terminate()
        pool.join()
        _WORKER_PLANNER = None


_WORKER_PLANNER: Planner | None = None
_FINISHED = object()  # marks a queued row whose cells are complete already
_INLINE_SEARCHES = 8  # searches done in-process before a pool is worth starting
_WINDOW = 8192  # rows read ahead while their profiles are searched: bounds memory


def _worker_search(fields: tuple[str, ...], values: tuple) -> tuple[tuple, list | None, int]:
    """In a worker: the search result of one profile, and whether it ran a search (1) or hit the cache (0)."""
    planner = _WORKER_PLANNER
    before = planner.searches
    result, routes = planner.search(fields, values)
    return result, routes, planner.searches - before


def _workers(requested: int | None) -> int:
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return 0  # Windows: a spawned worker would have to load the rule base again
    if requested is not None:
        return max(0, requested)
    # bench/bench_batch.py on 2 cores, cold searches (~2.5 ms each), 200 distinct profiles in
    # 100,000 rows: one worker beat inline in 3 runs of 4 (e.g. 2.35x vs 2.80x the bare csv
    # read+write); it starts only after a few inline searches, so small files never pay for it.
    return max(0, (os.cpu_count() or 1) - 1)


def _ragged(source: Source, planner: Planner, encoding: str | None, writer: JsonlWriter, summary: Summary, progress) -> None:
    """JSONL to JSONL: each record keeps its own keys."""
    tables = _Tables(planner)
    current = None
    for n, record in enumerate(read_jsonl(source, encoding), 1):
        table = tables.get(() if record.__class__ is _Broken else tuple(record))
        if table is not current:
            current = table
            writer.header(table.columns)
        cells, out = table.row(record if record.__class__ is _Broken else list(record.values()))
        writer.write(cells, out.routes)
        summary.add(out.result)
        if progress is not None and not n & 2047:
            progress(n)


def _fold(tally: dict[_Outcome, int], summary: Summary) -> None:
    for out, count in tally.items():
        summary.add(out.result, count)
    tally.clear()


def _rows(source: Source, planner: Planner, encoding: str | None, kind: str) -> tuple[list[str], Iterator[list]]:
    """One header and the rows under it, whatever the input format."""
    if source.format == "xlsx":
        return read_xlsx(source)
    if source.format == "csv":
        return read_csv(source, encoding)
    # JSONL to CSV/XLSX needs one header for all records: a first pass collects every key
    if not source.stream.seekable():
        spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # stdin: to disk past a few MB
        while chunk := source.stream.read(1 << 20):
            spool.write(chunk)
        spool.seek(0)
        source.stream.close()
        source.stream = spool
    keys: dict[str, None] = {}
    first_pass = Source(source.name, "jsonl", io.BufferedReader(_Prefixed(b"", source.stream, close=False)), source.head, source.size)
    for record in read_jsonl(first_pass, encoding):
        if record.__class__ is not _Broken:
            keys.update(dict.fromkeys(map(str, record)))
    source.stream.seek(0)
    header = list(keys)

    def rows() -> Iterator[list]:
        for record in read_jsonl(source, encoding):
            if record.__class__ is _Broken:
                yield record
            else:
                record = {str(k): v for k, v in record.items()}
                yield [record.get(k) for k in header]

    return header, rows()

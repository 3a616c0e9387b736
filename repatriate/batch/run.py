"""The batch: a portfolio file in, one result row per input record out, a summary and progress.

Orchestration only: ``readers`` parse the input, ``rows`` plan each record, ``writers`` write through
``files.atomic_write``. Rows stream (memory stays flat); each distinct profile is searched once.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from ..errors import RepatriateError
from ..files import atomic_write, check_target
from .legs import LEG_FIELDS, Allocator
from .readers import (
    BrokenRecord,
    Source,
    _Prefixed,
    check_encoding,
    detect_encoding,
    open_portfolio,
    read_csv,
    read_jsonl,
    read_xlsx,
)
from .rows import RESULT_FIELDS, Outcome, Planner, Table, Tables, plan_rows
from .writers import OUTPUT_FORMATS, CsvWriter, XlsxWriter, make_writer, output_format

__all__ = [
    "LEG_FIELDS",
    "RESULT_FIELDS",
    "OUTPUT_FORMATS",
    "Summary",
    "Planner",
    "Table",
    "detect_encoding",
    "output_format",
    "plan_rows",
    "run_batch",
]


@dataclass
class Summary:
    """What a batch did: rows, ok, errors, best channels and locations, searches run.

    ``rows`` counts output rows; ``records`` the input records (``batch --allocate`` writes a row
    per leg, ``partial`` for an asset placed in part).
    """

    rows: int = 0
    records: int = 0
    ok: int = 0
    partial: int = 0
    errors: int = 0
    no_route: int = 0
    searches: int = 0
    by_channel: Counter = field(default_factory=Counter)
    by_province: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    legs: bool = False  # rows are legs (batch --allocate): by_channel and by_province count legs

    as_of: str = ""
    rulebase_digest: str = ""
    tool_version: str = ""

    def add(self, result: Any, count: int = 1) -> None:
        """Count ``count`` rows with this result (a ``Result`` or a ``LegResult``): ok, partial,
        no_route and error do not overlap."""
        self.rows += count
        if result.status in ("ok", "partial"):
            if result.status == "ok":
                self.ok += count
            else:
                self.partial += count
            channels, province = result.where
            self.by_channel[channels] += count
            self.by_province[province or "national"] += count  # QFII: no onshore vehicle to place
        elif result.status == "no_route":
            self.no_route += count
        else:
            self.errors += count

    def as_dict(self) -> dict[str, Any]:
        """The summary as ``--summary-json`` writes it."""
        return {
            "as_of": self.as_of,
            "rulebase_digest": self.rulebase_digest,
            "tool_version": self.tool_version,
            "rows": self.rows,
            "records": self.records,
            "ok": self.ok,
            "partial": self.partial,
            "errors": self.errors,
            "no_route": self.no_route,
            "distinct_searches": self.searches,
            "seconds": round(self.seconds, 3),
            "by_channel": dict(self.by_channel.most_common()),
            "by_province": dict(self.by_province.most_common()),
        }

    def lines(self) -> list[str]:
        """A few lines of plain text (for stderr)."""
        rows = f"{self.rows} rows"
        if self.records != self.rows:  # the counts below are of rows: say so when records differ
            rows = f"{self.records} records, {self.rows} rows; rows"
        partial = f"{self.partial} partly placed, " if self.partial else ""
        searches = "allocations" if self.legs else "searches"
        out = [
            f"{rows}: {self.ok} ok, {partial}{self.errors} errors, {self.no_route} without a feasible route "
            f"({self.searches} distinct {searches}, {self.seconds:.2f} s)",
            f"rules as of {self.as_of}, rule base {self.rulebase_digest[:12]}, "
            f"repatriate {self.tool_version}",
        ]
        which = "leg" if self.legs else "best"
        if self.by_channel:
            out.append(f"{which} channel: " + ", ".join(f"{k} {v}" for k, v in self.by_channel.most_common()))
        if self.by_province:
            out.append(f"{which} location: " + ", ".join(f"{k} {v}" for k, v in self.by_province.most_common()))
        return out


def run_batch(
    portfolio: str | os.PathLike,
    rb: Any,
    output: str | os.PathLike | None = None,
    *,
    fmt: str | None = None,
    encoding: str | None = None,
    input_format: str | None = None,
    sheet: str | None = None,
    as_of: str | dt.date | None = None,
    optimize: str = "balanced",
    top: int = 1,
    progress: Callable[[int], None] | None = None,
    stdin: IO[bytes] | None = None,
    stdout: IO[str] | None = None,
    force: bool = True,
    excel: bool = False,
    allocate: bool = False,
    by: str | dt.date | None = None,
    max_channels: int | str = 3,
    listed_market_cap: float | str | None = None,
) -> Summary:
    """Plan a portfolio file and write one result row per input record: the engine of ``repatriate batch``.

    Parameters
    ----------
    portfolio : path or ``'-'``
        CSV (UTF-8 with or without BOM, UTF-16/32 with BOM, GB18030 or Big5, detected), XLSX
        or JSONL; ``'-'`` reads stdin (CSV or JSONL, or an XLSX).
    rb : RuleBase
    output : path or ``'-'``, optional
        Default stdout. A file is replaced only when the batch has finished (atomically).
    fmt : {'csv', 'xlsx', 'jsonl'}, optional
        Default from the extension of ``output``, else CSV.
    encoding, input_format : str, optional
        Override detection.
    sheet : str, optional
        The XLSX sheet to read; needed when several sheets hold data.
    as_of, optimize, top
        As for ``plan_rows``; ``top`` above 1 needs JSONL output.
    progress : callable, optional
        Called with the number of rows done, every 2,048 rows and at the end.
    stdin, stdout : streams, optional
        Default ``sys.stdin.buffer`` and ``sys.stdout``.
    force : bool
        Replace an existing ``output`` (the CLI passes ``--force``; refused otherwise).
    excel : bool
        CSV in UTF-8 with a byte-order mark, so Excel in any locale (a Chinese one too) reads it.
    allocate : bool
        Split each record's amount over channels (``repatriate.allocate``): a row per leg, keyed
        by ``asset_id`` and ``leg`` (``legs.LEG_FIELDS``); at least one row a record.
    by, max_channels, listed_market_cap
        With ``allocate``, for records without a ``by``, ``max_channels`` or ``listed_market_cap``
        column of their own.

    Returns
    -------
    Summary

    Raises
    ------
    RepatriateError
        A missing or unreadable file, an unknown encoding or format, bad options, an output
        that cannot be written (disk full: no partial file is left), an existing ``output``
        without ``force``, a header without a required column (``asset_class``, ``province``,
        ``amount``). Bad records never raise: they are error rows.
    """
    started = time.perf_counter()
    output = None if output is None else os.fspath(output)
    kind = output_format(output, fmt)
    if top > 1 and allocate:
        raise RepatriateError("allocate gives a row per leg; top lists routes: choose one", field="top")
    if top > 1 and kind != "jsonl":
        raise RepatriateError(f"top {top} lists several routes per asset, which needs JSONL output")
    to_stdout = not output or output == "-"
    if kind == "xlsx" and to_stdout:
        raise RepatriateError("XLSX output needs a file path, not stdout")
    if excel and kind != "csv":
        raise RepatriateError(f"excel writes CSV for Excel; the output format is {kind}")
    if encoding:
        check_encoding(encoding)
    planner: Planner
    if allocate:
        planner = Allocator(rb, as_of=as_of, by=by, max_channels=max_channels, listed_market_cap=listed_market_cap)
    else:
        planner = Planner(rb, as_of=as_of, optimize=optimize, top=top)
    if not to_stdout:
        assert output is not None  # to_stdout is True without an output path
        check_target(output, force=force, inputs=[portfolio])  # before reading a row
    source = open_portfolio(portfolio, input_format, stdin)
    summary = Summary(as_of=planner.stamp[0], rulebase_digest=planner.stamp[1],
                      tool_version=planner.stamp[2], legs=not planner.one_row_each)
    try:
        if to_stdout:
            writer = make_writer(kind, stdout if stdout is not None else sys.stdout, bom=excel)
            _write_all(source, planner, encoding, sheet, kind, writer, summary, progress)
            writer.close()
        else:
            assert output is not None
            with atomic_write(
                output, force=force, mode="w" if kind == "jsonl" else "wb", inputs=[portfolio]
            ) as fh:
                writer = make_writer(kind, fh, bom=excel)
                try:
                    _write_all(source, planner, encoding, sheet, kind, writer, summary, progress)
                    if isinstance(writer, XlsxWriter):
                        summary.searches = planner.searches
                        summary.seconds = time.perf_counter() - started
                        writer.appendix(summary.as_dict(), *rules_sheet(rb, planner))
                    writer.close()
                except BaseException:
                    writer.abort()
                    raise
    finally:
        source.close()
    if progress is not None:
        progress(summary.rows)
    summary.searches = planner.searches
    summary.seconds = time.perf_counter() - started
    return summary


def _write_all(
    source: Source,
    planner: Planner,
    encoding: str | None,
    sheet: str | None,
    kind: str,
    writer: Any,
    summary: Summary,
    progress: Callable[[int], None] | None,
) -> None:
    if source.format == "jsonl" and kind == "jsonl":
        _ragged(source, planner, encoding, writer, summary, progress)
        return
    mode = {"csv": "csv", "xlsx": "inert"}.get(kind, "plain")
    if source.format == "csv":
        parsed = read_csv(source, encoding)
        table = Table(parsed.header, planner, mode, decimal=parsed.decimal, typed=False)
        rows: Iterable[list] = parsed.rows
    elif source.format == "xlsx":
        header, rows = read_xlsx(source, sheet)
        table = Table(header, planner, mode)
    else:
        header, rows = _jsonl_table(source, encoding)
        table = Table(header, planner, mode)
    require_columns(table.fields, header if source.format != "csv" else parsed.header)
    _stream(table, rows, writer, summary, progress)


REQUIRED_COLUMNS = ("asset_class", "province", "amount")


def require_columns(fields: Iterable[str], header: list[Any]) -> None:
    """Fail at once, naming it, when the header lacks a column every row needs (not once per row)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in set(fields)]
    if missing:
        shown = ", ".join(str(h) for h in header[:20]) or "none"
        raise RepatriateError(
            f"portfolio has no {missing[0]} column (required: {', '.join(REQUIRED_COLUMNS)}; found: {shown})"
        )


def rules_sheet(rb: Any, planner: Planner) -> tuple[list[tuple[str, Any]], list[list[Any]]]:
    """What the XLSX Rules sheet shows: as-of, digest, version, then every source the plans cited."""
    as_of, digest, version = planner.stamp
    head = [("as_of", as_of), ("rulebase_digest", digest), ("tool_version", version), *planner.settings()]
    rows: list[list[Any]] = [["source", "title", "document number", "issuer", "date", "url", "tier"]]
    for sid in sorted(planner.sources):
        s = rb.sources.get(sid)
        if s is None:
            continue
        date = next((str(getattr(s, k)) for k in ("effective", "issued", "published")
                     if getattr(s, k, None)), "")
        issuer = getattr(s.issuer, "en", s.issuer) or ""
        rows.append([sid, s.title.en, s.doc_no or "", issuer,
                     date, getattr(s, "url", None) or "", str(getattr(s, "tier", "") or "")])
    return head, rows


def _stream(
    table: Table, rows: Iterable[list], writer: Any, summary: Summary, progress: Callable[[int], None] | None
) -> None:
    """The hot loop: every record of a file under one header, in order, one output row each (a row
    per leg with ``--allocate``).

    CSV in and out, ``Table.csv_rows`` renders most rows into the writer's pending parts itself
    (``cells`` is then None). bench/bench_batch.py on 2 cores showed a fork pool of searchers slower
    than searching here (2.33 s against 1.66 s for 100,000 rows): the pool is gone.
    """
    writer.header(table.columns)
    outputs: Iterable[tuple[list | None, Outcome]]
    if isinstance(writer, CsvWriter) and not table.typed and table.planner.one_row_each:
        outputs, spill = table.csv_rows(rows, writer.parts), writer.spill
    else:
        outputs, spill = map(table.row, rows), _nothing
    tally: dict[Outcome, int] = {}  # records per outcome, folded into the summary now and then
    n = 0
    for cells, out in outputs:
        if cells is not None:
            _write(writer, table, cells, out)
        tally[out] = tally.get(out, 0) + 1
        n += 1
        if not n & 511:
            spill()
            if not n & 2047:
                if progress is not None:
                    progress(n)
                if len(tally) > 4096:
                    _fold(tally, summary)
    _fold(tally, summary)


def _nothing() -> None:
    pass


def _write(writer: Any, table: Table, cells: list, out: Outcome) -> None:
    """A record's row, then its further rows (legs: the same input cells, each leg's tail)."""
    try:
        writer.write(cells, out.routes)
        if out.more:
            head = cells[: len(cells) - len(out.tail)]
            for _, tail in out.more:
                writer.write(head + list(tail), None)
    except (ValueError, TypeError, RecursionError) as exc:  # a value the format cannot hold: an error row
        cells, out = table.failed_row(table.planner.error(f"cannot write this row: {exc}"))
        writer.write(cells, out.routes)


def _ragged(
    source: Source,
    planner: Planner,
    encoding: str | None,
    writer: Any,
    summary: Summary,
    progress: Callable[[int], None] | None,
) -> None:
    """JSONL to JSONL: each record keeps its own keys."""
    tables = Tables(planner)
    current = None
    checked = False
    for n, record in enumerate(read_jsonl(source, encoding), 1):
        table = tables.get(() if record.__class__ is BrokenRecord else tuple(record))
        if not checked and record.__class__ is not BrokenRecord:
            require_columns(table.fields, list(record))  # the first record stands for the file
            checked = True
        if table is not current:
            current = table
            writer.header(table.columns)
        # narrowed by the class test (cheaper than isinstance on this per-row path)
        cells, out = table.row(
            record if record.__class__ is BrokenRecord else list(record.values())  # type: ignore[union-attr]
        )
        _write(writer, table, cells, out)
        _count(out, 1, summary)
        if progress is not None and not n & 2047:
            progress(n)


def _fold(tally: dict[Outcome, int], summary: Summary) -> None:
    for out, count in tally.items():
        _count(out, count, summary)
    tally.clear()


def _count(out: Outcome, records: int, summary: Summary) -> None:
    summary.records += records
    summary.add(out.result, records)
    for result, _ in out.more:
        summary.add(result, records)


def _jsonl_table(source: Source, encoding: str | None) -> tuple[list[str], Iterator[list]]:
    """JSONL to CSV/XLSX needs one header for all records: a first pass collects every key."""
    if not source.stream.seekable():
        spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # stdin: to disk past a few MB
        while chunk := source.stream.read(1 << 20):
            spool.write(chunk)
        spool.seek(0)
        source.stream.close()
        source.stream = spool  # type: ignore[assignment]
    keys: dict[str, None] = {}
    first_pass = Source(
        source.name,
        "jsonl",
        io.BufferedReader(_Prefixed(b"", source.stream, close=False)),
        source.head,
        source.size,
    )
    for record in read_jsonl(first_pass, encoding):
        if record.__class__ is not BrokenRecord:
            keys.update(dict.fromkeys(map(str, record)))
    source.stream.seek(0)
    header = list(keys)

    def rows() -> Iterator[list]:
        for record in read_jsonl(source, encoding):
            if record.__class__ is BrokenRecord:
                yield record
            else:
                record = {str(k): v for k, v in record.items()}  # type: ignore[union-attr]
                yield [record.get(k) for k in header]

    return header, rows()

"""The command line: parse options, call one library function, hand the result to a renderer.

Usage errors and ``RepatriateError`` become one line on stderr and exit 2.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer
import typer.core

from . import __version__

class _Group(typer.core.TyperGroup):
    """The root group: one-line errors, exit 2 for usage and input problems, also under CliRunner."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # noqa: D102
        if not standalone_mode:
            return super().main(args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False, **extra)
        code = _run(super().main, args, {"prog_name": prog_name or "repatriate", "complete_var": complete_var, **extra})
        sys.exit(code)


app = typer.Typer(
    cls=_Group,
    help="Plan the legal routes that bring offshore (HK SPV / RWA token) proceeds back to mainland China.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
data_app = typer.Typer(help="Check and describe the rule base.", no_args_is_help=True)
app.add_typer(data_app, name="data")

_STATE = {"debug": False}

LANGS = ("en", "zh")
ROUTE_FORMATS = ("table", "json", "md", "csv")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"repatriate {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of unexpected errors."),
) -> None:
    _STATE["debug"] = debug


def _choice(name: str, value: str, accepted: tuple[str, ...]) -> str:
    from .errors import RepatriateError, short

    if value not in accepted:
        raise RepatriateError.choice(name, value, accepted)
    return value


def _count(name: str, value: str) -> int:
    from .engine.profile import parse_integer

    return parse_integer(name, value)


def _rulebase(data_dir: Optional[Path]):
    from .api import load_rulebase

    return load_rulebase(overlay=data_dir)


def _console():
    from rich.console import Console

    return Console(no_color=bool(os.environ.get("NO_COLOR")) or None, highlight=False)


def _emit(text: str, output: Optional[str] = None, force: bool = False) -> None:
    if output and output != "-":
        from .files import write_text

        # an existing file: OutputExists, worded by _word as every command words it
        write_text(output, text if text.endswith("\n") else text + "\n", force=force)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


# --- route ------------------------------------------------------------------------

AS_OF = typer.Option(None, "--as-of", help="Rules in force on this date (YYYY-MM-DD); default today.")
DATA_DIR = typer.Option(None, "--data-dir", help="A folder of YAML files overlaid on the packaged rule base.")
LANG = typer.Option("en", "--lang", help="en or zh.")
# profile options shared by route and compare (and named as batch's columns)
ASSET_CLASS = typer.Option(..., "--asset-class", help="equity, abs or debt.")
AMOUNT = typer.Option(..., "--amount", help="Amount raised, in units of --currency.")
SECTOR = typer.Option(None, "--sector", help="e.g. renewable_energy; `repatriate data coverage` lists them.")
CURRENCY = typer.Option("USD", "--currency", help="ISO 4217 code; CNH allowed.")
HOLDER_TYPE = typer.Option("private", "--holder-type", help="private, soe, lgfv, listed, fie or financial.")
NET_ASSETS = typer.Option(None, "--net-assets", help="Asset holder's net assets, same currency as --amount.")
TERM_MONTHS = typer.Option(None, "--term-months", help="Term of the tokens (debt class), in months.")
SPV_OWNER = typer.Option("group", "--spv-owner", help="group (the mainland group owns the SPV: ODI filings) or third_party.")
DISTRIBUTION = typer.Option(
    "vatp", "--distribution", help="vatp (tokens admitted to an SFC-licensed VATP) or intermediary (a licensed broker)."
)
OPTIMIZE = typer.Option("balanced", "--optimize", help="balanced, speed, cost or certainty.")
FORCE = typer.Option(False, "--force", help="Overwrite an existing -o FILE.")


@app.command()
def route(
    asset_class: str = ASSET_CLASS,
    province: str = typer.Option(..., "--province", help="CN-GD, Guangdong, 广东 or 廣東."),
    amount: str = AMOUNT,
    sector: Optional[str] = SECTOR,
    city: Optional[str] = typer.Option(None, "--city", help="Pinyin city id, e.g. shenzhen."),
    currency: str = CURRENCY,
    holder_type: str = HOLDER_TYPE,
    net_assets: Optional[str] = NET_ASSETS,
    term_months: Optional[str] = TERM_MONTHS,
    spv_owner: str = SPV_OWNER,
    distribution: str = DISTRIBUTION,
    as_of: Optional[str] = AS_OF,
    optimize: str = OPTIMIZE,
    top: str = typer.Option("10", "--top", help="How many routes to show."),
    lang: str = LANG,
    fmt: str = typer.Option("table", "--format", help="table, json, md or csv."),
    explain: bool = typer.Option(False, "--explain", help="Show excluded routes and why."),
    data_dir: Optional[Path] = DATA_DIR,
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Write to a file instead of stdout (atomically)."),
    force: bool = FORCE,
) -> None:
    """Rank the routes for one asset.

    Example: repatriate route --asset-class equity --sector renewable_energy
    --province 广东 --city shenzhen --amount 50000000 --currency USD --explain
    """
    from .api import plan_route
    from .render.route import render_plan, render_table

    _choice("format", fmt, ROUTE_FORMATS)
    _choice("language", lang, LANGS)
    rb = _rulebase(data_dir)
    plan = plan_route(
        rb,
        as_of=as_of,
        optimize=optimize,
        top=_count("top", top),
        asset_class=asset_class,
        sector=sector,
        province=province,
        city=city,
        amount=amount,
        currency=currency,
        holder_type=holder_type,
        net_assets=net_assets,
        term_months=term_months,
        spv_owner=spv_owner,
        distribution=distribution,
    )
    if fmt == "table" and not (output and output != "-"):
        render_table(plan, rb, lang, explain, console=_console())
    else:
        _emit(render_plan(plan, rb, fmt, lang, explain=explain), output, force)


# --- batch ------------------------------------------------------------------------


@app.command()
def batch(
    portfolio: Optional[str] = typer.Argument(
        None, help="CSV (UTF-8, GB18030, Big5; UTF-16/32 with BOM), XLSX or JSONL file; - for stdin."
    ),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Result file (.csv, .xlsx, .jsonl); default stdout."),
    fmt: Optional[str] = typer.Option(
        None, "--format", metavar="[csv|xlsx|jsonl]", help="Default from the -o extension, else csv."
    ),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="Encoding of a CSV/JSONL portfolio; detected when omitted."),
    input_format: Optional[str] = typer.Option(
        None, "--input-format", metavar="[csv|xlsx|jsonl]", help="Detected when omitted."
    ),
    sheet: Optional[str] = typer.Option(
        None, "--sheet", help="XLSX sheet to read; needed when several sheets hold data."
    ),
    top: int = typer.Option(1, "--top", help="Routes per asset; above 1 adds a `routes` list (JSONL only)."),
    as_of: Optional[str] = AS_OF,
    optimize: str = OPTIMIZE,
    summary_json: Optional[str] = typer.Option(
        None, "--summary-json", help="Also write the summary (with as-of, digest, version) to FILE; - for stdout."
    ),
    excel: bool = typer.Option(
        False, "--excel", help="CSV for Excel: UTF-8 with a byte-order mark, so a Chinese locale reads it."
    ),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when any row is an error row."),
    force: bool = FORCE,
    schema: bool = typer.Option(False, "--schema", help="Print the JSON Schema of a result row and exit."),
    data_dir: Optional[Path] = DATA_DIR,
) -> None:
    """Plan every asset of a portfolio: one result row per input row, errors included.

    Columns: asset_class, province and amount (required), sector, city, currency,
    holder_type, net_assets, term_months, spv_owner (snake_case); asset_id, label and
    any other column pass through (an input column named like a result column, e.g.
    status, comes out as input_status). In a ';'-separated CSV the decimal mark is a
    comma. Each row gets status (ok, no_route or error), reason, warnings, weeks,
    unknown_steps, as_of, rulebase_digest and tool_version. A summary goes to stderr.
    -o FILE is written when the batch has finished; it may not be the portfolio.

    Example: repatriate batch portfolio.csv -o results.xlsx --as-of 2026-03-01
    """
    from .batch.run import run_batch
    from .errors import RepatriateError
    from .files import check_target, same_path, write_text
    from .render.route import to_json

    if schema:
        from .batch.schema import result_row_schema

        _emit(to_json(result_row_schema()))
        return
    if portfolio is None:
        raise RepatriateError("missing argument PORTFOLIO (a CSV, XLSX or JSONL file, or - for stdin)")
    to_stdout = not output or output == "-"
    if summary_json is not None:
        if summary_json == "-" and to_stdout:
            raise RepatriateError("--summary-json - and the results would share stdout (accepted: -o FILE)")
        if summary_json != "-":
            if not to_stdout and same_path(summary_json, output):
                raise RepatriateError(
                    f"--summary-json {summary_json!r} is the -o file too (accepted: another path)"
                )
            check_target(summary_json, force=force, inputs=[portfolio])  # fail before the batch, not after it
    if excel and fmt not in (None, "csv"):
        raise RepatriateError(f"--excel writes CSV; --format is {fmt}")
    rb = _rulebase(data_dir)
    bar = _batch_progress(portfolio)
    try:
        summary = run_batch(
            portfolio, rb, output, fmt="csv" if excel else fmt, encoding=encoding, input_format=input_format,
            sheet=sheet, as_of=as_of, optimize=optimize, top=top, progress=bar.update if bar else None,
            force=force, excel=excel,
        )
    finally:
        if bar:
            bar.close()
    for line in summary.lines():
        typer.echo(line, err=True)
    if summary_json is not None:
        text = to_json(summary.as_dict()) + "\n"
        if summary_json == "-":
            sys.stdout.write(text)
        else:
            write_text(summary_json, text, force=True, inputs=[portfolio, output or "-"])
    if strict and summary.errors:
        raise typer.Exit(1)


class _BatchBar:
    """A rich progress bar on stderr, counting rows (the total is unknown while streaming)."""

    def __init__(self, name: str):
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        console = Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")) or None)
        # auto_refresh=False: no refresh thread, so the batch's worker processes fork cleanly
        from .render.escape import clean_text

        # the file name is the user's text: shown as typed, never parsed as rich markup
        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}", markup=False), TextColumn("{task.completed:,} rows"), TimeElapsedColumn(),
            console=console, transient=True, auto_refresh=False,
        )
        self._task = self._progress.add_task(clean_text(name, multiline=False), total=None)
        self._progress.start()

    def update(self, rows: int) -> None:
        self._progress.update(self._task, completed=rows, refresh=True)

    def close(self) -> None:
        self._progress.stop()


def _batch_progress(name: str) -> Optional[_BatchBar]:
    # Only for a person watching: a pipe or a log file gets nothing but the summary.
    return _BatchBar(name) if sys.stderr.isatty() else None


# --- compare ----------------------------------------------------------------------


@app.command()
def compare(
    asset_class: str = ASSET_CLASS,
    amount: str = AMOUNT,
    province: Optional[list[str]] = typer.Option(None, "--province", metavar="PROVINCE", help="Repeat to compare places: CN-GD, Guangdong, 广东 or 廣東."),
    city: Optional[list[str]] = typer.Option(None, "--city", metavar="CITY", help="Repeat to compare cities, e.g. --city shenzhen --city hengqin."),
    sector: Optional[str] = SECTOR,
    currency: str = CURRENCY,
    holder_type: str = HOLDER_TYPE,
    net_assets: Optional[str] = NET_ASSETS,
    term_months: Optional[str] = TERM_MONTHS,
    spv_owner: str = SPV_OWNER,
    distribution: str = DISTRIBUTION,
    as_of: Optional[str] = AS_OF,
    optimize: str = OPTIMIZE,
    top: int = typer.Option(4, "--top", help="How many routes to compare per place."),
    label: Optional[str] = typer.Option(None, "--label", help="Title of the report: the client's or the asset's name."),
    lang: str = LANG,
    fmt: str = typer.Option("table", "--format", help="table, md, html or json."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Write the report to FILE (atomically); - for stdout."),
    force: bool = FORCE,
    data_dir: Optional[Path] = DATA_DIR,
) -> None:
    """Compare the top routes side by side, with a checklist per route, in one place or several.

    Example: repatriate compare --asset-class equity --sector renewable_energy
    --amount 50000000 --province CN-GD --province CN-HI --province CN-SH
    --label "Acme Solar" --format html -o acme.html
    """
    from .engine.compare import compare as compare_report
    from .render.escape import clean_text
    from .render.report import FORMATS, render, render_table

    _choice("format", fmt, FORMATS)
    _choice("language", lang, LANGS)
    rb = _rulebase(data_dir)
    report = compare_report(
        rb,
        profile_fields={
            "asset_class": asset_class,
            "sector": sector,
            "amount": amount,
            "currency": currency,
            "holder_type": holder_type,
            "net_assets": net_assets,
            "term_months": term_months,
            "spv_owner": spv_owner,
            "distribution": distribution,
        },
        provinces=province or [],
        cities=city or [],
        as_of=as_of,
        optimize=optimize,
        top=top,
        # an option is untrusted text too: no ESC sequence of a --label reaches a terminal
        label=None if label is None else clean_text(label, multiline=False),
    )
    if fmt == "table" and not (output and output != "-"):
        render_table(report, rb, lang, console=_console())
    else:
        _emit(render(report, rb, fmt, lang), output, force)


# --- browsing ---------------------------------------------------------------------


@app.command()
def channels(
    channel_id: Optional[str] = typer.Argument(None, help="A channel id, e.g. qflp."),
    lang: str = LANG,
    fmt: str = typer.Option("table", "--format", help="table or json."),
    data_dir: Optional[Path] = DATA_DIR,
) -> None:
    """List the channels, or show one with its steps. Example: repatriate channels qflp"""
    from .engine.browse import show_channels

    _emit(show_channels(_rulebase(data_dir), channel_id, _choice("language", lang, LANGS), _choice("format", fmt, ("table", "json"))))


@app.command()
def provinces(
    code: Optional[str] = typer.Argument(None, help="A province: CN-GD, Guangdong or 广东."),
    lang: str = LANG,
    fmt: str = typer.Option("table", "--format", help="table or json."),
    as_of: Optional[str] = AS_OF,
    data_dir: Optional[Path] = DATA_DIR,
) -> None:
    """List the provinces, or show one with its cities and pilots. Example: repatriate provinces 广东"""
    from .engine.browse import show_provinces
    from .engine.profile import parse_date

    _emit(show_provinces(_rulebase(data_dir), code, _choice("language", lang, LANGS), _choice("format", fmt, ("table", "json")), parse_date(as_of)))


@app.command()
def documents(
    doc_id: Optional[str] = typer.Argument(None, help="A document id."),
    lang: str = LANG,
    fmt: str = typer.Option("table", "--format", help="table or json."),
    data_dir: Optional[Path] = DATA_DIR,
) -> None:
    """List the documents steps need, or show one. Example: repatriate documents ndrc_registration_certificate"""
    from .engine.browse import show_documents

    _emit(show_documents(_rulebase(data_dir), doc_id, _choice("language", lang, LANGS), _choice("format", fmt, ("table", "json"))))


@app.command()
def sources(
    lang: str = LANG,
    fmt: str = typer.Option("table", "--format", help="table or json."),
    unverified: bool = typer.Option(False, "--unverified", help="Only sources marked unverified."),
    weak: bool = typer.Option(
        False, "--weak", help="Facts whose best source is below law-firm tier (news, listing)."
    ),
    data_dir: Optional[Path] = DATA_DIR,
) -> None:
    """List every text the rule base cites, with its tier. Example: repatriate sources --weak"""
    from .engine.browse import show_sources

    fmt = _choice("format", fmt, ("table", "json"))
    _emit(show_sources(_rulebase(data_dir), _choice("language", lang, LANGS), fmt, unverified, weak))


@app.command()
def graph(
    fmt: str = typer.Option("json", "--format", help="dot, graphml or json."),
    as_of: Optional[str] = AS_OF,
    data_dir: Optional[Path] = DATA_DIR,
) -> None:
    """Print the graph of structures and channels. Example: repatriate graph --format dot"""
    from .engine.browse import export_graph
    from .engine.profile import parse_date

    _emit(export_graph(_rulebase(data_dir), _choice("format", fmt, ("dot", "graphml", "json")), parse_date(as_of)))


# --- data -------------------------------------------------------------------------


@data_app.command("validate")
def data_validate(data_dir: Optional[Path] = DATA_DIR) -> None:
    """Validate every data file; list each error with its file and field. Example: repatriate data validate"""
    from .render.escape import clean_text
    from .rulebase.loader import validate

    problems = validate(overlay=data_dir)
    if problems:
        for p in problems:
            typer.echo(clean_text(p, multiline=False), err=True)
        typer.echo(f"{len(problems)} problem(s)", err=True)
        raise typer.Exit(2)
    typer.echo("rule base is valid")


@data_app.command("schema")
def data_schema() -> None:
    """Print the JSON Schema of the data files. Example: repatriate data schema > schema.json"""
    from .rulebase.loader import json_schema
    from .render.route import to_json

    _emit(to_json(json_schema()))


@data_app.command("coverage")
def data_coverage(
    fmt: str = typer.Option("table", "--format", help="table or json."),
    as_of: Optional[str] = AS_OF,
    data_dir: Optional[Path] = DATA_DIR,
) -> None:
    """Per province: local rules, QFLP cities, sourced and unverified facts; sources by tier.

    Example: repatriate data coverage
    """
    from .engine.browse import show_coverage
    from .engine.profile import parse_date

    _emit(show_coverage(_rulebase(data_dir), _choice("format", fmt, ("table", "json")), parse_date(as_of)))


# --- entry point ----------------------------------------------------------------------


def _run(group_main, args, kwargs) -> int:
    """Run the command group; map every failure to its exit code and one line on stderr."""
    try:  # typer >= 0.26 vendors click; older releases use click itself
        from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
    except ImportError:  # pragma: no cover
        from click.exceptions import ClickException, NoArgsIsHelpError, UsageError

    from .errors import RepatriateError, short_message
    from .files import Interrupted

    try:
        result = group_main(args=args, standalone_mode=False, **kwargs)
        return result if isinstance(result, int) else 0
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        return 130
    except NoArgsIsHelpError as exc:
        typer.echo(exc.format_message())
        return 0
    except ClickException as exc:
        typer.echo(f"error: {short_message(exc.format_message())}", err=True)
        return 2 if isinstance(exc, UsageError) else exc.exit_code
    except RepatriateError as exc:
        typer.echo(f"error: {short_message(_word(exc))}", err=True)
        return 2
    except Interrupted as exc:  # SIGTERM/SIGHUP: temp files are gone already; no traceback
        return 128 + exc.signum
    except BrokenPipeError:
        return 0
    except Exception as exc:  # unexpected: one line unless --debug
        if _STATE["debug"] or "--debug" in (args or sys.argv):
            raise
        message = short_message(str(exc))
        typer.echo(f"error: unexpected {type(exc).__name__}: {message} (run with --debug for the traceback)",
                   err=True)
        return 1


# the library names a field; the command line names the option a user typed
_FLAGS = {
    "overlay": "--data-dir", "asset_class": "--asset-class", "sector": "--sector", "province": "--province",
    "city": "--city", "amount": "--amount", "currency": "--currency", "holder_type": "--holder-type",
    "net_assets": "--net-assets", "term_months": "--term-months", "spv_owner": "--spv-owner",
    "as_of": "--as-of", "objective": "--optimize", "top": "--top", "language": "--lang", "format": "--format",
}


def _word(exc: Exception) -> str:
    """One line for a library error, in terms of this command's options."""
    from .errors import DataError
    from .files import OutputExists

    if isinstance(exc, OutputExists):  # as route, compare and batch all word it
        return f"-o: {exc.path} exists (use --force to overwrite it)"
    if isinstance(exc, DataError) and len(exc.problems) > 1:
        more = len(exc.problems) - 1
        return f"rule base is invalid: {exc.problems[0]} (and {more} more; run `repatriate data validate`)"
    message = " ".join(str(exc).split())  # one line, whatever the library said
    flag = _FLAGS.get(getattr(exc, "field", None) or "")
    if flag is None or flag in message:
        return message
    words = exc.field.replace("_", " ")  # type: ignore[attr-defined]
    if message.startswith(words + " "):  # "top 0 must be ..." -> "--top 0 must be ..."
        return flag + message[len(words):]
    return f"{flag}: {message}"


def main() -> None:
    """Console entry point."""
    sys.exit(_run(typer.main.get_command(app).main, None, {"prog_name": "repatriate"}))

"""The command line: parse options, call one library function, hand the result to a renderer.

Usage errors and ``RepatriateError`` become one line on stderr and exit 2.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
import typer.core

from . import __version__
from .vocab import ASSET_CLASSES, DISTRIBUTIONS, HOLDER_TYPES, SPV_OWNERS
from .vocab import TECH_SME as TECH_SMES


class _Group(typer.core.TyperGroup):
    """The root group: one-line errors, exit 2 for usage and input problems, also under CliRunner."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # noqa: D102
        if not standalone_mode:
            return super().main(
                args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False, **extra
            )
        code = _run(super().main, args, {"prog_name": prog_name or "repatriate", "complete_var": complete_var, **extra})
        sys.exit(code)


# -h as well as --help, on every command (subcommands inherit the root's context settings)
CONTEXT = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(
    cls=_Group,
    help="Plan the legal routes that bring offshore (HK SPV / RWA token) proceeds back to mainland China.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion; values complete from the rule base
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings=CONTEXT,
)
data_app = typer.Typer(
    help="Check and describe the rule base.", no_args_is_help=True, context_settings=CONTEXT
)
app.add_typer(data_app, name="data")

_STATE = {"debug": False}

def _version(value: bool) -> None:
    if value:
        typer.echo(f"repatriate {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of unexpected errors."),
) -> None:
    _STATE["debug"] = debug


def _choice(name: str, value: str, accepted: tuple[str, ...]) -> str:
    from .errors import RepatriateError

    if value not in accepted:
        raise RepatriateError.choice(name, value, accepted)
    return value


def _count(name: str, value: str) -> int:
    from .engine.profile import parse_integer

    return parse_integer(name, value)


def _rulebase(data_dir: Path | None):
    from .api import load_rulebase

    return load_rulebase(overlay=data_dir)


def _console():
    from rich.console import Console

    return Console(no_color=bool(os.environ.get("NO_COLOR")) or None, highlight=False)


def _emit(text: str, output: str | None = None, force: bool = False) -> None:
    if output and output != "-":
        from .files import write_text

        # an existing file: OutputExists, worded by _word as every command words it
        write_text(output, text if text.endswith("\n") else text + "\n", force=force)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _emit_bytes(data: bytes, output: str | None, force: bool) -> None:
    """A binary output (PDF) to -o FILE atomically; to stdout only when it is not a terminal."""
    from .errors import RepatriateError

    if output and output != "-":
        from .files import OutputExists, atomic_write

        try:
            with atomic_write(output, force=force, mode="wb") as fh:
                fh.write(data)
        except OutputExists as exc:
            raise RepatriateError(f"{exc.path} exists (use --force to overwrite it)") from None
    elif sys.stdout.isatty():
        raise RepatriateError("a PDF is not for a terminal: give -o FILE.pdf (or pipe it)", field="format")
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)


# --- route ------------------------------------------------------------------------

# --- conventions: choices in help, completion from the rule base (issue 13 item 9) --------------------
# Choices show as a metavar ("--asset-class [equity|abs|debt]") and complete in the shell; the library
# checks the value, so the error names the accepted ones in the house style (and "EQUITY" still reads).


def _metavar(values: tuple[str, ...]) -> str:
    return "[" + "|".join(values) + "]"


def _fixed(values: tuple[str, ...]):
    def complete(incomplete: str) -> list[str]:
        return [v for v in values if v.startswith(incomplete)]

    return complete


def _from_rulebase(kind: str):
    """A completion callback over the rule base's ids, loaded only when the shell asks."""

    def complete(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
        try:
            rb = _rulebase(ctx.params.get("data_dir"))
        except Exception:  # a broken overlay: no completion rather than a traceback in the shell
            return []
        if kind == "province":
            items = [(c, p.name.en) for c, p in sorted(rb.provinces.items())]
        elif kind == "city":
            wanted = ctx.params.get("province")
            if isinstance(wanted, (list, tuple)):  # compare repeats --province: the last one
                wanted = wanted[-1] if wanted else None
            if isinstance(wanted, str):
                from .engine.profile import Places

                try:
                    wanted = Places(rb).province(wanted)  # 广东, Guangdong and CN-GD alike
                except Exception:
                    wanted = None
            else:
                wanted = None
            items = [(cid, f"{city.name.en} ({code})") for code, p in sorted(rb.provinces.items())
                     if wanted in (None, code) for cid, city in p.cities.items()]
        elif kind == "sector":
            items = [(sid, sec.name.en) for sid, sec in sorted(rb.sectors.items())]
        elif kind == "channel":
            items = [(cid, ch.name.en) for cid, ch in rb.channels.items()]
        else:
            items = [(d, doc.name.en) for d, doc in rb.documents.items()]
        low = incomplete.lower()
        return [(k, h) for k, h in items if k.lower().startswith(low)]

    return complete


LANGS = ("en", "zh")
ROUTE_FORMATS = ("table", "json", "md", "csv")
COMPARE_FORMATS = ("table", "md", "html", "json", "pdf")
BROWSE_FORMATS = ("table", "json", "csv", "md")
OBJECTIVES = ("balanced", "speed", "cost", "certainty")  # engine.search.OBJECTIVES (a test keeps them equal)

AS_OF = typer.Option(None, "--as-of", help="Rules in force on this date (YYYY-MM-DD); default today.")
DATA_DIR = typer.Option(None, "--data-dir", help="A folder of YAML files overlaid on the packaged rule base.")
LANG = typer.Option(
    "en", "--lang", envvar="REPATRIATE_LANG", metavar=_metavar(LANGS), autocompletion=_fixed(LANGS),
    help="en or zh (default: $REPATRIATE_LANG, else en).",
)
# profile options shared by route and compare (and named as batch's columns)
ASSET_CLASS = typer.Option(
    ..., "--asset-class", metavar=_metavar(ASSET_CLASSES), autocompletion=_fixed(ASSET_CLASSES),
    help="The token's class under CSRC Announcement [2026] No. 1.",
)
AMOUNT = typer.Option(..., "--amount", help="Amount raised, in units of --currency.")
SECTOR = typer.Option(
    None, "--sector", autocompletion=_from_rulebase("sector"),
    help="e.g. renewable_energy; `repatriate sectors` lists them with their negative-list status.",
)
CURRENCY = typer.Option("USD", "--currency", help="ISO 4217 code; CNH allowed.")
HOLDER_TYPE = typer.Option(
    "private", "--holder-type", metavar=_metavar(HOLDER_TYPES), autocompletion=_fixed(HOLDER_TYPES),
    help="The asset holder.",
)
NET_ASSETS = typer.Option(None, "--net-assets", help="Asset holder's net assets, same currency as --amount.")
TERM_MONTHS = typer.Option(None, "--term-months", help="Term of the tokens (debt class), in months.")
SPV_OWNER = typer.Option(
    "group", "--spv-owner", metavar=_metavar(SPV_OWNERS), autocompletion=_fixed(SPV_OWNERS),
    help="group (the mainland group owns the SPV: ODI filings), third_party, or individual "
    "(mainland individuals: SAFE Circular 37 registration).",
)
DISTRIBUTION = typer.Option(
    "vatp", "--distribution", metavar=_metavar(DISTRIBUTIONS), autocompletion=_fixed(DISTRIBUTIONS),
    help="vatp (tokens admitted to an SFC-licensed VATP) or intermediary (a licensed broker).",
)
# an FIE's foreign-debt models (投注差) and the holder's age (the first-year bar): wt-places
TOTAL_INVESTMENT = typer.Option(
    None, "--total-investment", help="An FIE's approved total investment, same currency as --amount."
)
REGISTERED_CAPITAL = typer.Option(
    None, "--registered-capital", help="The asset holder's registered capital, same currency as --amount."
)
HOLDER_FOUNDED = typer.Option(None, "--holder-founded", help="The asset holder's founding date (YYYY-MM-DD).")
# --- issue 10: the group's scale last year (the cash pool's thresholds), same currency as --amount
GROUP_REVENUE = typer.Option(
    None, "--group-revenue", help="Onshore group members' operating revenue last year (cash pool test)."
)
GROUP_FLOWS = typer.Option(
    None, "--group-cross-border-flows", help="Onshore members' cross-border receipts plus payments last year."
)
GROUP_OFFSHORE = typer.Option(
    None, "--group-offshore-revenue", help="Offshore group members' operating revenue last year."
)
# money and time (issue 11)
PAYOUT = typer.Option(
    None, "--payout", help="annual, semiannual, quarterly, monthly or bullet; default by asset class."
)
YIELD = typer.Option(
    None, "--yield", help="The token's annual coupon or distribution rate, in percent (e.g. 6)."
)
FX_SPREAD = typer.Option(
    None, "--fx-spread-bps", help="FX conversion spread in basis points (each conversion)."
)
PREFERENTIAL_EIT = typer.Option(
    None,
    "--preferential-eit",
    help="yes: the onshore company qualifies for its place's 15% EIT zone (sector, substance).",
)
START = typer.Option(
    None, "--start", help="Start date (YYYY-MM-DD): dates for the critical path and the payouts."
)
# issue 12: SAFE's foreign-debt facilitation quota for qualifying SMEs (a capacity whatever the net assets)
TECH_SME = typer.Option(
    None, "--tech-sme", metavar=_metavar(TECH_SMES), autocompletion=_fixed(TECH_SMES),
    help="Is the asset holder a high-tech, 专精特新 or technology-based SME? qualified, "
    "innovation_points (also selected under the innovation-points system), or no.",
)
OPTIMIZE = typer.Option(
    "balanced", "--optimize", metavar=_metavar(OBJECTIVES), autocompletion=_fixed(OBJECTIVES),
    help="What ranks first.",
)
FORCE = typer.Option(False, "--force", help="Overwrite an existing -o FILE.")
PROVINCE_HELP = "CN-GD, Guangdong, 广东 or 廣東."
CITY_HELP = "Pinyin city id, e.g. shenzhen."


def _browse_format(default: str = "table"):
    return typer.Option(
        None, "--format", metavar=_metavar(BROWSE_FORMATS), autocompletion=_fixed(BROWSE_FORMATS),
        help="Default from the -o extension, else table.",
    )


BROWSE_OUTPUT = typer.Option(None, "-o", "--output", help="Write to FILE (atomically); - for stdout.")

# the format an -o FILE's extension names (route, compare and the browse commands; batch has its own)
EXTENSION_FORMATS = {".json": "json", ".md": "md", ".markdown": "md", ".csv": "csv", ".html": "html",
                     ".htm": "html", ".pdf": "pdf", ".txt": "table"}


def _infer_format(fmt: str | None, output: str | None, accepted: tuple[str, ...]) -> str:
    """--format if given, else the -o FILE's extension, else a table; checked against ``accepted``."""
    from .errors import RepatriateError

    if fmt is None and output and output != "-":
        ext = Path(output).suffix.lower()
        fmt = EXTENSION_FORMATS.get(ext)
        if fmt is None or fmt not in accepted:
            shown = ", ".join(e for e, f in EXTENSION_FORMATS.items() if f in accepted and f != "table")
            raise RepatriateError(
                f"cannot tell the format of {output!r} (accepted: {shown}, or --format)", field="output"
            )
    return _choice("format", fmt or "table", accepted)


@app.command()
def route(
    asset_class: str = ASSET_CLASS,
    province: str = typer.Option(
        ..., "--province", autocompletion=_from_rulebase("province"), help=PROVINCE_HELP
    ),
    amount: str = AMOUNT,
    sector: str | None = SECTOR,
    city: str | None = typer.Option(None, "--city", autocompletion=_from_rulebase("city"), help=CITY_HELP),
    currency: str = CURRENCY,
    holder_type: str = HOLDER_TYPE,
    net_assets: str | None = NET_ASSETS,
    term_months: str | None = TERM_MONTHS,
    spv_owner: str = SPV_OWNER,
    distribution: str = DISTRIBUTION,
    total_investment: str | None = TOTAL_INVESTMENT,
    registered_capital: str | None = REGISTERED_CAPITAL,
    holder_founded: str | None = HOLDER_FOUNDED,
    group_revenue: str | None = GROUP_REVENUE,
    group_cross_border_flows: str | None = GROUP_FLOWS,
    group_offshore_revenue: str | None = GROUP_OFFSHORE,
    payout: str | None = PAYOUT,
    yield_pct: str | None = YIELD,
    fx_spread_bps: str | None = FX_SPREAD,
    preferential_eit: str | None = PREFERENTIAL_EIT,
    tech_sme: str | None = TECH_SME,
    start: str | None = START,
    as_of: str | None = AS_OF,
    optimize: str = OPTIMIZE,
    top: str = typer.Option("10", "--top", help="How many routes to show."),
    lang: str = LANG,
    fmt: str | None = typer.Option(
        None, "--format", metavar=_metavar(ROUTE_FORMATS), autocompletion=_fixed(ROUTE_FORMATS),
        help="Default from the -o extension (.json, .md, .csv), else table.",
    ),
    explain: bool = typer.Option(False, "--explain", help="Show excluded routes and why."),
    data_dir: Path | None = DATA_DIR,
    output: str | None = typer.Option(
        None, "-o", "--output", help="Write to FILE (atomically); - for stdout."
    ),
    force: bool = FORCE,
) -> None:
    """Rank the routes for one asset.

    Example: repatriate route --asset-class equity --sector renewable_energy
    --province 广东 --city shenzhen --amount 50000000 --currency USD --explain
    """
    from .api import plan_route
    from .render.route import render_plan, render_table

    if fmt is None and output and Path(output).suffix.lower() in (".html", ".htm", ".pdf"):
        from .errors import RepatriateError

        raise RepatriateError(
            f"route writes table, json, md or csv; for {Path(output).suffix} use `repatriate compare`",
            field="output",
        )
    fmt = _infer_format(fmt, output, ROUTE_FORMATS)
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
        total_investment=total_investment,
        registered_capital=registered_capital,
        holder_founded=holder_founded,
        group_revenue=group_revenue,
        group_cross_border_flows=group_cross_border_flows,
        group_offshore_revenue=group_offshore_revenue,
        payout=payout,
        yield_pct=yield_pct,
        fx_spread_bps=fx_spread_bps,
        preferential_eit=preferential_eit,
        start=start,
        tech_sme=tech_sme,
    )
    if fmt == "table" and not (output and output != "-"):
        render_table(plan, rb, lang, explain, console=_console())
    else:
        _emit(render_plan(plan, rb, fmt, lang, explain=explain), output, force)


# --- calendar (issue 11) -----------------------------------------------------------


@app.command()
def calendar(
    asset_class: str = ASSET_CLASS,
    province: str = typer.Option(..., "--province", help="CN-GD, Guangdong, 广东 or 廣東."),
    amount: str = AMOUNT,
    start: str = typer.Option(..., "--start", help="Start date (YYYY-MM-DD) of the route."),
    sector: str | None = SECTOR,
    city: str | None = typer.Option(None, "--city", help="Pinyin city id, e.g. shenzhen."),
    currency: str = CURRENCY,
    holder_type: str = HOLDER_TYPE,
    net_assets: str | None = NET_ASSETS,
    term_months: str | None = TERM_MONTHS,
    spv_owner: str = SPV_OWNER,
    distribution: str = DISTRIBUTION,
    payout: str | None = PAYOUT,
    rank: int = typer.Option(1, "--rank", help="Which ranked route (1 = the best)."),
    as_of: str | None = AS_OF,
    optimize: str = OPTIMIZE,
    lang: str = LANG,
    fmt: str | None = typer.Option(
        None, "--format", help="ics, csv or json; default from the -o extension, else json."
    ),
    data_dir: Path | None = DATA_DIR,
    output: str | None = typer.Option(
        None, "-o", "--output", help="plan.ics, plan.csv or plan.json; default stdout."
    ),
    force: bool = FORCE,
) -> None:
    """The obligations calendar of a route: every recurring duty after the money arrives, dated.

    Example: repatriate calendar --asset-class debt --province CN-GD --city shenzhen
    --amount 50000000 --term-months 36 --start 2026-03-02 -o plan.ics
    """
    from .api import plan_route
    from .render.money import write_calendar

    _choice("language", lang, LANGS)
    kind = fmt or (Path(output).suffix.lstrip(".").lower() if output and output != "-" else "json")
    _choice("format", kind, ("ics", "csv", "json"))
    rb = _rulebase(data_dir)
    plan = plan_route(
        rb, as_of=as_of, optimize=optimize, top=max(rank, 1), asset_class=asset_class, sector=sector,
        province=province, city=city, amount=amount, currency=currency, holder_type=holder_type,
        net_assets=net_assets, term_months=term_months, spv_owner=spv_owner, distribution=distribution,
        payout=payout, start=start,
    )
    data = write_calendar(plan, rb, rank, kind, lang)
    if output and output != "-":
        from .errors import RepatriateError
        from .files import OutputExists, atomic_write

        try:
            with atomic_write(output, force=force, mode="wb") as fh:
                fh.write(data)
        except OutputExists as exc:
            raise RepatriateError(f"{exc.path} exists (use --force to overwrite it)") from None
    else:
        sys.stdout.write(data.decode("utf-8"))


# --- allocate (issue 12) -----------------------------------------------------------


def _import_solver() -> None:
    try:
        import highspy  # noqa: F401
    except ImportError:  # the library says so where it needs it
        pass


ALLOCATE_FORMATS = ("table", "json", "md", "html", "pdf")


@app.command()
def allocate(
    asset_class: str = ASSET_CLASS,
    province: str = typer.Option(
        ..., "--province", autocompletion=_from_rulebase("province"), help=PROVINCE_HELP
    ),
    amount: str = AMOUNT,
    sector: str | None = SECTOR,
    city: str | None = typer.Option(None, "--city", autocompletion=_from_rulebase("city"), help=CITY_HELP),
    currency: str = CURRENCY,
    holder_type: str = HOLDER_TYPE,
    net_assets: str | None = NET_ASSETS,
    term_months: str | None = TERM_MONTHS,
    spv_owner: str = SPV_OWNER,
    distribution: str = DISTRIBUTION,
    total_investment: str | None = TOTAL_INVESTMENT,
    registered_capital: str | None = REGISTERED_CAPITAL,
    holder_founded: str | None = HOLDER_FOUNDED,
    group_revenue: str | None = GROUP_REVENUE,
    group_cross_border_flows: str | None = GROUP_FLOWS,
    group_offshore_revenue: str | None = GROUP_OFFSHORE,
    payout: str | None = PAYOUT,
    yield_pct: str | None = YIELD,
    fx_spread_bps: str | None = FX_SPREAD,
    preferential_eit: str | None = PREFERENTIAL_EIT,
    tech_sme: str | None = TECH_SME,
    start: str | None = START,
    by: str | None = typer.Option(None, "--by", help="Deadline (YYYY-MM-DD): weeks past it cost more."),
    max_channels: str = typer.Option("3", "--max-channels", help="At most this many legs."),
    listed_market_cap: str | None = typer.Option(
        None, "--listed-market-cap", help="A listed holder's market value (the QFII ownership caps)."
    ),
    as_of: str | None = AS_OF,
    lang: str = LANG,
    fmt: str | None = typer.Option(
        None, "--format", metavar=_metavar(ALLOCATE_FORMATS), autocompletion=_fixed(ALLOCATE_FORMATS),
        help="Default from the -o extension (.json, .md, .html, .pdf), else table.",
    ),
    data_dir: Path | None = DATA_DIR,
    output: str | None = typer.Option(
        None, "-o", "--output", help="Write to FILE (atomically); - for stdout."
    ),
    force: bool = FORCE,
) -> None:
    """Split a large amount across channels: how much through which leg, by when, at what cost.

    Example: repatriate allocate --asset-class equity --province 广东 --amount 400000000
    --net-assets 100000000 --yield 5 --max-channels 3
    """
    import threading

    # the solver's import (highspy and numpy, ~0.1 s) overlaps loading the rule base and the searches
    threading.Thread(target=_import_solver, daemon=True).start()
    from .api import allocate as plan_allocation
    from .render.allocate import render_allocation, render_pdf

    fmt = _infer_format(fmt, output, ALLOCATE_FORMATS)
    _choice("language", lang, LANGS)
    rb = _rulebase(data_dir)
    result = plan_allocation(
        rb, as_of=as_of, by=by, max_channels=_count("max_channels", max_channels),
        listed_market_cap=listed_market_cap, asset_class=asset_class, sector=sector, province=province,
        city=city, amount=amount, currency=currency, holder_type=holder_type, net_assets=net_assets,
        term_months=term_months, spv_owner=spv_owner, distribution=distribution,
        total_investment=total_investment, registered_capital=registered_capital,
        holder_founded=holder_founded, group_revenue=group_revenue,
        group_cross_border_flows=group_cross_border_flows, group_offshore_revenue=group_offshore_revenue,
        payout=payout, yield_pct=yield_pct, fx_spread_bps=fx_spread_bps, preferential_eit=preferential_eit,
        start=start, tech_sme=tech_sme,
    )
    if fmt == "pdf":
        _emit_bytes(render_pdf(result, rb, lang), output, force)
    else:
        _emit(render_allocation(result, rb, fmt, lang), output, force)


# --- batch ------------------------------------------------------------------------


@app.command()
def batch(
    portfolio: str | None = typer.Argument(
        None, help="CSV (UTF-8, GB18030, Big5; UTF-16/32 with BOM), XLSX or JSONL file; - for stdin."
    ),
    output: str | None = typer.Option(
        None, "-o", "--output", help="Result file (.csv, .xlsx, .jsonl); default stdout."
    ),
    fmt: str | None = typer.Option(
        None, "--format", metavar="[csv|xlsx|jsonl]", help="Default from the -o extension, else csv."
    ),
    encoding: str | None = typer.Option(
        None, "--encoding", help="Encoding of a CSV/JSONL portfolio; detected when omitted."
    ),
    input_format: str | None = typer.Option(
        None, "--input-format", metavar="[csv|xlsx|jsonl]", help="Detected when omitted."
    ),
    sheet: str | None = typer.Option(
        None, "--sheet", help="XLSX sheet to read; needed when several sheets hold data."
    ),
    top: int = typer.Option(1, "--top", help="Routes per asset; above 1 adds a `routes` list (JSONL only)."),
    as_of: str | None = AS_OF,
    optimize: str = OPTIMIZE,
    summary_json: str | None = typer.Option(
        None, "--summary-json",
        help="Also write the summary (with as-of, digest, version) to FILE; - for stdout.",
    ),
    excel: bool = typer.Option(
        False, "--excel", help="CSV for Excel: UTF-8 with a byte-order mark, so a Chinese locale reads it."
    ),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when any row is an error row."),
    force: bool = FORCE,
    schema: bool = typer.Option(False, "--schema", help="Print the JSON Schema of a result row and exit."),
    allocate: bool = typer.Option(
        False, "--allocate", help="Split each amount across channels (as `allocate`): a row per leg."
    ),
    by: str | None = typer.Option(
        None, "--by", help="With --allocate: deadline (YYYY-MM-DD) for rows without a by column."
    ),
    max_channels: str | None = typer.Option(
        None, "--max-channels", help="With --allocate: at most this many legs (default 3; column max_channels)."
    ),
    listed_market_cap: str | None = typer.Option(
        None, "--listed-market-cap",
        help="With --allocate: a listed holder's market value (the QFII caps; column listed_market_cap).",
    ),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Plan every asset of a portfolio: one result row per input row, errors included.

    Columns: asset_class, province and amount (required), sector, city, currency,
    holder_type, net_assets, term_months, spv_owner, distribution, total_investment,
    registered_capital, holder_founded, group_revenue, group_cross_border_flows,
    group_offshore_revenue, payout, yield_pct, fx_spread_bps, preferential_eit, start
    (snake_case); asset_id, label and any other column pass through (an input column
    named like a result column, e.g. status, comes out as input_status). In a
    ';'-separated CSV the decimal mark is a comma. Each row gets status (ok, no_route or
    error), reason, warnings, weeks, unknown_steps, the typical weeks, cost and net yield,
    as_of, rulebase_digest and tool_version. A summary goes to stderr. -o FILE is written
    when the batch has finished; it may not be the portfolio.

    With --allocate, each asset's amount is split across channels as `repatriate allocate`
    does, and each leg gets a row keyed by asset_id and leg (status ok, partial, no_route or
    error; leg_amount, share, capacity, binds, cost, weeks; the asset's placed, unplaced and
    binding on each). Columns by, max_channels and listed_market_cap override the options.

    Example: repatriate batch portfolio.csv -o results.xlsx --as-of 2026-03-01
    """
    from .batch.run import run_batch
    from .errors import RepatriateError
    from .files import check_target, same_path, write_text
    from .render.route import to_json

    if not allocate:
        for flag, value in (("--by", by), ("--max-channels", max_channels), ("--listed-market-cap", listed_market_cap)):
            if value is not None:
                raise RepatriateError(f"{flag} applies to --allocate (accepted: add --allocate, or drop {flag})")
    if schema:
        from .batch.schema import leg_row_schema, result_row_schema

        _emit(to_json(leg_row_schema() if allocate else result_row_schema()))
        return
    if portfolio is None:
        raise RepatriateError("PORTFOLIO: missing (required: a CSV, XLSX or JSONL file, or - for stdin)")
    to_stdout = not output or output == "-"
    if summary_json is not None:
        if summary_json == "-" and to_stdout:
            raise RepatriateError("--summary-json - and the results would share stdout (accepted: -o FILE)")
        if summary_json != "-":
            if not to_stdout and output is not None and same_path(summary_json, output):
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
            force=force, excel=excel, allocate=allocate, by=by,
            max_channels=3 if max_channels is None else max_channels, listed_market_cap=listed_market_cap,
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
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False),
            TextColumn("{task.completed:,} rows"),
            TimeElapsedColumn(),
            console=console, transient=True, auto_refresh=False,
        )
        self._task = self._progress.add_task(clean_text(name, multiline=False), total=None)
        self._progress.start()

    def update(self, rows: int) -> None:
        self._progress.update(self._task, completed=rows, refresh=True)

    def close(self) -> None:
        self._progress.stop()


def _batch_progress(name: str) -> _BatchBar | None:
    # Only for a person watching: a pipe or a log file gets nothing but the summary.
    return _BatchBar(name) if sys.stderr.isatty() else None


# --- compare ----------------------------------------------------------------------


@app.command()
def compare(
    asset_class: str = ASSET_CLASS,
    amount: str = AMOUNT,
    province: list[str] | None = typer.Option(
        None, "--province", metavar="PROVINCE", autocompletion=_from_rulebase("province"),
        help="Repeat to compare places: " + PROVINCE_HELP,
    ),
    city: list[str] | None = typer.Option(
        None, "--city", metavar="CITY", autocompletion=_from_rulebase("city"),
        help="Repeat to compare cities, e.g. --city shenzhen --city hengqin.",
    ),
    sector: str | None = SECTOR,
    currency: str = CURRENCY,
    holder_type: str = HOLDER_TYPE,
    net_assets: str | None = NET_ASSETS,
    term_months: str | None = TERM_MONTHS,
    spv_owner: str = SPV_OWNER,
    distribution: str = DISTRIBUTION,
    total_investment: str | None = TOTAL_INVESTMENT,
    registered_capital: str | None = REGISTERED_CAPITAL,
    holder_founded: str | None = HOLDER_FOUNDED,
    group_revenue: str | None = GROUP_REVENUE,
    group_cross_border_flows: str | None = GROUP_FLOWS,
    group_offshore_revenue: str | None = GROUP_OFFSHORE,
    payout: str | None = PAYOUT,
    yield_pct: str | None = YIELD,
    fx_spread_bps: str | None = FX_SPREAD,
    preferential_eit: str | None = PREFERENTIAL_EIT,
    tech_sme: str | None = TECH_SME,
    as_of: str | None = AS_OF,
    optimize: str = OPTIMIZE,
    top: int = typer.Option(4, "--top", help="How many routes to compare per place."),
    label: str | None = typer.Option(None, "--label", help="Title of the report: the client's or the asset's name."),
    prepared_for: str | None = typer.Option(None, "--prepared-for", help="Who the report is for."),
    prepared_by: str | None = typer.Option(None, "--prepared-by", help="Who prepared it (first page)."),
    lang: str = LANG,
    fmt: str | None = typer.Option(
        None, "--format", metavar=_metavar(COMPARE_FORMATS), autocompletion=_fixed(COMPARE_FORMATS),
        help="Default from the -o extension (.html, .md, .json, .pdf), else table.",
    ),
    output: str | None = typer.Option(
        None, "-o", "--output", help="Write the report to FILE (atomically); - for stdout."
    ),
    force: bool = FORCE,
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Compare the top routes side by side, with a checklist per route, in one place or several.

    Example: repatriate compare --asset-class equity --sector renewable_energy
    --amount 50000000 --province CN-GD --province CN-HI --province CN-SH
    --label "Acme Solar" --format html -o acme.html
    """
    from .engine.compare import compare as compare_report
    from .render.escape import clean_text
    from .render.report import FORMATS, render, render_pdf, render_table

    explicit = fmt is not None
    fmt = _infer_format(fmt, output, COMPARE_FORMATS)
    if fmt not in FORMATS:  # pdf, before its renderer lands: say so before any work
        from .errors import RepatriateError

        raise RepatriateError(
            f"{fmt} output is not available in this version (accepted: {', '.join(FORMATS)})",
            field="format" if explicit else "output",
        )
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
            "total_investment": total_investment,
            "registered_capital": registered_capital,
            "holder_founded": holder_founded,
            "group_revenue": group_revenue,
            "group_cross_border_flows": group_cross_border_flows,
            "group_offshore_revenue": group_offshore_revenue,
            "payout": payout,
            "yield_pct": yield_pct,
            "fx_spread_bps": fx_spread_bps,
            "preferential_eit": preferential_eit,
            "tech_sme": tech_sme,
        },
        provinces=province or [],
        cities=city or [],
        as_of=as_of,
        optimize=optimize,
        top=top,
        # an option is untrusted text too: no ESC sequence of a --label reaches a terminal
        label=None if label is None else clean_text(label, multiline=False),
        prepared_for=None if prepared_for is None else clean_text(prepared_for, multiline=False),
        prepared_by=None if prepared_by is None else clean_text(prepared_by, multiline=False),
    )
    if fmt == "pdf":
        _emit_bytes(render_pdf(report, rb, lang), output, force)
    elif fmt == "table" and not (output and output != "-"):
        render_table(report, rb, lang, console=_console())
    else:
        _emit(render(report, rb, fmt, lang), output, force)


# --- browsing ---------------------------------------------------------------------


# the browse commands share one set of output options: --format table|json|csv|md and -o FILE


@app.command()
def channels(
    channel_id: str | None = typer.Argument(
        None, autocompletion=_from_rulebase("channel"), help="A channel id, e.g. qflp."
    ),
    lang: str = LANG,
    fmt: str | None = _browse_format(),
    output: str | None = BROWSE_OUTPUT,
    force: bool = FORCE,
    data_dir: Path | None = DATA_DIR,
) -> None:
    """List the channels, or show one with its steps. Example: repatriate channels qflp"""
    from .engine.browse import show_channels

    fmt = _infer_format(fmt, output, BROWSE_FORMATS)
    text = show_channels(_rulebase(data_dir), channel_id, _choice("language", lang, LANGS), fmt)
    _emit(text, output, force)


@app.command()
def provinces(
    code: str | None = typer.Argument(
        None, autocompletion=_from_rulebase("province"), help="A province: CN-GD, Guangdong or 广东."
    ),
    lang: str = LANG,
    fmt: str | None = _browse_format(),
    output: str | None = BROWSE_OUTPUT,
    force: bool = FORCE,
    as_of: str | None = AS_OF,
    data_dir: Path | None = DATA_DIR,
) -> None:
    """List the provinces, or show one with its cities and pilots. Example: repatriate provinces 广东"""
    from .engine.browse import show_provinces
    from .engine.profile import parse_date

    fmt = _infer_format(fmt, output, BROWSE_FORMATS)
    text = show_provinces(_rulebase(data_dir), code, _choice("language", lang, LANGS), fmt, parse_date(as_of))
    _emit(text, output, force)


@app.command()
def documents(
    doc_id: str | None = typer.Argument(
        None, autocompletion=_from_rulebase("document"), help="A document id."
    ),
    lang: str = LANG,
    fmt: str | None = _browse_format(),
    output: str | None = BROWSE_OUTPUT,
    force: bool = FORCE,
    data_dir: Path | None = DATA_DIR,
) -> None:
    """List the documents steps need, or show one. Example: repatriate documents ndrc_registration_certificate"""
    from .engine.browse import show_documents

    fmt = _infer_format(fmt, output, BROWSE_FORMATS)
    _emit(show_documents(_rulebase(data_dir), doc_id, _choice("language", lang, LANGS), fmt), output, force)


@app.command()
def sources(
    lang: str = LANG,
    fmt: str | None = _browse_format(),
    output: str | None = BROWSE_OUTPUT,
    force: bool = FORCE,
    unverified: bool = typer.Option(False, "--unverified", help="Only sources marked unverified."),
    weak: bool = typer.Option(
        False, "--weak", help="Facts whose best source is below law-firm tier (news, listing)."
    ),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """List every text the rule base cites, with its tier. Example: repatriate sources --weak"""
    from .engine.browse import show_sources

    fmt = _infer_format(fmt, output, BROWSE_FORMATS)
    text = show_sources(_rulebase(data_dir), _choice("language", lang, LANGS), fmt, unverified, weak)
    _emit(text, output, force)


@app.command()
def sectors(
    lang: str = LANG,
    fmt: str | None = _browse_format(),
    output: str | None = BROWSE_OUTPUT,
    force: bool = FORCE,
    as_of: str | None = AS_OF,
    data_dir: Path | None = DATA_DIR,
) -> None:
    """List the sector vocabulary (--sector's values) with the negative list's status on --as-of.

    Example: repatriate sectors --as-of 2026-03-01
    """
    from .engine.browse import show_sectors
    from .engine.profile import parse_date

    fmt = _infer_format(fmt, output, BROWSE_FORMATS)
    text = show_sectors(_rulebase(data_dir), _choice("language", lang, LANGS), fmt, parse_date(as_of))
    _emit(text, output, force)


@app.command()
def graph(
    fmt: str = typer.Option("json", "--format", help="dot, graphml or json."),
    as_of: str | None = AS_OF,
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Print the graph of structures and channels. Example: repatriate graph --format dot"""
    from .engine.browse import export_graph
    from .engine.profile import parse_date

    _emit(export_graph(_rulebase(data_dir), _choice("format", fmt, ("dot", "graphml", "json")), parse_date(as_of)))


# --- data -------------------------------------------------------------------------


@data_app.command("validate")
def data_validate(data_dir: Path | None = DATA_DIR) -> None:
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
    from .render.route import to_json
    from .rulebase.loader import json_schema

    _emit(to_json(json_schema()))


@data_app.command("coverage")
def data_coverage(
    fmt: str = typer.Option("table", "--format", help="table or json."),
    as_of: str | None = AS_OF,
    lang: str = LANG,
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Per province: local rules, QFLP cities, sourced and unverified facts; sources by tier.

    Example: repatriate data coverage
    """
    from .engine.browse import show_coverage
    from .engine.profile import parse_date

    fmt = _choice("format", fmt, ("table", "json"))
    _emit(show_coverage(_rulebase(data_dir), fmt, parse_date(as_of), _choice("language", lang, LANGS)))


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
        typer.echo(_error_line(short_message(_click_line(exc)), args), err=True)
        return 2 if isinstance(exc, UsageError) else exc.exit_code
    except RepatriateError as exc:
        typer.echo(_error_line(short_message(_word(exc)), args), err=True)
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
    "total_investment": "--total-investment", "registered_capital": "--registered-capital",
    "holder_founded": "--holder-founded",
    "group_revenue": "--group-revenue", "group_cross_border_flows": "--group-cross-border-flows",
    "group_offshore_revenue": "--group-offshore-revenue",
    "payout": "--payout", "yield": "--yield", "yield_pct": "--yield", "fx_spread_bps": "--fx-spread-bps",
    "preferential_eit": "--preferential-eit", "start": "--start", "tech_sme": "--tech-sme",
    "as_of": "--as-of", "objective": "--optimize", "top": "--top", "language": "--lang", "format": "--format",
    "distribution": "--distribution", "output": "-o", "input_format": "--input-format",
    "encoding": "--encoding", "sheet": "--sheet",
}


def _click_line(exc: Exception) -> str:
    """click's usage errors in the house style, "<flag>: <message>", with one suggestion at most."""
    import difflib
    import re

    try:
        from typer._click import exceptions as ce
    except ImportError:  # pragma: no cover
        from click import exceptions as ce

    message = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
    if isinstance(exc, ce.NoSuchOption):
        hint = f" (did you mean {exc.possibilities[0]}?)" if exc.possibilities else ""
        return f"{exc.option_name}: no such option{hint}"
    if isinstance(exc, ce.MissingParameter) and exc.param is not None:
        name = exc.param.opts[0] if exc.param.opts else exc.param.name.upper()  # type: ignore[union-attr]
        return f"{name}: missing (required)"
    if isinstance(exc, ce.BadParameter) and exc.param is not None:
        name = exc.param.opts[0] if exc.param.opts else exc.param.name  # type: ignore[union-attr]
        return f"{name}: {exc.message}"
    unknown = re.match(r"No such command '([^']*)'", message)
    if unknown:  # click and typer each add a "Did you mean": say it once
        word = unknown.group(1)
        ctx = getattr(exc, "ctx", None)
        names = list(getattr(ctx.command, "commands", {})) if ctx is not None else []
        close = difflib.get_close_matches(word, names, n=1)
        return f"{word}: no such command" + (f" (did you mean {close[0]}?)" if close else "")
    return message


def _word(exc: Exception) -> str:
    """One line for a library error, "<flag>: <message>", in terms of this command's options."""
    from .errors import DataError
    from .files import OutputExists

    if isinstance(exc, OutputExists):  # as route, compare and batch all word it
        return f"-o: {exc.path} exists (use --force to overwrite it)"
    if isinstance(exc, DataError) and len(exc.problems) > 1:
        more = len(exc.problems) - 1
        return f"rule base is invalid: {exc.problems[0]} (and {more} more; run `repatriate data validate`)"
    message = " ".join(str(exc).split())  # one line, whatever the library said
    field = getattr(exc, "field", None) or _field_of(message)
    flag = _FLAGS.get(field or "")
    if flag is None or message.startswith(flag):
        return message
    words = field.replace("_", " ")  # type: ignore[union-attr]
    if message.startswith(words + " "):  # "top 0 must be ..." -> "--top: 0 must be ..."
        return f"{flag}: {message[len(words) + 1:]}"
    return f"{flag}: {message}"


def _error_line(message: str, args) -> str:
    """``error: …`` in the language of ``--lang`` (or ``$REPATRIATE_LANG``): Chinese when zh."""
    argv = list(args if args is not None else sys.argv[1:])
    lang = os.environ.get("REPATRIATE_LANG", "en")
    for i, a in enumerate(argv):
        if a == "--lang" and i + 1 < len(argv):
            lang = argv[i + 1]
        elif a.startswith("--lang="):
            lang = a.split("=", 1)[1]
    if lang != "zh":
        return f"error: {message}"
    from .render.labels import error_zh

    return f"错误：{error_zh(message)}"


def _field_of(message: str) -> str | None:
    """The field a library message is about, when it did not say (``unknown sector 'x'``, ``top 0 ...``)."""
    for field in _FLAGS:
        words = field.replace("_", " ")
        if message.startswith((words + " ", f"unknown {words} ", f"missing {words} ")):
            return field
    if message.startswith("invalid date"):
        return "as_of"
    return None


def main() -> None:
    """Console entry point."""
    sys.exit(_run(typer.main.get_command(app).main, None, {"prog_name": "repatriate"}))

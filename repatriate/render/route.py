"""Render plans: the JSON contract, rich tables, Markdown and CSV.

Renderers never compute; they lay out what ``search.plan`` decided.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, NamedTuple

from ..engine.places import real_place
from ..engine.results import Exclusion, Finding, Location, Plan, Route
from ..files import safe_cell  # the one spreadsheet escaping
from ..rulebase.records import RuleBase, Text, Weeks
from .labels import (
    ASSET_CLASS_ZH,
    EXCLUDED_HEAD,
    HEAD,
    HOLDER_ZH,
    NOTICE,
    OBJECTIVE_ZH,
    ROUTE,
    STEP_HEAD,
    TIER,
    label,
)
from .units import money

SCHEMA_VERSION = "1"
FORMATS = ("table", "json", "md", "csv")


def _t(text: Text | str | None, lang: str) -> str | None:
    if text is None or isinstance(text, str):
        return text
    return text.get(lang)


def _bi(text: Text) -> dict[str, str]:
    return {"en": text.en, "zh": text.zh}


def _weeks(w: Weeks | None) -> dict[str, Any] | None:
    if w is None:
        return None
    return {"min": w.min, "max": w.max, "basis": w.basis}


def _finding(f: Finding, lang: str) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "message": f.text.get(lang),
        "text": _bi(f.text),
        "kind": f.kind,
        "verified": f.verified,
        "sources": list(f.sources),
    }


def location_label(rb: RuleBase, loc: Location, lang: str = "en") -> str:
    if loc.province is None:
        return "—"
    pv = rb.provinces[loc.province]
    parts = [pv.name.get(lang)]
    if loc.city:
        city = pv.cities.get(loc.city)
        if city is not None:
            parts.append(city.name.get(lang))
        else:  # a real place without local rules: its official name in Chinese, its id in English
            place = real_place(rb, loc.province, loc.city) if lang == "zh" else None
            parts.append(place.name_zh if place else loc.city)
    return " / ".join(parts)


def channel_label(rb: RuleBase, channels: tuple[str, ...], lang: str = "en") -> str:
    def label(c: str) -> str:
        ch = rb.channels[c]
        return ch.short.get(lang) if ch.short else ch.id.upper().replace("_", " ")

    return " → ".join(label(c) for c in channels)


def route_to_dict(r: Route, rb: RuleBase, lang: str) -> dict[str, Any]:
    return {
        "rank": r.rank,
        "channels": list(r.channels),
        "path": list(r.path),
        "location": r.location.as_dict(),
        "location_name": location_label(rb, r.location, lang),
        "steps": [
            {
                "number": i,
                "id": s.step.id,
                "channel": s.channel,
                "phase": s.step.phase,
                "kind": s.step.kind,
                "action": _bi(s.step.action),
                "authority": s.authority.get(lang),
                "authority_i18n": _bi(s.authority),
                "responsible": s.step.responsible.get(lang),
                "responsible_i18n": _bi(s.step.responsible),
                "weeks": _weeks(s.weeks),
                "documents": list(s.step.documents),
                "sources": list(s.sources),
                "verified": s.verified,
            }
            for i, s in enumerate(r.steps, 1)
        ],
        "timeline_weeks": {"min": r.timeline[0], "max": r.timeline[1], "unknown_steps": r.unknown_steps},
        "approvals": r.approvals,
        "discretionary_approvals": sum(1 for s in r.steps if s.step.kind in ("approval", "licence")),
        "cost_index": r.cost_index,
        "certainty": r.certainty,
        "capacity": None
        if r.capacity is None
        else {
            "amount": round(r.capacity, 2),
            "currency": None,
            "basis": r.capacity_text.get(lang) if r.capacity_text else None,
        },
        "documents": [
            {
                "id": d,
                "name": _bi(rb.documents[d].name),
                "issuer": rb.documents[d].issuer.get(lang),
                "step": step,
            }
            for d, step in r.documents
        ],
        "warnings": [_finding(f, lang) for f in r.warnings],
        "notes": [_finding(f, lang) for f in r.notes],
        "unverified_facts": r.unverified,
        "score": r.score,
        "pareto": r.pareto,
    }


def exclusion_to_dict(e: Exclusion, rb: RuleBase, lang: str) -> dict[str, Any]:
    return {
        "channels": list(e.channels),
        "path": list(e.path),
        "location": e.location.as_dict(),
        "location_name": location_label(rb, e.location, lang),
        "reasons": [_finding(f, lang) for f in e.reasons],
    }


def _first_date(s: Any) -> str | None:
    date = s.issued or s.published or s.effective
    return date.isoformat() if date else None


def source_to_dict(rb: RuleBase, sid: str) -> dict[str, Any]:
    s = rb.sources[sid]
    return {
        "title": _bi(s.title),
        "doc_no": s.doc_no,
        "issuer": s.issuer if isinstance(s.issuer, str) else s.issuer.en,
        "issuer_i18n": None if isinstance(s.issuer, str) else _bi(s.issuer),
        "date": _first_date(s),
        "effective": s.effective.isoformat() if s.effective else None,
        "status": s.status,
        "url": s.url,
        "unofficial_copy": s.unofficial_copy,
        # the tier replaced the data's primary/secondary kind; the key stays for readers of the contract
        "kind": "primary" if s.tier in ("official", "official_reprint") or s.unofficial_copy else "secondary",
        "tier": s.tier,
        "published": s.published.isoformat() if s.published else None,
        "checked": s.checked.isoformat() if s.checked else None,
        "verified": s.verified,
    }


def plan_to_dict(plan: Plan, rb: RuleBase, lang: str = "en") -> dict[str, Any]:
    """The JSON contract of ``route --format json`` (SPEC §4)."""
    query = plan.profile.model_dump()
    query["optimize"] = plan.optimize
    routes = [route_to_dict(r, rb, lang) for r in plan.routes]
    for r in routes:
        if r["capacity"] is not None:
            r["capacity"]["currency"] = plan.profile.currency
    # money and time (issue 11): payout, taxes, cost, net yield, typical weeks, dates
    from .money import cited_sources, money_keys

    money_sources: dict[str, None] = {}
    for r, route in zip(routes, plan.routes):
        extra = money_keys(rb, plan.profile, route, plan.as_of, lang)
        r["timeline_weeks"]["typical"] = extra.pop("typical")
        r.update(extra)
        money_sources.update(dict.fromkeys(cited_sources(extra)))
    return {
        "schema_version": SCHEMA_VERSION,
        "query": query,
        "as_of": plan.as_of.isoformat(),
        "rulebase": {"digest": plan.digest, "sources": len(rb.sources), "provinces": len(rb.provinces)},
        "routes": routes,
        "total_routes": plan.total_routes,
        "excluded": [exclusion_to_dict(e, rb, lang) for e in plan.excluded],
        "sources": {
            sid: source_to_dict(rb, sid)
            for sid in (*plan.sources, *sorted(set(money_sources) - set(plan.sources)))
            if sid in rb.sources
        },
        "notice": NOTICE.get(lang),
    }


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


# --- human formats ---------------------------------------------------------------


def weeks_span(lo: float, hi: float) -> str:
    """'≤3' when only a time limit is known (statutory 'within N days'), else 'lo–hi'."""
    if hi == 0:
        return "0"
    return f"≤{hi:g}" if lo == 0 else f"{lo:g}–{hi:g}"


def _weeks_text(r: Route) -> str:
    text = weeks_span(*r.timeline)
    return f"{text} +{r.unknown_steps}?" if r.unknown_steps else text


def _capacity_text(r: Route, currency: str, lang: str = "en") -> str:
    if r.capacity is None:
        return "—"
    if lang == "zh":
        from .units import money

        return money(r.capacity, currency, lang)
    return f"{r.capacity / 1e6:,.1f}m {currency}"


def head(plan: Plan, lang: str) -> list[str]:
    """The route table's headings: the base ones, then typical weeks, and cost and net yield
    when a yield is given (issue 11)."""
    from .labels import MONEY

    extra = [MONEY[lang]["typical_col"]]
    if plan.profile.yield_pct is not None:
        extra.append(MONEY[lang]["net_cost_col"])
    return [*HEAD[lang], *extra]


def _money_cells(plan: Plan, rb: RuleBase, r: Route) -> list[str]:
    from ..engine.money import assess
    from ..engine.timeline import typical_schedule

    t = typical_schedule(rb, r.channels, r.steps)
    cells = [f"{t.weeks.min:g}–{t.weeks.max:g}"]
    if plan.profile.yield_pct is not None:
        m = assess(rb, plan.profile, r, plan.as_of)
        net = "—" if m.net_yield_to_holders is None else f"{m.net_yield_to_holders:.2f}%"
        cells.append(f"{net} / {m.bps_per_year:.0f}")
    return cells


def summary_rows(plan: Plan, rb: RuleBase, lang: str) -> list[list[str]]:
    rows = []
    for r in plan.routes:
        rows.append(
            [
                f"{r.rank}{'*' if r.pareto else ''}",
                channel_label(rb, r.channels, lang),
                location_label(rb, r.location, lang),
                _weeks_text(r),
                str(r.approvals),
                str(len(r.documents)),
                f"{r.certainty:.2f}",
                _capacity_text(r, plan.profile.currency, lang),
                f"{r.score:.2f}",
                *_money_cells(plan, rb, r),
            ]
        )
    return rows


class ExclusionGroup(NamedTuple):
    """Exclusions that share a reason, shown once: channels, reason, locations, sources."""

    channels: str
    reason: str
    locations: list[str]
    sources: list[str]


def grouped_exclusions(plan: Plan, rb: RuleBase, lang: str) -> list[ExclusionGroup]:
    """Exclusions with the same reason shown once, with every location they apply to."""
    groups: dict[tuple[str, str], ExclusionGroup] = {}
    for e in plan.excluded:
        for f in e.reasons:
            key = (channel_label(rb, e.channels, lang), f.text.get(lang))
            group = groups.setdefault(key, ExclusionGroup(key[0], key[1], [], []))
            where = location_label(rb, e.location, lang)
            if where not in group.locations:
                group.locations.append(where)
            group.sources.extend(s for s in f.sources if s not in group.sources)
    return list(groups.values())


_SHORT_TITLE = 48  # characters of a title shown where a finding cites its source


def source_cite(rb: RuleBase, sid: str, lang: str) -> str:
    """A source as a finding cites it for a reader: short title and number, or title and issuer.

    The internal id stays in the JSON contract only.
    """
    s = rb.sources.get(sid)
    if s is None:
        return sid
    title = s.title.get(lang)
    if len(title) > _SHORT_TITLE:
        title = title[: _SHORT_TITLE - 1].rstrip() + "…"
    issuer = s.issuer if isinstance(s.issuer, str) else s.issuer.get(lang)
    return f"{title} ({s.doc_no or issuer})"


def source_cites(rb: RuleBase, sids: Any, lang: str) -> str:
    """Several sources cited, in order, separated for the language."""
    return ("；" if lang == "zh" else "; ").join(source_cite(rb, sid, lang) for sid in sids)


def source_line(rb: RuleBase, sid: str, lang: str, with_url: bool = True) -> str:
    """Title, document number, issuer, date, status (and address unless ``with_url`` is false)."""
    s = rb.sources[sid]
    words = ROUTE[lang]
    bits = [f"{s.title.get(lang)}"]
    if lang == "en":
        bits[0] += f" ({s.title.zh})"
    if s.doc_no:
        bits.append(s.doc_no)
    issuer = s.issuer if isinstance(s.issuer, str) else s.issuer.get(lang)
    bits.append(issuer)
    date = s.issued or s.published or s.effective
    if date:
        bits.append(date.isoformat())
    bits.append(s.status)
    if s.url and not with_url:
        if s.unofficial_copy:
            bits.append(words["unofficial_copy"].strip(" ()（）"))
    elif s.url:
        bits.append(s.url + (words["unofficial_copy"] if s.unofficial_copy else ""))
        if s.tier == "official_reprint":
            bits[-1] = s.url + words["official_reprint"]
    tier = TIER[lang][s.tier]
    if not s.url and s.tier != "official":
        bits.append(label(ROUTE, lang, "no_link", tier=tier))
    elif s.url and s.tier not in ("official", "official_reprint") and not s.unofficial_copy:
        bits.append(label(ROUTE, lang, "secondary_tier", tier=tier))
    if not s.verified:
        bits.append(words["unverified"])
    return "; ".join(bits)


def _header_lines(plan: Plan, rb: RuleBase, lang: str) -> list[str]:
    p = plan.profile
    where = location_label(rb, Location(p.province, p.city), lang)
    zh = lang == "zh"
    if zh:
        sector = rb.sectors[p.sector].name.zh if p.sector else ROUTE[lang]["no_sector"]
    else:
        sector = p.sector or ROUTE[lang]["no_sector"]
    asset = label(
        ROUTE,
        lang,
        "asset_line",
        asset_class=ASSET_CLASS_ZH[p.asset_class] if zh else p.asset_class,
        sector=sector,
        where=where,
        amount=money(p.amount, None, lang),
        currency=p.currency,
        holder_type=HOLDER_ZH[p.holder_type] if zh else p.holder_type,
    )
    rules = label(
        ROUTE,
        lang,
        "rules_line",
        as_of=plan.as_of,
        digest=plan.digest[:12],
        optimize=OBJECTIVE_ZH[plan.optimize] if zh else plan.optimize,
        total=plan.total_routes,
    )
    return [asset, rules]


def fits(console: Any, table: Any, squeeze: bool = False) -> bool:
    """True when ``table`` shows every cell unwrapped in the console's width.

    With ``squeeze``, a table whose cells wrap at spaces also fits, as long as no word is
    split. A narrower terminal gets the stacked layout instead: rich would otherwise squeeze
    the columns until words break mid-word or a column vanishes.
    """
    import re

    from rich.console import Console
    from rich.measure import Measurement

    # measured in a wide space: rich clamps a measurement to the width it is given
    size = Measurement.get(console, console.options.update_width(10_000), table)
    if size.maximum <= console.width:
        return True
    if not squeeze or size.minimum > console.width:
        return False
    buf = io.StringIO()
    Console(file=buf, width=console.width, no_color=True, highlight=False).print(table)
    words = set(re.findall(r"[A-Za-z0-9]+", " ".join(str(c) for col in table.columns for c in col._cells)))
    return words <= set(re.findall(r"[A-Za-z0-9]+", buf.getvalue()))


def stacked(rows: list[tuple[str, list[tuple[str, str]]]], inline: bool = False) -> Any:
    """One block per row: a bold title, then ``label: value`` lines that wrap at words.

    ``inline`` puts short figures on one line (``Weeks ≤1.4 · Appr. 8 · …``) that wraps at its dots.
    """
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text as T

    blocks: list[Any] = []
    for title, pairs in rows:
        blocks.append(T(title, style="bold"))
        if inline:
            line = T("  ")
            for i, (k, v) in enumerate(pairs):
                # a no-break space: a label stays by its figure
                line.append(("" if i == 0 else " · ") + k + "\u00a0", style="dim")
                line.append(v.replace(" ", "\u00a0"))  # a figure never breaks inside itself
            blocks.append(line)
            continue
        grid = Table.grid(padding=(0, 1), pad_edge=False)
        grid.add_column(no_wrap=True, style="dim")
        grid.add_column(overflow="fold")
        for k, v in pairs:
            grid.add_row(T(k), T(v))
        blocks.append(grid)
    return Group(*blocks)


def render_table(plan: Plan, rb: RuleBase, lang: str = "en", explain: bool = False, console: Any = None) -> None:
    """Print the plan with rich, sized for a 100-column terminal."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text as T  # data never goes through rich markup: "[/bold]" prints as typed

    con = console or Console()
    for line in _header_lines(plan, rb, lang):
        con.print(T(line), highlight=False)
    if not plan.routes:
        con.print(T(ROUTE[lang]["no_route"], style="bold red"))
    else:
        table = Table(box=box.SIMPLE_HEAVY, show_edge=False, pad_edge=False)
        columns = head(plan, lang)
        for i, h in enumerate(columns):
            text_col = i in (1, 2)
            table.add_column(h, justify="left" if text_col else "right", overflow="fold", no_wrap=not text_col)
        rows = summary_rows(plan, rb, lang)
        for row in rows:
            table.add_row(*(T(c) for c in row))
        if fits(con, table):
            con.print(table)
        else:  # a narrow terminal: one block per route, every column kept, no word split
            blocks = [(f"{row[0]} {row[1]} · {row[2]}", list(zip(columns[3:], row[3:]))) for row in rows]
            con.print(stacked(blocks, inline=True))
        con.print(ROUTE[lang]["legend"], style="dim", highlight=False)
        best = plan.routes[0]
        con.print()
        title = ROUTE[lang]["checklist"]
        place = location_label(rb, best.location, lang)
        con.print(T(f"{title}: {channel_label(rb, best.channels, lang)} · {place}", style="bold"))
        steps = Table(box=box.SIMPLE, show_edge=False, pad_edge=False)
        for i, h in enumerate(STEP_HEAD[lang]):
            steps.add_column(h, overflow="fold", no_wrap=i in (0, 3), ratio=None if i in (0, 3) else 1)
        lines = []
        for i, s in enumerate(best.steps, 1):
            w = "?" if s.weeks is None else weeks_span(s.weeks.min, s.weeks.max)
            mark = "" if s.verified else " †"
            who = f"{s.step.responsible.get(lang)} / {s.authority.get(lang)}"
            steps.add_row(str(i), T(s.step.action.get(lang) + mark), T(who), w)
            pairs = [(STEP_HEAD[lang][2], who), (STEP_HEAD[lang][3], w)]
            lines.append((f"{i}. {s.step.action.get(lang)}{mark}", pairs))
        con.print(steps if con.width >= 100 else stacked(lines))
        docs = "; ".join(rb.documents[d.id].name.get(lang) for d in best.documents)
        con.print(T(ROUTE[lang]["documents"] + docs), highlight=False)
        for f in best.warnings + best.notes:
            cites = source_cites(rb, f.sources, lang)
            con.print(T.assemble(f"  ! {f.text.get(lang)} ", (cites, "dim")), highlight=False)
    if explain:
        con.print()
        con.print("[bold]" + ROUTE[lang]["excluded_why"] + "[/]")
        if not plan.excluded:
            con.print("  " + ROUTE[lang]["no_exclusion"])
        for ch, reason, locs, srcs in grouped_exclusions(plan, rb, lang):
            where = ", ".join(locs[:6]) + (f" (+{len(locs) - 6})" if len(locs) > 6 else "")
            cites = source_cites(rb, srcs, lang)
            con.print(T.assemble("  ✗ ", (ch, "bold"), f" · {where}: {reason} ", (cites, "dim")), highlight=False)
    elif plan.excluded:
        con.print("[dim]" + label(ROUTE, lang, "excluded_count", n=len(plan.excluded)) + "[/]")
    con.print(f"[dim]{NOTICE.get(lang)}[/]", highlight=False)


def render_markdown(plan: Plan, rb: RuleBase, lang: str = "en", explain: bool = False) -> str:
    from tabulate import tabulate

    from .escape import md_cell, md_escape, md_link_text

    words = ROUTE[lang]
    out = [words["title"], ""]
    out += [f"- {md_escape(line)}" for line in _header_lines(plan, rb, lang)]
    out.append("")
    if plan.routes:
        rows = [[md_cell(c) for c in row] for row in summary_rows(plan, rb, lang)]
        out.append(tabulate(rows, headers=head(plan, lang), tablefmt="github", disable_numparse=True))
        out += ["", *_markdown_checklist(plan.routes[0], rb, lang)]  # as the table view shows it
    else:
        out.append(words["no_route"])
    if explain and plan.excluded:
        out += ["", words["excluded"], ""]
        rows = [
            [md_cell(c) for c in (ch, ", ".join(locs), reason, source_cites(rb, srcs, lang))]
            for ch, reason, locs, srcs in grouped_exclusions(plan, rb, lang)
        ]
        out.append(tabulate(rows, headers=EXCLUDED_HEAD[lang], tablefmt="github"))
    out += ["", words["sources"], ""]
    # a source's http(s) address becomes a link; any other stays escaped text
    out += [f"- {md_link_text(source_line(rb, s, lang), rb.sources[s].url)}" for s in plan.sources]
    out += ["", f"_{NOTICE.get(lang)}_", ""]
    return "\n".join(out)


def _markdown_checklist(best: Route, rb: RuleBase, lang: str) -> list[str]:
    """Route 1's steps (who, authority, weeks, documents), its documents and warnings, in Markdown."""
    from tabulate import tabulate

    from .escape import md_cell, md_escape

    words = ROUTE[lang]
    place = location_label(rb, best.location, lang)
    out = [
        f"**{md_escape(words['checklist'])}: {md_escape(channel_label(rb, best.channels, lang))} · "
        f"{md_escape(place)}**",
        "",
    ]
    rows = []
    for i, s in enumerate(best.steps, 1):
        w = "?" if s.weeks is None else weeks_span(s.weeks.min, s.weeks.max)
        who = f"{s.step.responsible.get(lang)} / {s.authority.get(lang)}"
        docs = "; ".join(rb.documents[d].name.get(lang) for d in s.step.documents if d in rb.documents)
        action = s.step.action.get(lang) + ("" if s.verified else " †")
        rows.append([md_cell(c) for c in (str(i), action, who, w, docs)])
    head = [*STEP_HEAD[lang], words["documents"].rstrip(": ：")]
    out.append(tabulate(rows, headers=head, tablefmt="github", disable_numparse=True))
    docs = "; ".join(rb.documents[d.id].name.get(lang) for d in best.documents)
    out += ["", md_escape(words["documents"] + docs), ""]
    out += [f"- ! {md_escape(f.text.get(lang))}" for f in best.warnings + best.notes]
    return out


def render_csv(plan: Plan, rb: RuleBase, lang: str = "en") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "rank",
            "channels",
            "province",
            "city",
            "weeks_min",
            "weeks_max",
            "unknown_steps",
            "approvals",
            "documents",
            "certainty",
            "capacity",
            "score",
            "pareto",
            "warnings",
            *MONEY_CSV,
        ]
    )
    for r in plan.routes:
        w.writerow(
            [
                safe_cell(v)
                for v in (
                    r.rank,
                    "+".join(r.channels),
                    r.location.province or "",
                    r.location.city or "",
                    r.timeline[0],
                    r.timeline[1],
                    r.unknown_steps,
                    r.approvals,
                    len(r.documents),
                    r.certainty,
                    "" if r.capacity is None else round(r.capacity, 2),
                    r.score,
                    r.pareto,
                    " | ".join(f.text.get(lang) for f in r.warnings),
                    *_money_csv(plan, rb, r),
                )
            ]
        )
    return buf.getvalue()


# money and time (issue 11): the batch's names for the same figures
MONEY_CSV = ("weeks_typical_min", "weeks_typical_max", "cost_bps_per_year", "net_yield")


def _money_csv(plan: Plan, rb: RuleBase, r: Route) -> tuple:
    from ..engine.money import assess
    from ..engine.timeline import typical_schedule

    t = typical_schedule(rb, r.channels, r.steps)
    if plan.profile.yield_pct is None:
        return (t.weeks.min, t.weeks.max, "", "")
    m = assess(rb, plan.profile, r, plan.as_of)
    return (t.weeks.min, t.weeks.max, m.bps_per_year, "" if m.net_yield_to_holders is None else m.net_yield_to_holders)


def table_text(plan: Plan, rb: RuleBase, lang: str = "en", explain: bool = False, width: int = 100) -> str:
    """The table format as plain text (no colour), for a file."""
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, record=True, width=width, color_system=None)
    render_table(plan, rb, lang, explain, console=console)
    return console.export_text()


def render_plan(plan: Plan, rb: RuleBase, fmt: str = "json", lang: str = "en", *, explain: bool = False) -> str:
    """The plan as text in ``fmt``: ``json`` (the contract), ``md``, ``csv`` or ``table`` (plain text).

    Mirrors ``render.report.render`` for comparison reports.

    Raises
    ------
    RepatriateError
        For an unknown format.
    """
    from ..errors import RepatriateError

    if fmt == "json":
        return to_json(plan_to_dict(plan, rb, lang))
    if fmt == "md":
        return render_markdown(plan, rb, lang, explain)
    if fmt == "csv":
        return render_csv(plan, rb, lang)
    if fmt == "table":
        return table_text(plan, rb, lang, explain)
    raise RepatriateError.choice("format", fmt, FORMATS)

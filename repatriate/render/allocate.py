"""The allocation of ``repatriate allocate`` (issue 12): JSON, and an "Allocation" report in every human format.

JSON is the contract: a top-level ``allocation`` object (``route``'s JSON is unchanged), whose
warnings gain their words in both languages. The human formats share compare's report machinery:
one view of display strings (``allocation_view``), the report's stylesheet and citations (sources
by title and number, listed at the end), its notice, its PDF engine. The stacked bar shows each
leg's share of the amount, the timeline the legs in parallel.
"""

from __future__ import annotations

import json
from typing import Any

from ..rulebase.records import RuleBase
from .escape import clean_text, md_cell, md_escape
from .labels import ALLOCATE, NOTICE, REPORT
from .route import channel_label, location_label, source_cite
from .units import money

FORMATS = ("table", "json", "md", "html", "pdf")

# one colour per leg of the stacked bar and the timeline (the unplaced rest is grey)
COLOURS = ("#0969da", "#1a7f37", "#9a6700", "#cf222e", "#6f42c1", "#1b7c83")
UNPLACED = "#afb8c1"


def render_allocation(
    allocation: dict[str, Any], rb: RuleBase, fmt: str, lang: str = "en", width: int | None = None
) -> str:
    """The allocation in ``fmt``: json, md, html or table (plain text, ``width`` columns: the
    terminal's by default; narrower than the legs' table, each leg is a block); ``render_pdf`` for pdf."""
    if fmt == "json":
        return allocation_json(allocation, rb)
    view = allocation_view(allocation, rb, lang)
    if fmt == "html":
        return _html(view)
    if fmt == "md":
        return _markdown(view)
    if width is None:
        import shutil

        width = shutil.get_terminal_size((100, 24)).columns
    return _table(view, width)


def render_pdf(allocation: dict[str, Any], rb: RuleBase, lang: str = "en", engine: str | None = None) -> bytes:
    """The HTML allocation printed to PDF (A4) by the report's engine (headless Chromium)."""
    from .pdf import html_to_pdf

    return html_to_pdf(_html(allocation_view(allocation, rb, lang)), engine=engine)


def allocation_json(allocation: dict[str, Any], rb: RuleBase) -> str:
    """``{"allocation": ...}``; each warning also carries its words (``text``: en and zh)."""
    out = dict(allocation)
    out["warnings"] = [
        {**w, "text": {lang: warning_text(w, rb, lang) for lang in ("en", "zh")}} for w in allocation["warnings"]
    ]
    return json.dumps({"allocation": out}, ensure_ascii=False, indent=2, default=str) + "\n"


# --- words ------------------------------------------------------------------------------


def _channels(rb: RuleBase, channels: list[str], lang: str) -> str:
    return channel_label(rb, tuple(c for c in channels if c in rb.channels), lang) or "+".join(channels)


def _place(rb: RuleBase, loc: dict[str, Any], lang: str) -> str:
    from ..engine.results import Location

    province = loc.get("province")
    if province is not None and province not in rb.provinces:
        return clean_text(str(province), multiline=False)
    return location_label(rb, Location(province=province, city=loc.get("city")), lang)


def _names(rb: RuleBase, allocation: dict[str, Any], lang: str) -> dict[str, str]:
    """Every id a leg may stop at, in words: limits (data), shared capacities (data), fixed reasons."""
    w = ALLOCATE[lang]
    fixed = ("capacity", "set_up_cost", "not_needed", "capacity_unknown", "eligibility_unknown", "no_route")
    names = {k: w[k] for k in fixed}
    names["max_channels"] = w["max_channels_why"].format(n=allocation["max_channels"])
    for cap in rb.allocation.caps:
        names[cap.id] = cap.name.get(lang)
    for g in rb.allocation.groups:
        names[g.id] = g.name.get(lang)
    for m in rb.allocation.minimums:
        names[m.id] = m.name.get(lang)
    for g in allocation["groups"]:
        names[g["id"]] = g["name"][lang]
    for cid, ch in rb.channels.items():  # a channel's own capacity shared by several legs
        names.setdefault(cid, ch.name.get(lang))
    return names


def _why(ids: list[str], names: dict[str, str], rb: RuleBase, lang: str) -> str:
    """Stop reasons in words; a binding ``channels:limit`` names its leg."""
    sep = ALLOCATE[lang]["semicolon"]
    out = []
    for item in ids:
        head, _, tail = item.rpartition(":")
        if head:
            out.append(f"{_channels(rb, head.split('+'), lang)}{ALLOCATE[lang]['colon']}{names.get(tail, tail)}")
        else:
            out.append(names.get(item, item))
    return sep.join(out)


def warning_text(w: dict[str, Any], rb: RuleBase, lang: str) -> str:
    """A warning of the allocation in words (its code and data stay in the JSON)."""
    words = ALLOCATE[lang]
    channels = _channels(rb, w.get("channels", []), lang)
    code = w.get("code", "")
    if code == "cap_needs_input":
        cap = next((c.name.get(lang) for c in rb.allocation.caps if c.id == w.get("cap")), w.get("cap", ""))
        sep = "、" if lang == "zh" else ", "
        inputs = sep.join(words.get(f"in_{n}", n) for n in w.get("inputs", []))
        return words["w_cap_needs_input"].format(channels=channels, cap=cap, inputs=inputs)
    if code == "minimum_other_currency":
        mid = w.get("minimum", "")
        name = next((m.name.get(lang) for m in rb.allocation.minimums if m.id == mid), mid)
        figure = money(float(w.get("value", 0.0)), str(w.get("currency", "")), lang)
        return words["w_minimum_other_currency"].format(channels=channels, minimum=name, figure=figure)
    if code == "eligibility_unknown":
        return words["w_eligibility_unknown"].format(channels=channels, rules=", ".join(w.get("rules", [])))
    if code == "capacity_unknown":
        return words["w_capacity_unknown"].format(channels=channels)
    return f"{channels}: {code}"


# --- the view: display strings every human format lays out ------------------------------------


def allocation_view(a: dict[str, Any], rb: RuleBase, lang: str = "en") -> dict[str, Any]:
    """The display strings of an allocation in ``lang``."""
    from .report import source_views  # the comparison report's citations (lazy: JSON needs none)

    w = ALLOCATE[lang]
    cur = a["currency"]
    names = _names(rb, a, lang)
    amount = a["amount"] or 0.0
    placed_share = a["placed"] / amount if amount else 0.0
    weeks = a["weeks_typical_max"]
    summary = [
        w["summary"].format(
            placed=money(a["placed"], cur, lang),
            amount=money(amount, cur, lang),
            share=placed_share,
            legs=len(a["legs"]),
            weeks=f"{weeks:g}",
        )
    ]
    if a["unplaced"] > 0:
        summary.append(
            w["unplaced"].format(unplaced=money(a["unplaced"], cur, lang), binding=_why(a["binding"], names, rb, lang))
        )
    if a["total_cost_per_year"] is not None:
        summary.append(
            w["total"].format(cost=money(a["total_cost_per_year"], cur, lang), bps=a["total_cost_bps_per_year"] or 0.0)
        )
    elif a["legs"]:
        summary.append(w["paperwork"])
    legs = []
    for n, leg in enumerate(a["legs"]):
        c = leg["cost"]
        cost = w["bps" if c["basis"] == "bps_per_year" else "index"].format(v=c["per_year"])
        if not c["known"]:
            cost += w["cost_unknown"]
        used = leg["capacity_used"]
        lo, hi = leg.get("weeks_typical_min", leg["weeks_typical_max"]), leg["weeks_typical_max"]
        legs.append(
            {
                "n": leg["leg"],
                "colour": COLOURS[n % len(COLOURS)],
                "channels": _channels(rb, leg["channels"], lang),
                "location": _place(rb, leg["location"], lang),
                "amount": money(leg["amount"], cur, lang),
                "share": f"{leg['share']:.1%}",
                "share_pct": max(0.0, min(100.0, leg["share"] * 100)),
                "used": "—" if used is None else f"{used:.1%}",
                "binds": _why(leg["binds"], names, rb, lang) or "—",
                "cost": cost,
                "weeks": f"{lo:g}–{hi:g}" if lo != hi else f"{hi:g}",
                "past_by": w["past_by"].format(w=leg["weeks_past_by"]) if leg["weeks_past_by"] > 0 else "",
                "approx": not leg["checklist_exact"],
            }
        )
    rest = max(0.0, 1.0 - sum(leg["share"] for leg in a["legs"]))
    span = max([weeks, 1.0])
    timeline = [
        {
            "n": t["leg"],
            "channels": _channels(rb, t["channels"], lang),
            "colour": COLOURS[i % len(COLOURS)],
            "weeks": w["weeks_range"].format(lo=t["weeks_typical_min"], hi=t["weeks_typical_max"]),
            "min": t["weeks_typical_min"],
            "max": t["weeks_typical_max"],
            "x_min": t["weeks_typical_min"] / span,
            "x_max": t["weeks_typical_max"] / span,
        }
        for i, t in enumerate(a["timeline"])
    ]
    q = a.get("query", {})
    query = [(w["amount"], money(amount, cur, lang))]
    if q.get("province"):
        query.append((w["place"], _place(rb, q, lang)))
    sector = rb.sectors.get(q.get("sector") or "")
    if sector is not None:
        query.append((w["sector"], sector.name.get(lang)))
    if q.get("net_assets") is not None:
        query.append((w["net_assets"], money(q["net_assets"], cur, lang)))
    query.append((w["max_channels"], w["legs_n"].format(n=a["max_channels"])))
    if a.get("by"):
        query.append((w["by"], a["by"]))
    if a.get("listed_market_cap"):
        query.append((w["market_cap"], money(a["listed_market_cap"], cur, lang)))
    return {
        "lang": lang,
        "w": w,
        "title": w["title"],
        "as_of": a["as_of"],
        "digest": a.get("rulebase_digest", ""),
        "query": query,
        "summary": summary,
        "legs": legs,
        "rest_pct": rest * 100,
        "rest": money(a["unplaced"], cur, lang),
        "binding": _why(a["binding"], names, rb, lang) if a["binding"] else w["none"],
        "stops": [
            {
                "channels": _channels(rb, s["channels"], lang),
                "location": _place(rb, s["location"], lang),
                "amount": money(s["amount"], cur, lang),
                "why": _why(s["binding"], names, rb, lang),
            }
            for s in a["stops"]
        ],
        "excluded": [
            {
                "channels": _channels(rb, e["channels"], lang),
                "reasons": [
                    {"text": r["text"][lang], "sources": [source_cite(rb, s, lang) for s in r["sources"]]}
                    for r in e.get("reasons", [])
                ],
            }
            for e in a.get("excluded", [])
        ],
        "groups": [
            {"name": g["name"][lang], "load": w["load"].format(load=g["load"]), "pct": min(100.0, g["load"] * 100)}
            for g in a["groups"]
        ],
        "timeline": timeline,
        "span": span,
        "checklist": [
            {
                "n": n,
                "action": s["action"][lang],
                "authority": s["authority"][lang],
                "legs": w["for_legs"].format(legs=", ".join(str(x) for x in s["legs"])),
                "phase": s["phase"],
                "phase_name": REPORT[lang].get(s["phase"], s["phase"]),
            }
            for n, s in enumerate(a["checklist"], 1)
        ],
        "warnings": [warning_text(x, rb, lang) for x in a["warnings"]],
        "solver": w["solver"].format(n=a["solver"]["candidates"]),
        "sources": source_views(rb, [sid for sid in a.get("sources", []) if sid in rb.sources], lang),
        "notice": NOTICE.get(lang),
    }


# --- Markdown and plain text --------------------------------------------------------------


def _head(w: dict[str, str]) -> list[str]:
    return [w[k] for k in ("head_leg", "head_channels", "head_location", "head_amount", "head_share",
                           "head_used", "head_binds", "head_cost", "head_weeks")]


def _cells(leg: dict[str, Any]) -> list[str]:
    weeks = leg["weeks"] + (f" ({leg['past_by']})" if leg["past_by"] else "")
    return [str(leg["n"]), leg["channels"], leg["location"], leg["amount"], leg["share"], leg["used"],
            leg["binds"], leg["cost"], weeks]


def _markdown(v: dict[str, Any]) -> str:
    from .report import md_source_lines

    w = v["w"]
    out = [f"# {md_escape(v['title'])}", ""]
    out += [f"{md_escape(w['as_of'])} {v['as_of']} · {md_escape(w['digest'])} `{v['digest'][:16]}`", ""]
    out += [f"- **{md_escape(k)}**: {md_escape(val)}" for k, val in v["query"]] + [""]
    out += [f"## {md_escape(w['section'])}", ""] + [md_escape(s) for s in v["summary"]] + [""]
    head = _head(w)
    out += ["| " + " | ".join(md_cell(h) for h in head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(md_cell(c) for c in _cells(leg)) + " |" for leg in v["legs"]]
    out += ["", f"### {md_escape(w['binding'])}", "", md_escape(v["binding"]), ""]
    if v["stops"]:
        out += [f"### {md_escape(w['stops'])}", ""]
        out += [f"- {md_escape(s['channels'])} ({md_escape(s['location'])}), {md_escape(s['amount'])}: "
                f"{md_escape(s['why'])}" for s in v["stops"]] + [""]
    if v["groups"]:
        out += [f"### {md_escape(w['groups'])}", ""]
        out += [f"- {md_escape(g['name'])}{w['colon']}{md_escape(g['load'])}" for g in v["groups"]] + [""]
    if v["excluded"]:
        out += [f"### {md_escape(w['excluded'])}", ""]
        for e in v["excluded"]:
            why = " ".join(
                f"{r['text']} ({'; '.join(r['sources'])})" if r["sources"] else r["text"] for r in e["reasons"]
            )
            out.append(f"- **{md_escape(e['channels'])}**: {md_escape(why)}")
        out.append("")
    out += [f"### {md_escape(w['timeline'])}", ""]
    out += [f"- {t['n']}. {md_escape(t['channels'])}{w['colon']}{md_escape(t['weeks'])}" for t in v["timeline"]]
    out += [""]
    out += [f"### {md_escape(w['checklist'])}", ""]
    out += [f"{s['n']}. {md_escape(s['action'])} — {md_escape(s['authority'])} ({md_escape(s['legs'])})"
            for s in v["checklist"]] + [""]
    if v["warnings"]:
        out += [f"### {md_escape(w['warnings'])}", ""] + [f"- {md_escape(x)}" for x in v["warnings"]] + [""]
    out += [f"_{md_escape(v['solver'])}_", ""]
    if v["sources"]:
        out += [f"## {md_escape(w['sources'])}", "", *md_source_lines(v["sources"]), ""]
    out += ["---", "", f"_{md_escape(v['notice'])}_", ""]
    return "\n".join(out)


def _table(v: dict[str, Any], width: int = 100) -> str:
    """Plain text: what the terminal shows (every value cleaned of control characters)."""
    from wcwidth import wcswidth

    from .report import gist

    def cell(s: object) -> str:
        return clean_text(str(s), multiline=False)

    def pad(s: str, width: int) -> str:
        return s + " " * max(0, width - max(0, wcswidth(s)))

    w = v["w"]
    out = [cell(v["title"]), f"{cell(w['as_of'])} {v['as_of']} · {cell(w['digest'])} {v['digest'][:16]}", ""]
    out += [cell(s) for s in v["summary"]] + [""]
    rows = [[cell(c) for c in _head(w)]] + [[cell(c) for c in _cells(leg)] for leg in v["legs"]]
    widths = [max(max(0, wcswidth(r[i])) for r in rows) for i in range(len(rows[0]))]
    if sum(widths) + 2 * (len(widths) - 1) <= width:
        out += ["  ".join(pad(c, widths[i]) for i, c in enumerate(r)).rstrip() for r in rows]
    else:  # a narrow terminal: each leg a block of "header: value" lines
        label = max(max(0, wcswidth(h)) for h in rows[0][1:])
        for r in rows[1:]:
            out.append(f"{rows[0][0]} {r[0]}")
            out += [f"  {pad(h, label)}  {c}" for h, c in zip(rows[0][1:], r[1:])]
    bar_width = 60
    bar = "".join(str(leg["n"]) * round(leg["share_pct"] / 100 * bar_width) for leg in v["legs"])
    bar += "·" * max(0, bar_width - len(bar))
    rest = f"{w['semicolon']}· {cell(w['unplaced_seg'])}" if v["rest_pct"] > 0.05 else ""
    out += ["", f"[{bar[:bar_width]}]  {cell(w['bar'])}{rest}"]
    out += ["", cell(w["binding"]) + w["colon"] + cell(v["binding"])]
    sections = [
        (w["stops"], [f"{s['channels']} ({s['location']}), {s['amount']}{w['colon']}{s['why']}" for s in v["stops"]]),
        (w["groups"], [f"{g['name']}{w['colon']}{g['load']}" for g in v["groups"]]),
        (w["excluded"], [e["channels"] + w["colon"] + " ".join(gist(r["text"], 90) for r in e["reasons"])
                         for e in v["excluded"]]),
        (w["timeline"], [f"{t['n']}. {t['channels']}{w['colon']}{t['weeks']}" for t in v["timeline"]]),
        (w["checklist"], [f"{s['n']}. {s['action']} — {s['authority']} ({s['legs']})" for s in v["checklist"]]),
        (w["warnings"], v["warnings"]),
    ]
    for title, lines in sections:
        if lines:
            out += ["", cell(title)] + [f"  {cell(x)}" for x in lines]
    out += ["", cell(v["solver"]), cell(v["notice"])]
    return "\n".join(out) + "\n"


# --- HTML: the report's stylesheet and layout -----------------------------------------------


def _html(v: dict[str, Any]) -> str:
    from .report import _environment

    return _environment().get_template("allocation.html.j2").render(v=v)

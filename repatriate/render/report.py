"""Lay out a comparison ``Report``: a rich table, GitHub Markdown, one self-contained HTML file, JSON.

Renderers never compute routes; they turn what ``report.compare`` gathered into text.
"""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path
from typing import Any

from ..engine.compare import PlaceResult, Report
from ..engine.money import Money
from ..engine.results import Finding, Route
from ..engine.timeline import TypicalSchedule
from ..errors import RepatriateError
from ..rulebase.records import RuleBase, Text
from .labels import ASSET_CLASS_ZH, CLIENT, HOLDER_ZH, NOTICE, OBJECTIVE_ZH, SPV_OWNER_ZH
from .labels import REPORT as LABELS
from .route import (
    SCHEMA_VERSION,
    channel_label,
    fits,
    grouped_exclusions,
    location_label,
    plan_to_dict,
    source_cite,
    source_line,
    source_to_dict,
    stacked,
    to_json,
    weeks_span,
)
from .units import money

FORMATS = ("table", "md", "html", "json", "pdf")


# --- the view: display strings shared by every human format ---------------------------


def _num(value: float | None, currency: str | None = None, lang: str = "en") -> str:
    if value is None:
        return "—"
    return money(value, currency, lang)


def _other(lang: str) -> str:
    return "zh" if lang == "en" else "en"


def _bilingual(text: Text, lang: str) -> str:
    """The name in the report's language, the other language after it: clients file both."""
    main, other = text.get(lang), text.get(_other(lang))
    return main if main == other else f"{main} ({other})"


def place_label(rb: RuleBase, place: PlaceResult, lang: str) -> str:
    """The place the asset sits in, as a reader names it.

    A city that is its own province (Shanghai) reads as one name, so ``--province CN-SH`` and
    ``--city shanghai`` are labelled alike.
    """
    return _one_name(location_label(rb, place.location, lang))


def _one_name(label: str) -> str:
    """'Shanghai / Shanghai' (a city that is its own province) as 'Shanghai'."""
    head, sep, tail = label.partition(" / ")
    return head if sep and head == tail else label


def _weeks(lo: float, hi: float) -> str:
    # "≤0" reads as a typo to a client: a step with no waiting time is simply 0 weeks.
    return "0" if hi == 0 else weeks_span(lo, hi)


def _route_weeks(r: Route, lab: dict[str, str]) -> str:
    text = _weeks(*r.timeline)
    return f"{text} (+{r.unknown_steps} {lab['unknown']})" if r.unknown_steps else text


def _capacity(r: Route, currency: str, lab: dict[str, str], lang: str = "en") -> str:
    if r.capacity is not None:
        return _num(r.capacity, currency, lang)
    if r.capacity_unknown:
        return lab["cap_unknown"]
    return lab["no_cap"]


def _cites(rb: RuleBase, sources: Any, lang: str) -> list[dict[str, str]]:
    """Sources as a reader cites them (document number or title), each with its anchor id."""
    return [{"id": sid, "cite": source_cite(rb, sid, lang)} for sid in sources]


def _finding_view(rb: RuleBase, f: Finding, lang: str) -> dict[str, Any]:
    sources = _cites(rb, f.sources, lang)
    return {"kind": f.kind, "text": f.text.get(lang), "sources": sources, "verified": f.verified}


def _href(url: str | None) -> str | None:
    """A link target only for web addresses: a ``javascript:`` URL in the data stays text."""
    return url if url and url.strip().lower().startswith(("https://", "http://")) else None


def _scale(report: Report) -> float:
    """One week scale for every chart in the report, so that routes compare at a glance."""
    ends = [t.end_max for p in report.places for sched in p.schedules for t in sched]
    ends += [t.end_max for p in report.places for typ in p.typical for t in typ.timings]
    return max([1.0, *ends])


def _ticks(scale: float) -> list[float]:
    for step in (0.5, 1, 2, 4, 5, 10, 13, 26, 52):
        if scale / step <= 10:
            break
    out, t = [], 0.0
    while t <= scale + 1e-9:
        out.append(t)
        t += step
    return out


def _clip(text: str, budget: int) -> str:
    """Cut a chart label to about ``budget`` Latin-letter widths; a Chinese character counts two."""
    used = 0
    for i, ch in enumerate(text):
        used += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used > budget:
            return text[:i].rstrip() + "…"
    return text


def _timeline_view(
    rb: RuleBase, r: Route, typical: TypicalSchedule, scale: float, lang: str
) -> dict[str, Any]:
    """The Gantt of a route: typical bars on the critical path (issue 11), each checklist step's
    statutory or stated limit as a mark; a step assumed from its kind is drawn dashed."""

    def pct(x: float) -> float:
        return round(100.0 * x / scale, 2)

    by_id = {s.step.id: s for s in r.steps}
    extras = {x.id: x for x in rb.typical.extras}
    bars = []
    for n, (ts, t) in enumerate(zip(typical.steps, typical.timings), 1):
        own = by_id.get(ts.id)
        action = own.step.action.get(lang) if own is not None else extras[ts.id].name.get(lang)
        limit = own.weeks if own is not None else None
        shown = (_weeks(ts.min, ts.max) if ts.min != ts.max else f"{ts.max:g}") + (
            "~" if ts.basis == "assumed" else ""
        )
        bars.append(
            {
                "number": n,
                "phase": t.phase,
                "label": _clip(action, 52),
                "title": action,
                "known": ts.basis != "assumed",
                "min_x": pct(t.start_min),
                "min_w": pct(t.end_min - t.start_min),
                "max_x": pct(t.start_max),
                "max_w": pct(t.end_max - t.start_max),
                "limit_x": None if limit is None else pct(t.start_max + limit.max),
                "weeks": shown if limit is None else f"{shown} ({_weeks(limit.min, limit.max)})",
            }
        )
    funds = [t for t in typical.timings if t.phase == "funds"]
    funds_start = min((t.start_max for t in funds), default=None)
    return {
        "bars": bars,
        "ticks": [{"x": pct(t), "label": f"{t:g}"} for t in _ticks(scale)],
        "funds_x": None if funds_start is None else pct(funds_start),
    }


def _money_cell(m: Money | None, lab: dict[str, str]) -> str | None:
    """'4.13% net · 187 bps/yr' for a route with a yield given; None without one."""
    if m is None:
        return None
    if m.net_yield_to_holders is None or m.leg is None:
        return lab["money_unknown"]
    return lab["money_line"].format(net=m.net_yield_to_holders, bps=m.bps_per_year)


def _route_view(
    rb: RuleBase,
    place: PlaceResult,
    r: Route,
    typical: TypicalSchedule,
    cost: Money | None,
    scale: float,
    lang: str,
) -> dict[str, Any]:
    lab = LABELS[lang]
    currency = place.plan.profile.currency
    findings = r.warnings + r.notes
    steps = []
    for i, s in enumerate(r.steps, 1):
        steps.append(
            {
                "number": i,
                "phase": s.step.phase,
                "phase_label": lab[s.step.phase],
                "action": s.step.action.get(lang),
                "action_other": s.step.action.get(_other(lang)),
                "responsible": s.step.responsible.get(lang),
                "authority": s.authority.get(lang),
                "weeks": lab["unknown"] if s.weeks is None else _weeks(s.weeks.min, s.weeks.max),
                "weeks_basis": None if s.weeks is None else s.weeks.basis,
                "documents": [{"id": d, "name": _bilingual(rb.documents[d].name, lang)} for d in s.step.documents],
                "sources": _cites(rb, s.sources, lang),
                "verified": s.verified,
            }
        )
    return {
        "rank": r.rank,
        "pareto": r.pareto,
        "channels": channel_label(rb, r.channels, lang),
        "location": _one_name(location_label(rb, r.location, lang)),
        "weeks": _route_weeks(r, lab),
        "approvals": str(r.approvals),
        "cost": f"{r.cost_index:g}",
        "typical": _weeks(*typical.weeks),
        "money": _money_cell(cost, lab),
        "certainty": f"{r.certainty:.2f}",
        "capacity": _capacity(r, currency, lab, lang),
        "capacity_basis": r.capacity_text.get(lang) if r.capacity_text else None,
        "score": f"{r.score:.2f}",
        # a condition ("possible if") is the first risk: the route may not exist for this client
        "key_warnings": [f.text.get(lang) for f in r.warnings if f.kind == "condition"]
        + [f.text.get(lang) for f in r.warnings if f.kind == "warning"],
        "open_questions": [f.text.get(lang) for f in r.warnings if f.kind == "unknown"],
        "timeline_raw": r.timeline,
        "typical_raw": typical.weeks,
        "unknown_steps": r.unknown_steps,
        "findings": [_finding_view(rb, f, lang) for f in findings],
        "steps": steps,
        "timeline": _timeline_view(rb, r, typical, scale, lang),
    }


def _query_rows(rb: RuleBase, report: Report, lang: str) -> list[tuple[str, str]]:
    lab, q = LABELS[lang], report.query
    sector = q.get("sector")
    sector_text = "—"
    if sector:
        name = rb.sectors[sector].name.get(lang)
        sector_text = sector if name == sector else f"{name} ({sector})"
    places = "; ".join(place_label(rb, p, lang) for p in report.places)

    def zh(table: dict[str, str], value: str) -> str:
        return f"{table[value]} ({value})" if lang == "zh" else value

    rows = [
        (lab["asset_class"], zh(ASSET_CLASS_ZH, q["asset_class"])),
        (lab["sector"], sector_text),
        (lab["amount"], _num(q["amount"], q["currency"], lang)),
        (lab["holder_type"], zh(HOLDER_ZH, q["holder_type"])),
        (lab["net_assets"], _num(q.get("net_assets"), q["currency"], lang) if q.get("net_assets") is not None else "—"),
        (lab["term_months"], f"{q['term_months']} {lab['months']}" if q.get("term_months") else "—"),
        (lab["spv_owner"], zh(SPV_OWNER_ZH, q["spv_owner"])),
        (lab["places"], places),
        (lab["ranking"], f"{zh(OBJECTIVE_ZH, report.optimize)} · top {report.top} {lab['per_place']}"),
    ]
    return rows


def source_views(rb: RuleBase, sids: Any, lang: str) -> list[dict[str, Any]]:
    """The sources listed at the end of a report (the comparison's, the allocation's), in order."""
    return [
        {
            "id": sid,
            "cite": source_cite(rb, sid, lang),
            "line": source_line(rb, sid, lang, with_url=False),
            "href": _href(rb.sources[sid].url),
            "url": rb.sources[sid].url,
        }
        for sid in sids
    ]


def report_view(report: Report, rb: RuleBase, lang: str = "en") -> dict[str, Any]:
    """The display strings of a report in ``lang``; every human format lays out this."""
    lab = LABELS[lang]
    scale = _scale(report)
    places: list[dict[str, Any]] = []
    for place in report.places:
        places.append(
            {
                "name": place_label(rb, place, lang),
                "feasible": place.plan.total_routes,
                "routes": [
                    _route_view(rb, place, r, t, m, scale, lang)
                    for r, t, m in zip(place.plan.routes, place.typical, place.money or [None] * len(place.typical))
                ],
                "exclusions": [
                    {
                        "channels": ch,
                        "reason": reason,
                        "where": ", ".join(locs),
                        "sources": _cites(rb, srcs, lang),
                    }
                    for ch, reason, locs, srcs in grouped_exclusions(place.plan, rb, lang)
                ],
            }
        )
    across: list[dict[str, Any]] = []
    for view in places:
        best = view["routes"][0] if view["routes"] else None
        across.append({"place": view["name"], "feasible": view["feasible"], "best": best})
        view["summary"] = _recommendation(view, lang)
    return {
        "lang": lang,
        "labels": lab,
        "title": report.label or lab["title"],
        "label": report.label,
        "query": _query_rows(rb, report, lang),
        "digest": report.digest,
        "as_of": report.as_of.isoformat(),
        "across_places": report.across_places,
        "across": across,
        "places": places,
        "sources": source_views(rb, report.sources, lang),
        "notice": NOTICE.get(lang),
        "client": CLIENT[lang],
        "prepared": [
            (CLIENT[lang][k], val)
            for k, val in (
                ("prepared_for", report.prepared_for),
                ("prepared_by", report.prepared_by),
                ("date", report.prepared_on.isoformat() if report.prepared_on else None),
            )
            if val
        ],
        "contents": _contents(report, places, lang),
    }


def _recommendation(place: dict[str, Any], lang: str) -> list[str]:
    """Two or three sentences an executive reads: best route, typical time, capacity, key risk."""
    c = CLIENT[lang]
    if not place["routes"]:
        reason = place["exclusions"][0]["reason"] if place["exclusions"] else LABELS[lang]["no_route"]
        return [c["no_route_line"].format(reason=reason)]
    r = place["routes"][0]
    lo, hi = r["timeline_raw"]
    weeks = _weeks(lo, hi)
    typical = _weeks(*r["typical_raw"])  # practitioner figures, else the step's limit or its kind's
    if r["unknown_steps"]:
        time = c["time_typical_partly"].format(typical=typical, weeks=weeks, n=r["unknown_steps"])
    else:
        time = c["time_typical"].format(typical=typical, weeks=weeks)
    risks = r["key_warnings"] or r["open_questions"]
    risk = c["risk_line"].format(risk=gist(risks[0], 160)) if risks else c["no_risk"]
    return [
        c["recommend"].format(channels=r["channels"], location=r["location"]),
        f"{time} {c['capacity_line'].format(capacity=r['capacity'])}"
        if lang == "en"
        else time + c["capacity_line"].format(capacity=r["capacity"]),
        risk,
    ]


def _contents(report: Report, places: list[dict[str, Any]], lang: str) -> list[tuple[str, str]]:
    """(anchor, heading) of each section, in the order they follow."""
    lab, c = LABELS[lang], CLIENT[lang]
    out = [("summary", c["summary"]), ("query", lab["query"])]
    if report.across_places:
        out.append(("across", lab["across"]))
    for i, p in enumerate(places, 1):
        colon = "：" if lang == "zh" else ": "
        head = f"{lab['place']}{colon}{p['name']}" if report.across_places else lab["side_by_side"]
        out.append((f"place-{i}", head))
    out.append(("sources", lab["sources"]))
    return out


# --- JSON -------------------------------------------------------------------------------


def report_to_dict(report: Report, rb: RuleBase, lang: str = "en") -> dict[str, Any]:
    """The JSON form: each place carries the ``route --format json`` contract of its plan."""
    places = []
    for place in report.places:
        plan = plan_to_dict(place.plan, rb, lang)
        for route, sched in zip(plan["routes"], place.schedules):
            route["schedule"] = [
                {
                    "step": t.number,
                    "phase": t.phase,
                    "start": {"min": t.start_min, "max": t.start_max},
                    "end": {"min": t.end_min, "max": t.end_max},
                    "known": t.known,
                }
                for t in sched
            ]
        best = plan["routes"][0] if plan["routes"] else None
        places.append(
            {
                "place": {**place.location.as_dict(), "name": place_label(rb, place, lang)},
                "best": None
                if best is None
                else {
                    k: best[k]
                    for k in (
                        "rank",
                        "channels",
                        "location",
                        "timeline_weeks",
                        "approvals",
                        "cost_index",
                        "certainty",
                        "capacity",
                        "score",
                    )
                },
                "plan": plan,
            }
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "report": "compare",
        "label": report.label,
        "prepared": {
            "for": report.prepared_for,
            "by": report.prepared_by,
            "on": report.prepared_on.isoformat() if report.prepared_on else None,
        },
        "summary": [
            {"place": v["name"], "recommendation": v["summary"]} for v in report_view(report, rb, lang)["places"]
        ],
        "query": report.query,
        "as_of": report.as_of.isoformat(),
        "rulebase": {"digest": report.digest, "sources": len(rb.sources), "provinces": len(rb.provinces)},
        "places": places,
        "sources": {sid: source_to_dict(rb, sid) for sid in report.sources},
        "notice": NOTICE.get(lang),
    }


def render_json(report: Report, rb: RuleBase, lang: str = "en") -> str:
    return to_json(report_to_dict(report, rb, lang))


# --- Markdown -----------------------------------------------------------------------------


from .escape import md_cell, safe_url  # noqa: E402  (one escaping path for every Markdown)


def md_source_lines(sources: list[dict[str, Any]]) -> list[str]:
    """The sources of ``source_views`` as Markdown list items."""
    out = []
    for s in sources:
        # the address once, as a link when it is a safe http(s) one, else as escaped text
        where = (
            f"; <{s['href']}>" if s["href"] and safe_url(s["href"]) else (f"; {md_cell(s['url'])}" if s["url"] else "")
        )
        out.append(f"- {_md_text(s['line'])}{where}")
    return out


def _md_text(text: Any) -> str:
    """Running text outside tables: the same escaping, pipes included (harmless there)."""
    return md_cell(text)


def _md_table(headers: list[str], rows: list[list[Any]]) -> str:
    from tabulate import tabulate

    return tabulate(
        [[md_cell(c) for c in row] for row in rows],
        headers=[md_cell(h) for h in headers],
        tablefmt="github",
        disable_numparse=True,
    )


def _md_join(items: list[str]) -> str:
    # Cells are escaped one by one, then joined with <br>, the line break GitHub keeps in tables.
    return "<br>".join(md_cell(i) for i in items) if items else "—"


def _md_table_raw(headers: list[str], rows: list[list[str]]) -> str:
    from tabulate import tabulate

    return tabulate(rows, headers=[md_cell(h) for h in headers], tablefmt="github", disable_numparse=True)


def _side_by_side_rows(
    routes: list[dict[str, Any]], lab: dict[str, str]
) -> tuple[list[str], list[tuple[str, list[str]]]]:
    headers = [f"{lab['route']} {r['rank']}{'*' if r['pareto'] else ''}" for r in routes]
    rows = [
        (lab["channels"], [r["channels"] for r in routes]),
        (lab["location"], [r["location"] for r in routes]),
        (lab["weeks"], [r["weeks"] for r in routes]),
        (lab["typical"], [r["typical"] for r in routes]),
        *([(lab["money"], [r["money"] for r in routes])] if any(r["money"] for r in routes) else []),
        (lab["approvals"], [r["approvals"] for r in routes]),
        (lab["cost"], [r["cost"] for r in routes]),
        (lab["certainty"], [r["certainty"] for r in routes]),
        (lab["capacity"], [r["capacity"] for r in routes]),
    ]
    return headers, rows


_SENTENCE_END = __import__("re").compile(r"。|(?<!\bNo)(?<!\bArt)(?<!\b[A-Z])\.(?= \S)")


def gist(text: str, limit: int = 70) -> str:
    """The first sentence of a finding, cut at a word near ``limit``: the side-by-side view's cell.

    The full text is always printed under the route it belongs to.
    """
    # a sentence ends at "。" or at ". " before a capital, but not after "No." or "Art."
    m = _SENTENCE_END.search(text)
    if m and m.end() < len(text):
        text = text[: m.end()].strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(",;:") + "…"


def _warning_cell(r: dict[str, Any], lab: dict[str, str], short: bool = False) -> list[str]:
    items = [gist(w) if short else w for w in r["key_warnings"]]
    # each open question by name: "1 open question(s)" tells a client nothing
    items += ["? " + (gist(q) if short else q) for q in r["open_questions"]]
    return items or [lab["none"]]


def _md_cites(sources: list[dict[str, str]]) -> str:
    return md_cell("; ".join(c["cite"] for c in sources) or "—")


def render_markdown(report: Report, rb: RuleBase, lang: str = "en") -> str:
    """GitHub-flavoured Markdown, tables through tabulate."""
    v = report_view(report, rb, lang)
    lab, c = v["labels"], v["client"]
    out: list[str] = [f"# {_md_text(v['title'])}", ""]
    out += [f"**{md_cell(k)}:** {_md_text(val)}  " for k, val in v["prepared"]]
    out += [f"{lab['as_of']} {v['as_of']} · {lab['digest']} `{v['digest'][:16]}`", ""]
    out += ['<a id="summary"></a>', "", f"## {c['summary']}", ""]
    for place in v["places"]:
        lines = " ".join(_md_text(line) for line in place["summary"])
        out += [f"**{_md_text(place['name'])}.** {lines}", ""]
    out += [f"> **{lab['notice_title']}:** {_md_text(v['notice'])}", ""]
    out += [f"**{c['contents']}**", ""]
    out += [f"{i}. [{md_cell(head)}](#{anchor})" for i, (anchor, head) in enumerate(v["contents"], 1)]
    out += ["", '<a id="query"></a>', "", f"## {lab['query']}", ""]
    rows = [[k, val] for k, val in v["query"]] + [[lab["digest"], v["digest"]], [lab["as_of"], v["as_of"]]]
    out += [_md_table(["", ""], rows), ""]
    if v["across_places"]:
        out += ['<a id="across"></a>', "", f"## {lab['across']}", ""]
        rows = []
        for a in v["across"]:
            b = a["best"]
            if b is None:
                rows.append([a["place"], "—", "—", "—", "—", "—", "—", "—", "0"])
            else:
                rows.append(
                    [
                        a["place"],
                        b["channels"],
                        b["location"],
                        b["weeks"],
                        b["approvals"],
                        b["cost"],
                        b["certainty"],
                        b["capacity"],
                        str(a["feasible"]),
                    ]
                )
        heads = [
            lab["place"],
            lab["channels"],
            lab["location"],
            lab["weeks"],
            lab["approvals"],
            lab["cost"],
            lab["certainty"],
            lab["capacity"],
            lab["feasible"],
        ]
        out += [_md_table(heads, rows), ""]
    for pi, place in enumerate(v["places"], 1):
        h = "###" if v["across_places"] else "##"
        out += [f'<a id="place-{pi}"></a>', ""]
        if v["across_places"]:
            out += [f"## {lab['place']}: {_md_text(place['name'])}", ""]
        out += [f"{h} {lab['side_by_side']}", ""]
        routes = place["routes"]
        if not routes:
            out += [lab["no_route"], ""]
        else:
            headers, side = _side_by_side_rows(routes, lab)
            body = [[md_cell(k)] + [md_cell(c) for c in cells] for k, cells in side]
            # whole sentences: Markdown is read in full, never cut at a width
            out += [_md_table_raw([""] + headers, body), ""]
            out += [f"**{lab['warnings']}**", ""]
            for r in routes:
                items = "; ".join(_md_text(w) for w in _warning_cell(r, lab))
                out.append(f"- {lab['route']} {r['rank']}: {items}")
            out.append("")
            out += [f"\\* {lab['pareto']}{lab['stop']}{lab['cost_note']}", ""]
            for r in routes:
                out += [f"{h}# {lab['route']} {r['rank']}: {_md_text(r['channels'])} · {_md_text(r['location'])}", ""]
                out += [
                    f"{lab['weeks']}: **{_md_text(r['weeks'])}** · {lab['approvals']}: {r['approvals']} · "
                    f"{lab['certainty']}: {r['certainty']} · {lab['capacity']}: {_md_text(r['capacity'])}",
                    "",
                ]
                if r["capacity_basis"]:
                    out += [f"{lab['capacity']}: {_md_text(r['capacity_basis'])}", ""]
                heads = [
                    "☐",
                    "#",
                    lab["action"],
                    lab["responsible"],
                    lab["authority"],
                    lab["weeks"],
                    lab["documents"],
                    lab["sources"],
                ]
                body = [
                    [
                        "☐",
                        str(s["number"]),
                        md_cell(s["action"] + ("" if s["verified"] else f" ({lab['unverified']})")),
                        md_cell(s["responsible"]),
                        md_cell(s["authority"]),
                        md_cell(s["weeks"]),
                        _md_join([d["name"] for d in s["documents"]]),
                        _md_cites(s["sources"]),
                    ]
                    for s in r["steps"]
                ]
                out += [_md_table_raw(heads, body), ""]
                if r["findings"]:
                    out += [f"**{lab['findings']}**", ""]
                    for f in r["findings"]:
                        srcs = f" ({_md_cites(f['sources'])})" if f["sources"] else ""
                        out.append(f"- {_md_text(f['text'])}{srcs}")
                    out.append("")
        out += [f"{h} {lab['excluded']}", ""]
        if place["exclusions"]:
            rows = [
                [md_cell(e["channels"]), md_cell(e["where"]), md_cell(e["reason"]), _md_cites(e["sources"])]
                for e in place["exclusions"]
            ]
            out += [_md_table_raw([lab["channels"], lab["where"], lab["reason"], lab["sources"]], rows), ""]
        else:
            out += [lab["no_exclusion"], ""]
    out += ['<a id="sources"></a>', "", f"## {lab['sources']}", "", *md_source_lines(v["sources"])]
    out += ["", "---", "", f"_{_md_text(v['notice'])}_", ""]
    return "\n".join(out)


# --- HTML ---------------------------------------------------------------------------------


def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    # autoescape=True for every template: all data is escaped; nothing is ever marked safe.
    return Environment(
        loader=FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(report: Report, rb: RuleBase, lang: str = "en") -> str:
    """One self-contained HTML file: inline CSS, no scripts, no network fetches."""
    return _environment().get_template("report.html.j2").render(v=report_view(report, rb, lang))


# --- rich table -----------------------------------------------------------------------------


def render_table(report: Report, rb: RuleBase, lang: str = "en", console: Any = None) -> None:
    """Print the report with rich, readable at 100 columns."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text as RText

    con = console or Console()
    v = report_view(report, rb, lang)
    lab = v["labels"]

    def plain(s: str, style: str = "") -> RText:
        # rich.text.Text never parses markup, so data such as "[bold]" prints as typed.
        return RText(s, style=style)

    con.print(plain(v["title"], "bold underline"))
    for k, val in v["prepared"]:
        con.print(plain(f"{k}: {val}"))
    con.print()
    con.print(plain(v["client"]["summary"], "bold"))
    for place in v["places"]:
        con.print(_hanging([("▸", place["name"] + ". " + " ".join(place["summary"]), [], "")]))
    con.print(plain(v["notice"], "italic"))
    con.print()
    q = Table(box=None, show_header=False, pad_edge=False)
    q.add_column(style="bold", no_wrap=True)
    q.add_column(overflow="fold")
    for k, val in v["query"]:
        q.add_row(plain(k), plain(val))
    # the full digest is one 64-character word: a narrow terminal gets its first 16 (as the HTML's header)
    q.add_row(plain(lab["digest"]), plain(v["digest"] if con.width >= 86 else v["digest"][:16]))
    q.add_row(plain(lab["as_of"]), plain(v["as_of"]))
    con.print(q)

    if v["across_places"]:
        con.print()
        con.print(plain(lab["across"], "bold"))
        t = Table(box=box.SIMPLE_HEAVY, show_edge=False, pad_edge=False)
        for i, h in enumerate(
            (
                lab["place"],
                lab["best"],
                lab["weeks_short"],
                lab["approvals_short"],
                lab["certainty_short"],
                lab["capacity"],
                lab["feasible_short"],
            )
        ):
            # Places get room for a long zone name without breaking its words; numbers never wrap.
            t.add_column(
                h,
                overflow="fold",
                justify="right" if i in (3, 4, 6) else "left",
                min_width=16 if i in (0, 1) else None,
                no_wrap=i in (3, 4, 6),
            )
        for a in v["across"]:
            b = a["best"]
            if b is None:
                t.add_row(
                    plain(a["place"]), plain(lab["no_route"], "red"), *[plain("—")] * 4, plain(str(a["feasible"]))
                )
                continue
            route = RText(b["channels"], style="bold")
            if b["location"] != a["place"]:  # the place's own name is already in the first column
                route.append("\n" + b["location"], style="dim")
            t.add_row(
                plain(a["place"]),
                route,
                *[plain(c) for c in (b["weeks"], b["approvals"], b["certainty"], b["capacity"], str(a["feasible"]))],
            )
        if fits(con, t, squeeze=True):
            con.print(t)
        else:  # narrow terminal: one block per place, no column dropped, no word split
            blocks = []
            for a in v["across"]:
                b = a["best"]
                pairs = (
                    [(lab["best"], lab["no_route"])]
                    if b is None
                    else [
                        (lab["best"], f"{b['channels']} · {b['location']}"),
                        (lab["weeks_short"], b["weeks"]),
                        (lab["approvals_short"], b["approvals"]),
                        (lab["certainty_short"], b["certainty"]),
                        (lab["capacity"], b["capacity"]),
                    ]
                )
                blocks.append((a["place"], pairs + [(lab["feasible_short"], str(a["feasible"]))]))
            con.print(stacked(blocks))

    for place in v["places"]:
        con.print()
        if v["across_places"]:
            con.rule(plain(f"{lab['place']}: {place['name']}", "bold"))
        con.print(plain(lab["side_by_side"], "bold"))
        routes = place["routes"]
        if not routes:
            con.print(plain(lab["no_route"], "bold red"))
        else:
            headers, rows = _side_by_side_rows(routes, lab)
            t = Table(box=box.SIMPLE_HEAVY, show_edge=False, pad_edge=False)
            t.add_column("", style="bold", min_width=15, max_width=18, overflow="fold")
            for h in headers:
                t.add_column(h, overflow="fold", ratio=1)
            for k, cells in rows:
                t.add_row(plain(k), *[plain(c) for c in cells])
            # No space after the bullet in Chinese: rich would wrap the unspaced text onto its own line.
            bullet = "• " if v["lang"] == "en" else "•"
            t.add_row(
                plain(lab["warnings"]),
                *[plain("\n".join(bullet + w for w in _warning_cell(r, lab, short=True))) for r in routes],
            )
            # each route's column needs room for its longest word; else one block per route
            narrow = (con.width - 20) // max(1, len(routes)) < 24
            if narrow:
                con.print(
                    stacked(
                        [
                            (
                                head,
                                [(k, cells[i]) for k, cells in rows]
                                + [(lab["warnings"], "; ".join(_warning_cell(r, lab, short=True)))],
                            )
                            for i, (head, r) in enumerate(zip(headers, routes))
                        ]
                    )
                )
            else:
                con.print(t)
            con.print(plain(f"* {lab['pareto']}{lab['stop']}{lab['cost_note']}", "dim"))
            for r in routes:
                con.print()
                con.print(
                    plain(f"{lab['route']} {r['rank']}: {r['channels']} · {r['location']} — {lab['checklist']}", "bold")
                )
                con.print(
                    plain(
                        f"{lab['weeks']}: {r['weeks']} · {lab['approvals']}: {r['approvals']} · "
                        f"{lab['certainty']}: {r['certainty']} · {lab['capacity']}: {r['capacity']}"
                    )
                )
                if r["capacity_basis"]:
                    con.print(plain(f"{lab['capacity']}: {r['capacity_basis']}", "dim"))
                if con.width < 100:  # narrow: the checklist as blocks, one per step
                    con.print(
                        stacked(
                            [
                                (
                                    f"☐ {s['number']}. {s['action']}"
                                    + ("" if s["verified"] else f" ({lab['unverified']})"),  # noqa: E501
                                    [
                                        (lab["responsible"], s["responsible"]),
                                        (lab["authority"], s["authority"]),
                                        (lab["weeks_short"], s["weeks"]),
                                        (lab["documents"], "; ".join(d["name"] for d in s["documents"]) or "—"),
                                        (lab["sources"], "; ".join(c["cite"] for c in s["sources"]) or "—"),
                                    ],
                                )
                                for s in r["steps"]
                            ]
                        )
                    )
                    con.print(_hanging(_finding_lines(r)))
                    continue
                st = Table(box=box.SIMPLE, show_edge=False, pad_edge=False, show_lines=True)
                st.add_column("#", justify="right", no_wrap=True)
                st.add_column(lab["step"], overflow="fold", ratio=5)
                st.add_column(lab["weeks_short"], no_wrap=True)
                st.add_column(lab["documents"], overflow="fold", ratio=3)
                st.add_column(lab["sources"], overflow="fold", ratio=2)
                for s in r["steps"]:
                    cell = RText()
                    cell.append(s["action"], style="bold")
                    if not s["verified"]:
                        cell.append(f" ({lab['unverified']})", style="yellow")
                    cell.append(
                        f"\n{lab['responsible']}: {s['responsible']}\n{lab['authority']}: {s['authority']}", style=""
                    )
                    docs = "\n".join(bullet + d["name"] for d in s["documents"]) or "—"
                    st.add_row(
                        plain(f"☐ {s['number']}"),
                        cell,
                        plain(s["weeks"]),
                        plain(docs),
                        plain("\n".join(c["cite"] for c in s["sources"]) or "—", "dim"),
                    )
                con.print(st)
                con.print(
                    _hanging(
                        [
                            (
                                {"warning": "!", "condition": "!", "unknown": "?", "note": "i"}.get(f["kind"], "-"),
                                f["text"],
                                f["sources"],
                                "yellow" if f["kind"] in ("warning", "condition") else "",
                            )
                            for f in r["findings"]
                        ]
                    )
                )
        con.print()
        con.print(plain(lab["excluded"], "bold"))
        if not place["exclusions"]:
            con.print(plain(lab["no_exclusion"]))
        con.print(
            _hanging(
                [
                    (
                        "✗",
                        f"{e['channels']}{'' if e['where'] == '—' else ' · ' + e['where']}: {e['reason']}",
                        e["sources"],
                        "",
                    )
                    for e in place["exclusions"]
                ]
            )
        )
    con.print()
    con.print(plain(lab["sources"], "bold"))
    con.print(_hanging([("•", s["line"] + (f"; {s['url']}" if s["url"] else ""), [], "") for s in v["sources"]]))  # noqa: E501
    con.print()
    con.print(plain(v["notice"], "italic"))


def _finding_lines(r: dict[str, Any]) -> list[tuple[str, str, list, str]]:
    marks = {"warning": "!", "condition": "!", "unknown": "?", "note": "i"}
    return [
        (marks.get(f["kind"], "-"), f["text"], f["sources"], "yellow" if f["kind"] in ("warning", "condition") else "")
        for f in r["findings"]
    ]


def _hanging(items: list[tuple[str, str, list[dict[str, str]], str]]):
    """Marked lines whose wrapped text stays indented under the text, not under the mark."""
    from rich.table import Table
    from rich.text import Text as RText

    grid = Table.grid(padding=(0, 1), pad_edge=True)
    grid.add_column(no_wrap=True, width=3, justify="right")
    grid.add_column(overflow="fold")
    for mark, text, sources, style in items:
        cell = RText(text, style=style)
        if sources:
            cell.append(" (" + "; ".join(c["cite"] for c in sources) + ")", style="dim")
        grid.add_row(RText(mark), cell)
    return grid


def table_text(report: Report, rb: RuleBase, lang: str = "en", width: int = 100) -> str:
    """The table format as plain text (no colour), for ``-o FILE``."""
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, width=width, no_color=True, force_terminal=False, highlight=False, emoji=False)
    render_table(report, rb, lang, console)
    return buf.getvalue()


def render_pdf(report: Report, rb: RuleBase, lang: str = "en", engine: str | None = None) -> bytes:
    """The HTML report printed to PDF (A4) by headless Chromium or WeasyPrint (``render.pdf``)."""
    from .pdf import html_to_pdf  # lazy: only `--format pdf` looks for a PDF engine

    return html_to_pdf(render_html(report, rb, lang), engine=engine)


def render(report: Report, rb: RuleBase, fmt: str, lang: str = "en") -> str:
    """The report as text in ``fmt`` (``table`` as plain 100-column text)."""
    if fmt not in FORMATS:
        raise RepatriateError(f"unknown format {fmt!r} (accepted: {', '.join(FORMATS)})")
    if fmt == "json":
        return render_json(report, rb, lang)
    if fmt == "md":
        return render_markdown(report, rb, lang)
    if fmt == "html":
        return render_html(report, rb, lang)
    if fmt == "pdf":
        raise RepatriateError("a PDF is bytes: use render_pdf", field="format")
    return table_text(report, rb, lang)


# --- output ---------------------------------------------------------------------------------

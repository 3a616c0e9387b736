"""Render plans: the JSON contract, rich tables, Markdown and CSV.

Renderers never compute; they lay out what ``search.plan`` decided.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ..rulebase.records import RuleBase
from ..rulebase.records import Text
from ..engine.search import Exclusion, Finding, Plan, Route

SCHEMA_VERSION = "1"
NOTICE = Text(
    en="Decision support, not legal advice: confirm every route with counsel and the authorities before acting.",
    zh="本结果仅供决策参考，不构成法律意见；实施前请与律师及主管部门逐项确认。",
)


def _t(text: Text | str | None, lang: str) -> str | None:
    if text is None or isinstance(text, str):
        return text
    return text.get(lang)


def _bi(text: Text) -> dict[str, str]:
    return {"en": text.en, "zh": text.zh}


def _weeks(w) -> dict | None:
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
        "sources": f.sources,
    }


def location_label(rb: RuleBase, loc, lang: str = "en") -> str:
    if loc.province is None:
        return "—"
    pv = rb.provinces[loc.province]
    parts = [pv.name.get(lang)]
    if loc.city:
        city = pv.cities.get(loc.city)
        parts.append(city.name.get(lang) if city else loc.city)
    return " / ".join(parts)


def channel_label(rb: RuleBase, channels, lang: str = "en") -> str:
    def label(c: str) -> str:
        ch = rb.channels[c]
        return ch.short.get(lang) if ch.short else ch.id.upper().replace("_", " ")

    return " → ".join(label(c) for c in channels)


def route_to_dict(r: Route, rb: RuleBase, lang: str) -> dict[str, Any]:
    return {
        "rank": r.rank,
        "channels": list(r.channels),
        "path": r.path,
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
                "sources": s.sources,
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
        else {"amount": round(r.capacity, 2), "currency": None, "basis": r.capacity_text.get(lang) if r.capacity_text else None},
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
        "path": e.path,
        "location": e.location.as_dict(),
        "location_name": location_label(rb, e.location, lang),
        "reasons": [_finding(f, lang) for f in e.reasons],
    }


def source_to_dict(rb: RuleBase, sid: str) -> dict[str, Any]:
    s = rb.sources[sid]
    return {
        "title": _bi(s.title),
        "doc_no": s.doc_no,
        "issuer": s.issuer if isinstance(s.issuer, str) else s.issuer.en,
        "issuer_i18n": None if isinstance(s.issuer, str) else _bi(s.issuer),
        "date": (s.issued or s.effective).isoformat() if (s.issued or s.effective) else None,
        "effective": s.effective.isoformat() if s.effective else None,
        "status": s.status,
        "url": s.url,
        "unofficial_copy": s.unofficial_copy,
        "kind": s.kind,
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
    return {
        "schema_version": SCHEMA_VERSION,
        "query": query,
        "as_of": plan.as_of.isoformat(),
        "rulebase": {"digest": plan.digest, "sources": len(rb.sources), "provinces": len(rb.provinces)},
        "routes": routes,
        "total_routes": plan.total_routes,
        "excluded": [exclusion_to_dict(e, rb, lang) for e in plan.excluded],
        "sources": {sid: source_to_dict(rb, sid) for sid in plan.sources},
        "notice": NOTICE.get(lang),
    }


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


# --- human formats ---------------------------------------------------------------

HEAD = {
    "en": ("#", "Channels", "Location", "Weeks", "Appr.", "Docs", "Cert.", "Capacity", "Score"),
    "zh": ("#", "渠道", "地点", "周数", "审批", "文件", "确定性", "额度", "得分"),
}


def weeks_span(lo: float, hi: float) -> str:
    """'≤3' when only a time limit is known (statutory 'within N days'), else 'lo–hi'."""
    if hi == 0:
        return "0"
    return f"≤{hi:g}" if lo == 0 else f"{lo:g}–{hi:g}"


def _weeks_text(r: Route) -> str:
    text = weeks_span(*r.timeline)
    return f"{text} +{r.unknown_steps}?" if r.unknown_steps else text


def _capacity_text(r: Route, currency: str) -> str:
    if r.capacity is None:
        return "—"
    return f"{r.capacity / 1e6:,.1f}m {currency}"


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
                _capacity_text(r, plan.profile.currency),
                f"{r.score:.2f}",
            ]
        )
    return rows


def grouped_exclusions(plan: Plan, rb: RuleBase, lang: str) -> list[tuple[str, str, list[str], list[str]]]:
    """(channels, reason, locations, sources): exclusions with the same reason shown once."""
    groups: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for e in plan.excluded:
        for f in e.reasons:
            key = (channel_label(rb, e.channels, lang), f.text.get(lang))
            locs, srcs = groups.setdefault(key, ([], []))
            label = location_label(rb, e.location, lang)
            if label not in locs:
                locs.append(label)
            srcs.extend(s for s in f.sources if s not in srcs)
    return [(k[0], k[1], v[0], v[1]) for k, v in groups.items()]


def source_line(rb: RuleBase, sid: str, lang: str) -> str:
    s = rb.sources[sid]
    bits = [f"{s.title.get(lang)}"]
    if lang == "en":
        bits[0] += f" ({s.title.zh})"
    if s.doc_no:
        bits.append(s.doc_no)
    issuer = s.issuer if isinstance(s.issuer, str) else s.issuer.get(lang)
    bits.append(issuer)
    date = s.issued or s.effective
    if date:
        bits.append(date.isoformat())
    bits.append(s.status)
    if s.url:
        copy = (" (unofficial copy)" if lang == "en" else "（非官方转载）") if s.unofficial_copy else ""
        bits.append(s.url + copy)
    if s.kind == "secondary":
        bits.append("secondary source" if lang == "en" else "二手资料")
    if not s.verified:
        bits.append("UNVERIFIED" if lang == "en" else "未核实")
    return "; ".join(bits)


ASSET_CLASS_ZH = {"equity": "股权类", "abs": "资产证券化类", "debt": "外债类"}
HOLDER_ZH = {"private": "民营企业", "soe": "国有企业", "lgfv": "地方政府融资平台", "listed": "上市公司", "fie": "外商投资企业", "financial": "金融机构"}
OBJECTIVE_ZH = {"balanced": "综合", "speed": "速度", "cost": "成本", "certainty": "确定性"}


def _header_lines(plan: Plan, rb: RuleBase, lang: str) -> list[str]:
    p = plan.profile
    where = location_label(rb, type("L", (), {"province": p.province, "city": p.city})(), lang)
    if lang == "zh":
        sector = rb.sectors[p.sector].name.zh if p.sector else "未填行业"
        return [
            f"资产：{ASSET_CLASS_ZH[p.asset_class]} · {sector} · {where} · {p.amount:,.0f} {p.currency} · 持有方：{HOLDER_ZH[p.holder_type]}",
            f"规则截至 {plan.as_of} · 规则库 {plan.digest[:12]} · 优化目标：{OBJECTIVE_ZH[plan.optimize]} · 可行路线 {plan.total_routes}",
        ]
    return [
        f"Asset: {p.asset_class} · {p.sector or 'no sector given'} · {where} · {p.amount:,.0f} {p.currency} · holder {p.holder_type}",
        f"Rules as of {plan.as_of} · rule base {plan.digest[:12]} · optimise {plan.optimize} · feasible routes {plan.total_routes}",
    ]


def render_table(plan: Plan, rb: RuleBase, lang: str = "en", explain: bool = False, console=None) -> None:
    """Print the plan with rich, sized for a 100-column terminal."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    con = console or Console()
    for line in _header_lines(plan, rb, lang):
        con.print(line, highlight=False)
    if not plan.routes:
        con.print("[bold red]" + ("No feasible route." if lang == "en" else "没有可行路线。") + "[/]")
    else:
        table = Table(box=box.SIMPLE_HEAVY, show_edge=False, pad_edge=False)
        for i, h in enumerate(HEAD[lang]):
            table.add_column(h, justify="right" if i in (0, 3, 4, 5, 6, 7, 8) else "left", overflow="fold", no_wrap=i not in (1, 2))
        for row in summary_rows(plan, rb, lang):
            table.add_row(*row)
        con.print(table)
        con.print(
            "* Pareto-optimal · ≤N weeks = within stated time limits · +K? = K steps with no stated time, not counted · "
            "Appr. = acts of an authority (approvals, filings, registrations) · † unverified"
            if lang == "en"
            else "* 帕累托最优 · ≤N 周为法定/公开时限内 · +K? 表示K个无公开时限的步骤未计入 · 审批 = 主管机关办理事项（审批、备案、登记）· † 未核实",
            style="dim",
            highlight=False,
        )
        best = plan.routes[0]
        con.print()
        title = "Route 1 checklist" if lang == "en" else "路线1 办理清单"
        con.print(f"[bold]{title}: {channel_label(rb, best.channels, lang)} · {location_label(rb, best.location, lang)}[/]")
        steps = Table(box=box.SIMPLE, show_edge=False, pad_edge=False)
        for h in ("#", "Step", "Who / authority", "Weeks") if lang == "en" else ("#", "步骤", "办理方 / 机关", "周数"):
            steps.add_column(h, overflow="fold")
        for i, s in enumerate(best.steps, 1):
            w = "?" if s.weeks is None else weeks_span(s.weeks.min, s.weeks.max)
            mark = "" if s.verified else " †"
            steps.add_row(str(i), s.step.action.get(lang) + mark, f"{s.step.responsible.get(lang)} / {s.authority.get(lang)}", w)
        con.print(steps)
        docs = "; ".join(rb.documents[d].name.get(lang) for d, _ in best.documents)
        con.print(("Documents: " if lang == "en" else "所需文件：") + docs, highlight=False)
        for f in best.warnings + best.notes:
            con.print(f"  ! {f.text.get(lang)} [dim]{', '.join(f.sources)}[/]", highlight=False)
    if explain:
        con.print()
        con.print("[bold]" + ("Excluded and why" if lang == "en" else "排除的路线及原因") + "[/]")
        if not plan.excluded:
            con.print("  " + ("none: every channel is open for this profile" if lang == "en" else "无：所有渠道对该资产均可用"))
        for ch, reason, locs, srcs in grouped_exclusions(plan, rb, lang):
            where = ", ".join(locs[:6]) + (f" (+{len(locs) - 6})" if len(locs) > 6 else "")
            con.print(f"  ✗ [bold]{ch}[/] · {where}: {reason} [dim]{', '.join(srcs)}[/]", highlight=False)
    elif plan.excluded:
        con.print(
            f"[dim]{len(plan.excluded)} route(s) excluded; --explain shows why.[/]"
            if lang == "en"
            else f"[dim]已排除{len(plan.excluded)}条路线；使用 --explain 查看原因。[/]"
        )
    con.print(f"[dim]{NOTICE.get(lang)}[/]", highlight=False)


def render_markdown(plan: Plan, rb: RuleBase, lang: str = "en", explain: bool = False) -> str:
    from tabulate import tabulate

    out = [("# Routes" if lang == "en" else "# 路线"), ""]
    out += [f"- {line}" for line in _header_lines(plan, rb, lang)]
    out.append("")
    if plan.routes:
        out.append(tabulate(summary_rows(plan, rb, lang), headers=HEAD[lang], tablefmt="github"))
    else:
        out.append("No feasible route." if lang == "en" else "没有可行路线。")
    if explain and plan.excluded:
        out += ["", "## " + ("Excluded" if lang == "en" else "排除"), ""]
        rows = [[ch, ", ".join(locs), reason.replace("|", "\\|"), ", ".join(srcs)] for ch, reason, locs, srcs in grouped_exclusions(plan, rb, lang)]
        out.append(tabulate(rows, headers=["Channels", "Locations", "Reason", "Sources"], tablefmt="github"))
    out += ["", "## " + ("Sources" if lang == "en" else "来源"), ""]
    out += [f"- `{sid}`: {source_line(rb, sid, lang)}" for sid in plan.sources]
    out += ["", f"_{NOTICE.get(lang)}_", ""]
    return "\n".join(out)


def safe_cell(value: Any) -> Any:
    """Make a text cell inert in spreadsheets (OWASP CSV injection); numbers stay numbers."""
    if isinstance(value, str) and value and value[0] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def render_csv(plan: Plan, rb: RuleBase, lang: str = "en") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["rank", "channels", "province", "city", "weeks_min", "weeks_max", "unknown_steps", "approvals", "documents", "certainty", "capacity", "score", "pareto", "warnings"])
    for r in plan.routes:
        w.writerow(
            [safe_cell(v) for v in (
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
            )]
        )
    return buf.getvalue()

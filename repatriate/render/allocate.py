"""The allocation of ``repatriate allocate`` (issue 12) as JSON, Markdown or a plain table.

JSON is the contract: a top-level ``allocation`` object (``route``'s JSON is unchanged).
"""

from __future__ import annotations

import json
from typing import Any

from .escape import clean_text, md_cell
from .labels import ALLOCATE_HEAD

FORMATS = ("table", "json", "md", "html")


def render_allocation(allocation: dict[str, Any], fmt: str, lang: str = "en") -> str:
    """The allocation in ``fmt`` (json, md or table)."""
    if fmt == "json":
        return json.dumps({"allocation": allocation}, ensure_ascii=False, indent=2, default=str) + "\n"
    if fmt == "html":
        return _html(allocation, lang)
    return _text(allocation, lang, md=fmt == "md")


def _place(loc: dict[str, Any]) -> str:
    return "/".join(p for p in (loc.get("province"), loc.get("city")) if p) or "—"


def _cost(leg: dict[str, Any]) -> str:
    c = leg["cost"]
    unit = "bps/yr" if c["basis"] == "bps_per_year" else "index"
    return f"{c['per_year']:g} {unit}" + ("" if c["known"] else " (?)")


def _rows(a: dict[str, Any]) -> list[list[str]]:
    out = []
    for leg in a["legs"]:
        used = leg["capacity_used"]
        out.append(
            [
                str(leg["leg"]),
                "+".join(leg["channels"]),
                _place(leg["location"]),
                f"{leg['amount']:,.0f}",
                f"{leg['share']:.1%}",
                "—" if used is None else f"{used:.1%}",
                ", ".join(leg["binds"]) or "—",
                _cost(leg),
                f"{leg['weeks_typical_max']:g}",
            ]
        )
    return out


def _text(a: dict[str, Any], lang: str, md: bool) -> str:
    title, summary, head, stops_h, binding_h, check_h, groups_h, total, none = ALLOCATE_HEAD[lang]
    cell = md_cell if md else (lambda s: clean_text(str(s), multiline=False))
    lines = [f"# {title}" if md else title, ""]
    share = a["placed"] / a["amount"] if a["amount"] else 0.0
    lines.append(
        summary.format(
            placed=a["placed"],
            amount=a["amount"],
            currency=a["currency"],
            share=share,
            legs=len(a["legs"]),
            weeks=a["weeks_typical_max"],
        )
    )
    if a["total_cost_per_year"] is not None:
        lines.append(
            total.format(
                cost=a["total_cost_per_year"], currency=a["currency"], bps=a["total_cost_bps_per_year"] or 0.0
            )
        )
    lines.append("")
    rows = [[cell(c) for c in r] for r in _rows(a)]
    if md:
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
    else:
        widths = (
            [max(len(str(x)) for x in col) for col in zip(head, *rows)] if rows else [len(h) for h in head]
        )
        lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines += ["", f"## {binding_h}" if md else binding_h, cell(", ".join(a["binding"]) or none)]
    lines += ["", f"## {stops_h}" if md else stops_h]
    for s in a["stops"]:
        lines.append(
            f"- {cell('+'.join(s['channels']))} ({cell(_place(s['location']))}): "
            f"{s['amount']:,.0f} — {cell(', '.join(s['binding']))}"
        )
    if a["groups"]:
        lines += ["", f"## {groups_h}" if md else groups_h]
        for g in a["groups"]:
            lines.append(f"- {cell(g['name'][lang])}: {g['load']:.1%}")
    lines += ["", f"## {check_h}" if md else check_h]
    for n, step in enumerate(a["checklist"], 1):
        legs = ",".join(str(x) for x in step["legs"])
        lines.append(f"{n}. {cell(step['action'][lang])} [{cell(step['authority'][lang])}] (leg {legs})")
    for w in a["warnings"]:
        lines.append(f"! {cell(w)}")
    return "\n".join(lines) + "\n"


# one colour per leg of the stacked bar (the unplaced rest is grey)
_COLOURS = ("#2b6cb0", "#2f855a", "#b7791f", "#9b2c2c", "#6b46c1", "#2c7a7b")


def _html(a: dict[str, Any], lang: str) -> str:
    """A self-contained page: the summary, a stacked bar of the legs' shares, the table and the text."""
    from html import escape

    title, summary, head = ALLOCATE_HEAD[lang][:3]
    share = a["placed"] / a["amount"] if a["amount"] else 0.0
    line = summary.format(
        placed=a["placed"],
        amount=a["amount"],
        currency=a["currency"],
        share=share,
        legs=len(a["legs"]),
        weeks=a["weeks_typical_max"],
    )
    bar = []
    for n, leg in enumerate(a["legs"]):
        label = escape("+".join(leg["channels"]))
        bar.append(
            f'<div class="seg" style="width:{leg["share"] * 100:.3f}%;background:{_COLOURS[n % 6]}" '
            f'title="{label} {leg["share"]:.1%}">{label}</div>'
        )
    rest = max(0.0, 1.0 - share)
    if rest > 1e-9:
        bar.append(f'<div class="seg" style="width:{rest * 100:.3f}%;background:#a0aec0">—</div>')
    rows = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in _rows(a))
    body = escape(_text(a, lang, md=False).split("\n", 3)[-1])
    return (
        f'<!doctype html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}.bar{display:flex;height:2em;border:1px solid #444}"
        ".seg{color:#fff;overflow:hidden;white-space:nowrap;font-size:.8em;line-height:2em;padding-left:.3em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}</style></head><body>"
        f'<h1>{escape(title)}</h1><p>{escape(line)}</p><div class="bar">{"".join(bar)}</div>'
        f"<table><tr>{''.join(f'<th>{escape(h)}</th>' for h in head)}</tr>{rows}</table>"
        f"<pre>{body}</pre></body></html>\n"
    )

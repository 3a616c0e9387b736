"""Browsing views of the rule base: channels, provinces, documents, sources, sectors, coverage, graph.

Each function returns the text to print (a plain table, Markdown, CSV or JSON), so the CLI stays thin.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import RepatriateError, short
from ..render.labels import BROWSE
from ..render.route import source_cite, source_line, source_to_dict, to_json
from ..rulebase.records import RuleBase, value_at
from ..rulebase.records import fields as record_fields


def _table(rows: list[list[Any]], headers: list[str], fmt: str = "table") -> str:
    """Rows as a plain table (``table``), a Markdown table (``md``) or CSV (``csv``, cells made inert)."""
    if fmt == "csv":
        import csv
        import io

        from ..files import safe_cell

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(headers)
        w.writerows([safe_cell(c) if isinstance(c, str) else c for c in row] for row in rows)
        return buf.getvalue()
    from tabulate import tabulate

    from ..render.escape import clean_text, md_cell

    if fmt == "md":
        cells = [[md_cell(str(c)) for c in row] for row in rows]
        head = [md_cell(h) for h in headers]
        return tabulate(cells, headers=head, tablefmt="github", disable_numparse=True)
    # the data is cleaned at load; this keeps a terminal safe from any other caller's records too
    rows = [[clean_text(c) if isinstance(c, str) else c for c in row] for row in rows]
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def _text(lines: list[str], fmt: str) -> str:
    """Lines of a detail view: as they are, or Markdown paragraphs (escaped; tables pass as rendered)."""
    if fmt != "md":
        return "\n".join(lines)
    from ..render.escape import md_escape

    return "\n\n".join(line if line.startswith("|") else md_escape(line) for line in lines if line)


def document_uses(rb: RuleBase) -> dict[str, list[str]]:
    """Document id -> the 'channel:step' places that name it."""
    uses: dict[str, list[str]] = {d: [] for d in rb.documents}
    for cid, ch in rb.channels.items():
        for st in ch.steps:
            for d in st.documents:
                uses[d].append(f"{cid}:{st.id}")
    for pre in rb.prerequisites:
        for st in pre.steps:
            for d in st.documents:
                uses[d].append(f"{pre.id}:{st.id}")
    return uses


def show_channels(rb: RuleBase, channel_id: str | None, lang: str, fmt: str) -> str:
    if channel_id is None:
        if fmt == "json":
            return to_json(
                {
                    cid: {
                        "name": ch.name.dump(),
                        "path": ch.path,
                        "location": ch.location,
                        "steps": len(ch.steps),
                        "sources": list(ch.sources),
                    }
                    for cid, ch in rb.channels.items()
                }
            )
        rows = [
            [cid, ch.name.get(lang), " → ".join(ch.path), ch.location, len(ch.steps), ", ".join(ch.sources)]
            for cid, ch in rb.channels.items()
        ]  # issue 10: every channel with its sources
        return _table(rows, ["id", "name", "path", "location", "steps", "sources"], fmt)
    ch = rb.channels.get(channel_id)
    if ch is None:
        raise RepatriateError(f"unknown channel {short(channel_id)} (accepted: {', '.join(rb.channels)})")
    if fmt == "json":
        return to_json(ch.dump())
    lines = [f"{ch.id}: {ch.name.get(lang)}", ch.summary.get(lang), "", BROWSE[lang]["steps"]]
    rows = []
    for st in ch.steps:
        w = "?" if st.weeks is None else f"{st.weeks.min:g}–{st.weeks.max:g} ({st.weeks.basis})"
        rows.append([st.id, st.phase, st.action.get(lang), st.authority.get(lang), w, ", ".join(st.sources)])
    step_head = ["id", "phase", "action", "authority", "weeks", "sources"]
    if fmt == "csv":  # one table: the steps
        return _table(rows, step_head, fmt)
    lines.append(_table(rows, step_head, fmt))
    if ch.rules:
        lines += ["", BROWSE[lang]["rules"]]
        rules = [[r.id, r.effect, r.message.get(lang), ", ".join(r.sources)] for r in ch.rules]
        lines.append(_table(rules, ["id", "effect", "message", "sources"], fmt))
    return _text(lines, fmt)


def show_provinces(rb: RuleBase, code: str | None, lang: str, fmt: str, day: dt.date) -> str:
    from ..engine.profile import Places

    if code is None:
        rows = []
        for c, pv in sorted(rb.provinces.items()):
            cities = [cid for cid, city in pv.cities.items() if value_at(city.qflp, day)]
            rows.append([c, pv.name.en, pv.name.zh, "yes" if pv.local_pilots else "no", ", ".join(cities)])
        if fmt == "json":
            return to_json([dict(zip(["code", "en", "zh", "local_pilots", "qflp_cities"], r)) for r in rows])
        if fmt == "csv":
            return _table(rows, ["code", "en", "zh", "local_pilots", "qflp_cities"], fmt)
        head = ["code", "name", BROWSE["zh"]["name"], "local pilots", f"QFLP cities ({day})"]
        return _table(rows, head, fmt)
    pv = rb.provinces[Places(rb).province(code)]
    if fmt == "json":
        return to_json(pv.dump())
    if fmt == "csv":  # one table: the QFLP terms of its cities over time
        terms = []
        for cid, city in pv.cities.items():
            for v in city.qflp:
                t = v.value
                terms.append(
                    [
                        cid,
                        city.name.get(lang),
                        str(v.from_),
                        str(v.to or ""),
                        "in force" if v.in_force(day) else "history",
                        t.fund_min_size.amount if t.fund_min_size else "",
                        t.fund_min_size.currency if t.fund_min_size else "",
                        t.quota_regime,
                        "yes" if v.verified else "no",
                        ", ".join(v.sources),
                    ]
                )
        head = ["city", "name", "from", "to", "status", "fund_min", "currency", "quota", "verified", "sources"]
        return _table(terms, head, fmt)
    lines = [
        f"{pv.code} {pv.name.en} {pv.name.zh}" + (f" / {pv.name.zh_hant}" if pv.name.zh_hant else ""),
        pv.summary.get(lang),
    ]
    for cid, city in pv.cities.items():
        lines += ["", f"{cid}: {city.name.get(lang)}"]
        for v in city.qflp:
            t = v.value
            size = f"{t.fund_min_size.amount:,.0f} {t.fund_min_size.currency}" if t.fund_min_size else "unknown"
            lp = (
                f"{t.lp_min_subscription.amount:,.0f} {t.lp_min_subscription.currency}"
                if t.lp_min_subscription
                else "unknown"
            )
            status = "in force" if v.in_force(day) else "history"
            mark = "" if v.verified else " [unverified]"
            lines.append(
                f"  QFLP {v.from_} → {v.to or '…'} ({status}){mark}: fund min {size}; LP min {lp}; "
                f"quota {t.quota_regime}; sources {', '.join(v.sources)}"
            )
            if t.prohibitions:
                lines.append("    bars: " + "; ".join(p.get(lang) for p in t.prohibitions))
    for fx in pv.fx_pilots:
        lines.append(
            f"FX pilot {fx.id}: {fx.area.get(lang)} since {fx.joined}: "
            f"{', '.join(fx.eases) or '—'} ({', '.join(fx.sources)})"
        )
    for n in pv.notes:
        lines.append(f"Note: {n.text.get(lang)} ({', '.join(n.sources)})")
    return _text(lines, fmt)


def show_documents(rb: RuleBase, doc_id: str | None, lang: str, fmt: str) -> str:
    uses = document_uses(rb)
    if doc_id is not None:
        doc = rb.documents.get(doc_id)
        if doc is None:
            raise RepatriateError(f"unknown document {short(doc_id)} (see `repatriate documents` for ids)")
        data = {**doc.dump(), "used_in": uses[doc_id]}
        if fmt == "json":
            return to_json(data)
        if fmt == "csv":
            row = [
                doc_id,
                doc.name.en,
                doc.name.zh,
                doc.issuer.get(lang),
                ", ".join(uses[doc_id]),
                ", ".join(doc.sources),
            ]
            return _table([row], ["id", "en", "zh", "issuer", "used_in", "sources"], fmt)
        return _text(
            [
                f"{doc_id}: {doc.name.en} / {doc.name.zh}",
                f"issuer: {doc.issuer.get(lang)}",
                f"proves: {doc.proves.get(lang)}",
                f"used in: {', '.join(uses[doc_id])}",
                f"sources: {', '.join(doc.sources)}",
            ],
            fmt,
        )
    if fmt == "json":
        return to_json({d: {**doc.dump(), "used_in": uses[d]} for d, doc in rb.documents.items()})
    rows = [[d, doc.name.get(lang), doc.issuer.get(lang), ", ".join(uses[d])] for d, doc in rb.documents.items()]
    return _table(rows, ["id", "name", "issuer", "used in"], fmt)


# source tiers, best first (models.Source.tier); below law_firm a fact is weak
TIERS = ("official", "official_reprint", "law_firm", "news", "listing")
WEAK_BELOW = TIERS.index("law_firm")


def _walk(obj: Any, path: str, out: list[tuple[str, list[str]]]) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            _walk(v, f"{path}.{k}", out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            label = getattr(v, "id", None) or getattr(v, "from_", None) or i
            _walk(v, f"{path}[{label}]", out)
    elif record_fields(obj):
        srcs = getattr(obj, "sources", None)
        if isinstance(srcs, (list, tuple)) and srcs and all(isinstance(s, str) for s in srcs):
            out.append((path, list(srcs)))
        for name in record_fields(obj):
            if name != "sources":
                _walk(getattr(obj, name), f"{path}.{name}", out)


def facts(rb: RuleBase) -> list[tuple[str, list[str]]]:
    """Every sourced fact of the rule base as (where it sits, its source ids)."""
    out: list[tuple[str, list[str]]] = []
    for part in ("channels", "prerequisites", "provinces", "documents", "parameters", "sectors"):
        _walk(getattr(rb, part, None), part, out)
    return out


def best_tier(rb: RuleBase, source_ids: list[str]) -> str:
    """The best tier among the sources of one fact."""
    return TIERS[min(TIERS.index(rb.sources[s].tier) for s in source_ids)]


def weak_facts(rb: RuleBase) -> list[tuple[str, str, list[str]]]:
    """Facts whose best source is below law-firm tier: (where, best tier, source ids)."""
    rows = [(where, best_tier(rb, srcs), srcs) for where, srcs in facts(rb)]
    return [r for r in rows if TIERS.index(r[1]) > WEAK_BELOW]


def show_sources(rb: RuleBase, lang: str, fmt: str, only_unverified: bool, only_weak: bool = False) -> str:
    if only_weak:
        weak = weak_facts(rb)
        if fmt == "json":
            return to_json([{"fact": w, "best_tier": t, "sources": s} for w, t, s in weak])
        rows = [[w, t, ", ".join(s)] for w, t, s in weak]
        if fmt == "csv":
            return _table(rows, ["fact", "best_tier", "sources"], fmt)
        note = f"{len(weak)} fact(s) rest on news or listing pages only"
        gap = "\n\n" if fmt == "md" else "\n"
        return _table(rows, ["fact", "best tier", "sources"], fmt) + gap + note
    ids = [s for s, src in sorted(rb.sources.items()) if not (only_unverified and src.verified)]
    if fmt == "json":
        return to_json({s: source_to_dict(rb, s) for s in ids})
    if fmt in ("csv", "md"):
        rows = []
        for sid in ids:
            d = source_to_dict(rb, sid)
            title = d["title"].get(lang) if isinstance(d.get("title"), dict) else d.get("title")
            rows.append(
                [
                    sid,
                    rb.sources[sid].tier,
                    "yes" if rb.sources[sid].verified else "no",
                    title or "",
                    d.get("doc_no") or "",
                    d.get("issuer") or "",
                    d.get("date") or "",
                    d.get("url") or "",
                ]
            )
        return _table(rows, ["id", "tier", "verified", "title", "doc_no", "issuer", "date", "url"], fmt)
    return "\n".join(f"{s} [{rb.sources[s].tier}]: {source_line(rb, s, lang)}" for s in ids)


def sectors(rb: RuleBase, day: dt.date) -> list[dict[str, Any]]:
    """The sector vocabulary: id, names, and what the negative list in force on ``day`` says of each."""
    out = []
    for sid, sec in sorted(rb.sectors.items()):
        dated = value_at(sec.negative_list, day)
        entry = dated.value if dated is not None else None
        out.append(
            {
                "id": sid,
                "en": sec.name.en,
                "zh": sec.name.zh,
                # no entry in force: the sector is not on the list that day (or before the first edition)
                "negative_list": entry.status if entry is not None else "not listed",
                "item": entry.item.en if entry is not None and entry.item else None,
            }
        )
    return out


def show_sectors(rb: RuleBase, lang: str, fmt: str, day: dt.date) -> str:
    rows = sectors(rb, day)
    if fmt == "json":
        return to_json({"as_of": day.isoformat(), "sectors": rows})
    head = ["id", "en", "zh", "negative_list", "item"]
    if fmt == "csv":
        return _table([[r[k] or "" for k in head] for r in rows], head, fmt)
    name = "zh" if lang == "zh" else "en"
    table = [[r["id"], r[name], r["negative_list"], r["item"] or ""] for r in rows]
    return _table(table, ["id", "name", f"negative list ({day})", "item"], fmt)


def tier_counts(rb: RuleBase) -> dict[str, dict[str, int]]:
    """Sources (all, and those in use) by tier, and facts by the best tier of their sources."""
    used = {s for _, srcs in facts(rb) for s in srcs}
    count = {k: dict.fromkeys(TIERS, 0) for k in ("sources", "sources_in_use", "facts_by_best_tier")}
    for sid, s in rb.sources.items():
        count["sources"][s.tier] += 1
        if sid in used:
            count["sources_in_use"][s.tier] += 1
    for _, srcs in facts(rb):
        count["facts_by_best_tier"][best_tier(rb, srcs)] += 1
    return count


def coverage(rb: RuleBase, day: dt.date) -> list[dict[str, Any]]:
    """Per province: channels with local rules, QFLP cities, sourced / unsourced / unverified facts."""
    out = []
    for code, pv in sorted(rb.provinces.items()):
        facts: list[tuple[tuple[str, ...], bool]] = []
        local: set[str] = set()
        qflp_now = 0
        for city in pv.cities.values():
            if value_at(city.qflp, day):
                qflp_now += 1
            for v in city.qflp:
                local.add("qflp")
                facts.append((v.sources, v.verified))
            facts += [(n.sources, n.verified) for n in city.notes]
        for fx in pv.fx_pilots:
            facts.append((fx.sources, fx.verified))
            for e in fx.eases:  # the same map as the route notes (easings.yaml)
                local.update(rb.easings[e].channels)
        for n in pv.notes:  # a note informs; it is not a local rule
            facts.append((n.sources, n.verified))
        for r in pv.rules:
            facts.append((r.sources, r.verified))
            local.add(r.channel)
        unverified = sum(
            1 for srcs, ok in facts if not ok or any(not rb.sources[s].verified for s in srcs if s in rb.sources)
        )
        out.append(
            {
                "province": code,
                "name": pv.name.en,
                "name_zh": pv.name.zh,
                "local_pilots": pv.local_pilots,
                "channels_with_local_rules": sorted(local),
                "qflp_cities": qflp_now,
                "qflp_cities_all_time": sum(1 for c in pv.cities.values() if c.qflp),
                "facts": len(facts),
                "facts_sourced": sum(1 for srcs, _ in facts if srcs),
                "facts_unsourced": sum(1 for srcs, _ in facts if not srcs),
                "facts_unverified": unverified,
            }
        )
    return out


_DatedItem = tuple[str, str, "dt.date | None", "dt.date | None", tuple[str, ...]]


def _dated(obj: Any, scope: str, out: list[_DatedItem]) -> None:
    """Every dated item under ``obj``: (scope, id, from, to, sources); a Validity dates its owner."""
    if isinstance(obj, dict):
        for v in obj.values():
            _dated(v, scope, out)
        return
    if isinstance(obj, (list, tuple)):
        for v in obj:
            _dated(v, scope, out)
        return
    names = record_fields(obj)
    if not names:
        return
    srcs = tuple(getattr(obj, "sources", ()) or ())
    valid = getattr(obj, "valid", None)
    if valid is not None and (valid.from_ or valid.to) and srcs:
        out.append((scope, getattr(obj, "id", "") or "", valid.from_, valid.to, srcs))
    elif "from_" in names and "value" in names and srcs:  # a dated value (QFLP terms, parameters, lists)
        out.append((scope, "", obj.from_, obj.to, srcs))
    for name in names:
        if name not in ("sources", "valid"):
            _dated(getattr(obj, name), scope, out)


def regimes(rb: RuleBase, day: dt.date) -> list[dict[str, Any]]:
    """The dated regimes of the rule base, national or by province (and city): each text that
    dates a rule, step or value, with the period it governs and whether it is in force on ``day``."""
    items: list[_DatedItem] = []
    for part in ("channels", "prerequisites", "parameters", "sectors"):
        _dated(getattr(rb, part), "national", items)
    for code, pv in sorted(rb.provinces.items()):
        _dated((pv.rules, pv.fx_pilots, pv.notes), code, items)
        for cid, city in sorted(pv.cities.items()):
            _dated((city.qflp, city.notes), f"{code}:{cid}", items)
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for scope, item, start, end, srcs in items:
        key = (scope, srcs[0])
        g = groups.setdefault(
            key,
            {
                "scope": scope,
                "source": srcs[0],
                "from": start,
                "to": end,
                "items": set(),
                "in_force": False,
                "open": end is None,
            },
        )
        g["from"] = min((d for d in (g["from"], start) if d), default=None)
        g["open"] = g["open"] or end is None
        g["to"] = None if g["open"] else max(d for d in (g["to"], end) if d)
        if item:
            g["items"].add(item)
        g["in_force"] = g["in_force"] or ((start is None or start <= day) and (end is None or day < end))
    rows = []
    for g in groups.values():
        rows.append(
            {
                "scope": g["scope"],
                "source": g["source"],
                "cite": source_cite(rb, g["source"], "en"),
                "from": g["from"].isoformat() if g["from"] else None,
                "to": g["to"].isoformat() if g["to"] else None,
                "in_force": g["in_force"],
                "items": sorted(g["items"]),
            }
        )
    return sorted(rows, key=lambda r: (r["scope"] != "national", r["scope"], r["from"] or "", r["source"]))


def show_coverage(rb: RuleBase, fmt: str, day: dt.date, lang: str = "en") -> str:
    from ..render.labels import COVERAGE_HEAD, GAZETTEER_LINE, REGIME_HEAD

    rows = coverage(rb, day)
    tiers = tier_counts(rb)
    dated = regimes(rb, day)
    places = {
        lvl: sum(1 for ps in rb.places.places.values() for p in ps if p.level == lvl)
        for lvl in ("prefecture", "county_city")
    }
    if fmt == "json":
        gazetteer = {"source": rb.places.source, "as_at": rb.places.as_at.isoformat(), **places}
        return to_json(
            {
                "as_of": day.isoformat(),
                "digest": rb.digest,
                "provinces": rows,
                "tiers": tiers,
                "regimes": dated,
                "places": gazetteer,
            }
        )
    head = COVERAGE_HEAD[lang]
    table = [
        [
            r["province"],
            rb.provinces[r["province"]].name.get(lang),
            ", ".join(r["channels_with_local_rules"]) or head[9],
            r["qflp_cities"],
            r["facts_sourced"],
            r["facts_unsourced"],
            r["facts_unverified"],
        ]
        for r in rows
    ]
    total = [sum(r[k] for r in rows) for k in ("qflp_cities", "facts_sourced", "facts_unsourced", "facts_unverified")]
    table.append([head[8], "", "", *total])
    by_tier = _table([[k.replace("_", " "), *v.values()] for k, v in tiers.items()], [head[7], *TIERS])
    headers = [*head[:3], head[3].format(day=day), *head[4:7]]
    rh = REGIME_HEAD[lang]
    regime_rows = [
        [
            r["scope"],
            source_cite(rb, r["source"], lang),
            r["from"] or "",
            r["to"] or "",
            rh[5] if r["in_force"] else rh[6],
        ]
        for r in dated
    ]
    regime_table = _table(regime_rows, [*rh[:4], rh[4].format(day=day)])
    gazetteer_line = GAZETTEER_LINE[lang].format(
        cite=source_cite(rb, rb.places.source, lang), as_at=rb.places.as_at, **places
    )
    return _table(table, headers) + "\n\n" + by_tier + "\n\n" + regime_table + "\n\n" + gazetteer_line


def export_graph(rb: RuleBase, fmt: str, day: dt.date) -> str:
    import networkx as nx

    from ..engine.graph import build_graph

    g = build_graph(rb, day)
    if fmt == "json":
        return to_json(nx.node_link_data(g, edges="edges"))
    if fmt == "graphml":
        h = nx.MultiDiGraph()
        h.add_nodes_from(g.nodes(data=True))
        for u, v, k, d in g.edges(keys=True, data=True):
            h.add_edge(u, v, key=k, channel=d["channel"], hops=" > ".join(d["hops"]), location=d["location"])
        h.graph.update(g.graph)
        return "\n".join(nx.generate_graphml(h))
    lines = ["digraph repatriate {", "  rankdir=LR;"]
    for n, d in g.nodes(data=True):
        lines.append(f'  "{n}" [label="{d["name"]}"];')
    for u, v, k, d in g.edges(keys=True, data=True):
        via = " via " + ", ".join(d["hops"][1:-1]) if len(d["hops"]) > 2 else ""
        lines.append(f'  "{u}" -> "{v}" [label="{k}{via}"];')
    lines.append("}")
    return "\n".join(lines)

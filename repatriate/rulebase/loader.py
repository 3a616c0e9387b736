"""Load the YAML rule base, validate every file against the models, check references.

Validated rule bases are cached by the sha256 digest of their files (signed, see
``cache.py``), so a cold command pays for hashing, not for parsing and validating.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import DataError, RepatriateError, short
from ..rulebase.records import RuleBase as RuleBaseRecord

# domains whose pages a source may not cite (copy, listing and spam sites), each with its reason
REFUSED_FILE = "refused_domains.yaml"

# catalogue folder or file -> name of the model of one entry (mapping id -> model)
_CATALOGUES = {
    "sources": "Source",
    "documents": "Document",
    "structures": "Structure",
    "sectors": "Sector",
    "parameters": "Parameter",
}


def default_data_dir() -> Path:
    """The rule base shipped with the package (inside the wheel) or beside the source tree."""
    here = Path(__file__).resolve().parent.parent  # the package folder
    for candidate in (here / "data", here.parent / "data"):
        if (candidate / "channels").is_dir():
            return candidate
    raise RepatriateError(f"no rule base found beside {here}")


def _files(data_dir: Path) -> dict[str, Path]:
    try:
        return {
            p.relative_to(data_dir).as_posix(): p
            for p in sorted(data_dir.rglob("*.yaml"))
            if not any(part.startswith(".") for part in p.relative_to(data_dir).parts)
        }
    except OSError as exc:  # a symlink loop, a folder we may not list
        problem = exc.strerror or exc
        raise RepatriateError(f"cannot list the rule base in {str(data_dir)!r}: {problem}") from None


def collect_files(data_dir: Path | None = None, overlay: Path | None = None) -> dict[str, Path]:
    """Relative path -> file; files of ``overlay`` replace or add to the base's."""
    base = Path(data_dir) if data_dir else default_data_dir()
    files = _files(base)
    if overlay is not None:
        overlay = Path(overlay)
        if not overlay.is_dir():
            raise RepatriateError(f"overlay {overlay}: not a directory", field="overlay", value=str(overlay))
        files.update(_files(overlay))
    return files


def digest_of(files: dict[str, Path]) -> str:
    h = hashlib.sha256()
    for rel, path in sorted(files.items()):
        h.update(rel.encode())
        h.update(b"\0")
        try:
            h.update(path.read_bytes())
        except OSError as exc:  # a symlink loop, a folder named *.yaml, no permission
            raise RepatriateError(f"cannot read rule-base file {rel}: {exc.strerror or exc}") from None
        h.update(b"\0")
    return h.hexdigest()


def _yaml_load(path: Path) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, "rb") as fh:
        return yaml.load(fh, Loader=loader)


def _loc(loc: tuple) -> str:
    return ".".join(str(x) for x in loc) or "(top)"


class _Collector:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, rel: str, field: str, msg: str) -> None:
        self.problems.append(f"{rel}: {field}: {msg}")

    def validate(self, rel: str, adapter: Any, raw: Any) -> Any:
        from pydantic import ValidationError

        try:
            return adapter.validate_python(raw)
        except ValidationError as exc:
            for err in exc.errors():
                self.add(rel, _loc(err["loc"]), err["msg"])
            return None


_UNREADABLE = object()


def _read(rel: str, path: Path, col: _Collector) -> Any:
    """One file's YAML, bounded and with clean text; ``_UNREADABLE`` after saying why not."""
    from .validate import MAX_FILE_BYTES, Refused, bounded

    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            col.add(rel, "(file)", f"larger than {MAX_FILE_BYTES // 1024 // 1024} MB: not read")
            return _UNREADABLE
        raw = _yaml_load(path)
    except OSError as exc:
        col.add(rel, "(file)", f"cannot read: {exc.strerror or exc}")
        return _UNREADABLE
    except Exception as exc:  # yaml errors carry line and column
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        col.add(rel, where, f"not valid YAML: {problem}")
        return _UNREADABLE
    try:
        raw, non_finite = bounded(raw)  # before anything else walks it: alias bombs, cycles
    except Refused as exc:
        col.add(rel, exc.field, str(exc))
        return _UNREADABLE
    for field, msg in non_finite:
        col.add(rel, field, msg)
    return raw


def _parse(files: dict[str, Path]) -> tuple[dict[str, Any], list[str]]:
    from pydantic import TypeAdapter

    from ..rulebase.models import (
        Channel,
        Easing,
        Gazetteer,
        Messages,
        Payout,
        Prerequisite,
        Province,
        QflpChecks,
        Scoring,
        Taxes,
        Typical,
    )
    from . import models

    col = _Collector()
    parts: dict[str, Any] = {name: {} for name in _CATALOGUES}
    parts.update(channels={}, provinces={}, prerequisites=[], scoring=None, messages=None, easings={})
    parts.update(qflp_checks=None, places=None, taxes=None, payout=None, typical=None, allocation=None)
    # single files beside the catalogues: file stem -> the model of its content
    singles: dict[str, Any] = {
        "scoring": Scoring,
        "messages": Messages,
        "easings": dict[str, Easing],
        "qflp_checks": QflpChecks,
        "places": Gazetteer,
        "taxes": Taxes,
        "payout": Payout,
        "typical": Typical,  # money and time (issue 11)
        "allocation": models.Allocation,  # shared capacities for `allocate` (issue 12)
    }
    owner: dict[tuple[str, str], str] = {}
    for rel, path in files.items():
        raw = _read(rel, path, col)
        if raw is _UNREADABLE:
            continue
        top = rel.split("/")[0].removesuffix(".yaml")
        if top in _CATALOGUES:
            entries = col.validate(rel, TypeAdapter(dict[str, getattr(models, _CATALOGUES[top])]), raw)  # type: ignore[misc,arg-type]
            for key, value in (entries or {}).items():
                if (top, key) in owner:
                    col.add(rel, key, f"{top[:-1]} id already defined in {owner[(top, key)]}")
                    continue
                owner[(top, key)] = rel
                parts[top][key] = value
        elif top == "channels":
            ch = col.validate(rel, TypeAdapter(Channel), raw)
            if ch is not None:
                if Path(rel).stem != ch.id:
                    col.add(rel, "id", f"channel id {ch.id!r} differs from the file name")
                parts["channels"][ch.id] = ch
        elif top == "provinces":
            pv = col.validate(rel, TypeAdapter(Province), raw)
            if pv is not None:
                if Path(rel).stem != pv.code:
                    col.add(rel, "code", f"province code {pv.code!r} differs from the file name")
                parts["provinces"][pv.code] = pv
        elif top == "prerequisites":
            parts["prerequisites"] = col.validate(rel, TypeAdapter(list[Prerequisite]), raw) or []
        elif top in singles:
            parts[top] = col.validate(rel, TypeAdapter(singles[top]), raw)
        elif rel == REFUSED_FILE:
            pass  # read by the reference checks: it constrains source urls, it is not part of the model
        else:
            col.add(rel, "(file)", "not a known part of the rule base")
    for name in singles:
        if not parts[name] and not any(p.startswith(name) for p in col.problems):
            col.add(f"{name}.yaml", "(file)", "missing")
    return parts, col.problems


def refused_domain(host: str, refused: Iterable[str]) -> str | None:
    """The refused domain ``host`` is or sits under (a subdomain), else ``None``."""
    host = host.lower().rstrip(".")
    return next((d for d in map(str, refused) if host == d.lower() or host.endswith("." + d.lower())), None)


def _refused_urls(sources: dict[str, Any], files: dict[str, Path]) -> list[str]:
    """Source urls that are not http(s), name a bare IP address or sit on a refused domain."""
    import ipaddress
    from urllib.parse import urlsplit

    refused = _yaml_load(files[REFUSED_FILE]) if REFUSED_FILE in files else {}
    shaped = isinstance(refused, dict) and all(isinstance(r, str) for r in refused.values())
    if not shaped:
        return [f"{REFUSED_FILE}: (top): expected a mapping of domain to a one-line reason"]
    bad: dict[str, str] = {}
    for sid, s in sources.items():
        if s.url is None:
            continue
        parts = urlsplit(s.url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            bad[sid] = f"url {short(s.url)}: only http(s) urls with a host are accepted"
            continue
        try:
            ipaddress.ip_address(host)
            bad[sid] = f"url {short(s.url)}: a bare IP address names no publisher"
            continue
        except ValueError:
            pass
        hit = refused_domain(host, refused)
        if hit:
            bad[sid] = f"url {short(s.url)}: refused domain {hit} ({refused[hit]})"
    if not bad:
        return []
    # the parsed catalogue forgets its files: find each offending id's file from its top-level key
    where: dict[str, str] = {}
    for rel, path in files.items():
        if rel.startswith("sources"):
            for line in path.read_text(encoding="utf-8").splitlines():
                key = line.split(":", 1)[0]
                if key in bad and line[:1] not in (" ", "#", "-"):
                    where[key] = rel
    return [f"{where.get(sid, 'sources')}: {sid}.url: {msg}" for sid, msg in bad.items()]


def _check_refs(rb: dict[str, Any], files: dict[str, Path]) -> list[str]:
    """Referential integrity: every referenced node, document, source, city and sector exists."""
    from ..rulebase.conditions import check_matcher
    from .validate import after_cycles, check_matcher_size, dry_run_formula

    problems: list[str] = _refused_urls(rb["sources"], files)
    step_graph: list[tuple[str, str, list[str]]] = []
    sources, documents = rb["sources"], rb["documents"]
    sectors, structures = rb["sectors"], rb["structures"]

    def src(where: str, ids: list[str]) -> None:
        for s in ids:
            if s not in sources:
                problems.append(f"{where}: unknown source {s!r}")

    def matcher(where: str, when: dict | None) -> None:
        if when is not None:
            too_big = check_matcher_size(when)  # before the shape check walks it
            for msg in too_big or check_matcher(when, sectors=set(sectors)):
                problems.append(f"{where}: when: {msg}")

    all_steps = {st.id for ch in rb["channels"].values() for st in ch.steps} | {
        st.id for p in rb["prerequisites"] for st in p.steps
    }

    def steps(where: str, items) -> None:
        for i, st in enumerate(items):
            w = f"{where}: steps.{i}({st.id})"
            step_graph.append((w, st.id, list(st.after)))
            for a in st.after:  # a step may wait for one of an earlier channel on the route
                if a not in all_steps:
                    problems.append(f"{w}: after: unknown step {a!r}")
            src(w, st.sources)
            matcher(w, st.when)
            for d in st.documents:
                if d not in documents:
                    problems.append(f"{w}: unknown document {d!r}")

    def rules(where: str, items) -> None:
        for r in items:
            src(f"{where}: rules.{r.id}", r.sources)
            matcher(f"{where}: rules.{r.id}", r.when)

    for key, doc in documents.items():
        src(f"documents: {key}", doc.sources)
    for key, sec in sectors.items():
        for v in sec.negative_list:
            src(f"sectors: {key}", v.sources)
    for key, par in rb["parameters"].items():
        for v in par.values:
            src(f"parameters: {key}", v.sources)
    for cid, ch in rb["channels"].items():
        where = f"channels/{cid}.yaml"
        src(where, ch.sources)
        for node in ch.path:
            if node not in structures:
                problems.append(f"{where}: path: unknown structure {node!r}")
        steps(where, ch.steps)
        rules(where, ch.rules)
        for label, cap in ([("capacity", ch.capacity)] if ch.capacity else []) + [
            (f"capacities.{i}", c) for i, c in enumerate(ch.capacities)
        ]:
            src(f"{where}: {label}", cap.sources)
            from ..rulebase.conditions import check_formula

            shape = check_formula(cap.formula, set(rb["parameters"]))
            params = {pid: par.values for pid, par in rb["parameters"].items()}
            for msg in shape or dry_run_formula(cap.formula, params):
                problems.append(f"{where}: {label}.formula: {msg}")
            matcher(f"{where}: {label}", cap.when)
            for rid in cap.closed_by:
                if rid not in {r.id for r in ch.rules}:
                    problems.append(f"{where}: {label}.closed_by: unknown rule {rid!r} of the channel")
        if ch.capacities and ch.capacity is None:
            problems.append(f"{where}: capacities: other models need the main capacity")
        if ch.certainty:
            src(f"{where}: certainty", ch.certainty.sources)
    for i, pre in enumerate(rb["prerequisites"]):
        where = f"prerequisites.yaml: {i}({pre.id})"
        matcher(where, pre.when)
        steps(where, pre.steps)
        rules(where, pre.rules)
    for eid, easing in (rb.get("easings") or {}).items():
        src(f"easings.yaml: {eid}", easing.sources)
        for c in easing.channels:
            if c not in rb["channels"]:
                problems.append(f"easings.yaml: {eid}: unknown channel {c!r}")
    if rb.get("places") is not None:
        src("places.yaml", [rb["places"].source])
        for code in rb["places"].places:
            if code not in rb["provinces"]:
                problems.append(f"places.yaml: places.{code}: unknown province {code!r}")
    _money_references(rb, src, problems)
    if rb.get("qflp_checks") is not None:
        for check in rb["qflp_checks"].checks:
            src(f"qflp_checks.yaml: {check.id}", check.sources)
    for code, pv in rb["provinces"].items():
        where = f"provinces/{code}.yaml"
        for n in pv.notes:
            src(f"{where}: notes", n.sources)
        for fx in pv.fx_pilots:
            src(f"{where}: fx_pilots.{fx.id}", fx.sources)
            if fx.city and fx.city not in pv.cities:
                problems.append(f"{where}: fx_pilots.{fx.id}: unknown city {fx.city!r}")
            for e in fx.eases:
                if e not in (rb.get("easings") or {}):
                    problems.append(f"{where}: fx_pilots.{fx.id}: unknown easing {e!r} (see easings.yaml)")
        for r in pv.rules:
            if r.channel not in rb["channels"]:
                problems.append(f"{where}: rules.{r.id}: unknown channel {r.channel!r}")
        rules(where, pv.rules)
        for cid, city in pv.cities.items():
            for n in city.notes:
                src(f"{where}: cities.{cid}.notes", n.sources)
            for v in city.qflp:
                w = f"{where}: cities.{cid}.qflp[{v.from_}]"
                src(w, v.sources)
                src(w + ".documents", v.value.documents)
                for s in v.value.excluded_sectors:
                    if s not in sectors:
                        problems.append(f"{w}: unknown sector {s!r}")
    return problems + after_cycles(step_graph)


def validate(data_dir: Path | None = None, overlay: Path | None = None) -> list[str]:
    """Every problem in the rule base, each as ``file: field: message``. Empty when valid.

    Exactly the loader (no cache: every check runs), then a dry run of queries on what loaded.
    """
    from .validate import dry_run_queries

    try:
        rb = load(data_dir, overlay, use_cache=False)
    except DataError as exc:
        return exc.problems
    return dry_run_queries(rb)


def _checked(files: dict[str, Path]) -> tuple[dict[str, Any], list[str]]:
    """Parse, validate and dry-run: the one path of both ``validate`` and ``load``."""
    parts, problems = _parse(files)
    # References are checked even when some files failed, over what did parse; a
    # catalogue that failed would make every reference into it look dangling, so those
    # complaints are left out until it parses.
    broken = {p.split("/")[0].split(":")[0].removesuffix(".yaml") for p in problems}
    noise = [
        f"unknown {kind[:-1]} "
        for kind in ("sources", "documents", "sectors", "structures", "channels")
        if kind in broken
    ]
    noise += ["unknown city "] if "provinces" in broken else []
    noise += ["unknown easing "] if "easings" in broken else []
    try:
        refs = _check_refs(parts, files)
    except Exception:  # a part missing altogether: its own parse problem says why
        if not problems:
            raise
        refs = []
    return parts, problems + [r for r in refs if not any(n in r for n in noise)]


def load(data_dir: Path | None = None, overlay: Path | None = None, *, use_cache: bool = True) -> RuleBaseRecord:
    """Load and validate the rule base.

    Parameters
    ----------
    data_dir : path, optional
        A complete rule base; default the one shipped with the package.
    overlay : path, optional
        A folder whose YAML files replace (same relative path) or add to the base.
    use_cache : bool
        Reuse a validated copy keyed by the digest of the files.

    Returns
    -------
    repatriate.rulebase.records.RuleBase
        The validated ``RuleBase``, as plain runtime records (``records.freeze``), which
        unpickle without building pydantic model classes.

    Raises
    ------
    DataError
        When any file fails validation or a reference is dangling.
    """
    from . import cache

    files = collect_files(data_dir, overlay)
    digest = digest_of(files)
    if use_cache:
        cached = cache.get(digest)  # verified before it is unpickled; None when absent or unsafe
        if isinstance(cached, RuleBaseRecord) and cached.digest == digest:
            return cached
    parts, problems = _checked(files)
    if problems:
        raise DataError(problems)
    from ..rulebase.models import RuleBase
    from ..rulebase.records import freeze

    rb: RuleBaseRecord = freeze(RuleBase(**parts, digest=digest))
    if use_cache:
        cache.put(digest, rb)  # an unusable cache folder only costs speed
    return rb


def _money_references(rb: dict[str, Any], src: Any, problems: list[str]) -> None:
    """Sources, channels, frequencies and places named by taxes.yaml, payout.yaml and typical.yaml."""
    taxes, payout, typical = rb.get("taxes"), rb.get("payout"), rb.get("typical")
    if taxes is not None:
        for tid, rate in taxes.rates.items():
            for v in rate.values:
                src(f"taxes.yaml: rates.{tid}", v.sources)
        for zid, zone in taxes.zones.items():
            for v in zone.values:
                src(f"taxes.yaml: zones.{zid}", v.sources)
            pv = rb["provinces"].get(zone.province)
            if pv is None or (zone.city is not None and zone.city not in pv.cities):
                problems.append(f"taxes.yaml: zones.{zid}: unknown place {zone.province}/{zone.city}")
    if payout is not None:
        for lid, leg in payout.legs.items():
            src(f"payout.yaml: legs.{lid}", [*leg.sources, *leg.frequency_sources])
            for st in leg.steps:
                src(f"payout.yaml: legs.{lid}.{st.id}", st.sources)
            for name in [*leg.channels]:
                if name not in rb["channels"]:
                    problems.append(f"payout.yaml: legs.{lid}: unknown channel {name!r}")
            if leg.redemption is not None and leg.redemption not in payout.legs:
                problems.append(f"payout.yaml: legs.{lid}: unknown redemption leg {leg.redemption!r}")
            for f in leg.frequencies:
                if f not in payout.frequencies:
                    problems.append(f"payout.yaml: legs.{lid}: unknown frequency {f!r}")
        for ac, f in payout.defaults.items():
            if f not in payout.frequencies:
                problems.append(f"payout.yaml: defaults.{ac}: unknown frequency {f!r}")
        for ob in payout.obligations:
            src(f"payout.yaml: obligations.{ob.id}", ob.sources)
    if typical is not None:
        for sid, w in typical.steps.items():
            src(f"typical.yaml: steps.{sid}", w.sources)
        for ex in typical.extras:
            src(f"typical.yaml: extras.{ex.id}", ex.weeks.sources)
    allocation = rb.get("allocation")
    if allocation is not None:  # issue 12: the sources and channels the shared capacities name
        for item in [*allocation.groups, *allocation.caps, *allocation.minimums]:
            src(f"allocation.yaml: {item.id}", item.sources)
            for name in item.channels:
                if name not in rb["channels"]:
                    problems.append(f"allocation.yaml: {item.id}: unknown channel {name!r}")
        for cap in allocation.caps:
            problems += [f"allocation.yaml: {cap.id}: {msg}" for msg in _cap_formula(cap, set(rb["parameters"]))]


def _cap_formula(cap: Any, parameters: set[str]) -> list[str]:
    """A split-only cap reads parameters and its declared inputs, which allocate knows how to fill."""
    import ast

    from ..rulebase.conditions import CAP_INPUTS, check_formula

    accepted = ", ".join(CAP_INPUTS)
    out = [f"inputs: unknown input {n!r} (accepted: {accepted})" for n in cap.inputs if n not in CAP_INPUTS]
    shape = check_formula(cap.formula, parameters | set(CAP_INPUTS))
    if shape:
        return out + [f"formula: {m}" for m in shape]
    names = {n.id for n in ast.walk(ast.parse(cap.formula, mode="eval")) if isinstance(n, ast.Name)}
    out += [
        f"formula: reads {n!r}, which is not among its inputs"
        for n in sorted(names - parameters - {"min", "max"} - set(cap.inputs))
    ]
    return out


def _adapter(model: Any) -> Any:
    """A TypeAdapter of a catalogue file (id -> ``model``); the model is known only at run time."""
    from pydantic import TypeAdapter

    return TypeAdapter(dict[str, model])  # type: ignore[valid-type]


def json_schema() -> dict:
    """The JSON Schema of every kind of data file, keyed by where the file lives."""
    from pydantic import TypeAdapter

    from ..rulebase.models import (
        Channel,
        Easing,
        Gazetteer,
        Messages,
        Payout,
        Prerequisite,
        Province,
        QflpChecks,
        Scoring,
        Taxes,
        Typical,
    )
    from . import models

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "repatriate rule base",
        "$defs": {},
        "files": {
            "channels/<id>.yaml": TypeAdapter(Channel).json_schema(by_alias=True),
            "provinces/<CN-XX>.yaml": TypeAdapter(Province).json_schema(by_alias=True),
            "prerequisites.yaml": TypeAdapter(list[Prerequisite]).json_schema(by_alias=True),
            "scoring.yaml": TypeAdapter(Scoring).json_schema(by_alias=True),
            "messages.yaml": TypeAdapter(Messages).json_schema(by_alias=True),
            "easings.yaml": TypeAdapter(dict[str, Easing]).json_schema(by_alias=True),
            "taxes.yaml": TypeAdapter(Taxes).json_schema(by_alias=True),
            "payout.yaml": TypeAdapter(Payout).json_schema(by_alias=True),
            "typical.yaml": TypeAdapter(Typical).json_schema(by_alias=True),
            "allocation.yaml": TypeAdapter(models.Allocation).json_schema(by_alias=True),
            "qflp_checks.yaml": TypeAdapter(QflpChecks).json_schema(by_alias=True),
            "places.yaml": TypeAdapter(Gazetteer).json_schema(by_alias=True),
            **{
                f"{name}.yaml | {name}/*.yaml": _adapter(getattr(models, model)).json_schema(by_alias=True)
                for name, model in _CATALOGUES.items()
            },
        },
    }

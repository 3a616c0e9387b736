"""Load the YAML rule base, validate every file against the models, check references.

Validated rule bases are cached by the sha256 digest of their files, so a cold
command pays for hashing, not for parsing and validating, after the first run.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

from ..errors import DataError, RepatriateError
from ..rulebase.records import RuleBase as RuleBaseRecord

CACHE_VERSION = "5"

# catalogue folder or file -> name of the model of one entry (mapping id -> model)
_CATALOGUES = {"sources": "Source", "documents": "Document", "structures": "Structure", "sectors": "Sector", "parameters": "Parameter"}


def default_data_dir() -> Path:
    """The rule base shipped with the package (inside the wheel) or beside the source tree."""
    here = Path(__file__).resolve().parent.parent  # the package folder
    for candidate in (here / "data", here.parent / "data"):
        if (candidate / "channels").is_dir():
            return candidate
    raise RepatriateError(f"no rule base found beside {here}")


def _files(data_dir: Path) -> dict[str, Path]:
    return {
        p.relative_to(data_dir).as_posix(): p
        for p in sorted(data_dir.rglob("*.yaml"))
        if not any(part.startswith(".") for part in p.relative_to(data_dir).parts)
    }


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
        h.update(path.read_bytes())
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


def _parse(files: dict[str, Path]) -> tuple[dict[str, Any], list[str]]:
    from pydantic import TypeAdapter

    from . import models
    from ..rulebase.models import Channel, Easing, Messages, Prerequisite, Province, QflpChecks, Scoring

    col = _Collector()
    parts: dict[str, Any] = {name: {} for name in _CATALOGUES}
    parts.update(channels={}, provinces={}, prerequisites=[], scoring=None, messages=None, easings={}, qflp_checks=None)
    # single files beside the catalogues: file stem -> the model of its content
    singles: dict[str, Any] = {
        "scoring": Scoring, "messages": Messages, "easings": dict[str, Easing], "qflp_checks": QflpChecks,
    }
    owner: dict[tuple[str, str], str] = {}
    for rel, path in files.items():
        try:
            raw = _yaml_load(path)
        except Exception as exc:  # yaml errors carry line and column
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else "(file)"
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            col.add(rel, where, f"not valid YAML: {problem}")
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
        else:
            col.add(rel, "(file)", "not a known part of the rule base")
    for name in singles:
        if not parts[name] and not any(p.startswith(name) for p in col.problems):
            col.add(f"{name}.yaml", "(file)", "missing")
    return parts, col.problems


def _check_refs(rb: dict[str, Any], files: dict[str, Path]) -> list[str]:
    """Referential integrity: every referenced node, document, source, city and sector exists."""
    from ..rulebase.conditions import check_matcher

    problems: list[str] = []
    sources, documents = rb["sources"], rb["documents"]
    sectors, structures = rb["sectors"], rb["structures"]

    def src(where: str, ids: list[str]) -> None:
        for s in ids:
            if s not in sources:
                problems.append(f"{where}: unknown source {s!r}")

    def matcher(where: str, when: dict | None) -> None:
        if when is not None:
            for msg in check_matcher(when, sectors=set(sectors)):
                problems.append(f"{where}: when: {msg}")

    all_steps = {st.id for ch in rb["channels"].values() for st in ch.steps} | {st.id for p in rb["prerequisites"] for st in p.steps}

    def steps(where: str, items) -> None:
        for i, st in enumerate(items):
            w = f"{where}: steps.{i}({st.id})"
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
        if ch.capacity:
            src(f"{where}: capacity", ch.capacity.sources)
            from ..rulebase.conditions import check_formula

            for msg in check_formula(ch.capacity.formula, set(rb["parameters"])):
                problems.append(f"{where}: capacity.formula: {msg}")
            matcher(f"{where}: capacity", ch.capacity.when)
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
    return problems


def _cache_path(digest: str) -> Path | None:
    root = os.environ.get("REPATRIATE_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    base = Path(root) if root else Path.home() / ".cache"
    return base / "repatriate" / f"rulebase-{CACHE_VERSION}-{digest[:32]}.pickle"


def validate(data_dir: Path | None = None, overlay: Path | None = None) -> list[str]:
    """Every problem in the rule base, each as ``file: field: message``. Empty when valid."""
    files = collect_files(data_dir, overlay)
    parts, problems = _parse(files)
    # References are checked even when some files failed, over what did parse; a
    # catalogue that failed would make every reference into it look dangling, so those
    # complaints are left out until it parses.
    broken = {p.split("/")[0].split(":")[0].removesuffix(".yaml") for p in problems}
    noise = [f"unknown {kind[:-1]} " for kind in ("sources", "documents", "sectors", "structures", "channels") if kind in broken]
    noise += ["unknown city "] if "provinces" in broken else []
    noise += ["unknown easing "] if "easings" in broken else []
    try:
        refs = _check_refs(parts, files)
    except Exception:  # a part missing altogether: its own parse problem says why
        refs = []
    return problems + [r for r in refs if not any(n in r for n in noise)]


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
    files = collect_files(data_dir, overlay)
    digest = digest_of(files)
    cache = _cache_path(digest) if use_cache else None
    if cache is not None and cache.exists():
        try:
            with open(cache, "rb") as fh:
                cached = pickle.load(fh)
            if isinstance(cached, RuleBaseRecord) and cached.digest == digest:
                return cached
        except Exception:
            pass  # a stale or broken cache is rebuilt below
    parts, problems = _parse(files)
    if not problems:
        problems = _check_refs(parts, files)
    if problems:
        raise DataError(problems)
    from ..rulebase.models import RuleBase
    from ..rulebase.records import freeze

    rb: RuleBaseRecord = freeze(RuleBase(**parts, digest=digest))
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                pickle.dump(rb, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, cache)
        except OSError:
            pass  # an unwritable cache only costs speed
    return rb


def json_schema() -> dict:
    """The JSON Schema of every kind of data file, keyed by where the file lives."""
    from pydantic import TypeAdapter

    from . import models
    from ..rulebase.models import Channel, Easing, Messages, Prerequisite, Province, QflpChecks, Scoring

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
            "qflp_checks.yaml": TypeAdapter(QflpChecks).json_schema(by_alias=True),
            **{
                f"{name}.yaml | {name}/*.yaml": TypeAdapter(dict[str, getattr(models, model)]).json_schema(by_alias=True)  # type: ignore[misc,arg-type]
                for name, model in _CATALOGUES.items()
            },
        },
    }

"""Plain runtime records of the validated rule base, cheap to unpickle.

The pydantic models validate; the search reads these records, so a cold query never
pays for building pydantic model classes (see bench/bench_startup.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any


class Record:
    """An attribute bag mirroring one validated model; ``_model`` names the model."""

    _model = "Record"

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in list(self.__dict__.items())[:4])
        return f"{self._model}({inner})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    def dump(self) -> dict[str, Any]:
        """JSON-ready dict with the data files' key names (``from`` for ``from_``)."""
        return {("from" if k == "from_" else k): _dump(v) for k, v in self.__dict__.items() if k != "_model"}


def _dump(value: Any) -> Any:
    if isinstance(value, Record):
        return value.dump()
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_dump(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class Text(Record):
    """A bilingual text: ``en``, ``zh`` (simplified), optional ``zh_hant``."""

    _model = "Text"

    def __init__(self, en: str, zh: str, zh_hant: str | None = None) -> None:
        self.en, self.zh, self.zh_hant = en, zh, zh_hant

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Validity(Record):
    _model = "Validity"

    def covers(self, day: dt.date) -> bool:
        return (self.from_ is None or self.from_ <= day) and (self.to is None or day < self.to)


class Weeks(Record):
    _model = "Weeks"


_SPECIAL = {"Text": Text, "Validity": Validity, "Weeks": Weeks}


def freeze(value: Any) -> Any:
    """Turn validated pydantic models (recursively) into records with the same attributes."""
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        cls = _SPECIAL.get(type(value).__name__)
        fields = {name: freeze(getattr(value, name)) for name in type(value).model_fields}
        if cls is Text:
            return Text(fields["en"], fields["zh"], fields.get("zh_hant"))
        rec = (cls or Record)(**fields)
        if cls is None:
            rec._model = type(value).__name__
        return rec
    if isinstance(value, dict):
        return {k: freeze(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [freeze(v) for v in value]
    return value


def value_at(values: list[Any], day: dt.date) -> Any | None:
    """The dated value in force on ``day``, or ``None``. The one helper for 'what applied on D'."""
    for v in values:
        if v.from_ <= day and (v.to is None or day < v.to):
            return v
    return None

"""The asset profile a user asks about, and its normalisation against the rule base.

Validation lives here: every bad value becomes a ``RepatriateError`` naming the value
and what is accepted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from ..errors import RepatriateError, short
from ..vocab import ASSET_CLASSES, DISTRIBUTIONS, HOLDER_TYPES, SPV_OWNERS, TECH_SME

# ISO 4217 active codes plus CNH (offshore renminbi), which the spec allows.
CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY CNH COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF
    KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR
    MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG
    SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU
    UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL""".split()
)
DOMESTIC_CURRENCIES = frozenset({"CNY", "CNH"})  # renminbi, onshore and offshore: no exchange-rate risk factor
MAX_AMOUNT = 1e13  # above any single asset; catches unit slips (amounts are in units, not thousands)


@dataclass(frozen=True)
class Profile:
    """One asset, as ``route`` takes it. Province and city are normalised ids.

    Built by ``make_profile``; ``__post_init__`` checks every value and raises
    ``ValueError`` naming it and what is accepted.
    """

    asset_class: str
    province: str
    amount: float
    sector: str | None = None
    city: str | None = None
    currency: str = "USD"
    holder_type: str = "private"
    net_assets: float | None = None
    term_months: int | None = None
    spv_owner: str = "group"
    distribution: str = "vatp"
    total_investment: float | None = None  # an FIE's approved total investment (投资总额), in `currency`
    registered_capital: float | None = None  # its registered capital, in `currency`
    holder_founded: str | None = None  # the asset holder's founding date, ISO (YYYY-MM-DD)
    # the group's scale last year, in --currency like net_assets (issue 10: the cash pool's thresholds)
    group_revenue: float | None = None
    group_cross_border_flows: float | None = None
    group_offshore_revenue: float | None = None
    # money and time (issue 11): how often holders are paid, their rate, the FX spread,
    # whether the onshore company qualifies for a place's 15% EIT, and the start date
    payout: str | None = None
    yield_pct: float | None = None
    fx_spread_bps: float | None = None
    preferential_eit: bool = False
    start: dt.date | None = None
    tech_sme: str | None = None  # TECH_SME; None: not said (the facilitation quota is not counted)

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise in place once
        set_(self, "asset_class", _choice("asset class", self.asset_class, ASSET_CLASSES))
        set_(self, "holder_type", _choice("holder type", self.holder_type, HOLDER_TYPES))
        set_(self, "spv_owner", _choice("spv owner", self.spv_owner, SPV_OWNERS))
        set_(self, "distribution", _choice("distribution", self.distribution, DISTRIBUTIONS))
        if self.tech_sme is not None:
            set_(self, "tech_sme", _choice("tech SME", self.tech_sme, TECH_SME))
        code = str(self.currency).strip().upper()
        if code not in CURRENCIES:
            raise ValueError(
                f"unknown currency {self.currency!r} (accepted: ISO 4217 codes such as USD, HKD, CNY, CNH)"
            )
        set_(self, "currency", code)
        set_(self, "amount", _positive("amount", _as_float("amount", self.amount), allow_zero=False))
        if self.net_assets is not None:
            set_(self, "net_assets", _positive("net assets", _as_float("net assets", self.net_assets), allow_zero=True))
        for name in GROUP_FIELDS:
            value = getattr(self, name)
            if value is not None:
                what = name.replace("_", " ")
                set_(self, name, _positive(what, _as_float(what, value), allow_zero=True))
        if self.term_months is not None and not 1 <= self.term_months <= 1200:
            raise ValueError(f"term months {self.term_months} is out of range (accepted: 1 to 1200)")
        if self.yield_pct is not None:
            y = _as_float("yield", self.yield_pct)
            if math.isnan(y) or not 0 <= y <= 100:
                raise ValueError(f"yield {short(self.yield_pct)} is out of range (accepted: 0 to 100, a percent)")
            set_(self, "yield_pct", y)
        if self.fx_spread_bps is not None:
            s = _as_float("fx spread bps", self.fx_spread_bps)
            if math.isnan(s) or not 0 <= s <= 1000:
                raise ValueError(f"fx spread bps {short(self.fx_spread_bps)} is out of range (accepted: 0 to 1000)")
            set_(self, "fx_spread_bps", s)
        if not isinstance(self.preferential_eit, bool):
            set_(self, "preferential_eit", _yes_no("preferential eit", self.preferential_eit))
        if self.start is not None and not isinstance(self.start, dt.date):
            try:
                set_(self, "start", dt.date.fromisoformat(str(self.start).strip()))
            except ValueError:
                raise ValueError(f"start {short(self.start)} is not a date (accepted: YYYY-MM-DD)") from None
        self._check_fie_figures()

    def _check_fie_figures(self) -> None:
        set_ = object.__setattr__
        for name in ("total_investment", "registered_capital"):
            value = getattr(self, name)
            if value is not None:
                what = name.replace("_", " ")
                zero_ok = name == "registered_capital"
                set_(self, name, _positive(what, _as_float(what, value), allow_zero=zero_ok))
        ti, rc = self.total_investment, self.registered_capital
        if ti is not None and rc is not None and rc > ti:
            raise ValueError(
                f"registered capital {rc:g} exceeds total investment {ti:g} (accepted: registered capital "
                "up to the total investment, in the currency of the amount)"
            )
        if self.holder_founded is not None:
            set_(self, "holder_founded", _iso_date("holder founded", self.holder_founded))

    @property
    def founded(self) -> dt.date | None:
        return None if self.holder_founded is None else dt.date.fromisoformat(self.holder_founded)

    @property
    def foreign_currency(self) -> bool:
        return self.currency not in DOMESTIC_CURRENCIES

    def model_dump(self) -> dict[str, Any]:
        """The normalised fields, in the order of the JSON contract's ``query``."""
        out = {f: getattr(self, f) for f in _QUERY_ORDER}
        if self.start is not None:
            out["start"] = self.start.isoformat()
        return out

    def key(self) -> tuple:
        return tuple(getattr(self, f) for f in _QUERY_ORDER)


# The profile's fields in the order of the JSON contract's ``query``: also the batch columns read.
PROFILE_FIELDS = (
    "asset_class",
    "sector",
    "province",
    "city",
    "amount",
    "currency",
    "holder_type",
    "net_assets",
    "term_months",
    "spv_owner",
    "distribution",
    "total_investment",
    "registered_capital",
    "holder_founded",
    "group_revenue",
    "group_cross_border_flows",
    "group_offshore_revenue",
    "payout",
    "yield_pct",
    "fx_spread_bps",
    "preferential_eit",
    "start",
    "tech_sme",
)
# the group's scale (issue 10): numbers, like net_assets, read by the cash pool's rules
GROUP_FIELDS = ("group_revenue", "group_cross_border_flows", "group_offshore_revenue")
_QUERY_ORDER = PROFILE_FIELDS
assert set(PROFILE_FIELDS) == {f.name for f in dataclasses.fields(Profile)}, "PROFILE_FIELDS: every field"


def _as_float(what: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{what} {short(value)} is not a number")
    if isinstance(value, str):  # text goes through the one parser (no full-width digits, no "1,2,3")
        try:
            return parse_number(what, value)
        except RepatriateError as exc:
            raise ValueError(str(exc)) from None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} {short(value)} is not a number (accepted: digits, e.g. 50000000)") from None


def _iso_date(what: str, value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise ValueError(f"{what} {short(value)} is not a date (accepted: YYYY-MM-DD)") from None


def _yes_no(what: str, value: Any) -> bool:
    v = str(value).strip().lower()
    if v in ("yes", "true", "1", "y"):
        return True
    if v in ("no", "false", "0", "n"):
        return False
    raise ValueError(f"{what} {short(value)} is not yes or no (accepted: yes, no)")


def _choice(what: str, value: Any, accepted: tuple[str, ...]) -> str:
    v = str(value).strip().lower()
    if v not in accepted:
        raise ValueError(f"unknown {what} {value!r} (accepted: {', '.join(accepted)})")
    return v


def _positive(what: str, v: float, *, allow_zero: bool) -> float:
    if math.isnan(v) or math.isinf(v):
        raise ValueError(f"{what} {v} is not a number")
    if v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{what} {v:g} must be {'zero or more' if allow_zero else 'positive'}")
    if v > MAX_AMOUNT:
        raise ValueError(f"{what} {v:g} is absurdly large (accepted: up to {MAX_AMOUNT:g})")
    return float(v)


_SUFFIXES = ("province", "municipality", "autonomous region", "shi", "sheng", "省", "市", "自治区", "自治區")


def _norm(name: str) -> str:
    s = re.sub(r"[\s\-_'’.]+", " ", str(name)).strip().casefold()
    for suffix in _SUFFIXES:
        if s.endswith(suffix) and len(s) > len(suffix):
            s = s[: -len(suffix)].strip()
    return s


class Places:
    """Resolves province and city names (code, English, simplified or traditional Chinese).

    A city is one of the rule base's own cities (QFLP pilot cities and areas such as 横琴),
    or a real place of the gazetteer (``data/places.yaml``), always under the province given:
    ``suzhou`` is 苏州 in CN-JS and 宿州 in CN-AH.
    """

    def __init__(self, rb: Any):
        self.rb = rb
        self.provinces: dict[str, str] = {}
        for code, pv in rb.provinces.items():
            names = [code, code.removeprefix("CN-"), pv.name.en, pv.name.zh, pv.name.zh_hant or "", *pv.aliases]
            for n in names:
                if n:
                    self.provinces.setdefault(_norm(n), code)
        # province -> name key -> city id: exact keys first, then the suffix-free (_norm) keys
        self.exact: dict[str, dict[str, str]] = {}
        self.loose: dict[str, dict[str, str]] = {}
        # name key -> provinces holding a city of that name (for "it is in CN-AH"); built on a miss
        self._where: dict[str, set[str]] | None = None

    def _index(self, code: str) -> tuple[dict[str, str], dict[str, str]]:
        """The name keys of ``code``'s cities, built on first use (a route asks for one province)."""
        if code in self.exact:
            return self.exact[code], self.loose[code]
        exact, loose = self.exact.setdefault(code, {}), self.loose.setdefault(code, {})

        def add(name: str, cid: str) -> None:
            key = str(name).strip().casefold()
            if key:
                exact.setdefault(key, cid)
                loose.setdefault(_norm(key), cid)

        own = self.rb.provinces[code].cities
        for cid, city in own.items():  # the rule base's cities come first: their ids are kept
            for n in (cid, city.name.en, city.name.zh, city.name.zh_hant or "", *city.aliases):
                add(n, cid)
        places = sorted(self.rb.places.places.get(code, ()), key=lambda p: p.level != "prefecture")
        for p in places:  # prefectures first: 大理 is the prefecture, 大理市 its seat city
            names = (p.id, p.name_zh, p.short_zh, *p.aliases)
            # a real place the rule base already holds under its own id (乌鲁木齐 is urumqi)
            cid = next(
                (
                    exact[n.casefold()]
                    for n in (p.name_zh, p.short_zh)
                    if n.casefold() in exact and exact[n.casefold()] in own
                ),
                p.id,
            )
            for n in names:
                add(n, cid)
        return exact, loose

    def _provinces_with(self, key: str) -> list[str]:
        if self._where is None:
            self._where = {}
            for code in self.rb.provinces:
                exact, loose = self._index(code)
                for k in [*exact, *loose]:
                    self._where.setdefault(k, set()).add(code)
        return sorted(self._where.get(key) or self._where.get(_norm(key)) or ())

    def province(self, value: str) -> str:
        code = self.provinces.get(_norm(value))
        if code is None:
            raise RepatriateError(
                f"unknown province {value!r} (accepted: an ISO code such as CN-GD, "
                f"or a name such as Guangdong / 广东 / 廣東; codes: {', '.join(sorted(self.rb.provinces))})"
            )
        return code

    def city(self, province: str, value: str) -> str:
        """The city id of ``value`` under ``province``.

        Raises
        ------
        RepatriateError
            The city is of another province (named), or no real city of ``province``
            (with the close names of that province only).
        """
        key = str(value).strip().casefold()
        exact, loose = self._index(province)
        hit = exact.get(key) or loose.get(_norm(key))
        if hit is not None:
            return hit
        elsewhere = self._provinces_with(key)
        if elsewhere:
            names = ", ".join(f"{c} ({self.rb.provinces[c].name.en})" for c in elsewhere)
            raise RepatriateError(
                f"city {value!r} is in {names}, not in {province} "
                f"(accepted: the province {' or '.join(elsewhere)}, or a city of {province})",
                field="city",
                value=str(value),
                accepted=tuple(elsewhere),
            )
        import difflib

        close = difflib.get_close_matches(key, sorted(exact), n=3, cutoff=0.6)
        offered = " or ".join(repr(c) for c in dict.fromkeys(exact[k] for k in close))
        hint = f"did you mean {offered}? " if close else ""
        ids = sorted(set(exact.values()))
        raise RepatriateError(
            f"unknown city {value!r} in {province} ({hint}accepted: a prefecture-level or county-level "
            f"city of {province}, by pinyin id or Chinese name, e.g. {', '.join(ids[:4])})",
            field="city",
            value=str(value),
            accepted=tuple(ids),
        )


def places_for(rb: Any) -> Places:
    """The name index of ``rb``, built once per rule base: a batch resolves thousands of rows against it."""
    from . import memo

    hit: Places | None = memo.PLACES.get(rb.digest)
    if hit is None:
        hit = memo.PLACES.put(rb.digest, Places(rb))
    return hit


def make_profile(rb: Any, **fields: Any) -> Profile:
    """Build a normalised ``Profile`` from raw values (CLI options, a batch row, a dict).

    Raises
    ------
    RepatriateError
        Naming the first bad value and what is accepted.
    """
    raw = {k: v for k, v in fields.items() if v is not None and not (isinstance(v, str) and v.strip() == "")}
    if isinstance(fields.get("currency"), str) and not fields["currency"].strip():
        raise RepatriateError("currency '' is empty (accepted: ISO 4217 codes such as USD, HKD, CNY, CNH)")
    for k in ("amount", "net_assets", "total_investment", "registered_capital", *GROUP_FIELDS):
        if k in raw and isinstance(raw[k], str):
            raw[k] = parse_number(k, raw[k])
    if "term_months" in raw:
        raw["term_months"] = parse_integer("term_months", raw["term_months"])
    for required in ("asset_class", "province", "amount"):
        if required not in raw:
            raise RepatriateError(f"missing {required.replace('_', ' ')} (required)")
    places = places_for(rb)
    raw["province"] = places.province(raw["province"])
    if "city" in raw:
        raw["city"] = places.city(raw["province"], raw["city"])
    if "sector" in raw:
        s = str(raw["sector"]).strip().lower()
        if s not in rb.sectors:
            raise RepatriateError(f"unknown sector {raw['sector']!r} (accepted: {', '.join(sorted(rb.sectors))})")
        raw["sector"] = s
    if "payout" in raw:
        frequencies = tuple(rb.payout.frequencies)
        p = str(raw["payout"]).strip().lower()
        if p not in frequencies:
            raise RepatriateError.choice("payout", raw["payout"], frequencies)
        raw["payout"] = p
    unknown = set(raw) - {f.name for f in dataclasses.fields(Profile)}
    if unknown:
        raise RepatriateError(f"unknown field {sorted(unknown)[0]!r} (accepted: {', '.join(_QUERY_ORDER)})")
    try:
        return Profile(**raw)
    except ValueError as exc:
        raise RepatriateError(str(exc)) from None


# One number parser for every way a number comes in (CLI options, CSV/XLSX/JSONL cells): ASCII
# digits only (no full-width ５), grouping in threes or none (no "1,2,3"), finite, and the decimal
# mark given by the caller (a ';'-separated file is written where the decimal mark is a comma).
_DIGITS = r"(?:\d+(?:_\d+)*)"
_PLAIN = re.compile(
    rf"[+-]?(?:{_DIGITS}(?:\.{_DIGITS}?)?|\.{_DIGITS})(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity|nan)", re.ASCII | re.I
)
_GROUPED = {
    ".": re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?", re.ASCII),
    ",": re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?", re.ASCII),
}
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+(?:[eE][+-]?\d+)?", re.ASCII)


def parse_number(what: str, text: str, *, decimal: str = ".") -> float:
    """A number typed by a user: ``'50000000'``, ``'50,000,000'``, ``'5e7'``; with ``decimal=','``
    also ``'50000000,50'`` and ``'1.234.567,5'``.

    Parameters
    ----------
    what : str
        The field, for the message (``'amount'``).
    text : str
    decimal : {'.', ','}
        The decimal mark; the other one may group digits in threes.

    Raises
    ------
    RepatriateError
        Not a number (full-width digits, bad grouping), not finite (``1e309``, ``nan``), or,
        with a decimal comma, ambiguous (``1.234``, ``1.5``: a point could be either mark).
    """
    s = text.strip()
    name = what.replace("_", " ")
    if decimal == ",":
        if _DECIMAL_COMMA.fullmatch(s):
            s = s.replace(",", ".")
        elif _GROUPED[","].fullmatch(s) and (s.count(".") > 1 or "," in s):
            s = s.replace(".", "").replace(",", ".")
        elif "." in s and _PLAIN.fullmatch(s):
            raise RepatriateError(
                f"{name} {short(text)} is ambiguous: in a ';'-separated file the decimal mark is a comma "
                "(accepted: 1234,5 for a fraction, 1.234.567 or 1234567 for a whole number)"
            )
    elif "," in s:
        if not _GROUPED["."].fullmatch(s):
            raise RepatriateError(
                f"{name} {short(text)} is not a number (accepted: digits with a decimal point, "
                "commas only between groups of three, e.g. 50000000 or 50,000,000)"
            )
        s = s.replace(",", "")
    if not _PLAIN.fullmatch(s):
        raise RepatriateError(f"{name} {short(text)} is not a number (accepted: ASCII digits, e.g. 50000000 or 5e7)")
    number = float(s)
    if not math.isfinite(number):
        raise RepatriateError(f"{name} {short(text)} is not finite (accepted: a number up to {MAX_AMOUNT:g})")
    return number


def parse_integer(what: str, value: Any) -> int:
    """A whole number (``'36'``, ``36``, ``36.0``), through ``parse_number`` for text.

    Raises
    ------
    RepatriateError
    """
    name = what.replace("_", " ")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise RepatriateError(f"{name} {short(value)} is not a whole number (accepted: e.g. 36)")
    number = parse_number(what, value) if isinstance(value, str) else value
    if isinstance(number, float) and not number.is_integer():
        raise RepatriateError(f"{name} {short(value)} is not a whole number (accepted: e.g. 36)")
    return int(number)


def parse_date(value: str | dt.date | None) -> dt.date:
    """``--as-of``: an ISO date; today when omitted."""
    if value is None or value == "":
        return dt.date.today()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise RepatriateError(f"invalid date {value!r} (accepted: YYYY-MM-DD)") from None

"""Numbers as a reader of each language writes them: 50,000,000 USD, or 5,000万 USD in Chinese.

Chinese counts large sums in 万 (10⁴) and 亿 (10⁸); a banker reads "5,000万", not "50,000,000".
"""

from __future__ import annotations

_ZH_UNITS = ((1e8, "亿"), (1e4, "万"))


def _plain(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 1000 else f"{value:,.2f}"


def _short(value: float) -> str:
    # at most two decimals, none when they are zero: 1.5亿, 15亿, 1.23亿
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text


def money(value: float, currency: str | None = None, lang: str = "en") -> str:
    """``value`` (and ``currency``) in ``lang``: ``money(5e7, "USD", "zh") == "5,000万 USD"``."""
    text = _plain(value)
    if lang == "zh":
        for size, unit in _ZH_UNITS:
            if abs(value) >= size:
                text = _short(value / size) + unit
                break
    return f"{text} {currency}" if currency else text

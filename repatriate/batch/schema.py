"""The published types of a batch result row: JSON Schema, and the pyarrow/Spark schema built from it;
the same for a leg row of ``batch --allocate``.

One type per field on every row (JSONL and ``plan_many``): numbers as numbers, missing as null.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .rows import AMOUNT_INPUT

_TEXT = {"type": "string"}
_TEXT_OR_NULL = {"type": ["string", "null"]}
_NUMBER_OR_NULL = {"type": ["number", "null"]}
_INT_OR_NULL = {"type": ["integer", "null"]}

# the profile columns as a result row gives them back (other input columns pass through as given)
PROFILE_COLUMNS: dict[str, dict[str, Any]] = {
    "asset_class": _TEXT_OR_NULL,
    "sector": _TEXT_OR_NULL,
    "province": _TEXT_OR_NULL,
    "city": _TEXT_OR_NULL,
    "amount": {**_NUMBER_OR_NULL, "description": "The amount parsed; null when blank or unreadable."},
    AMOUNT_INPUT: {**_TEXT_OR_NULL, "description": "The amount as written in the portfolio."},
    "currency": _TEXT_OR_NULL,
    "holder_type": _TEXT_OR_NULL,
    "net_assets": _NUMBER_OR_NULL,
    "term_months": _INT_OR_NULL,
    "spv_owner": _TEXT_OR_NULL,
    "distribution": _TEXT_OR_NULL,
    "total_investment": _NUMBER_OR_NULL,
    "registered_capital": _NUMBER_OR_NULL,
    "holder_founded": {**_TEXT_OR_NULL, "format": "date"},
    "group_revenue": _NUMBER_OR_NULL,
    "group_cross_border_flows": _NUMBER_OR_NULL,
    "group_offshore_revenue": _NUMBER_OR_NULL,
    "payout": _TEXT_OR_NULL,
    "yield_pct": _NUMBER_OR_NULL,
    "fx_spread_bps": _NUMBER_OR_NULL,
    "preferential_eit": {"type": ["boolean", "null"]},
    "start": {**_TEXT_OR_NULL, "format": "date"},
    "tech_sme": _TEXT_OR_NULL,
}

RESULT_COLUMNS: dict[str, dict[str, Any]] = {
    "status": {"enum": ["ok", "no_route", "error"]},
    "error": {**_TEXT, "description": "The message of an error row, else empty."},
    "reason": {**_TEXT, "description": "Why no route is feasible: each exclusion reason once, "
               "' | ' between."},
    "best_channels": {**_TEXT, "description": "Channel ids of the best route joined by '+', e.g. fdi+qflp."},
    "best_province": _TEXT,
    "best_city": _TEXT,
    "weeks": {**_TEXT, "description": "Weeks as the route view shows them: '4–8', '≤3' (only a limit "
              "known), '4–8 +2?' (two steps of unknown time)."},
    "weeks_min": {**_NUMBER_OR_NULL, "description": "Null where only a maximum is known (never 0.0)."},
    "weeks_max": _NUMBER_OR_NULL,
    "unknown_steps": {**_INT_OR_NULL, "description": "Steps of the best route with no known duration."},
    "approvals": _INT_OR_NULL,
    "documents": {**_INT_OR_NULL, "description": "How many documents the best route needs."},
    "feasible_routes": _INT_OR_NULL,
    "weeks_typical_min": {**_NUMBER_OR_NULL, "description": "Typical weeks of the best route (issue 11)."},
    "weeks_typical_max": _NUMBER_OR_NULL,
    "cost_bps_per_year": {**_NUMBER_OR_NULL, "description": "Money cost, basis points a year; null without --yield."},
    "net_yield": {**_NUMBER_OR_NULL, "description": "Net yield to token holders, percent; null without a yield."},
    "warnings": {**_TEXT, "description": "The best route's warnings, ' | ' between them."},
    "as_of": {**_TEXT, "format": "date"},
    "rulebase_digest": {**_TEXT, "description": "sha256 of the rule base that answered."},
    "tool_version": _TEXT,
}

# the optional input columns of batch --allocate, as a leg row gives them back
ALLOCATE_COLUMNS: dict[str, dict[str, Any]] = {
    "by": {**_TEXT_OR_NULL, "format": "date", "description": "Deadline: weeks past it cost more."},
    "max_channels": {**_INT_OR_NULL, "description": "At most this many legs."},
    "listed_market_cap": {**_NUMBER_OR_NULL, "description": "A listed holder's market value (QFII caps)."},
}

LEG_COLUMNS: dict[str, dict[str, Any]] = {
    "status": {"enum": ["ok", "partial", "no_route", "error"],
               "description": "The asset's: ok (all placed), partial (placed < amount), no_route (nothing "
               "placed: one row, no leg), error (one row, no leg)."},
    "error": {**_TEXT, "description": "The message of an error row, else empty."},
    "reason": {**_TEXT, "description": "no_route: the binding constraints, and the exclusions when no route "
               "is feasible."},
    "leg": {**_INT_OR_NULL, "description": "1, 2, ... (cheapest first); null on a row without a leg. "
            "asset_id and leg key a row."},
    "channels": {**_TEXT, "description": "The leg's channel ids joined by '+', e.g. fdi+fie_loan."},
    "leg_province": _TEXT,
    "leg_city": _TEXT,
    "leg_amount": {**_NUMBER_OR_NULL, "description": "The amount through this leg; an asset's legs sum to placed."},
    "share": {**_NUMBER_OR_NULL, "description": "leg_amount over the requested amount."},
    "capacity": {**_NUMBER_OR_NULL, "description": "The leg's capacity; null where the rule base has none."},
    "capacity_used": _NUMBER_OR_NULL,
    "binds": {**_TEXT, "description": "The limits that bind on the leg (e.g. capacity, a shared cap), ', ' "
              "between them."},
    "cost_basis": {**_TEXT, "description": "bps_per_year (with a yield) or paperwork_index."},
    "cost_per_year": {**_NUMBER_OR_NULL, "description": "The leg's cost a year in cost_basis; null where "
                      "its money cost is not modelled."},
    "cost_money_per_year": {**_NUMBER_OR_NULL, "description": "In the asset's currency a year; null without "
                            "a yield."},
    "weeks_typical_max": {**_NUMBER_OR_NULL, "description": "Typical weeks of the leg, longest."},
    "placed": {**_NUMBER_OR_NULL, "description": "The asset's amount placed, on each of its rows."},
    "unplaced": _NUMBER_OR_NULL,
    "binding": {**_TEXT, "description": "What stops the asset's placing more when placed < amount, ', ' "
                "between them."},
    "warnings": {**_TEXT, "description": "The allocation's warnings, then the leg's route's, ' | ' between them."},
    "as_of": {**_TEXT, "format": "date"},
    "rulebase_digest": {**_TEXT, "description": "sha256 of the rule base that answered."},
    "tool_version": _TEXT,
}

ROUTE_ITEM: dict[str, Any] = {
    "type": "object",
    "properties": {
        "rank": {"type": "integer"},
        "channels": {"type": "array", "items": _TEXT},
        "province": _TEXT_OR_NULL,
        "city": _TEXT_OR_NULL,
        "weeks": _TEXT,
        "weeks_min": _NUMBER_OR_NULL,
        "weeks_max": {"type": "number"},
        "unknown_steps": {"type": "integer"},
        "approvals": {"type": "integer"},
        "documents": {"type": "integer"},
        "score": {"type": "number"},
    },
}


def result_row_schema() -> dict[str, Any]:
    """The JSON Schema of one batch result row (``repatriate batch --schema`` prints it)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "repatriate batch result row",
        "description": "One row per input row. Input columns other than the profile's pass through "
        "as given (renamed input_<name> where they would collide). routes appears with --top above 1.",
        "type": "object",
        "properties": {**PROFILE_COLUMNS, **RESULT_COLUMNS, "routes": {"type": "array", "items": ROUTE_ITEM}},
        "required": list(RESULT_COLUMNS),
        "additionalProperties": True,
    }


def leg_row_schema() -> dict[str, Any]:
    """The JSON Schema of one leg row of ``batch --allocate`` (``repatriate batch --allocate --schema``)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "repatriate batch --allocate leg row",
        "description": "One row per leg of each input row's allocation, keyed by asset_id and leg; an input "
        "row with no leg placed, or an error, gives one row with leg null. Input columns other than the "
        "profile's pass through as given (renamed input_<name> where they would collide).",
        "type": "object",
        "properties": {**PROFILE_COLUMNS, **ALLOCATE_COLUMNS, **LEG_COLUMNS},
        "required": list(LEG_COLUMNS),
        "additionalProperties": True,
    }


def column_types(passthrough: Iterable[str] = (), legs: bool = False) -> dict[str, str]:
    """Every column of a result row (without ``routes``), or of a leg row with ``legs``, and its type:
    ``string``, ``number`` or ``integer``; ``passthrough`` names input columns kept as they were read
    (text), placed first."""
    out = {name: "string" for name in passthrough}
    columns = {**PROFILE_COLUMNS, **ALLOCATE_COLUMNS, **LEG_COLUMNS} if legs else {**PROFILE_COLUMNS, **RESULT_COLUMNS}
    for name, spec in columns.items():
        kind = spec.get("type", "string")
        out[name] = kind[0] if isinstance(kind, list) else kind
    return out


def arrow_schema(passthrough: Iterable[str] = (), legs: bool = False) -> Any:
    """The pyarrow schema of a result row without ``routes``, or of a leg row with ``legs`` (pyarrow
    is imported here, on demand).

    Examples
    --------
    With pyarrow installed (the ``spark`` extra)::

        table = pyarrow.Table.from_pylist(list(plan_many(rows)), schema=arrow_schema(["asset_id"]))
    """
    import pyarrow as pa

    kinds = {"string": pa.string(), "number": pa.float64(), "integer": pa.int64()}
    return pa.schema([pa.field(k, kinds[t]) for k, t in column_types(passthrough, legs).items()])


def spark_schema(passthrough: Iterable[str] = (), legs: bool = False) -> Any:
    """The Spark ``StructType`` of a result row without ``routes``, or of a leg row with ``legs``
    (pyspark imported on demand).

    Give it to ``toDF``: inferring from the rows fails where a column is null in every sampled row.
    """
    from pyspark.sql import types as T

    kinds = {"string": T.StringType(), "number": T.DoubleType(), "integer": T.LongType()}
    return T.StructType([T.StructField(k, kinds[t], True) for k, t in column_types(passthrough, legs).items()])


__all__ = [
    "PROFILE_COLUMNS", "RESULT_COLUMNS", "ALLOCATE_COLUMNS", "LEG_COLUMNS", "result_row_schema", "leg_row_schema",
    "column_types", "arrow_schema", "spark_schema",
]

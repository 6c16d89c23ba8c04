"""The output tables (``areas``, ``patches``, the needs assessment) with disclosure control, and the CSV writer.

Every table a user sees is made here, so disclosure control is applied in one place:
a council rate built from a small count, and any value that would let one be
recovered by differencing, is withheld (see :mod:`lacgeo.outputs.disclosure`).
Counts themselves and point records never appear in any output.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from ..need import SHIPPED_INDICATORS
from ..rank import rollout_plan
from ..result import RunResult
from ..schema import (
    AREA_CODE,
    AREA_NAME,
    BAND_STATUS,
    EXCESS_NEED,
    MSOA_NAME,
    MSOA_NAME_CY,
    N_AREAS,
    NEED_INDEX,
    PATCH_ID,
    PATCH_NAME,
    PATCH_NAME_CY,
    PHASE,
    POPULATION,
    RANK,
    WARD_NAME,
    DeprivationIndex,
)
from . import disclosure


def area_columns(index: DeprivationIndex, *, welsh_names: bool = False) -> list[str]:
    """The ``areas`` table's leading columns, the deprivation ones named after ``index``."""
    names = [MSOA_NAME, MSOA_NAME_CY] if welsh_names else [MSOA_NAME]
    return [
        AREA_NAME,
        POPULATION,
        NEED_INDEX,
        index.quintile,
        PATCH_ID,
        index.local_quintile,
        index.score,
        *names,
        WARD_NAME,
    ]


def patch_columns(index: DeprivationIndex, *, welsh_names: bool = False) -> list[str]:
    """The ``patches`` table's leading columns, the deprivation ones named after ``index``."""
    names = [PATCH_NAME, PATCH_NAME_CY] if welsh_names else [PATCH_NAME]
    head = [*names, POPULATION, NEED_INDEX, RANK, N_AREAS, PHASE, EXCESS_NEED, index.score, BAND_STATUS]
    return head + [index.share(q) for q in range(1, 6)]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""Text starting with one of these would run as a formula in a spreadsheet."""
SYNTHETIC_NOTE = "SYNTHETIC: built from made-up service-demand data, not for decisions"


def area_table(result: RunResult) -> gpd.GeoDataFrame:
    """The ``areas`` layer: one row per small area.

    Indicator values appear as ``value_<name>``. For council service-demand sources
    the value (a rate) is withheld where the area's count is small, and where that
    is needed so no small count can be recovered by subtracting from a published
    total (see :mod:`lacgeo.disclosure`).
    Counts themselves and point records never appear in any output.
    """
    contrib = [c for c in result.areas.columns if c.startswith("contrib_")]
    welsh = result.deprivation.nation == "Wales" and MSOA_NAME_CY in result.areas
    leading = area_columns(result.deprivation, welsh_names=welsh)
    table = result.areas[leading + contrib + ["geometry"]].copy()
    if result.districts is not None:  # an area of several districts: each area's district
        codes = result.areas["lad_code"]
        table.insert(len(leading), "district", codes.map(result.districts["district"]))
        table.insert(len(leading) + 1, "district_code", codes)
    values = result.indicators.add_prefix("value_")
    for name, protection in protections(result).items():
        hidden = protection.cells
        col = f"value_{name}"
        if col in values:
            values.loc[hidden, col] = float("nan")
            # the index and this source's contribution would give the rate back
            table.loc[hidden, [NEED_INDEX, f"contrib_{name}"]] = float("nan")
    table = table.join(values)
    if result.synthetic:
        table["data_status"] = SYNTHETIC_NOTE
    table.index.name = AREA_CODE
    return table.sort_index()


def protections(result: RunResult) -> dict[str, disclosure.Protection]:
    """Per council source, the areas and totals every output withholds (see :mod:`.disclosure`).

    The published levels are the patches (their rates), the local deprivation quintiles, the
    whole area (the needs assessment's counts) and, for an area of several districts, the
    districts (their need index). For a council rate in a z-scored need index, the area mean of
    the rate, which every published area need index gives away, is audited too (see
    :func:`lacgeo.outputs.disclosure.protect`). Worked out once per result: every
    table, the map, the report and the workbook read the same answer.
    """
    hit = _PROTECTIONS.get(id(result))
    if hit is not None and hit[0]() is result:
        return hit[1]
    areas = result.areas
    levels = {
        "patch": areas[PATCH_ID],
        "quintile": areas[result.deprivation.local_quintile],
        "all": pd.Series(0, index=areas.index),
    }
    if result.districts is not None and "lad_code" in areas:  # districts.csv publishes each district's need
        levels["district"] = areas["lad_code"]
    limit = result.config.disclosure.small_count_max
    in_index = {s.name for s in result.config.need.indicators}
    value = {}
    for name, src in result.sources.items():
        # a z-scored need index gives away the area mean of the rate: a weighted sum of every count
        mean_of_rates = (
            1000.0 / src.denominator.where(src.count.notna())
            if name in in_index and result.config.need.standardise == "zscore"
            else None
        )
        value[name] = disclosure.protect(src.count, levels, max_count=limit, combination=mean_of_rates)
    key = id(result)
    _PROTECTIONS[key] = (weakref.ref(result, lambda _: _PROTECTIONS.pop(key, None)), value)
    return value


_PROTECTIONS: dict[int, tuple[weakref.ref, dict[str, disclosure.Protection]]] = {}


@dataclass(frozen=True)
class WithheldNeed:
    """Where a need index (and excess need) is withheld because it holds council counts."""

    patches: frozenset
    districts: frozenset
    whole_area: bool


def withheld_need(result: RunResult) -> WithheldNeed:
    """The patches, districts and whole-area figures whose need index must be withheld.

    A z-scored need index averaged over a group is, less its public indicators' part, a weighted
    sum of the group's council counts: population / denominator per cell. Where the denominator
    is the population that sum is the group's total, so the need index is withheld exactly where
    the disclosure audit withholds the total. Where it is not (a rate per some other number), it
    is an equation the audit does not model, so a group holding any withheld cell withholds it.
    """
    patches: set = set()
    districts: set = set()
    whole = False
    in_index = {s.name for s in result.config.need.indicators}
    areas = result.areas
    for name, protection in protections(result).items():
        if name not in in_index:
            continue
        src = result.sources[name]
        cells = protection.cells.intersection(areas.index)
        other = cells[(src.denominator.reindex(cells) - areas.loc[cells, POPULATION]).abs() > 0.5]
        patches |= set(protection.totals["patch"]) | set(areas.loc[other, PATCH_ID])
        if "lad_code" in areas:
            districts |= set(protection.totals.get("district", ())) | set(areas.loc[other, "lad_code"])
        whole = whole or bool(len(protection.totals["all"])) or bool(len(other))
    return WithheldNeed(frozenset(patches), frozenset(districts), whole)


def assessment_table(result: RunResult) -> pd.DataFrame:
    """The needs-assessment table with small council counts (and their rates) withheld."""
    table = result.needs_assessment.copy()
    for name, protection in protections(result).items():
        quintiles = {str(q) for q in protection.totals["quintile"]}
        if len(protection.totals["all"]):
            quintiles.add("All")
        hidden = table.index[(table["indicator"] == name) & table["quintile"].isin(quintiles)]
        table.loc[hidden, ["value", "lower", "upper", "count"]] = pd.NA
    if result.synthetic:
        table["data_status"] = SYNTHETIC_NOTE
    return table


def patch_table(result: RunResult) -> gpd.GeoDataFrame:
    """The ``patches`` layer: one row per patch, best rank first."""
    values = [c for c in result.patches.columns if c.startswith("value_")]
    robust = [c for c in ("p_top_n", "rank_low", "rank_high", "robustness") if c in result.patches.columns]
    district = [c for c in ("district", "district_code", "district_share") if c in result.patches.columns]
    columns = (
        patch_columns(result.deprivation, welsh_names=PATCH_NAME_CY in result.patches)
        + district
        + robust
        + ["need_profile", "need_profile_share"]
        + values
        + ["geometry"]
    )
    table = result.patches[columns]
    table = table.sort_values(RANK).copy()
    for name, protection in protections(result).items():
        col = f"value_{name}"
        if col in table:
            table.loc[table.index.intersection(protection.totals["patch"]), col] = float("nan")
    # a patch's need index holds its council counts: less the public indicators' part, it gives them back
    table.loc[table.index.intersection(list(withheld_need(result).patches)), [NEED_INDEX, EXCESS_NEED]] = float("nan")
    if result.synthetic:
        table["data_status"] = SYNTHETIC_NOTE
    table.index.name = PATCH_ID
    return table


def district_table(result: RunResult) -> pd.DataFrame | None:
    """One row per district and ``All``, as in ``districts.csv`` (an area of several districts only).

    Only populations, counts of patches and the need index (published per area already)
    are aggregated here, so the table reveals no council count that the others withhold.
    """
    if result.districts is None:
        return None
    table = result.districts.reset_index()
    withheld = withheld_need(result)
    hidden = table["district_code"].isin(list(withheld.districts))
    if withheld.whole_area:
        hidden |= table["district"].eq("All")
    table.loc[hidden, NEED_INDEX] = float("nan")
    return table


def comparison_table(result: RunResult) -> pd.DataFrame | None:
    """Each patch against the area and the nation (``comparisons.csv``). Only shipped public
    data are compared, so no council count reaches it."""
    if result.comparisons is None:
        return None
    assert not set(result.comparisons["indicator"]) & set(result.sources)  # council data never compared here
    return result.comparisons.reset_index(drop=True)


EVALUATION_FILES = ("evaluation.csv", "evaluation_balance.csv", "evaluation_baseline.csv")
"""The evaluation design's tables (a run with phase-1 picks and ``recommend.comparators`` > 0): the pairs of
pick and comparison patch, the balance of each matching variable, and every indicator's baseline."""


def evaluation_tables(result: RunResult) -> dict[str, pd.DataFrame]:
    """The evaluation design (``result.evaluation``) as the tables the folder writes, by file name; empty without one.

    - ``evaluation.csv``: one row per pick and comparison patch (:data:`lacgeo.rank.evaluation.PAIR_COLUMNS`),
      picks in rank order and each pick's comparators from the closest (``match_order`` 1).
    - ``evaluation_balance.csv``: one row per matching variable (``population`` and the need index's shipped
      indicators), with its label, the means of the picks, the eligible patches and the comparators, the
      standardised mean difference before and after matching, and whether |SMD| < 0.1.
    - ``evaluation_baseline.csv``: every indicator's baseline value, interval and data period for the picks
      and their comparators (``result.baseline``).

    Disclosure: the design matches on population and shipped public indicators only (a council source
    never enters it), so these tables carry no council count, rate or need index, and withhold nothing.
    """
    evaluation = result.evaluation
    if evaluation is None:
        return {}
    council = set(result.sources)
    assert not set(evaluation.balance.index) & council  # council data never matched on
    balance = evaluation.balance.reset_index()
    labels = {s.name: s.label for s in result.config.need.indicators if s.label}
    balance.insert(1, "label", [_variable_label(v, labels) for v in balance["variable"]])
    tables = {"evaluation.csv": evaluation.pairs.reset_index(drop=True), "evaluation_balance.csv": balance}
    if result.baseline is not None:
        assert not set(result.baseline["indicator"]) & council  # from the shipped comparisons only
        baseline = result.baseline.reset_index(drop=True)
        if "period" in baseline:  # "IoD2025 (...) / IoD2019 (...)": the release this run used
            release = result.deprivation.release
            baseline["period"] = [_own_period(str(p), release) for p in baseline["period"]]
        tables["evaluation_baseline.csv"] = baseline
    if result.synthetic:
        for table in tables.values():
            table["data_status"] = SYNTHETIC_NOTE
    return tables


def _own_period(period: str, release: str) -> str:
    """Of a catalogue period naming both IoD releases, the run's own; any other period as it is.

    >>> _own_period("IoD2025 (data mostly 2021/22) / IoD2019 (data mostly 2015/16)", "IoD2019")
    'IoD2019 (data mostly 2015/16)'
    >>> _own_period("Census 2021 (21 March 2021)", "IoD2025")
    'Census 2021 (21 March 2021)'
    """
    parts = period.split(" / ")
    return next((p for p in parts if p.startswith(release)), period) if len(parts) > 1 else period


def _variable_label(name: str, labels: dict[str, str]) -> str:
    """A matching variable's label: the config's, the catalogue's, or "Population"."""
    if name == POPULATION:
        return "Population"
    return labels.get(name) or SHIPPED_INDICATORS.get(name, name)


def rollout_table(result: RunResult) -> pd.DataFrame:
    """One row per phase: the run's rollout plan, as in ``rollout.csv``."""
    if result.rollout is not None:
        plan = result.rollout.reset_index(drop=True)
    else:
        plan = rollout_plan(result.patches, cost_per_coordinator=result.config.recommend.cost_per_coordinator)
    withheld = withheld_need(result).patches
    if withheld:  # a phase's need index averages its patches': withheld where it holds one that is
        members = plan["patch_ids"].str.split(", ")
        plan.loc[members.map(lambda ids: bool(withheld & set(ids))), NEED_INDEX] = float("nan")
    return plan


def spreadsheet_safe(values: pd.Series) -> pd.Series:
    """Text that a spreadsheet would run as a formula (starting ``=``, ``+``, ``-``, ``@``)
    gets a leading apostrophe, so it opens as text. Numbers are left alone."""
    if values.dtype.kind in "biufc":
        return values
    text = values.astype("string")
    risky = text.str.startswith(FORMULA_START).fillna(False) & pd.to_numeric(text, errors="coerce").isna()
    return values.where(~risky, "'" + text)


ColumnKind = Literal["integer", "code", "money", "share", "index", "total", "value"]

DECIMALS: dict[str, int] = {"integer": 0, "code": 0, "money": 0, "share": 4, "index": 3, "total": 1, "value": 3}
"""Decimals each kind of number is written with in the CSVs.

Counts, populations, ranks, phases and quintiles are whole numbers; costs are whole pounds;
shares and probabilities (0 to 1) keep 4 decimals (0.01 percentage points); the need index
and its contributions 3; ``excess_need`` (people x index) 1; every other measure (indicator
values, rates per 1,000, scores, ratios and their confidence limits) 3.
"""

_COUNTS = {"population", "count", "lsoas", "patches", "patches_crossing", "phase1", "coordinators_to_date"}
_CODES = {"rank", "rank_low", "rank_high", "phase", "quintile"}


def column_kind(name: str) -> ColumnKind:
    """What kind of number a column of the output tables holds, from its name.

    >>> [column_kind(c) for c in ("population", "annual_cost", "share_imd_q1", "p_top_n", "need_index")]
    ['integer', 'money', 'share', 'share', 'index']
    >>> [column_kind(c) for c in ("imd_quintile", "rank", "excess_need", "value_asc_referrals", "lower")]
    ['code', 'code', 'total', 'value', 'value']
    """
    if "cost" in name:
        return "money"
    if name.startswith("share_") or name.endswith("_share") or "_share_" in name or name == "p_top_n":
        return "share"
    if name in _CODES or name.endswith("quintile"):
        return "code"
    if name in _COUNTS or name.startswith("n_") or name.endswith("_population"):
        return "integer"
    if name == NEED_INDEX or name.startswith("contrib_"):
        return "index"
    if name == EXCESS_NEED:
        return "total"
    return "value"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_)


def number_column(values: pd.Series) -> pd.Series | None:
    """``values`` as floats if the column holds numbers (missing values allowed), else None."""
    if pd.api.types.is_bool_dtype(values):
        return None
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    if values.dtype == object:
        present = values.dropna()
        if len(present) and all(_is_number(v) for v in present):
            return pd.to_numeric(values, errors="coerce").astype("float64")
    return None


def fixed_decimals(values: pd.Series, decimals: int) -> pd.Series:
    """Numbers as text with ``decimals`` decimals (no ``-0``); missing values as empty text.

    >>> fixed_decimals(pd.Series([150000.0, 2.5, float("nan"), -0.0001]), 0).tolist()
    ['150000', '2', '', '0']
    """

    def text(value: float) -> str:
        if math.isnan(value):
            return ""
        out = f"{value:.{decimals}f}"
        return out[1:] if out.startswith("-") and float(out) == 0 else out

    return values.astype("float64").map(text).astype(object)


def csv_numbers(table: pd.DataFrame) -> pd.DataFrame:
    """The number columns of ``table`` as fixed-decimal text, by :func:`column_kind` (text columns unchanged).

    Rounding only ever removes information: every published number is a function of the
    unrounded one, which the disclosure audit already assumed an attacker knows exactly, so
    no withheld count becomes easier to work out. Withheld values stay empty.
    """
    out = table.copy()
    for col in table.columns:
        numbers = number_column(table[col])
        if numbers is not None:
            decimals = 0 if whole_numbers(table[col]) else DECIMALS[column_kind(str(col))]
            out[col] = fixed_decimals(numbers, decimals)
    return out


def whole_numbers(values: pd.Series) -> bool:
    """Whether a column holds integers by type (an integer dtype, or Python/NumPy integers and blanks)."""
    if pd.api.types.is_integer_dtype(values):
        return True
    if values.dtype == object:
        present = values.dropna()
        return bool(len(present)) and all(isinstance(v, int | np.integer) for v in present)
    return False


def write_csv(table: pd.DataFrame, path: Path, *, index: bool = True) -> None:
    """A CSV output: numbers with fixed decimals per column kind, fixed line endings (byte-stable),
    formula-safe text."""
    safe = csv_numbers(table.apply(spreadsheet_safe))
    if index and not pd.api.types.is_numeric_dtype(table.index):
        safe.index = spreadsheet_safe(pd.Series(table.index, index=table.index)).to_numpy()
        safe.index.name = table.index.name
    safe.to_csv(path, index=index, lineterminator="\n")

"""Stage 3d: each patch against its area and its nation, with significance where it is honest.

OHID's profiles (Fingertips) show each area's value beside the England value and mark it
significantly worse, similar or better. lacgeo does the same for every patch on the
indicators of the need index and a fixed set of profile indicators (:data:`PROFILE`),
within the limits of what the shipped data allow:

* **Census 2021 shares** (counts with denominators): the patch's share is the sum of its
  numerators over the sum of its denominators, with a 95% Wilson score interval
  (:func:`lacgeo.need.rates.wilson_ci`, OHID's method for proportions). It is
  *worse* (or *better*) than the nation when the whole interval lies on that side of
  the nation's share, otherwise *similar*. For a context indicator, which has no
  better or worse, it is *higher* or *lower*.
* **Local Health ratios** and **IoD indicators** are published without confidence
  intervals, so the patch value is shown with the area and nation values and marked
  *not tested*: an interval is never invented.

The nation's value (:func:`national_value`, computed when the data are built): a Census
share over every LSOA of the nation; 100 for a Local Health ratio standardised to England
(missing for Wales and for life expectancy, whose national figure is not shipped); the
population-weighted mean of the LSOA values for an IoD indicator (the mean of published
LSOA scores, not an official national figure).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from .. import load
from ..catalogue import CATALOGUE, Indicator
from ..schema import PATCH_ID, POPULATION, deprivation_index
from .indicators import read_indicators, unavailable
from .rates import wilson_ci

PROFILE = (
    "imd_score",
    "wimd_score",
    "households_deprived_2plus_pct",
    "preventable_mortality_smr",
    "emergency_admissions_sar",
    "self_harm_admissions_sar",
    "acute_morbidity",
    "disability_pct",
    "social_rented_pct",
)
"""The indicators every patch profile shows besides the need index's own, where they exist."""

COLUMNS = [
    PATCH_ID,
    "indicator",
    "label",
    "unit",
    "polarity",
    "patch_value",
    "lower",
    "upper",
    "area_value",
    "national_value",
    "compared_with_nation",
    "method",
]
NOT_TESTED = "not tested: published without a confidence interval"


def profile_names(need_names: Sequence[str], nation: str, vintage: str) -> list[str]:
    """The catalogue indicators a run's patch profiles show: the need index's, then :data:`PROFILE`'s."""
    names = [n for n in dict.fromkeys([*need_names, *PROFILE]) if n in CATALOGUE]
    gone = unavailable(names, nation, vintage)
    return [n for n in names if n not in gone]


NATIONAL_FILE = "national_values.json"
"""Every catalogue indicator's national value, per nation and vintage, computed by
``data/build.py`` with :func:`compute_national_value` (a run then reads no national table)."""


@functools.cache
def _national_values() -> dict:
    return json.loads(load.data_file(NATIONAL_FILE).read_text(encoding="utf-8"))


def national_value(name: str, nation: str, vintage: str) -> float:
    """The nation's value of a catalogue indicator on LSOA ``vintage`` (NaN where none is shipped).

    >>> round(national_value("disability_pct", "England", "2021"), 2)
    17.3
    >>> national_value("emergency_admissions_sar", "England", "2021")
    100.0
    """
    value = _national_values().get(f"{nation} {vintage}", {}).get(name)
    return float("nan") if value is None else float(value)


def compute_national_value(name: str, nation: str, vintage: str) -> float | None:
    """:func:`national_value` from the shipped tables (slow: it reads the whole nation).

    A Census share over every LSOA of the nation; 100 for a Local Health ratio standardised
    to England (None for Wales and for life expectancy, whose national figure is not
    shipped); the population-weighted mean of the LSOA values for an IoD indicator.
    """
    spec = CATALOGUE[name]
    if not spec.exists_for(vintage, nation):
        return None
    if spec.route == "msoa_ratio":
        return 100.0 if nation == "England" and "England = 100" in spec.unit else None
    codes = pd.read_parquet(load.data_file(deprivation_index(nation, vintage).file), columns=[]).index
    if spec.route == "share":
        totals = load.read_shipped_table(spec.file_for(vintage), codes, [spec.column, spec.denominator]).sum()
        return float(100.0 * totals[spec.column] / totals[spec.denominator])
    values = read_indicators(codes, [name], vintage=vintage)[name]
    population = pd.read_parquet(load.data_file(f"lsoa{vintage[2:]}.parquet"), columns=[POPULATION])[POPULATION]
    present = values.notna()
    return float(np.average(values[present], weights=population.reindex(codes)[present].astype(float)))


def _verdict(spec: Indicator, lower: np.ndarray, upper: np.ndarray, national: float) -> np.ndarray:
    above, below = lower > national, upper < national
    if spec.polarity == "context":
        words = ("higher than", "lower than")
    elif spec.polarity == "higher_is_better":
        words = ("better than", "worse than")
    else:
        words = ("worse than", "better than")
    return np.where(above, words[0], np.where(below, words[1], "similar to"))


def compare_patches(
    areas: pd.DataFrame,
    patch_id: pd.Series,
    names: Sequence[str],
    *,
    nation: str,
    vintage: str,
    indicators: pd.DataFrame | None = None,
    directions: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Each patch's value of each catalogue indicator beside the area's and the nation's, and
    whether it differs from the nation significantly (95%), where an interval can be computed.

    Parameters
    ----------
    areas
        The run's LSOAs, with ``population``.
    patch_id
        The patch of each LSOA.
    names
        Catalogue indicators (see :func:`profile_names`).
    indicators
        Values already read for the areas (the need index's), reused; the others are read.
    directions
        The run's direction of each need-index indicator (``need.indicators``): a direction the
        analyst set decides which way is worse, as it does in the need index.

    Returns
    -------
    DataFrame
        One row per patch and indicator, with :data:`COLUMNS`; ``compared_with_nation`` is
        "worse than", "similar to", "better than" (or "higher than"/"lower than" for
        context), or "not tested: ..." with the reason.
    """
    codes = areas.index
    have = [] if indicators is None else [n for n in names if n in indicators.columns]
    values = read_indicators(codes, [n for n in names if n not in have], vintage=vintage)
    if have:
        values = values.join(indicators[have])
    weights = areas[POPULATION].astype(float)
    share_columns: dict[str, set[str]] = {}
    for name in names:
        if CATALOGUE[name].route == "share":
            spec = CATALOGUE[name]
            share_columns.setdefault(spec.file_for(vintage), set()).update((spec.column, spec.denominator))
    shares = {file: load.read_shipped_table(file, codes, sorted(cols)) for file, cols in share_columns.items()}
    rows = []
    directions = dict(directions or {})
    for name in names:
        spec = CATALOGUE[name]
        if name in directions and directions[name]:
            spec = replace(spec, polarity=directions[name])
        national = national_value(name, nation, vintage)
        frame = pd.DataFrame({"patch": patch_id.reindex(codes), "w": weights, "v": values[name]})
        if spec.route == "share" and spec.binomial:
            counts = shares[spec.file_for(vintage)]
            sums = counts.groupby(frame["patch"]).sum()
            num, den = sums[spec.column], sums[spec.denominator]
            patch_value = 100.0 * num / den
            lower, upper = (100.0 * x for x in wilson_ci(num.to_numpy(), den.to_numpy()))
            area_value = 100.0 * counts[spec.column].sum() / counts[spec.denominator].sum()
            verdict = (
                _verdict(spec, lower, upper, national) if np.isfinite(national) else "not tested: no national value"
            )
            method = "Wilson score interval (95%) on Census 2021 counts"
        else:
            present = frame.dropna(subset=["v"])
            wv = (present["v"] * present["w"]).groupby(present["patch"]).sum()
            patch_value = (wv / present.groupby("patch")["w"].sum()).reindex(sorted(frame["patch"].unique()))
            lower = upper = np.full(len(patch_value), np.nan)
            area_value = float(np.average(present["v"], weights=present["w"])) if len(present) else np.nan
            verdict = NOT_TESTED if spec.binomial else "not tested: a share of whole LSOAs has no sampling interval"
            method = "population-weighted mean of LSOA values"
        rows.append(
            pd.DataFrame(
                {
                    PATCH_ID: patch_value.index,
                    "indicator": name,
                    "label": spec.label,
                    "unit": spec.unit,
                    "polarity": spec.polarity,
                    "patch_value": patch_value.to_numpy(),
                    "lower": lower,
                    "upper": upper,
                    "area_value": area_value,
                    "national_value": national,
                    "compared_with_nation": verdict,
                    "method": method,
                }
            )
        )
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    table = pd.concat(rows, ignore_index=True)
    order = {n: k for k, n in enumerate(names)}
    return table.sort_values([PATCH_ID, "indicator"], key=lambda s: s.map(order) if s.name == "indicator" else s)[
        COLUMNS
    ].reset_index(drop=True)


__all__ = ["COLUMNS", "PROFILE", "compare_patches", "compute_national_value", "national_value", "profile_names"]

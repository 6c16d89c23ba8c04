"""Stage 3b: standardise indicators, weight them into a need index, and add quintiles.

Every function returns a Series or DataFrame on the input's index and never
modifies its inputs. The index is a weighted mean of standardised indicators, each
oriented so that higher means more need; the contribution of each indicator is
reported next to it, so every number can be explained.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import get_args

import numpy as np
import pandas as pd

from ..config import DEFAULTS, IndicatorConfig, MissingPolicy, Standardise
from ..errors import ConfigError, IndicatorOverlapWarning, MissingValueWarning, NoVariationWarning, ValidationError
from ..schema import (
    EXCESS_NEED,
    IMD_QUINTILE,
    LOCAL_QUINTILE,
    NEED_INDEX,
    POPULATION,
    DeprivationIndex,
    deprivation_index,
)

STANDARDISE_METHODS = get_args(Standardise)
MISSING_POLICIES = get_args(MissingPolicy)


def standardise(
    values: pd.Series, *, method: str = DEFAULTS.need.standardise, higher_is_worse: bool = True
) -> pd.Series:
    """Put one indicator on a common scale where higher always means more need.

    ``zscore``: (x - mean) / sd within the area. ``rank``: rank scaled to (0, 1].
    ``exponential``: the Indices of Deprivation transform of the rank,
    ``-23 ln(1 - R (1 - exp(-100/23)))``, which runs from 0 to 100 and stretches the
    most deprived end so high need in one indicator is not cancelled by another.
    Ties share their mean rank, so the result does not depend on row order.

    Parameters
    ----------
    values
        One indicator for every area, indexed by code; a missing value is an error.
    method
        ``"zscore"``, ``"rank"`` or ``"exponential"``.
    higher_is_worse
        ``False`` reverses the indicator (for example life expectancy).

    Returns
    -------
    Series
        On ``values.index``, with ``values.name``.

    Examples
    --------
    >>> x = pd.Series([10.0, 20.0, 30.0], index=["a", "b", "c"], name="imd_score")
    >>> standardise(x).round(3).tolist(), standardise(x, method="rank", higher_is_worse=False).round(3).tolist()
    ([-1.225, 0.0, 1.225], [1.0, 0.667, 0.333])
    """
    if method not in STANDARDISE_METHODS:
        raise ConfigError(f"need.standardise = {method!r}; use one of {', '.join(STANDARDISE_METHODS)}")
    if values.isna().any():
        bad = values.index[values.isna()]
        raise ValidationError(
            f"indicator {values.name!r} is missing for {len(bad)} areas "
            f"({', '.join(map(str, bad[:5]))}); lacgeo never fills missing values silently"
        )
    x = values.astype(float) if higher_is_worse else -values.astype(float)
    if method == "zscore":
        sd = x.std(ddof=0)
        out = (x - x.mean()) / sd if sd > 0 else x * 0.0
    else:
        r = x.rank(method="average") / len(x)
        out = r if method == "rank" else -23 * np.log(1 - r * (1 - np.exp(-100 / 23)))
    return out.rename(values.name)


def compute_need_index(
    indicators: pd.DataFrame,
    specs: Sequence[IndicatorConfig],
    *,
    method: str = DEFAULTS.need.standardise,
    missing: str = DEFAULTS.need.missing,
    reasons: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The need index of every area and each indicator's contribution to it.

    Each indicator is standardised (:func:`standardise`) so that higher means more
    need, then the index is their weighted mean.

    Parameters
    ----------
    indicators
        One column per indicator, indexed by area code.
    specs
        The indicators to use, with their weights and directions (``need.indicators``).
    method
        How each indicator is standardised: ``"zscore"``, ``"rank"`` or ``"exponential"``.
    missing
        What an area with no value gets: ``"error"`` stops and lists the areas (with
        ``reasons`` such as "suppressed ('*')" when given); ``"la_mean"`` gives it the
        local authority mean of that indicator; ``"reweight"`` leaves the indicator out
        of that area's index and shares its weight among the others. Both fills warn
        (:class:`~lacgeo.errors.MissingValueWarning`), naming the areas.
    reasons
        Why a value is missing, per indicator and area, for the error message.

    Returns
    -------
    DataFrame
        On ``indicators.index``: ``need_index`` and one ``contrib_<name>`` column per
        indicator; the contributions sum to the index.

    Examples
    --------
    >>> from lacgeo.config import IndicatorConfig
    >>> indicators = pd.DataFrame({"imd_score": [10.0, 20.0, 30.0], "smr": [90.0, 130.0, 110.0]}, index=["a", "b", "c"])
    >>> specs = [IndicatorConfig("imd_score", weight=2.0), IndicatorConfig("smr", weight=1.0)]
    >>> compute_need_index(indicators, specs).round(3)
       need_index  contrib_imd_score  contrib_smr
    a      -1.225             -0.816       -0.408
    b       0.408              0.000        0.408
    c       0.816              0.816        0.000
    """
    if missing not in MISSING_POLICIES:
        raise ConfigError(f"need.missing = {missing!r}; use one of {', '.join(MISSING_POLICIES)}")
    total = sum(s.weight for s in specs)
    if total <= 0:
        raise ConfigError("need.indicators: weights must add up to more than zero")
    problems = []
    z = pd.DataFrame(index=indicators.index)
    for spec in specs:
        values = indicators[spec.name].astype(float)
        gap = values.index[values.isna()]
        why = reasons[spec.name].reindex(gap).fillna("") if reasons is not None and spec.name in reasons else None
        if len(gap) and len(gap) == len(values):
            common = (
                why.str.replace(r",? row \d+$", "", regex=True).value_counts().index[0]
                if why is not None and why.any()
                else ""
            )
            problems.append(
                f"indicator {spec.name!r} has no value in any of the {len(gap)} areas"
                + (f" (mostly: {common})" if common else "")
                + "; no mean or reweighting can stand in for it: fix the source (its codes, geography or "
                "suppression), or remove it from need.indicators"
            )
            continue
        if len(gap):
            listed = ", ".join(f"{c} ({why[c]})" if why is not None and why[c] else str(c) for c in gap[:5])
            if missing == "error":
                problems.append(
                    f"indicator {spec.name!r} has no value for {len(gap)} areas ({listed}); lacgeo never fills "
                    'missing values silently: set need.missing = "la_mean" or "reweight", or fix the source'
                )
                continue
            fill = "the local authority mean" if missing == "la_mean" else "the other indicators (reweighted)"
            warnings.warn(
                f"indicator {spec.name!r} has no value for {len(gap)} areas ({listed}); using {fill}",
                MissingValueWarning,
                stacklevel=2,
            )
            if missing == "la_mean":
                values = values.fillna(values.mean())
        present = values.dropna()
        z[spec.name] = standardise(present, method=method, higher_is_worse=spec.direction == "higher_is_worse")
    if problems:
        raise ValidationError(problems)
    weights = pd.DataFrame({s.name: float(s.weight) for s in specs}, index=indicators.index).where(z.notna(), 0.0)
    empty = weights.index[weights.sum(axis=1) == 0]
    if len(empty):
        raise ValidationError(
            f"{len(empty)} areas have no value for any indicator of the need index ({', '.join(map(str, empty[:5]))}), "
            "so no need index can be computed for them: fix the sources, or add an indicator every area has"
        )
    share = weights.div(weights.sum(axis=1), axis=0)
    out = pd.DataFrame(index=indicators.index)
    for spec in specs:
        out[f"contrib_{spec.name}"] = (share[spec.name] * z[spec.name]).fillna(0.0)
    out.insert(0, NEED_INDEX, out.sum(axis=1))
    return out


OVERLAP_R = 0.9
"""Two indicators whose values correlate beyond this (in absolute value) across the run's
areas are near-duplicates: weighting both counts one need twice."""


def check_indicators(indicators: pd.DataFrame, specs: Sequence[IndicatorConfig], *, area: str = "the area") -> None:
    """Warn about indicators that distort the need index without breaking it.

    * An indicator with the same value in every area adds nothing (a z-score of 0
      everywhere) while its weight looks as if it counts: :class:`NoVariationWarning`.
    * Two indicators with ``|r| > OVERLAP_R`` across the areas measure one thing, so
      weighting both counts it twice: :class:`IndicatorOverlapWarning`, naming the
      pair, ``r`` and the weights.

    >>> import warnings
    >>> from lacgeo.config import IndicatorConfig
    >>> table = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [2.0, 4.1, 6, 8], "c": [5.0, 1, 4, 2]})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     check_indicators(table, [IndicatorConfig(n) for n in "abc"], area="Derby")
    >>> [str(w.message)[:60] for w in caught]
    ["need.indicators: 'a' and 'b' are near-duplicates in Derby (r"]
    """
    names = [s.name for s in specs]
    weight = {s.name: s.weight for s in specs}
    values = indicators[names].astype(float)
    for name in names:
        present = values[name].dropna()
        if len(present) > 1 and present.nunique() == 1:
            warnings.warn(
                f"need.indicators: {name!r} has the same value ({present.iloc[0]:g}) in every area of {area}, "
                "so it adds nothing to the need index although it carries weight "
                f"{weight[name]:g}; it is probably published for the whole local authority. Remove it, or run "
                "it over an area of several districts (a county or an NHS footprint)",
                NoVariationWarning,
                stacklevel=2,
            )
    corr = values.loc[:, values.nunique() > 1].corr()
    for i, a in enumerate(corr.columns):
        for b in corr.columns[i + 1 :]:
            r = corr.at[a, b]
            if pd.notna(r) and abs(r) > OVERLAP_R:
                warnings.warn(
                    f"need.indicators: {a!r} and {b!r} are near-duplicates in {area} (r = {r:.2f}): "
                    f"weighting both (weights {weight[a]:g} and {weight[b]:g}) counts one need twice. Keep one, "
                    "or lower their weights so that together they carry the weight you mean",
                    IndicatorOverlapWarning,
                    stacklevel=2,
                )


def national_quintile(decile: pd.Series) -> pd.Series:
    """National quintile (1 = most deprived 20% of the nation's areas) from the official decile.

    Examples
    --------
    >>> national_quintile(pd.Series([1, 2, 3, 10], index=list("abcd"))).tolist()
    [1, 1, 2, 5]
    """
    return np.ceil(decile.astype(float) / 2).astype("int64").rename(IMD_QUINTILE)


def local_quintile(score: pd.Series, population: pd.Series) -> pd.Series:
    """Population-weighted quintile within the area (1 = most deprived fifth of residents).

    Areas are ordered from most to least deprived; each takes the quintile holding the
    midpoint of its population in the cumulative share. Ties are broken by code.

    Parameters
    ----------
    score
        A deprivation score per area (higher = more deprived), such as the IMD score.
    population
        Residents per area, on the same index.

    Returns
    -------
    Series
        ``local_imd_quintile`` on ``score.index``, 1 to 5.

    Examples
    --------
    >>> score = pd.Series([40.0, 30.0, 20.0, 10.0, 5.0], index=list("abcde"))
    >>> local_quintile(score, pd.Series(1000, index=score.index)).tolist()
    [1, 2, 3, 4, 5]
    """
    frame = pd.DataFrame({"s": score.astype(float), "p": population.astype(float)})
    frame = frame.assign(code=frame.index).sort_values(["s", "code"], ascending=[False, True])
    cum = frame["p"].cumsum() - frame["p"] / 2
    q = np.clip(np.floor(cum / frame["p"].sum() * 5).astype("int64") + 1, 1, 5)
    return q.reindex(score.index).rename(LOCAL_QUINTILE)


def deprivation_columns(
    deprivation: pd.DataFrame, population: pd.Series, index: DeprivationIndex | None = None
) -> pd.DataFrame:
    """The deprivation score, national and local quintiles for the area table, named after
    ``index`` (England's IMD by default: ``imd_score``, ``imd_quintile``,
    ``local_imd_quintile``; Wales's WIMD: ``wimd_score``, ...)."""
    index = index or deprivation_index()
    return pd.DataFrame(
        {
            index.score: deprivation[index.score],
            index.quintile: national_quintile(deprivation[index.decile]).rename(index.quintile),
            index.local_quintile: local_quintile(deprivation[index.score], population).rename(index.local_quintile),
        }
    )


def excess_need(areas: pd.DataFrame) -> pd.Series:
    """Population x (need index - the area's population-weighted mean need).

    The need a patch *captures*: phase-1 selection maximises its sum over the picks,
    and patches are ranked by it.
    """
    pop = areas[POPULATION].astype(float)
    mean = float((areas[NEED_INDEX] * pop).sum() / pop.sum())
    return (pop * (areas[NEED_INDEX] - mean)).rename(EXCESS_NEED)

"""Stage 4: standardise indicators, weight them into a need index, and add quintiles.

Every function returns a Series or DataFrame on the input's index and never
modifies its inputs. The index is a weighted mean of standardised indicators, each
oriented so that higher means more need; the contribution of each indicator is
reported next to it, so every number can be explained.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from . import datasets, harmonise
from .config import IndicatorConfig
from .errors import ConfigError, ValidationError
from .schema import IMD_DECILE, IMD_QUINTILE, IMD_SCORE, LOCAL_QUINTILE, NEED_INDEX

IOD_DOMAINS = ("imd", "income", "employment", "education", "health", "crime", "housing", "environment")

SHIPPED_INDICATORS: dict[str, str] = {
    **{f"{d}_score": f"{'IMD' if d == 'imd' else d.title()} score (Indices of Deprivation)" for d in IOD_DOMAINS},
    "preventable_mortality_smr": "Preventable deaths under 75, SMR (Local Health, England = 100)",
}

STANDARDISE_METHODS = ("zscore", "rank", "exponential")


def read_indicators(
    codes: pd.Index, names: Sequence[str], *, vintage: str, deprivation: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Shipped indicator values for ``codes`` (one column per name)."""
    unknown = [n for n in names if n not in SHIPPED_INDICATORS]
    if unknown:
        tips = []
        for n in unknown:
            close = difflib.get_close_matches(n, list(SHIPPED_INDICATORS), n=1)
            tips.append(f"{n!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ConfigError(
            f"need.indicators: unknown indicator {', '.join(tips)}; shipped indicators are "
            + ", ".join(SHIPPED_INDICATORS)
        )
    if deprivation is None:
        deprivation = datasets.read_deprivation(codes, vintage=vintage)
    columns = {}
    for name in names:
        if name == "preventable_mortality_smr":
            columns[name] = harmonise.mortality_to_lsoa(codes, vintage=vintage)
        elif name in deprivation.columns:
            columns[name] = deprivation[name]
        else:
            raise ConfigError(
                f"need.indicators: {name!r} is not published for vintage {vintage} "
                f"(IoD2019 has scores only for IMD, income and employment); use the rank-based "
                f"standardisation of another domain, or vintage 2021"
            )
    frame = pd.DataFrame(columns, index=codes)
    return frame


def standardise(values: pd.Series, *, method: str = "zscore", higher_is_worse: bool = True) -> pd.Series:
    """Put one indicator on a common scale where higher always means more need.

    ``zscore``: (x - mean) / sd within the area. ``rank``: rank scaled to (0, 1].
    ``exponential``: the Indices of Deprivation transform of the rank,
    ``-23 ln(1 - R (1 - exp(-100/23)))``, which runs from 0 to 100 and stretches the
    most deprived end so high need in one indicator is not cancelled by another.
    Ties share their mean rank, so the result does not depend on row order.
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
    method: str = "zscore",
) -> pd.DataFrame:
    """Need index and each indicator's contribution.

    Returns a frame on ``indicators.index`` with ``need_index`` and one
    ``contrib_<name>`` column per indicator; the contributions sum to the index.
    """
    total = sum(s.weight for s in specs)
    if total <= 0:
        raise ConfigError("need.indicators: weights must add up to more than zero")
    out = pd.DataFrame(index=indicators.index)
    for spec in specs:
        z = standardise(indicators[spec.name], method=method, higher_is_worse=spec.direction == "higher_is_worse")
        out[f"contrib_{spec.name}"] = spec.weight / total * z
    out.insert(0, NEED_INDEX, out.sum(axis=1))
    return out


def national_quintile(decile: pd.Series) -> pd.Series:
    """National IMD quintile (1 = most deprived 20% of England) from the official decile."""
    return np.ceil(decile.astype(float) / 2).astype("int64").rename(IMD_QUINTILE)


def local_quintile(score: pd.Series, population: pd.Series) -> pd.Series:
    """Population-weighted quintile within the area (1 = most deprived fifth of residents).

    Areas are ordered from most to least deprived; each takes the quintile holding the
    midpoint of its population in the cumulative share. Ties are broken by code.
    """
    frame = pd.DataFrame({"s": score.astype(float), "p": population.astype(float)})
    frame = frame.assign(code=frame.index).sort_values(["s", "code"], ascending=[False, True])
    cum = frame["p"].cumsum() - frame["p"] / 2
    q = np.clip(np.floor(cum / frame["p"].sum() * 5).astype("int64") + 1, 1, 5)
    return q.reindex(score.index).rename(LOCAL_QUINTILE)


def deprivation_columns(deprivation: pd.DataFrame, population: pd.Series) -> pd.DataFrame:
    """IMD score, national and local quintiles for the area table."""
    return pd.DataFrame(
        {
            IMD_SCORE: deprivation[IMD_SCORE],
            IMD_QUINTILE: national_quintile(deprivation[IMD_DECILE]),
            LOCAL_QUINTILE: local_quintile(deprivation[IMD_SCORE], population),
        }
    )

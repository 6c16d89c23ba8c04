"""The words and numbers of ``report.html``: formatting, labels, England reference values and data credits.

Plain functions of values (no page structure), shared by the report's sections.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from ... import load
from ...need import SHIPPED_INDICATORS
from ...result import RunResult
from ...schema import IMD_DECILE, IOD_RELEASE, POPULATION

SMR = "preventable_mortality_smr"
FIFTHS = {1: "most deprived", 2: "second most deprived", 3: "middle", 4: "second least deprived", 5: "least deprived"}
STANDARDISE_WORDS = {
    "zscore": "standard deviations from the local authority mean (z-scores)",
    "rank": "ranks within the local authority scaled from 0 to 1",
    "exponential": "the exponential transform of the rank used by the Indices of Deprivation (0 to 100)",
}


# --- numbers, words and reference values --------------------------------------------------


def num(value: float, decimals: int = 1) -> str:
    return "–" if value is None or pd.isna(value) else f"{round(float(value), decimals) + 0.0:,.{decimals}f}"


def count_of(count: int, word: str, plural: str = "") -> str:
    """'1 patch', '3 patches'."""
    return f"{count:,} {word if count == 1 else plural or word + 's'}"


def signed(value: float) -> str:
    return f"{round(float(value), 2) + 0.0:+.2f}"


def pct(share: float) -> str:
    return "–" if pd.isna(share) else f"{100 * float(share):.0f}%"


def value_text(name: str, value: float) -> str:
    """An indicator value: SMRs whole, others to 1 decimal place (2 below 1)."""
    return num(value, 0 if name == SMR else 1 if not pd.isna(value) and abs(value) >= 1 else 2)


def about(population: float) -> str:
    return f"{int(round(float(population), -2)):,}" if population >= 1000 else f"{int(population):,}"


def ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def compare_word(value: float, ref: float) -> str:
    if pd.isna(value) or pd.isna(ref):
        return "compared with"
    if abs(value - ref) <= 0.05 * abs(ref):
        return "about the same as"
    return "higher than" if value > ref else "lower than"


def weighted_mean(values: pd.Series, weights: pd.Series) -> float:
    keep = values.notna()
    w = weights[keep].astype(float)
    return float((values[keep].astype(float) * w).sum() / w.sum()) if w.sum() > 0 else float("nan")


def indicator_label(result: RunResult, name: str) -> str:
    spec = next((s for s in result.config.need.indicators if s.name == name and s.label), None)
    return spec.label if spec else SHIPPED_INDICATORS.get(name, name.replace("_", " "))


@functools.cache
def england_reference(vintage: str) -> dict:
    """England: population-weighted means of the shipped IoD scores (SMR = 100 by definition),
    population share by IMD quintile, and total population."""
    lsoa = pd.read_parquet(load.data_file(f"lsoa{vintage[2:]}.parquet"), columns=[POPULATION])
    iod = pd.read_parquet(load.data_file(f"{IOD_RELEASE[vintage].lower()}_lsoa{vintage[2:]}.parquet"))
    pop = lsoa[POPULATION].reindex(iod.index).astype(float)
    means = {c: weighted_mean(iod[c], pop) for c in iod.columns if c.endswith("_score")}
    means[SMR] = 100.0
    quintile = np.ceil(iod[IMD_DECILE].astype(float) / 2)
    shares = {q: float(pop[quintile == q].sum() / pop.sum()) for q in range(1, 6)}
    return {"means": means, "quintile_shares": shares, "population": int(pop.sum())}


def money(value: float) -> str:
    return f"£{float(value):,.0f}"


# --- plain-English text ------------------------------------------------------------------

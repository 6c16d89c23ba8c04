"""Stage 3d: the needs assessment, each indicator by local deprivation quintile with 95% intervals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ..config import IndicatorConfig
from ..schema import LOCAL_QUINTILE, POPULATION
from . import rates


def needs_assessment(
    areas: pd.DataFrame,
    indicators: pd.DataFrame,
    specs: Sequence[IndicatorConfig],
    *,
    counts: Mapping[str, tuple[pd.Series, pd.Series]] | None = None,
    proportions: Sequence[str] = (),
    shares: Mapping[str, tuple[pd.Series, pd.Series]] | None = None,
    quintile_col: str = LOCAL_QUINTILE,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Each indicator by local deprivation quintile with a 95% confidence interval.

    The classic JSNA figure. For an indicator built from counts (``counts[name] =
    (count, denominator)``) the value is the rate per 1,000 of the summed counts with
    an exact/Byar's interval, or, for the names in ``proportions`` (people counted
    once out of people at risk), the proportion per 1,000 with a Wilson interval.
    For a Census share (``shares[name] = (numerator, denominator)``) it is the percentage of
    the summed counts with a Wilson interval. Otherwise it is the population-weighted mean
    across the quintile's areas with a t-based interval (the interval of the mean across areas).
    One row per indicator and quintile (1 = most deprived fifth of residents), plus
    ``"All"`` for the whole local authority.
    """
    counts, shares = dict(counts or {}), dict(shares or {})
    rows = []
    groups = [(str(q), areas.index[areas[quintile_col] == q]) for q in range(1, 6)] + [("All", areas.index)]
    for spec in specs:
        for quintile, idx in groups:
            row = {"indicator": spec.name, "label": spec.label or spec.name, "quintile": quintile}
            if spec.name in shares:  # a Census share: summed counts, as patches and comparisons give it
                numerator, denominator = (x.reindex(idx) for x in shares[spec.name])
                x, d = float(numerator.sum()), float(denominator.sum())
                nan = float("nan")
                ci = (
                    rates.proportion_ci(x, d, confidence=confidence) * 100.0
                    if d > 0
                    else pd.DataFrame({"proportion": [nan], "lower": [nan], "upper": [nan]})
                )
                row |= {
                    "value": float(ci["proportion"].iloc[0]),
                    "lower": float(ci["lower"].iloc[0]),
                    "upper": float(ci["upper"].iloc[0]),
                    "method": "% of summed Census counts, Wilson" if d > 0 else "no areas with values",
                    "n_areas": len(idx),
                    "count": pd.NA,  # public Census counts: the value says it all
                }
            elif spec.name in counts:
                count, denominator = (x.reindex(idx) for x in counts[spec.name])
                keep = count.notna() & denominator.notna()
                x, d = float(count[keep].sum()), float(denominator[keep].sum())
                nan = float("nan")
                if d <= 0:
                    value = lower = upper = nan
                    method = "no areas with values"
                elif spec.name in proportions:
                    ci = rates.proportion_ci(x, d, confidence=confidence) * 1000.0
                    value, method = float(ci["proportion"].iloc[0]), "per 1,000 at risk, Wilson"
                    lower, upper = float(ci["lower"].iloc[0]), float(ci["upper"].iloc[0])
                else:
                    ci = rates.rate_ci(x, d, per=1000, confidence=confidence)
                    value, method = float(ci["rate"].iloc[0]), f"rate per 1,000, {ci['method'].iloc[0]}"
                    lower, upper = float(ci["lower"].iloc[0]), float(ci["upper"].iloc[0])
                row |= {
                    "value": value,
                    "lower": lower,
                    "upper": upper,
                    "method": method,
                    "n_areas": int(keep.sum()),
                    "count": int(x),
                }
            else:
                values = indicators.loc[idx, spec.name].dropna()
                if len(values) >= 2:
                    mean, lower, upper = rates.mean_ci(
                        values, weights=areas.loc[values.index, POPULATION], confidence=confidence
                    )
                else:
                    mean = float(values.mean()) if len(values) else float("nan")
                    lower = upper = float("nan")
                row |= {
                    "value": mean,
                    "lower": lower,
                    "upper": upper,
                    "method": "population-weighted mean, t interval",
                    "n_areas": int(len(values)),
                    "count": pd.NA,
                }
            row["population"] = int(areas.loc[idx, POPULATION].sum())
            rows.append(row)
    return pd.DataFrame(rows)

"""Stage 4: standardise indicators, weight them into a need index, and add quintiles.

Every function returns a Series or DataFrame on the input's index and never
modifies its inputs. The index is a weighted mean of standardised indicators, each
oriented so that higher means more need; the contribution of each indicator is
reported next to it, so every number can be explained.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from . import datasets, harmonise, rates
from .config import IndicatorConfig
from .errors import ConfigError, ValidationError
from .schema import IMD_DECILE, IMD_QUINTILE, IMD_SCORE, LOCAL_QUINTILE, NEED_INDEX, POPULATION

IOD_DOMAINS = ("imd", "income", "employment", "education", "health", "crime", "housing", "environment")

SHIPPED_INDICATORS: dict[str, str] = {
    **{f"{d}_score": f"{'IMD' if d == 'imd' else d.title()} score (Indices of Deprivation)" for d in IOD_DOMAINS},
    "preventable_mortality_smr": "Preventable deaths under 75, SMR (Local Health, England = 100)",
}

STANDARDISE_METHODS = ("zscore", "rank", "exponential")
MISSING_POLICIES = ("error", "la_mean", "reweight")


class MissingValueWarning(UserWarning):
    """An indicator had no value for some areas and the configured policy filled the gap."""


def read_indicators(
    codes: pd.Index,
    names: Sequence[str],
    *,
    vintage: str,
    deprivation: pd.DataFrame | None = None,
    sources: Mapping[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """Indicator values for ``codes``, one column per name.

    A name is a shipped indicator (``SHIPPED_INDICATORS``) or a key of ``sources``
    (council service demand already brought onto the areas, e.g. rates per 1,000).
    """
    sources = dict(sources or {})
    known = list(SHIPPED_INDICATORS) + list(sources)
    unknown = [n for n in names if n not in known]
    if unknown:
        tips = []
        for n in unknown:
            close = difflib.get_close_matches(n, known, n=1)
            tips.append(f"{n!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ConfigError(
            f"need.indicators: unknown indicator {', '.join(tips)}; use a shipped indicator ("
            + ", ".join(SHIPPED_INDICATORS)
            + ") or the name of a [[sources]] table"
        )
    if deprivation is None and any(n in SHIPPED_INDICATORS for n in names):
        deprivation = datasets.read_deprivation(codes, vintage=vintage)
    columns = {}
    for name in names:
        if name in sources:
            columns[name] = sources[name].reindex(codes)
        elif name == "preventable_mortality_smr":
            columns[name] = harmonise.mortality_to_lsoa(codes, vintage=vintage)
        elif name in deprivation.columns:
            columns[name] = deprivation[name]
        else:
            raise ConfigError(
                f"need.indicators: {name!r} is not available for vintage {vintage}: IoD2019 scores are shipped "
                "only for IMD, income and employment; choose one of those, or vintage 2021"
            )
    return pd.DataFrame(columns, index=codes)


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
    missing: str = "error",
    reasons: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Need index and each indicator's contribution.

    Returns a frame on ``indicators.index`` with ``need_index`` and one
    ``contrib_<name>`` column per indicator; the contributions sum to the index.

    ``missing`` decides what an area with no value gets: ``"error"`` stops and lists
    the areas (with ``reasons`` such as "suppressed ('*')" when given); ``"la_mean"``
    gives it the local authority mean of that indicator; ``"reweight"`` leaves the
    indicator out of that area's index and shares its weight among the others. Both
    fills warn, naming the areas.
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
        if len(gap):
            why = reasons[spec.name].reindex(gap).fillna("") if reasons is not None and spec.name in reasons else None
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
    share = weights.div(weights.sum(axis=1), axis=0)
    out = pd.DataFrame(index=indicators.index)
    for spec in specs:
        out[f"contrib_{spec.name}"] = (share[spec.name] * z[spec.name]).fillna(0.0)
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


def need_profiles(
    indicators: pd.DataFrame,
    specs: Sequence[IndicatorConfig],
    *,
    population: pd.Series,
    n_profiles: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """Group areas by the *shape* of their need and label each group in plain words.

    Indicators are put on one scale (within-LA z-scores, oriented so higher means more
    need) and clustered with k-means (scikit-learn, ``random_state=seed``), weighting
    areas by population. The number of groups is at most ``n_profiles`` and at most
    the number of distinct areas. A group is named from its centre: indicators at
    least 0.75 standard deviations above the local average ("High IMD score and
    preventable mortality"), "High need across indicators" when all are raised,
    "Lower need" when all are at least half a standard deviation below, otherwise
    "Near the local average". An area with a missing value (only possible under a fill
    policy) is placed on the local average for that indicator.

    Returns ``need_profile`` (the label) and ``need_profile_id`` per area.
    """
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    labels = {s.name: _in_sentence(s.label or s.name.replace("_", " ")) for s in specs}
    z = pd.DataFrame(index=indicators.index)
    for s in specs:
        values = indicators[s.name].astype(float)
        z[s.name] = standardise(values.dropna(), higher_is_worse=s.direction == "higher_is_worse").reindex(
            indicators.index
        )
    z = z.fillna(0.0)
    k = int(min(n_profiles, len(z.drop_duplicates())))
    if k <= 1:
        return pd.DataFrame({"need_profile": "Near the local average", "need_profile_id": 1}, index=z.index)
    # A few hundred points: one thread is faster than OpenMP's start-up on a busy machine.
    with threadpool_limits(1):
        model = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(
            z.to_numpy(), sample_weight=population.reindex(z.index).to_numpy(dtype=float)
        )
    centres = pd.DataFrame(model.cluster_centers_, columns=z.columns)
    # number groups from most to least need (weighted mean of the centre)
    weights = pd.Series({s.name: s.weight for s in specs})
    order = (centres * weights).sum(axis=1).sort_values(ascending=False).index
    renumber = {old: new for new, old in enumerate(order, start=1)}
    names = {}
    for old in order:
        c = centres.loc[old]
        ranked = c.sort_values(ascending=False)
        high = [labels[n] for n in ranked.index if c[n] >= 0.75]
        raised = [labels[n] for n in ranked.index if c[n] >= 0.25]
        lower = [labels[n] for n in ranked.index[::-1] if c[n] <= -0.25]
        if len(c) > 1 and (c >= 0.5).all():
            name = "High need across indicators"
        elif high:
            name = "High " + " and ".join(high[:2])
        elif (c <= -0.5).all():
            name = "Lower need"
        elif raised:
            name = "Somewhat raised " + " and ".join(raised[:2])
        elif lower:
            name = "Lower " + " and ".join(lower[:2])
        else:
            name = "Near the local average"
        names[old] = name
    counts = pd.Series(names).value_counts()
    for old, name in names.items():
        if counts[name] > 1:
            names[old] = f"{name} (group {renumber[old]})"
    cluster = pd.Series(model.labels_, index=z.index)
    return pd.DataFrame({"need_profile": cluster.map(names), "need_profile_id": cluster.map(renumber)}, index=z.index)


def _in_sentence(label: str) -> str:
    """'Preventable mortality' -> 'preventable mortality'; 'IMD score' stays."""
    return label[0].lower() + label[1:] if len(label) > 1 and label[1].islower() else label


def needs_assessment(
    areas: pd.DataFrame,
    indicators: pd.DataFrame,
    specs: Sequence[IndicatorConfig],
    *,
    counts: Mapping[str, tuple[pd.Series, pd.Series]] | None = None,
    proportions: Sequence[str] = (),
    quintile_col: str = LOCAL_QUINTILE,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Each indicator by local deprivation quintile with a 95% confidence interval.

    The classic JSNA figure. For an indicator built from counts (``counts[name] =
    (count, denominator)``) the value is the rate per 1,000 of the summed counts with
    an exact/Byar's interval, or, for the names in ``proportions`` (people counted
    once out of people at risk), the proportion per 1,000 with a Wilson interval.
    Otherwise it is the population-weighted mean across the quintile's areas with a
    t-based interval (the interval of the mean across areas).
    One row per indicator and quintile (1 = most deprived fifth of residents), plus
    ``"All"`` for the whole local authority.
    """
    counts = dict(counts or {})
    rows = []
    groups = [(str(q), areas.index[areas[quintile_col] == q]) for q in range(1, 6)] + [("All", areas.index)]
    for spec in specs:
        for quintile, idx in groups:
            row = {"indicator": spec.name, "label": spec.label or spec.name, "quintile": quintile}
            if spec.name in counts:
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

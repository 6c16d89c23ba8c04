"""Stage 3c: need profiles, groups of areas with a similar *shape* of need, in plain words."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..config import DEFAULTS, IndicatorConfig
from .index import standardise


def need_profiles(
    indicators: pd.DataFrame,
    specs: Sequence[IndicatorConfig],
    *,
    population: pd.Series,
    n_profiles: int = DEFAULTS.need.n_profiles,
    seed: int = DEFAULTS.seed,
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

    Returns
    -------
    DataFrame
        On ``indicators.index``: ``need_profile`` (the label) and ``need_profile_id``
        (1 = the group with the most need).

    Examples
    --------
    >>> from lacgeo.config import IndicatorConfig
    >>> indicators = pd.DataFrame(
    ...     {"imd_score": [50.0, 48.0, 10.0, 12.0, 11.0, 9.0], "smr": [100.0, 102.0, 150.0, 148.0, 70.0, 72.0]},
    ...     index=list("abcdef"))
    >>> specs = [IndicatorConfig("imd_score", label="IMD score"), IndicatorConfig("smr", label="Preventable deaths")]
    >>> need_profiles(indicators, specs, population=pd.Series(1000, index=indicators.index), n_profiles=3)
                  need_profile  need_profile_id
    a           High IMD score                1
    b           High IMD score                1
    c  High preventable deaths                2
    d  High preventable deaths                2
    e               Lower need                3
    f               Lower need                3
    """
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    labels = {s.name: in_sentence(s.label or s.name.replace("_", " ")) for s in specs}
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


def in_sentence(label: str) -> str:
    """'Preventable mortality' -> 'preventable mortality'; 'IMD score' stays."""
    return label[0].lower() + label[1:] if len(label) > 1 and label[1].islower() else label

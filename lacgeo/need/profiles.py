"""Stage 3c: need profiles, groups of areas with a similar *shape* of need, in plain words."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
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
    need) and clustered with k-means (:func:`weighted_kmeans`, seeded by ``seed``),
    weighting areas by population. The number of groups is at most ``n_profiles`` and at most
    the number of distinct areas. A group is named from its centre by :func:`name_profiles`:
    the indicators it stands highest and lowest in against the local average, in words ("Far
    above average in IMD score; above in preventable mortality"), unique within the run
    ("..., most of all disabled residents"; a place in the order of need as the last resort);
    the map, report, tables and workbook all use these names. An area with a missing value (only possible under a fill
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
    >>> groups = need_profiles(indicators, specs, population=pd.Series(1000, index=indicators.index), n_profiles=3)
    >>> for name, areas in groups.groupby("need_profile_id")["need_profile"]:
    ...     print(name, "".join(areas.index), areas.iloc[0])
    1 ab Above average in IMD score
    2 cd Above average in preventable deaths; below in IMD score
    3 ef Below average in preventable deaths and IMD score
    """
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
        only = "Near the average in every indicator" if len(specs) > 1 else "Near the average"
        return pd.DataFrame({"need_profile": only, "need_profile_id": 1}, index=z.index)
    weight = population.reindex(z.index).to_numpy(dtype=float)
    label_of, centre_of = weighted_kmeans(z.to_numpy(), weight, k, seed=seed)
    centres = pd.DataFrame(centre_of, columns=z.columns)
    # number groups from most to least need (weighted mean of the centre)
    weights = pd.Series({s.name: s.weight for s in specs})
    order = (centres * weights).sum(axis=1).sort_values(ascending=False).index
    renumber = {old: new for new, old in enumerate(order, start=1)}
    names = name_profiles(centres.rename(columns=labels), order=list(order))
    cluster = pd.Series(label_of, index=z.index)
    return pd.DataFrame({"need_profile": cluster.map(names), "need_profile_id": cluster.map(renumber)}, index=z.index)


LEVELS = ((1.5, "far above"), (0.5, "above"), (-0.5, "near"), (-1.5, "below"), (-np.inf, "far below"))
"""Words for a group's mean against the area's average, in standard deviations."""


def _level(z: float) -> str:
    return next(word for cut, word in LEVELS if z >= cut)


def _profile_name(means: pd.Series) -> str:
    """A profile named by its highest and lowest indicators against the area's average
    ("Far above average in IMD score; above in preventable mortality")."""
    ranked = means.sort_values(ascending=False, kind="stable")
    tops = [n for n in ranked.index[:2] if ranked[n] >= 0.5]
    lows = [n for n in ranked.index[::-1][:2] if ranked[n] <= -0.5 and n not in tops]
    clauses: list[tuple[str, list[str]]] = []
    for names in (tops, lows):
        by_level: dict[str, list[str]] = {}
        for n in names:
            by_level.setdefault(_level(ranked[n]), []).append(str(n))
        clauses += list(by_level.items())
    if not clauses:
        return "Near the average in every indicator" if len(means) > 1 else "Near the average"
    words = [
        f"{level} average in {' and '.join(group)}" if k == 0 else f"{level} in {' and '.join(group)}"
        for k, (level, group) in enumerate(clauses)
    ]
    text = "; ".join(words)
    return text[0].upper() + text[1:]


def name_profiles(means: pd.DataFrame, *, order: list) -> dict:
    """Unique plain-words names for groups of areas, from their mean standardised indicators.

    ``means``: one row per group, one column per indicator label (higher = more need).
    ``order``: the groups from most to least need. Each is named by the indicators it is
    highest and lowest in against the area's average; where two read alike, the indicator
    that most sets each apart from the others is added; where they still read alike, their
    place in the order of need. Never "group 1".

    >>> means = pd.DataFrame({"IMD score": [2.0, 0.6, -1.0], "disabled residents": [0.7, 2.0, -1.0]})
    >>> name_profiles(means, order=[0, 1, 2])[0]
    'Far above average in IMD score; above in disabled residents'
    """
    names = {g: _profile_name(means.loc[g]) for g in order}
    for name in set(names.values()):
        alike = [g for g in order if names[g] == name]
        if len(alike) < 2:
            continue
        for g in alike:
            others = means.loc[[h for h in alike if h != g]].mean()
            names[g] = f"{name} (most of all {(means.loc[g] - others).idxmax()})"
    seen: dict[str, int] = {}
    for k, g in enumerate(order, start=1):
        seen[names[g]] = seen.get(names[g], 0) + 1
        if seen[names[g]] > 1:
            names[g] = f"{names[g]}, {_ordinal(k)} most need"
    return names


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def in_sentence(label: str) -> str:
    """'Preventable mortality' -> 'preventable mortality'; 'IMD score' stays."""
    return label[0].lower() + label[1:] if len(label) > 1 and label[1].islower() else label


def weighted_kmeans(
    x: np.ndarray, weight: np.ndarray, k: int, *, seed: int, n_init: int = 10, max_iter: int = 300
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted k-means: the best of ``n_init`` runs of Lloyd's algorithm from weighted
    k-means++ starts (lowest weighted within-group sum of squares), all drawn from ``seed``.

    A few dozen lines of numpy in place of scikit-learn's ``KMeans``, whose import alone cost
    about 0.8 s of CPU in every run for a few hundred points and at most a handful of groups.
    A group left empty restarts at the point farthest from its centre.

    Returns
    -------
    labels, centres
        The group (0..k-1) of each row of ``x`` and the ``(k, columns)`` weighted centres.

    Examples
    --------
    >>> x = np.array([[0.0], [0.1], [5.0], [5.2]])
    >>> labels, centres = weighted_kmeans(x, np.array([1.0, 1.0, 1.0, 3.0]), 2, seed=0)
    >>> sorted(centres.ravel().round(2).tolist()), bool(labels[0] == labels[1] != labels[2] == labels[3])
    ([0.05, 5.15], True)
    """
    rng = np.random.default_rng(seed)
    n = len(x)
    w = np.where(weight > 0, weight, 0.0) if (weight > 0).any() else np.ones(n)
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for _ in range(n_init):
        centres = _plus_plus(x, w, k, rng)
        labels = np.full(n, -1)
        for _ in range(max_iter):
            dist = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
            new = dist.argmin(axis=1)
            if np.array_equal(new, labels):
                break
            labels = new
            for j in range(k):
                inside = labels == j
                if w[inside].sum() > 0:
                    centres[j] = np.average(x[inside], axis=0, weights=w[inside])
                else:  # empty: restart it at the point worst served
                    far = int(dist[np.arange(n), labels].argmax())
                    centres[j], labels[far] = x[far], j
        inertia = float((w * ((x - centres[labels]) ** 2).sum(axis=1)).sum())
        if best is None or inertia < best[0] - 1e-12:
            best = (inertia, labels.copy(), centres.copy())
    return best[1], best[2]


def _plus_plus(x: np.ndarray, w: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ starts, weighted: each next centre drawn with probability ~ weight x squared
    distance to the nearest centre so far."""
    centres = [x[rng.choice(len(x), p=w / w.sum())]]
    nearest = ((x - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        chance = w * nearest
        pick = rng.choice(len(x), p=chance / chance.sum()) if chance.sum() > 0 else int(rng.integers(len(x)))
        centres.append(x[pick])
        nearest = np.minimum(nearest, ((x - x[pick]) ** 2).sum(axis=1))
    return np.array(centres, dtype=float)

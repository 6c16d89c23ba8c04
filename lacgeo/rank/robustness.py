"""How robust is the ranking? Monte Carlo over the weights and the indicator values.

Each draw takes indicator weights from a Dirichlet distribution centred on the
configured weights (``concentration`` sets how far they wander: 50 gives about ±10%
on a weight holding two thirds of the total) and, for indicators built from council
counts, redraws each area's count from a Poisson distribution around the observed
count (its sampling uncertainty). Shipped indicators are published without
confidence intervals here, so their values stay fixed. The need index, the patch need
and the ranking are recomputed for every draw with the same standardisation and
missing-value policy as the run.

For each patch: the probability it is among the ``n`` patches capturing the most need
(population x need above the LA average, the quantity phase 1 maximises) and its 95%
rank interval.
Deterministic for a seed; 1,000 draws for one local authority take well under a
second (everything is vectorised over draws).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from ..config import DEFAULTS, IndicatorConfig
from ..schema import POPULATION


def _standardise_draws(x: np.ndarray, method: str) -> np.ndarray:
    """Standardise each row (one draw) of ``x`` (draws x areas) like ``need.standardise``.
    NaNs stay NaN and are left out of the statistics."""
    if method == "zscore":
        mean = np.nanmean(x, axis=1, keepdims=True)
        sd = np.nanstd(x, axis=1, keepdims=True)
        z = np.where(sd > 0, (x - mean) / np.where(sd > 0, sd, 1.0), 0.0)
        return np.where(np.isnan(x), np.nan, z)
    from scipy.stats import rankdata  # here: scipy.stats takes about half a second to import

    n = np.sum(~np.isnan(x), axis=1, keepdims=True)
    r = rankdata(np.where(np.isnan(x), np.inf, x), axis=1, method="average") / n
    r = np.where(np.isnan(x), np.nan, r)
    if method == "rank":
        return r
    return -23 * np.log(1 - r * (1 - np.exp(-100 / 23)))


def rank_robustness(
    areas: pd.DataFrame,
    patch_id: pd.Series,
    indicators: pd.DataFrame,
    specs: Sequence[IndicatorConfig],
    *,
    n: int = DEFAULTS.recommend.n,
    method: str = DEFAULTS.need.standardise,
    missing: str = DEFAULTS.need.missing,
    counts: Mapping[str, tuple[pd.Series, pd.Series]] | None = None,
    n_draws: int = DEFAULTS.recommend.robustness_draws,
    concentration: float = DEFAULTS.recommend.weight_concentration,
    seed: int = DEFAULTS.seed,
    unranked: Sequence[str] = (),
) -> pd.DataFrame:
    """How often each patch stays in the top ``n`` when the weights and council counts vary.

    Each of ``n_draws`` seeded draws takes Dirichlet weights around the configured ones
    (``concentration``: higher moves them less) and, for council counts, Poisson
    redraws; the need index is recomputed and the patches ranked by captured need.

    Parameters
    ----------
    areas
        The areas with ``population``.
    patch_id
        The patch of every area.
    indicators, specs
        The indicator values and their configuration, as for :func:`lacgeo.compute_need_index`.
    n
        The top places that count (the phase-1 size).
    method, missing
        As for :func:`lacgeo.compute_need_index`.
    counts
        ``(count, denominator)`` per council indicator, redrawn in each draw.
    n_draws, concentration, seed
        The Monte Carlo draws; all randomness comes from ``seed``.
    unranked
        Patches that never compete for a place (the coordinators' areas in post): they count
        in every draw's need index but are not ranked, and are left out of the result.

    Returns
    -------
    DataFrame
        Per patch: ``p_top_n`` (share of draws in the top ``n``), ``rank_low`` and
        ``rank_high`` (2.5% and 97.5% quantiles of its rank; 1 = highest need).

    Examples
    --------
    >>> from lacgeo.config import IndicatorConfig
    >>> areas = pd.DataFrame({"population": [1000] * 4}, index=list("abcd"))
    >>> indicators = pd.DataFrame({"x": [9.0, 8.0, 1.0, 0.0], "y": [0.0, 9.0, 1.0, 8.0]}, index=areas.index)
    >>> robust = rank_robustness(areas, pd.Series(["P1", "P1", "P2", "P2"], index=areas.index), indicators,
    ...                          [IndicatorConfig("x", weight=3.0), IndicatorConfig("y")], n=1, n_draws=200)
    >>> robust["p_top_n"].round(2).to_dict()
    {'P1': 1.0, 'P2': 0.0}
    """
    rng = np.random.default_rng(seed)
    counts = dict(counts or {})
    base_w = np.array([s.weight for s in specs], dtype=float)
    base_w = base_w / base_w.sum()
    alpha = np.maximum(base_w * concentration, 1e-6)
    weights = rng.dirichlet(alpha, size=n_draws) if len(specs) > 1 else np.ones((n_draws, 1))

    n_areas = len(indicators)
    # the need index of every draw, one indicator at a time: sum of weight x z over the indicators an
    # area has, divided by their weights (a draws x areas pair of arrays, never draws x areas x indicators)
    total = np.zeros((n_draws, n_areas))
    weight_sum = np.zeros((n_draws, n_areas))
    for k, spec in enumerate(specs):
        values = indicators[spec.name].to_numpy(dtype=float)
        if spec.name in counts:
            count, denominator = (s.reindex(indicators.index).to_numpy(dtype=float) for s in counts[spec.name])
            drawn = rng.poisson(np.nan_to_num(count), size=(n_draws, n_areas)).astype(float)
            x = np.where(np.isnan(count), np.nan, drawn / denominator * 1000.0)
        else:
            x = np.broadcast_to(values, (n_draws, n_areas)).copy()
        if missing == "la_mean":
            x = np.where(np.isnan(x), np.nanmean(x, axis=1, keepdims=True), x)
        if spec.direction == "higher_is_better":
            x = -x
        z = _standardise_draws(x, method)
        present = ~np.isnan(z)
        w = np.where(present, weights[:, k : k + 1], 0.0)
        total += w * np.where(present, z, 0.0)
        weight_sum += w
    need = np.divide(total, weight_sum, out=np.zeros_like(total), where=weight_sum > 0)  # draws x areas

    pid = patch_id.reindex(indicators.index)
    patches = sorted(pid.unique())
    pos = {p: i for i, p in enumerate(patches)}
    pop = areas[POPULATION].reindex(indicators.index).to_numpy(dtype=float)
    member = sparse.csr_matrix(
        (np.ones(n_areas), ([pos[p] for p in pid], np.arange(n_areas))), shape=(len(patches), n_areas)
    )
    # captured need per patch and draw: population x (need - LA population-weighted mean)
    mean = (need @ pop / pop.sum())[:, None]
    captured = np.asarray((member @ ((need - mean) * pop).T).T)  # draws x patches
    ranked = [i for i, p in enumerate(patches) if p not in set(unranked)]
    patches, captured = [patches[i] for i in ranked], captured[:, ranked]
    # rank 1 = most captured need; ties broken by patch order, as rank_patches does
    order = np.argsort(-captured, axis=1, kind="stable")
    ranks = np.empty_like(order)
    ranks[np.arange(n_draws)[:, None], order] = np.arange(1, len(patches) + 1)
    out = pd.DataFrame(
        {
            "p_top_n": (ranks <= n).mean(axis=0),
            "rank_low": np.quantile(ranks, 0.025, axis=0, method="lower").astype("int64"),
            "rank_high": np.quantile(ranks, 0.975, axis=0, method="higher").astype("int64"),
        },
        index=pd.Index(patches, name=patch_id.name),
    )
    return out

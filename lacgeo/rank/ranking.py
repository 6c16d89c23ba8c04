"""Stage 7a: summarise patches, rank them by need and put them in phases.

Patch values follow the variable's declared kind (``schema.EXTENSIVE`` are summed,
``schema.INTENSIVE`` are population-weighted). Rank 1 is the most captured need:
population x (need index - the LA's population-weighted mean), summed over the patch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..config import DEFAULTS
from ..need import excess_need
from ..schema import (
    BAND_STATUS,
    EXCESS_NEED,
    IN_BAND,
    N_AREAS,
    NEED_INDEX,
    PATCH_ID,
    PATCH_NAME,
    PHASE,
    POPULATION,
    RANK,
    DeprivationIndex,
    deprivation_index,
)


def summarise_patches(
    areas: pd.DataFrame,
    patch_id: pd.Series,
    *,
    names: pd.Series,
    flags: dict[str, str],
    index: DeprivationIndex | None = None,
) -> pd.DataFrame:
    """One row per patch: name, population, need, captured need, areas, band status and deprivation mix.

    Parameters
    ----------
    areas
        The areas with ``population``, ``need_index``, ``imd_score`` and ``imd_quintile``.
    patch_id
        The patch of every area.
    names
        The name of every patch (:func:`lacgeo.patches.name_patches`).
    flags
        The reason for every patch outside the population band.
    index
        The deprivation index the areas carry (England's IMD by default; for Wales, the
        WIMD's ``wimd_score`` and ``wimd_quintile`` give ``share_wimd_q1``-``q5``).

    Returns
    -------
    DataFrame
        Indexed by ``patch_id``: ``patch_name``, ``population`` (summed), ``need_index``
        and ``imd_score`` (population-weighted), ``excess_need`` (summed: the need the
        patch captures), ``n_areas``, ``share_imd_q1``-``q5`` and ``band_status``.

    Examples
    --------
    >>> areas = pd.DataFrame(
    ...     {"population": [1000, 3000, 2000], "need_index": [1.0, 0.0, -1.0], "imd_score": [40.0, 20.0, 10.0],
    ...      "imd_quintile": [1, 3, 5]}, index=["a", "b", "c"])
    >>> table = summarise_patches(areas, pd.Series(["P1", "P1", "P2"], index=areas.index),
    ...                           names=pd.Series({"P1": "North", "P2": "South"}), flags={"P2": "an island"})
    >>> table[["population", "need_index", "excess_need", "band_status"]].round(3)
              population  need_index  excess_need band_status
    patch_id
    P1              4000        0.25     1666.667     in band
    P2              2000       -1.00    -1666.667   an island
    """
    index = index or deprivation_index()
    frame = areas.assign(**{PATCH_ID: patch_id, EXCESS_NEED: excess_need(areas)})
    pop = frame[POPULATION].astype(float)
    grouped = frame.groupby(PATCH_ID, sort=True)
    patches = pd.DataFrame(
        {
            PATCH_NAME: names,
            POPULATION: grouped[POPULATION].sum().astype("int64"),
            NEED_INDEX: (frame[NEED_INDEX] * pop).groupby(frame[PATCH_ID]).sum() / grouped[POPULATION].sum(),
            EXCESS_NEED: grouped[EXCESS_NEED].sum(),
            index.score: (frame[index.score] * pop).groupby(frame[PATCH_ID]).sum() / grouped[POPULATION].sum(),
            N_AREAS: grouped.size().astype("int64"),
        }
    )
    patches.index.name = PATCH_ID
    mix = frame.pivot_table(
        index=PATCH_ID, columns=index.quintile, values=POPULATION, aggfunc="sum", fill_value=0
    ).reindex(columns=range(1, 6), fill_value=0)
    share = mix.div(mix.sum(axis=1), axis=0)
    for q in range(1, 6):
        patches[index.share(q)] = share[q].reindex(patches.index).fillna(0.0)
    patches[BAND_STATUS] = [flags.get(p, IN_BAND) for p in patches.index]
    return patches


def rank_patches(patches: pd.DataFrame, *, first: Sequence[str] = (), phase: pd.Series | None = None) -> pd.Series:
    """Rank patches by the need they capture, highest first (rank 1).

    Captured need is ``excess_need``: population x need above the LA average, summed
    over the patch. Ties go by patch id.

    Parameters
    ----------
    patches
        One row per patch with ``excess_need``.
    first
        Patch ids that take the top ranks whatever their need (the phase-1 picks), in
        their own order of captured need.
    phase
        The phase of every patch, when the phases were chosen first: ranks follow the
        phases (phase 1 first), by captured need within each, and the patches in post
        (phase 0), which are not ranked for rollout, come last.

    Returns
    -------
    Series
        ``rank`` on ``patches.index``, 1 to the number of patches.

    Examples
    --------
    >>> patches = pd.DataFrame({"excess_need": [5.0, 9.0, -2.0]}, index=["P1", "P2", "P3"])
    >>> rank_patches(patches).tolist(), rank_patches(patches, first=["P3"]).tolist()
    ([2, 1, 3], [3, 2, 1])
    >>> rank_patches(patches, phase=pd.Series([0, 2, 1], index=patches.index)).tolist()
    [3, 2, 1]
    """
    frame = patches.assign(_pid=patches.index, _later=~patches.index.isin(list(first)))
    if phase is not None:
        p = phase.reindex(patches.index)
        frame["_later"] = p.where(p > 0, p.max() + 1)
    order = frame.sort_values(["_later", EXCESS_NEED, "_pid"], ascending=[True, False, True]).index
    return pd.Series(np.arange(1, len(order) + 1), index=order, name=RANK).reindex(patches.index)


def assign_phases(
    rank: pd.Series, *, n: int = DEFAULTS.recommend.n, phase_size: int = DEFAULTS.recommend.phase_size
) -> pd.Series:
    """The phase of every patch: the top ``n`` by rank are phase 1, then ``phase_size`` per phase.

    Examples
    --------
    >>> assign_phases(pd.Series(range(1, 9)), n=3, phase_size=2).tolist()
    [1, 1, 1, 2, 2, 3, 3, 4]
    """
    r = rank.to_numpy()
    phase = np.where(r <= n, 1, 2 + (r - n - 1) // phase_size)
    return pd.Series(phase.astype("int64"), index=rank.index, name=PHASE)


def patch_indicators(
    areas: pd.DataFrame,
    patch_id: pd.Series,
    indicators: pd.DataFrame,
    *,
    counts: dict[str, tuple[pd.Series, pd.Series]] | None = None,
    shares: dict[str, tuple[pd.Series, pd.Series]] | None = None,
) -> pd.DataFrame:
    """Each indicator per patch: summed counts over summed denominators (x 1,000) for
    count-based indicators (``counts``), the same x 100 for Census shares (``shares``: a
    patch's share is never an average of its areas' shares), the population-weighted mean
    for the others."""
    counts, shares = counts or {}, shares or {}
    pop = areas[POPULATION].astype(float)
    out = {}
    for name in indicators.columns:
        if name in shares:
            numerator, denominator = shares[name]
            out[name] = numerator.groupby(patch_id).sum() / denominator.groupby(patch_id).sum() * 100.0
        elif name in counts:
            count, denominator = counts[name]
            keep = count.notna() & denominator.notna()
            out[name] = (
                count.where(keep).groupby(patch_id).sum() / denominator.where(keep).groupby(patch_id).sum() * 1000.0
            )
        else:
            values = indicators[name]
            w = pop.where(values.notna())
            out[name] = (values * w).groupby(patch_id).sum() / w.groupby(patch_id).sum()
    return pd.DataFrame(out).add_prefix("value_")


def patch_profiles(areas: pd.DataFrame, patch_id: pd.Series, profile: pd.Series) -> pd.DataFrame:
    """The need profile holding most of each patch's residents, and its share."""
    frame = pd.DataFrame({"pid": patch_id, "profile": profile, "pop": areas[POPULATION]})
    by = frame.groupby(["pid", "profile"])["pop"].sum().reset_index()
    by["share"] = by["pop"] / by.groupby("pid")["pop"].transform("sum")
    top = by.sort_values(["pid", "pop", "profile"], ascending=[True, False, True]).drop_duplicates("pid")
    return pd.DataFrame(
        {"need_profile": top["profile"].to_numpy(), "need_profile_share": top["share"].to_numpy()},
        index=pd.Index(top["pid"], name=PATCH_ID),
    )

"""Stage 6: summarise patches, rank them by need and recommend phases.

Patch values follow the variable's declared kind (``schema.EXTENSIVE`` are summed,
``schema.INTENSIVE`` are population-weighted). Rank 1 is the highest need.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .schema import (
    BAND_STATUS,
    EXCESS_NEED,
    IMD_QUINTILE,
    IMD_SCORE,
    N_AREAS,
    NEED_INDEX,
    PATCH_ID,
    PATCH_NAME,
    PHASE,
    POPULATION,
    RANK,
)

IN_BAND = "in band"


def excess_need(areas: pd.DataFrame) -> pd.Series:
    """Population x (need index - the area's population-weighted mean need)."""
    pop = areas[POPULATION].astype(float)
    mean = float((areas[NEED_INDEX] * pop).sum() / pop.sum())
    return (pop * (areas[NEED_INDEX] - mean)).rename(EXCESS_NEED)


def summarise_patches(
    areas: pd.DataFrame,
    patch_id: pd.Series,
    *,
    names: pd.Series,
    flags: dict[str, str],
) -> pd.DataFrame:
    """One row per patch: name, population, need, areas, band status and IMD mix."""
    frame = areas.assign(**{PATCH_ID: patch_id, EXCESS_NEED: excess_need(areas)})
    pop = frame[POPULATION].astype(float)
    grouped = frame.groupby(PATCH_ID, sort=True)
    patches = pd.DataFrame(
        {
            PATCH_NAME: names,
            POPULATION: grouped[POPULATION].sum().astype("int64"),
            NEED_INDEX: (frame[NEED_INDEX] * pop).groupby(frame[PATCH_ID]).sum() / grouped[POPULATION].sum(),
            EXCESS_NEED: grouped[EXCESS_NEED].sum(),
            IMD_SCORE: (frame[IMD_SCORE] * pop).groupby(frame[PATCH_ID]).sum() / grouped[POPULATION].sum(),
            N_AREAS: grouped.size().astype("int64"),
        }
    )
    patches.index.name = PATCH_ID
    mix = frame.pivot_table(
        index=PATCH_ID, columns=IMD_QUINTILE, values=POPULATION, aggfunc="sum", fill_value=0
    ).reindex(columns=range(1, 6), fill_value=0)
    share = mix.div(mix.sum(axis=1), axis=0)
    for q in range(1, 6):
        patches[f"share_imd_q{q}"] = share[q].reindex(patches.index).fillna(0.0)
    patches[BAND_STATUS] = [flags.get(p, IN_BAND) for p in patches.index]
    return patches


def rank_patches(patches: pd.DataFrame) -> pd.Series:
    """Rank by population-weighted need index, highest first; ties by patch id."""
    order = patches.assign(_pid=patches.index).sort_values([NEED_INDEX, "_pid"], ascending=[False, True]).index
    return pd.Series(np.arange(1, len(order) + 1), index=order, name=RANK).reindex(patches.index)


def assign_phases(rank: pd.Series, *, n: int = 3, phase_size: int = 6) -> pd.Series:
    """Phase 1 is the top ``n`` patches by rank; then ``phase_size`` patches per phase."""
    r = rank.to_numpy()
    phase = np.where(r <= n, 1, 2 + (r - n - 1) // phase_size)
    return pd.Series(phase.astype("int64"), index=rank.index, name=PHASE)

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
    IMD_QUINTILE,
    IMD_SCORE,
    IN_BAND,
    N_AREAS,
    NEED_INDEX,
    PATCH_ID,
    PATCH_NAME,
    PHASE,
    POPULATION,
    RANK,
)


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


def rank_patches(patches: pd.DataFrame, *, first: Sequence[str] = ()) -> pd.Series:
    """Rank by captured need (``excess_need``: population x need above the LA average),
    highest first; ties by patch id. Patches in ``first`` (the phase-1 picks) take the
    top ranks, in their own order of captured need."""
    frame = patches.assign(_pid=patches.index, _later=~patches.index.isin(list(first)))
    order = frame.sort_values(["_later", EXCESS_NEED, "_pid"], ascending=[True, False, True]).index
    return pd.Series(np.arange(1, len(order) + 1), index=order, name=RANK).reindex(patches.index)


def assign_phases(
    rank: pd.Series, *, n: int = DEFAULTS.recommend.n, phase_size: int = DEFAULTS.recommend.phase_size
) -> pd.Series:
    """Phase 1 is the top ``n`` patches by rank; then ``phase_size`` patches per phase."""
    r = rank.to_numpy()
    phase = np.where(r <= n, 1, 2 + (r - n - 1) // phase_size)
    return pd.Series(phase.astype("int64"), index=rank.index, name=PHASE)


def patch_indicators(
    areas: pd.DataFrame,
    patch_id: pd.Series,
    indicators: pd.DataFrame,
    *,
    counts: dict[str, tuple[pd.Series, pd.Series]] | None = None,
) -> pd.DataFrame:
    """Each indicator per patch: summed counts over summed denominators (x 1,000) for
    count-based indicators, the population-weighted mean for the others."""
    counts = counts or {}
    pop = areas[POPULATION].astype(float)
    out = {}
    for name in indicators.columns:
        if name in counts:
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

"""Stage 7b: the rollout plan by phase, its yearly cost, and what a budget pays for."""

from __future__ import annotations

import pandas as pd

from ..schema import NEED_INDEX, PATCH_NAME, PHASE, POPULATION, RANK


def rollout_plan(patches: pd.DataFrame, *, cost_per_coordinator: float) -> pd.DataFrame:
    """One row per phase: patches, people covered, need and the yearly cost of its coordinators.

    One coordinator per patch. ``cost_per_coordinator`` is a yearly figure including
    on-costs and a share of management (an assumption the analyst sets).

    Parameters
    ----------
    patches
        One row per patch with ``patch_name``, ``population``, ``need_index``, ``rank`` and ``phase``.
    cost_per_coordinator
        Yearly cost of one coordinator, in pounds.

    Returns
    -------
    DataFrame
        One row per phase: ``n_patches``, ``patch_ids``, ``patch_names``, ``population``,
        ``need_index`` (population-weighted), ``annual_cost``, and the running totals
        ``coordinators_to_date``, ``annual_cost_to_date`` and ``population_share_to_date``.

    Examples
    --------
    >>> patches = pd.DataFrame({"patch_name": ["North", "South", "East"], "population": [10_000, 9_000, 11_000],
    ...                         "need_index": [1.0, 0.5, -0.5], "rank": [1, 2, 3], "phase": [1, 1, 2]},
    ...                        index=["P1", "P2", "P3"])
    >>> rollout_plan(patches, cost_per_coordinator=50_000)[["phase", "n_patches", "annual_cost_to_date"]]
       phase  n_patches  annual_cost_to_date
    0      1          2             100000.0
    1      2          1             150000.0
    """
    frame = patches.sort_values(RANK)
    pop = frame[POPULATION].astype(float)
    rows = []
    for phase, grp in frame.groupby(PHASE, sort=True):
        p = pop[grp.index]
        rows.append(
            {
                PHASE: int(phase),
                "n_patches": len(grp),
                "patch_ids": ", ".join(grp.index),
                "patch_names": "; ".join(grp[PATCH_NAME]),
                POPULATION: int(p.sum()),
                NEED_INDEX: float((grp[NEED_INDEX] * p).sum() / p.sum()),
                "annual_cost": float(len(grp) * cost_per_coordinator),
            }
        )
    plan = pd.DataFrame(rows)
    plan["coordinators_to_date"] = plan["n_patches"].cumsum()
    plan["annual_cost_to_date"] = plan["annual_cost"].cumsum()
    plan["population_share_to_date"] = plan[POPULATION].cumsum() / pop.sum()
    return plan


def affordable_patches(patches: pd.DataFrame, *, budget: float, cost_per_coordinator: float) -> pd.DataFrame:
    """The patches a yearly ``budget`` pays coordinators for, in rank order (phase 1 first)."""
    n = int(budget // cost_per_coordinator) if cost_per_coordinator > 0 else 0
    return patches.sort_values([PHASE, RANK]).head(n)

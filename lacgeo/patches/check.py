"""The feasibility check that runs after every patch build.

It proves the three promises of a partition: every area is in exactly one patch,
every patch is contiguous (through shared boundaries, or a declared island bridge
only), and every patch is inside the population band unless it carries a reason.
A violation raises :class:`PatchingError`; bad patches are never written.
"""

from __future__ import annotations

import pandas as pd

from ..errors import PatchingError
from .graph import AreaGraph
from .partition import Band


def check_patches(
    patch_id: pd.Series,
    population: pd.Series,
    graph: AreaGraph,
    *,
    band: Band,
    flags: dict[str, str],
) -> None:
    """Raise :class:`PatchingError` listing every broken invariant.

    Contiguity is checked for every patch at once, through :meth:`AreaGraph.components`
    restricted to edges inside a patch (scipy, independent of the compiled search that
    built the patches), so the check costs O(areas + edges) whatever the number of patches.
    """
    problems: list[str] = []
    if not patch_id.index.equals(graph.codes):
        problems.append("the patch assignment is not indexed by the graph's area codes")
    missing = patch_id.index[patch_id.isna()]
    if len(missing):
        problems.append(f"{len(missing)} areas are in no patch ({', '.join(missing[:5])})")
    if patch_id.index.duplicated().any():
        problems.append("some areas are assigned more than once")
    labels = patch_id.to_numpy()
    assigned = patch_id.notna().to_numpy()
    frame = pd.DataFrame(
        {"patch": labels, "piece": graph.components(labels), "people": population.to_numpy(dtype=float)}
    )[assigned]
    by_patch = frame.groupby("patch", sort=True)
    pieces, people = by_patch["piece"].nunique(), by_patch["people"].sum()
    for pid in pieces.index:
        if pieces[pid] > 1:
            problems.append(f"patch {pid} is not contiguous")
        pop = float(people[pid])
        if not band.contains(pop) and pid not in flags:
            problems.append(
                f"patch {pid} holds {pop:,.0f} people, outside {band.lo:,.0f}-{band.hi:,.0f}, with no reason given"
            )
    if problems:
        raise PatchingError("patch feasibility check failed: " + "; ".join(problems))

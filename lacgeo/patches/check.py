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
    pieces_ok: set[str] | frozenset[str] = frozenset(),
) -> None:
    """Prove a partition: raise :class:`PatchingError` listing every broken invariant.

    Parameters
    ----------
    patch_id
        The patch of every area, indexed like ``graph.codes``.
    population
        Residents per area, in the same order.
    graph
        The contiguity graph the patches were built on (bridges count as adjacency).
    band
        The population band every patch must be in.
    flags
        Patches allowed outside the band, each with its reason.
    pieces_ok
        Flagged patches kept as given that may be in pieces (a coordinator's area in post).

    Examples
    --------
    >>> import numpy as np
    >>> from lacgeo.patches.graph import AreaGraph
    >>> graph = AreaGraph(pd.Index(["a", "b", "c"]), np.array([[0, 1], [1, 2]]), frozenset())
    >>> people = pd.Series([5_000, 5_000, 9_000], index=graph.codes)
    >>> check_patches(pd.Series(["P1", "P1", "P2"], index=graph.codes), people, graph, band=Band(10_000, 0.2), flags={})
    >>> check_patches(pd.Series(["P1", "P2", "P1"], index=graph.codes), people, graph, band=Band(10_000, 0.2), flags={})
    Traceback (most recent call last):
    lacgeo.errors.PatchingError: patch feasibility check failed: patch P1 is not contiguous; patch P1 holds 14,000 ...

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
        if pieces[pid] > 1 and not (pid in pieces_ok and pid in flags):
            problems.append(f"patch {pid} is not contiguous")
        pop = float(people[pid])
        if not band.contains(pop) and pid not in flags:
            problems.append(
                f"patch {pid} holds {pop:,.0f} people, outside {band.lo:,.0f}-{band.hi:,.0f}, with no reason given"
            )
    if problems:
        raise PatchingError("patch feasibility check failed: " + "; ".join(problems))

"""The contiguity graph of small areas, with an explicit policy for detached parts.

Queen adjacency comes from shapely's spatial index on the shipped topology-preserving
coverage, so two areas are neighbours exactly when their boundaries share a point. Islands (a
component not connected to the rest, such as an offshore LSOA) are handled by the
configured policy: ``link_nearest`` adds a declared *bridge* to the nearest area and
warns, ``separate`` keeps the component on its own, ``error`` stops the run.
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from ..config import DEFAULTS, IslandPolicy
from ..errors import IslandWarning, PatchingError
from ..schema import POPULATION

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AreaGraph:
    """Adjacency between areas, by position in ``codes``: the one graph every stage uses.

    ``edges`` holds each undirected pair once (i < j), sorted; ``bridges`` are the
    links added by the island policy, the only non-touching pairs treated as adjacent.
    Everything else is derived from ``edges`` once and cached: :attr:`adjacency` (a
    symmetric sparse matrix), :meth:`neighbours` (per-area tuples, for set-based
    searches) and :meth:`components`.

    >>> graph = AreaGraph(pd.Index(["a", "b", "c", "d"]), np.array([[0, 1], [2, 3]]), frozenset())
    >>> graph.neighbours()
    ((1,), (0,), (3,), (2,))
    >>> graph.components().tolist(), graph.components(np.array(["P1", "P2", "P2", "P2"])).tolist()
    ([0, 0, 1, 1], [0, 1, 2, 2])
    """

    codes: pd.Index
    edges: np.ndarray  # (m, 2) int
    bridges: frozenset[tuple[int, int]]

    def __post_init__(self):
        # one layout everywhere, so the compiled partitioning takes the edges as they are
        object.__setattr__(self, "edges", np.ascontiguousarray(self.edges, dtype=np.int64).reshape(-1, 2))

    @property
    def n(self) -> int:
        return len(self.codes)

    @functools.cached_property
    def adjacency(self) -> sparse.csr_array:
        """The symmetric adjacency matrix (CSR, sorted indices): area ``i``'s neighbours are row ``i``."""
        return symmetric_adjacency(self.edges, self.n)

    @functools.cached_property
    def _neighbours(self) -> tuple[tuple[int, ...], ...]:
        indptr, indices = self.adjacency.indptr.tolist(), self.adjacency.indices.tolist()
        return tuple(tuple(indices[a:b]) for a, b in zip(indptr[:-1], indptr[1:], strict=True))

    def neighbours(self) -> tuple[tuple[int, ...], ...]:
        """Sorted neighbour positions of every area, as plain ints (fast to walk in Python)."""
        return self._neighbours

    def subgraph(self, keep: np.ndarray) -> AreaGraph:
        """The graph restricted to the areas where ``keep`` is true (positions renumbered)."""
        keep = np.asarray(keep, dtype=bool)
        new_pos = np.cumsum(keep) - 1
        inside = keep[self.edges[:, 0]] & keep[self.edges[:, 1]]
        edges = new_pos[self.edges[inside]]
        bridges = frozenset((int(new_pos[a]), int(new_pos[b])) for a, b in self.bridges if keep[a] and keep[b])
        return AreaGraph(self.codes[keep], edges.astype(np.int64), bridges)

    def components(self, labels: np.ndarray | None = None) -> np.ndarray:
        """Connected component of every area, numbered in order of each component's first area.

        With ``labels`` (one per area, e.g. patch ids), only edges between areas with
        the same label count: a patch is contiguous exactly when its areas share one
        component, so every patch of a partition is checked in one pass.
        """
        if labels is None:
            return self._components
        labels = np.asarray(labels)
        same = labels[self.edges[:, 0]] == labels[self.edges[:, 1]]
        return _components(symmetric_adjacency(self.edges[same], self.n))

    @functools.cached_property
    def _components(self) -> np.ndarray:
        """The graph's own components, found once (the island policy, the partition and the
        benchmarks all ask), and read-only so no caller can change them for the others."""
        out = _components(self.adjacency)
        out.flags.writeable = False
        return out


def _components(adjacency: sparse.csr_array) -> np.ndarray:
    return csgraph.connected_components(adjacency, directed=False)[1].astype(np.int64)


def symmetric_adjacency(edges: np.ndarray, n: int) -> sparse.csr_array:
    """The ``n x n`` adjacency matrix of undirected ``edges`` (each pair once), indices sorted."""
    both = np.vstack([edges, edges[:, ::-1]])
    data = np.ones(len(both), dtype=np.int8)
    matrix = sparse.csr_array((data, (both[:, 0], both[:, 1])), shape=(n, n))
    matrix.sort_indices()
    return matrix


def reach(start: int, nodes: set[int], nbrs: Sequence[Sequence[int]]) -> set[int]:
    """The members of ``nodes`` connected to ``start`` through ``nodes`` (``nbrs`` from :meth:`AreaGraph.neighbours`).

    For the small, changing sets of phase-1 selection, where walking Python sets beats
    building a matrix; whole partitions use :meth:`AreaGraph.components`.
    """
    seen = {start}
    stack = [start]
    while stack:
        v = stack.pop()
        for u in nbrs[v]:
            if u in nodes and u not in seen:
                seen.add(u)
                stack.append(u)
    return seen


def is_connected(nodes: set[int], nbrs: Sequence[Sequence[int]]) -> bool:
    """Whether ``nodes`` form one connected set in the graph given by ``nbrs``."""
    return len(nodes) <= 1 or len(reach(next(iter(nodes)), nodes, nbrs)) == len(nodes)


def _queen_edges(areas: gpd.GeoDataFrame) -> np.ndarray:
    """Pairs of areas (i < j, sorted) whose boundaries share at least a point: queen contiguity.

    On the shipped coverage (shared edges identical in both neighbours) this is exactly
    libpysal's vertex-based queen graph: the two gave the same edges for every English LA in
    both vintages, and shapely's spatial index takes a fifth of the time and spares every
    run libpysal's import.
    """
    geoms = areas.geometry.to_numpy()
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = i < j
    edges = np.column_stack([i[keep], j[keep]]).astype(np.int64)
    return edges[np.lexsort((edges[:, 1], edges[:, 0]))]


def build_area_graph(
    areas: gpd.GeoDataFrame,
    *,
    islands: str = DEFAULTS.patches.islands,
) -> AreaGraph:
    """Queen contiguity graph of ``areas`` with the island policy applied.

    Parameters
    ----------
    areas
        Small areas indexed by code, in a projected CRS (metres), with a
        ``population`` column.
    islands
        ``"link_nearest"``: join each detached component to the nearest area outside
        it (warning naming both). ``"separate"``: leave components apart; each is
        partitioned on its own. ``"error"``: raise :class:`PatchingError`.

    Returns
    -------
    AreaGraph
        Positions follow ``areas.index``; ``bridges`` lists the links the island policy added.

    Examples
    --------
    >>> import lacgeo
    >>> graph = build_area_graph(lacgeo.read_areas("E06000017"))
    >>> graph.n, len(graph.edges) > graph.n, int(graph.components().max()) + 1
    (26, True, 1)
    """
    if islands not in get_args(IslandPolicy):
        raise PatchingError(f"unknown island policy {islands!r}; use link_nearest, separate or error")
    edges = _queen_edges(areas)
    graph = AreaGraph(areas.index, edges, frozenset())
    labels = graph.components()
    n_comp = int(labels.max()) + 1 if len(labels) else 0
    if n_comp <= 1 or islands == "separate":
        if n_comp > 1:
            log.info('%d detached parts kept separate (islands = "separate")', n_comp - 1)
        return graph

    sizes = pd.Series(areas[POPULATION].to_numpy()).groupby(labels).sum()
    main = int(sizes.idxmax())
    detached = [c for c in range(n_comp) if c != main]
    if islands == "error":
        codes = [", ".join(areas.index[labels == c][:5]) for c in detached]
        raise PatchingError(
            f"{len(detached)} detached part(s) not connected to the rest of the area: "
            + "; ".join(codes)
            + '; set patches.islands = "link_nearest" or "separate"'
        )

    geoms = areas.geometry.to_numpy()
    bridges: set[tuple[int, int]] = set()
    new_edges = []
    joined = labels == main
    # Link components in order of distance to the growing main part, deterministic.
    remaining = set(detached)
    while remaining:
        tree = shapely.STRtree(geoms[joined])
        inside = np.flatnonzero(joined)
        best = None
        for c in sorted(remaining):
            members = np.flatnonzero(labels == c)
            nearest = tree.query_nearest(geoms[members], return_distance=True, all_matches=False)
            (src, dst), dist = nearest
            k = int(np.lexsort((inside[dst], members[src], dist))[0])
            cand = (float(dist[k]), c, int(members[src[k]]), int(inside[dst[k]]))
            if best is None or cand < best:
                best = cand
        dist, c, a, b = best
        pair = (min(a, b), max(a, b))
        bridges.add(pair)
        new_edges.append(pair)
        warnings.warn(
            f"{areas.index[a]} is detached from the rest of the area; linked to its nearest "
            f"area {areas.index[b]} ({dist:,.0f} m away) so it can join a patch "
            '(set patches.islands to "separate" or "error" to change this)',
            IslandWarning,
            stacklevel=2,
        )
        joined |= labels == c
        remaining.remove(c)

    all_edges = np.vstack([edges, np.array(new_edges, dtype=np.int64)])
    order = np.lexsort((all_edges[:, 1], all_edges[:, 0]))
    return AreaGraph(areas.index, all_edges[order], frozenset(bridges))

"""Partition areas into contiguous patches of about the target population.

The method, per connected piece of the area graph (or per nesting unit):

1. Choose the number of patches ``k`` whose mean population is closest to the
   target while inside the band.
2. Start from a balanced, contiguous METIS partition (``pymetis``) of the graph
   weighted by population, whose edge weights favour cutting short boundaries
   between areas of different need.
3. Improve it by local search: move single boundary areas between neighbouring
   patches, never breaking contiguity, first to bring every patch into the band,
   then to lower a cost that adds the within-patch spread of need (homogeneity)
   to the population-weighted spatial spread (compactness).
4. Repeat from ``n_starts`` METIS seeds drawn from the run's seed; keep the best.

A piece whose population cannot be split into in-band patches (a small island, a
nesting unit below the band) becomes one flagged patch with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pymetis

from ..errors import PatchingError
from .graph import AreaGraph
from .search import PatchSearch, is_connected, reach


@dataclass(frozen=True)
class Band:
    target: int
    band: float

    @property
    def lo(self) -> float:
        return self.target * (1 - self.band)

    @property
    def hi(self) -> float:
        return self.target * (1 + self.band)

    def penalty(self, pop: float) -> float:
        return max(0.0, self.lo - pop) + max(0.0, pop - self.hi)

    def contains(self, pop: float) -> bool:
        return self.lo <= pop <= self.hi

    def n_patches(self, total: float) -> tuple[int, bool]:
        """Patches to cut ``total`` people into, and whether the band is reachable."""
        k_min = max(1, math.ceil(total / self.hi))
        k_max = math.floor(total / self.lo)
        if k_min <= k_max:
            feasible = range(k_min, k_max + 1)
            return min(feasible, key=lambda k: (abs(total / k - self.target), k)), True
        return max(1, round(total / self.target)), False


@dataclass
class _Piece:
    """A connected set of areas partitioned on its own (positions into the full arrays)."""

    members: np.ndarray
    reason: str  # why this piece stands alone ("" for an ordinary component)


def _local_neighbours(members: np.ndarray, nbrs: list[np.ndarray]) -> list[np.ndarray]:
    pos = {int(m): i for i, m in enumerate(members)}
    return [np.array([pos[int(j)] for j in nbrs[int(m)] if int(j) in pos], dtype=np.int64) for m in members]


def _metis(
    local_nbrs: list[np.ndarray], weights: dict[tuple[int, int], int], pop: np.ndarray, k: int, seed: int
) -> np.ndarray:
    starts = [0]
    adjacent: list[int] = []
    eweights: list[int] = []
    for i, nb in enumerate(local_nbrs):
        for j in nb:
            adjacent.append(int(j))
            eweights.append(weights[(min(i, int(j)), max(i, int(j)))])
        starts.append(len(adjacent))
    options = pymetis.Options(seed=int(seed), ufactor=50, contig=1, ncuts=1)
    vweights = np.maximum(np.round(pop), 1).astype(np.int64).tolist()
    _, parts = pymetis.part_graph(
        k, pymetis.CSRAdjacency(starts, adjacent), vweights=vweights, eweights=eweights, options=options
    )
    return np.asarray(parts, dtype=np.int64)


def _make_contiguous(labels: np.ndarray, nbrs: list[np.ndarray], pop: np.ndarray) -> np.ndarray:
    """Give every detached fragment of a patch to the neighbouring patch it touches most."""
    labels = _relabel(labels)
    while True:
        changed = False
        for p in range(labels.max() + 1):
            nodes = set(np.flatnonzero(labels == p).tolist())
            if is_connected(nodes, nbrs):
                continue
            chunks = []
            todo = set(nodes)
            while todo:
                seen = reach(min(todo), todo, nbrs)
                chunks.append(sorted(seen))
                todo -= seen
            chunks.sort(key=lambda c: (-pop[c].sum(), c[0]))
            for chunk in chunks[1:]:
                touching = [int(labels[u]) for v in chunk for u in nbrs[v] if labels[u] != p]
                if touching:
                    new = max(set(touching), key=lambda q: (touching.count(q), -q))
                    labels[chunk] = new
                    changed = True
        if not changed:
            return _relabel(labels)


def _relabel(labels: np.ndarray) -> np.ndarray:
    """Number patches 0..k-1 in order of their first area."""
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first)
    mapping = {int(labels[first[o]]): new for new, o in enumerate(order)}
    return np.array([mapping[int(v)] for v in labels], dtype=np.int64)


def _partition_piece(
    pop: np.ndarray,
    feats: np.ndarray,
    nbrs: list[np.ndarray],
    edge_weights: dict[tuple[int, int], int],
    k: int,
    band: Band,
    rng: np.random.Generator,
    n_starts: int,
    *,
    plain_weights: dict[tuple[int, int], int] | None = None,
) -> np.ndarray:
    """Best of ``n_starts`` METIS starts refined by local search.

    If none of them reaches the band, as many again are tried with need left out of
    the start and the search (shape only), which frees the band repair; every
    candidate is still scored with the full features, band first.
    """
    n = len(pop)
    if k <= 1 or n <= 1:
        return np.zeros(n, dtype=np.int64)
    k = min(k, n)
    best_labels, best_score = None, None
    shape_only = feats.copy()
    shape_only[:, 0] = 0.0
    rounds = [(edge_weights, feats)]
    if plain_weights is not None:
        rounds.append((plain_weights, shape_only))
    for weights, search_feats in rounds:
        if best_score is not None and best_score[0] == 0:
            break
        for s in rng.integers(0, 2**31 - 1, size=n_starts):
            labels = _make_contiguous(_metis(nbrs, weights, pop, k, int(s)), nbrs, pop)
            search = PatchSearch(labels, nbrs, pop, search_feats, band.lo, band.hi)
            search.improve(rng)
            if search.total()[0] > 0:
                search.repair_band()
                search.improve(rng)
            labels = _relabel(np.asarray(search.labels, dtype=np.int64))
            pen, cost = PatchSearch(labels, nbrs, pop, feats, band.lo, band.hi).total()
            score = (round(pen, 6), round(cost, 9))
            if best_score is None or score < best_score:
                best_labels, best_score = labels, score
    return best_labels


def partition_areas(
    graph: AreaGraph,
    population: np.ndarray,
    need: np.ndarray,
    xy: np.ndarray,
    *,
    groups: np.ndarray | None = None,
    group_label: str = "boundary unit",
    target: int = 10_000,
    band: float = 0.2,
    n_starts: int = 4,
    need_weight: float = 5.0,
    seed: int = 0,
) -> tuple[np.ndarray, dict[int, str]]:
    """Assign every area to a patch.

    Parameters
    ----------
    graph
        Contiguity between the areas (positions match the arrays below).
    population, need, xy
        Population, standardised need and centroid coordinates (metres) per area.
    groups
        Optional nesting unit per area; patches never cross units.
    target, band
        Patches aim for ``target`` people, inside ``target x (1 +/- band)``.

    Returns
    -------
    labels, flags
        Patch number per area (0..k-1) and, for each patch that cannot be inside the
        band, the reason.
    """
    n = graph.n
    if not (len(population) == len(need) == len(xy) == n):
        raise PatchingError("population, need and coordinates must have one value per area")
    if n == 0:
        raise PatchingError("no areas to partition")
    pop = np.asarray(population, dtype=float)
    if (pop < 0).any() or not np.isfinite(pop).all():
        raise PatchingError("population must be a finite number of people, 0 or more, in every area")
    bands = Band(target, band)
    rng = np.random.default_rng(seed)
    all_nbrs = graph.neighbours()

    # Restrict edges to the nesting unit, then split into connected pieces.
    if groups is not None:
        groups = np.asarray(groups)
        nbrs = [nb[groups[nb] == groups[i]] for i, nb in enumerate(all_nbrs)]
        within = groups[graph.edges[:, 0]] == groups[graph.edges[:, 1]]
        sub = AreaGraph(graph.codes, graph.edges[within], graph.shared_length[within], graph.bridges)
    else:
        nbrs = all_nbrs
        sub = graph
    comp = sub.components()
    pieces = []
    for c in range(int(comp.max()) + 1):
        members = np.flatnonzero(comp == c)
        if groups is not None:
            reason = f"{group_label} {groups[members[0]]}"
        elif comp.max() > 0:
            reason = "detached part"
        else:
            reason = ""
        pieces.append(_Piece(members, reason))

    # Features: standardised need (scaled by need_weight) and position in units of a
    # typical patch radius, so homogeneity and compactness are comparable.
    need = np.asarray(need, dtype=float)
    sd = need.std()
    z = (need - need.mean()) / sd if sd > 0 else np.zeros(n)
    hull_area = max(float(np.ptp(xy[:, 0]) * np.ptp(xy[:, 1])), 1.0)
    n_total = max(1, round(pop.sum() / target))
    radius = math.sqrt(hull_area / n_total / math.pi)
    feats = np.column_stack([math.sqrt(need_weight) * z, (xy - xy.mean(axis=0)) / radius])

    lengths = {(int(i), int(j)): float(w) for (i, j), w in zip(graph.edges, graph.shared_length, strict=True)}
    labels = np.full(n, -1, dtype=np.int64)
    flags: dict[int, str] = {}
    next_id = 0
    for piece in pieces:
        m = piece.members
        total = float(pop[m].sum())
        k, feasible = bands.n_patches(total)
        local = _local_neighbours(m, nbrs)
        weights, plain = {}, {}
        for i, nb in enumerate(local):
            for j in nb:
                a, b = min(i, int(j)), max(i, int(j))
                if (a, b) not in weights:
                    gi, gj = int(m[a]), int(m[b])
                    length = lengths.get((min(gi, gj), max(gi, gj)), 0.0)
                    similarity = 1.0 / (1.0 + need_weight * abs(z[gi] - z[gj]))
                    weights[(a, b)] = 1 + int(round(length * similarity / 10.0))
                    plain[(a, b)] = 1 + int(round(length / 10.0))
        part = _partition_piece(pop[m], feats[m], local, weights, k, bands, rng, n_starts, plain_weights=plain)
        for p in range(int(part.max()) + 1):
            idx = m[part == p]
            labels[idx] = next_id
            p_pop = float(pop[idx].sum())
            if not bands.contains(p_pop):
                where = f"{piece.reason} " if piece.reason else ""
                if len(idx) == 1 and p_pop > bands.hi:
                    flags[next_id] = f"a single LSOA holding {p_pop:,.0f} people, more than the band's {bands.hi:,.0f}"
                elif not feasible and k == 1:
                    flags[next_id] = (
                        f"{where}holds {p_pop:,.0f} people, which cannot make a patch of "
                        f"{bands.lo:,.0f}-{bands.hi:,.0f}"
                    ).strip()
                elif not feasible:
                    flags[next_id] = (
                        f"{where}holds {total:,.0f} people, which cannot be split into "
                        f"patches of {bands.lo:,.0f}-{bands.hi:,.0f}"
                    ).strip()
                else:
                    flags[next_id] = (
                        f"no contiguous split of {where or 'the area '}into {k} in-band patches was found; "
                        f"this patch holds {p_pop:,.0f}"
                    )
            next_id += 1
    return labels, flags

"""Partition areas into contiguous patches of about the target population.

The method, per connected piece of the area graph (or per nesting unit):

1. Choose the number of patches ``k`` whose mean population is closest to the
   target while inside the band.
2. Grow ``k`` patches from k-means++ seeds on position: the patch with the fewest
   people repeatedly takes the neighbouring area that least raises its spread of
   need and position, so patches are contiguous, compact and alike in need from the
   start; patches boxed in below the band are merged away and the largest split.
3. Refine by local search: single boundary areas move between neighbouring patches
   without breaking contiguity; ejection chains bring every patch into the band;
   pairs of neighbouring patches are regrown as two when that lowers the cost (the
   within-patch spread of need weighted by population, plus the spatial spread
   weighted by a blend of population and land area, ``land_weight``). Each refinement
   opens with a soft phase, single moves and one sweep of pair regrowth with the band
   priced per person outside it rather than enforced; the ejection chains then bring
   the band back (strategic oscillation).
4. Further rounds (``n_starts`` in all) kick the best partition so far: a random
   patch and two of its neighbours are regrown, then refined again (iterated local
   search).
   The rounds are shared between two independent chains, each from its own grown
   start, run one after the other; the best partition, band first, is kept.

Steps 2-4 run in :mod:`._search`, compiled when lacgeo was built with a C compiler and
interpreted otherwise (see :func:`search_module`); this module prepares the arrays
(checks, position weights, features; the neighbour lists and connected pieces come from
the graph's scipy adjacency), splits the graph into pieces and explains every patch
that cannot be in the band.
A piece whose population cannot be split into in-band patches (a small island, a
nesting unit below the band) becomes one flagged patch with the reason.
"""

from __future__ import annotations

import importlib.util
import math
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from ..config import DEFAULTS
from ..errors import PatchingError
from .exact import exact_split
from .graph import AreaGraph, symmetric_adjacency

EXACT_MAX_AREAS = 80
"""A piece the search could not cut into in-band patches is checked exactly (a split found,
or proof that none exists) when it has at most this many areas."""


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

    def contains(self, pop: float) -> bool:
        return self.lo <= pop <= self.hi

    def counts(self, total: float) -> list[int]:
        """Every number of in-band patches ``total`` people could make, best first (mean
        nearest the target, then fewer)."""
        k_min, k_max = max(1, math.ceil(total / self.hi)), math.floor(total / self.lo)
        return sorted(range(k_min, k_max + 1), key=lambda k: (abs(total / k - self.target), k))

    def n_patches(self, total: float) -> tuple[int, bool]:
        """Patches to cut ``total`` people into, and whether the band is reachable."""
        k_min = max(1, math.ceil(total / self.hi))
        k_max = math.floor(total / self.lo)
        if k_min <= k_max:
            feasible = range(k_min, k_max + 1)
            return min(feasible, key=lambda k: (abs(total / k - self.target), k)), True
        return max(1, round(total / self.target)), False


_INVALID = {
    "population": "population must be a finite number of people, 0 or more, in every area",
    "need": "need must be a finite number for every area (none missing)",
    "xy": "coordinates must be finite numbers for every area (none missing)",
    "area": "area must give a finite land area, 0 or more, for every area (not all 0)",
}


def _total(values: np.ndarray) -> float:
    """The sum of ``values`` added in order, one by one (numpy's ``sum`` adds pairwise, whose last bits
    differ); the search's inputs, and so its patches, depend on these bits."""
    return float(np.cumsum(values)[-1]) if len(values) else 0.0


def _invalid(pop: np.ndarray, need: np.ndarray, xy: np.ndarray, area: np.ndarray | None) -> str:
    """The first input the search cannot use (a key of ``_INVALID``), or ``""``."""
    if not (np.isfinite(pop).all() and (pop >= 0).all()):
        return "population"
    if not np.isfinite(need).all():
        return "need"
    if not np.isfinite(xy).all():
        return "xy"
    if area is not None and not (np.isfinite(area).all() and (area >= 0).all() and _total(area) > 0):
        return "area"
    return ""


def _position_weight(pop: np.ndarray, area: np.ndarray | None, land_weight: float) -> np.ndarray:
    """Each area's weight in the spread of position: ``(1 - land_weight) x population +
    land_weight x land``, with land scaled to the population's total so need and position
    stay balanced (population alone without ``area``)."""
    if area is None or land_weight == 0:
        return pop
    scale = land_weight * _total(pop) / _total(area)
    return (1 - land_weight) * pop + scale * area


def _features(need: np.ndarray, xy: np.ndarray, need_weight: float, n_patches: float) -> np.ndarray:
    """The ``(n, 3)`` features the search compares: need, centred and scaled to variance
    ``need_weight`` (0 when need does not vary), and position (metres), centred and in
    units of a typical patch radius: that of a circle holding one ``n_patches``-th of the
    bounding box. So homogeneity and compactness weigh alike whatever the LA's size."""
    n = len(need)
    centred = need - _total(need) / n
    ss = _total(centred * centred)
    scale = math.sqrt(need_weight / (ss / n)) if ss > 0 else 0.0
    x, y = xy[:, 0], xy[:, 1]
    box = (float(x.max()) - float(x.min())) * (float(y.max()) - float(y.min()))
    radius = math.sqrt(max(box, 1.0) / n_patches / math.pi)
    feats = np.empty((n, 3))
    feats[:, 0] = centred * scale
    feats[:, 1] = (x - _total(x) / n) / radius
    feats[:, 2] = (y - _total(y) / n) / radius
    return feats


@cache
def _interpreted_search() -> ModuleType:
    """``_search.py`` run by Python, even where a compiled ``_search`` sits beside it."""
    spec = importlib.util.spec_from_file_location(
        f"{__package__}._search_interpreted", Path(__file__).with_name("_search.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def search_module(interpreted: bool | None = None) -> ModuleType:
    """The patch search: compiled if lacgeo was built with a C compiler, else the same
    source run by Python (same patches, about 30-40 times slower). ``interpreted=True``, or
    the environment variable ``LACGEO_INTERPRETED=1``, asks for Python even where the
    compiled module exists (to compare the two).

    >>> search_module(interpreted=True).__file__.endswith("_search.py")
    True
    """
    if interpreted is None:
        interpreted = os.environ.get("LACGEO_INTERPRETED", "") not in ("", "0")
    from . import _search

    if interpreted and not _search.__file__.endswith(".py"):
        return _interpreted_search()
    return _search


def search_is_compiled() -> bool:
    """Whether runs use the compiled patch search (see :func:`search_module`)."""
    return not search_module().__file__.endswith(".py")


def _csr(adjacency: sparse.csr_array) -> tuple[np.ndarray, np.ndarray]:
    """The neighbour lists the search reads: int64 ``indptr`` and sorted ``indices``."""
    adjacency.sort_indices()
    return adjacency.indptr.astype(np.int64), adjacency.indices.astype(np.int64)


def _partition_piece(
    indptr: np.ndarray,
    indices: np.ndarray,
    pop: np.ndarray,
    aw: np.ndarray,
    feats: np.ndarray,
    k: int,
    band: Band,
    n_starts: int,
    seed: int,
) -> tuple[np.ndarray, bool]:
    """Labels 0..k-1 for one connected piece (``1 <= k <= len(pop)``; numbered in order of
    first area), and whether every patch is inside the band (then none is empty).

    If no round reaches the band, the search runs again with need left out of the
    growth and the moves (shape only), which frees the band repair; the better of the
    two, band first and scored with need, is kept.
    """
    if k == 1:
        return np.zeros(len(pop), dtype=np.int64), band.contains(float(pop.sum()))
    search = search_module()
    labels, pen, cost = search.partition(
        indptr, indices, pop, feats, k, band.lo, band.hi, n_starts, seed, area_weight=aw
    )
    if round(pen, 6) > 0:
        shape_only = feats.copy()
        shape_only[:, 0] = 0.0
        alt, alt_pen, alt_cost = search.partition(
            indptr, indices, pop, feats, k, band.lo, band.hi, n_starts, seed, area_weight=aw, search_feats=shape_only
        )
        if (round(alt_pen, 6), alt_cost) < (round(pen, 6), cost):
            labels, pen = alt, alt_pen
    return labels, pen == 0


def can_tile(nbrs: list[list[int]], pop: list[float], band: Band, *, budget: int) -> tuple[bool | None, int]:
    """Whether a connected piece can be cut into contiguous in-band patches: True when the
    search (then the exact check) finds a split, False when the exact check proves there is
    none, None when ``budget`` connected sets did not decide it; and the sets it tried.

    >>> can_tile([[1], [0, 2], [1, 3], [2, 4], [3]], [5e3, 5e3, 2e3, 5e3, 5e3], Band(10_000, 0.2), budget=1_000)
    (True, 0)
    >>> can_tile([[1, 2, 3], [0], [0], [0]], [5e3, 5e3, 5e3, 5e3], Band(10_000, 0.2), budget=1_000)
    (False, 2)
    """
    people = np.asarray(pop, dtype=float)
    total = _total(people)
    ks = band.counts(total)
    if not ks:
        return False, 0
    indptr = np.zeros(len(nbrs) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(row) for row in nbrs])
    indices = np.array([u for row in nbrs for u in sorted(row)], dtype=np.int64)
    feats = np.zeros((len(pop), 3))
    search = search_module()
    for k in ks:  # one search round per count, shape only: a check, not the patches
        if k == 1 or k > len(pop):
            continue
        if search.partition(indptr, indices, people, feats, k, band.lo, band.hi, 1, 0, area_weight=people)[1] <= 0:
            return True, 0
    answer = exact_split(nbrs, pop, ks, band.lo, band.hi, budget=budget)
    return (True if answer.parts is not None else (False if answer.impossible else None)), answer.spent


def partition_areas(
    graph: AreaGraph,
    population: np.ndarray,
    need: np.ndarray,
    xy: np.ndarray,
    *,
    area: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    group_label: str = "boundary unit",
    whole: str = "the area",
    exact: bool = True,
    target: int = 10_000,
    band: float = DEFAULTS.patches.band,
    n_starts: int = DEFAULTS.patches.n_starts,
    need_weight: float = DEFAULTS.patches.need_weight,
    land_weight: float = DEFAULTS.patches.land_weight,
    seed: int = DEFAULTS.seed,
) -> tuple[np.ndarray, dict[int, str]]:
    """Assign every area to a patch.

    Parameters
    ----------
    graph
        Contiguity between the areas (positions match the arrays below).
    population, need, xy
        Population, standardised need and centroid coordinates (metres) per area.
    area, land_weight
        Land area per area (any unit) and the share of compactness measured on land rather
        than people: each area's position weighs ``(1 - land_weight) x its population +
        land_weight x its land`` (land scaled to the same total), so patches of large, thinly
        peopled areas are kept round too. Without ``area``, position weighs population.
    groups
        Optional nesting unit per area; patches never cross units.
    whole
        How flags name the areas given, when they form one piece.
    exact
        Check every split of a small piece the search could not cut into in-band patches
        (find one, or prove there is none); False keeps the search's answer.
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
    if not 0 <= land_weight <= 1:
        raise PatchingError(f"land_weight must be between 0 and 1, found {land_weight}")
    pop, need, xy = (np.ascontiguousarray(a, dtype=float) for a in (population, need, xy))
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise PatchingError(f"coordinates must be one (x, y) pair per area, found shape {xy.shape}")
    if area is not None:
        area = np.ascontiguousarray(area, dtype=float)
        if len(area) != n:
            raise PatchingError(f"area must give a finite land area for every area: {len(area)} values for {n} areas")
    bands = Band(target, band)
    # Patches stay inside the nesting unit: only edges within one unit count.
    if groups is None:
        adjacency, comp = graph.adjacency, graph.components()
    else:
        groups = np.asarray(groups)
        adjacency = symmetric_adjacency(graph.edges[groups[graph.edges[:, 0]] == groups[graph.edges[:, 1]]], n)
        comp = csgraph.connected_components(adjacency, directed=False)[1]
    bad = _invalid(pop, need, xy, area)
    if bad:
        raise PatchingError(_INVALID[bad])
    aw = _position_weight(pop, area, land_weight)
    n_pieces = int(comp.max()) + 1
    people = np.bincount(comp, weights=pop, minlength=n_pieces).tolist()  # adds in order, like _total
    # The features: the standardised need (scaled by need_weight) and position in units of a
    # typical patch radius, so homogeneity and compactness are comparable.
    feats = _features(need, xy, need_weight, max(1.0, round(_total(pop) / target)))

    labels = np.full(n, -1, dtype=np.int64) if n_pieces > 1 else None
    flags: dict[int, str] = {}
    next_id = 0
    for c, total in enumerate(people):
        if n_pieces > 1:
            m = np.flatnonzero(comp == c)
            piece_pop, piece_aw, piece_feats = pop[m], aw[m], feats[m]
            indptr, indices = _csr(adjacency[m][:, m])
        else:  # one piece: the arrays as they are
            m, piece_pop, piece_aw, piece_feats = slice(None), pop, aw, feats
            indptr, indices = _csr(adjacency)
        if groups is not None:
            reason = f"{group_label} {groups[m][0]}"
        else:
            reason = "detached part" if n_pieces > 1 else whole
        k, feasible = bands.n_patches(total)
        k = min(k, len(piece_pop))
        piece_seed = (seed * 1_000_003 + c) % 2**64  # one stream per piece
        part, in_band = _partition_piece(
            indptr, indices, piece_pop, piece_aw, piece_feats, k, bands, n_starts, piece_seed
        )
        proved = False
        if exact and not in_band and feasible and len(piece_pop) <= EXACT_MAX_AREAS:
            # the search found no in-band split: look at every split, to find one or prove there is none
            nbrs = [indices[indptr[i] : indptr[i + 1]].tolist() for i in range(len(piece_pop))]
            answer = exact_split(nbrs, piece_pop.tolist(), bands.counts(total), bands.lo, bands.hi)
            if answer.parts is not None:
                part = np.empty(len(piece_pop), dtype=np.int64)
                for number, members in enumerate(sorted(answer.parts)):  # numbered by first area
                    part[list(members)] = number
                in_band, k = True, len(answer.parts)
            proved = answer.impossible
        if labels is None:
            labels = part
        else:
            labels[m] = part + next_id
        if in_band:  # k patches, nothing to explain
            next_id += k
            continue
        part_pop = np.bincount(part, weights=piece_pop).tolist()
        part_size = np.bincount(part).tolist()
        for p, p_pop in enumerate(part_pop):
            if bands.contains(p_pop):
                continue
            where = f"{reason} " if reason else ""
            if part_size[p] == 1 and p_pop > bands.hi:
                flag = f"a single LSOA holding {p_pop:,.0f} people, more than the band's {bands.hi:,.0f}"
            elif not feasible and k == 1:
                flag = f"{where}holds {p_pop:,.0f} people, which cannot make a patch of {bands.lo:,.0f}-{bands.hi:,.0f}"
            elif not feasible:
                flag = (
                    f"{where}holds {total:,.0f} people, which cannot be split into "
                    f"patches of {bands.lo:,.0f}-{bands.hi:,.0f}"
                )
            elif proved:
                counts = " or ".join(str(c) for c in bands.counts(total))
                flag = (
                    f"{where}holds {total:,.0f} people, but no split of it into {counts} contiguous "
                    f"patches of {bands.lo:,.0f}-{bands.hi:,.0f} exists (every split was checked); "
                    f"this patch holds {p_pop:,.0f}"
                )
            else:
                flag = (
                    f"no contiguous split of {where}into {k} in-band patches was found; this patch holds {p_pop:,.0f}"
                )
            flags[next_id + p] = flag.strip()
        next_id += len(part_pop)
    return labels, flags

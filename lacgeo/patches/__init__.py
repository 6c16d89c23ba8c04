"""Stages 4 and 6: the contiguity graph, then contiguous patches of about the target population.

A run builds the graph first (stage 4, :func:`build_area_graph` in ``graph.py``), hands
it to phase-1 selection (stage 5, :mod:`lacgeo.select`), then partitions the rest of
the area around the picks (stage 6, :func:`build_patches`): partition
(``partition.py``, with the compiled search in ``_state.pyx`` and ``_search.pyx``),
feasibility check (``check.py``) and names (``names.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from ..config import DEFAULTS
from ..errors import PatchingError
from ..schema import NEST_LEVELS, PATCH_ID, POPULATION
from .check import check_patches
from .graph import AreaGraph, build_area_graph
from .names import name_patches
from .partition import Band, partition_areas

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PatchAssignment:
    """The result of :func:`build_patches`.

    ``patch_id`` maps each area code to its patch (``P01``, ``P02``...); ``flags`` gives,
    for each patch that cannot be inside the band, the reason; ``bridges`` are the
    island links the contiguity check accepted as adjacency.
    """

    patch_id: pd.Series
    names: pd.Series
    flags: dict[str, str] = field(default_factory=dict)
    bridges: tuple[tuple[str, str], ...] = ()
    graph: AreaGraph | None = None


def build_patches(
    areas: gpd.GeoDataFrame,
    need: pd.Series,
    *,
    target_population: int = DEFAULTS.patches.target_population,
    band: float = DEFAULTS.patches.band,
    nest_within: str | pd.Series = "none",
    islands: str = DEFAULTS.patches.islands,
    n_starts: int = DEFAULTS.patches.n_starts,
    need_weight: float = DEFAULTS.patches.need_weight,
    land_weight: float = DEFAULTS.patches.land_weight,
    seed: int = DEFAULTS.seed,
    graph: AreaGraph | None = None,
    fixed: Sequence[Sequence[str]] = (),
    as_given: Sequence[str] = (),
) -> PatchAssignment:
    """Partition ``areas`` into contiguous patches of about ``target_population`` people.

    Parameters
    ----------
    areas
        Small areas indexed by code in EPSG:27700, with ``population`` and, for naming
        and nesting, ``msoa_name``, ``ward_name`` and the nesting code column.
    need
        Need index per area (aligned to ``areas``); patches group similar need.
    nest_within
        ``"none"``, ``"ward"``, ``"msoa"`` or ``"lad"`` (a code column of ``areas``), or a
        Series giving each area's unit (e.g. community area): patches never cross units.
    islands
        Policy for detached parts: ``"link_nearest"``, ``"separate"`` or ``"error"``.
    seed
        All randomness (seed areas, move order, regrowth kicks) derives from it.
    fixed
        Groups of area codes that are patches already (e.g. the phase-1 picks, which must
        be contiguous and in the band); the rest of the area is partitioned around them.
        They become the first patch ids, in the order given.
    as_given
        A reason for each of the first ``len(as_given)`` fixed groups that are kept exactly as
        given (a coordinator's area in post): they need not be in the band or in one piece,
        and each one that is not is flagged with its reason and what it breaks.

    Returns
    -------
    PatchAssignment
        ``patch_id`` per area (``P01``, ``P02``... on ``areas.index``), the patch
        ``names``, ``flags`` giving the reason for every patch that cannot be inside the
        band, the island ``bridges`` and the ``graph``. The feasibility check
        (:func:`check_patches`) has passed: every area is in one patch, every patch is
        contiguous and in the band or flagged.

    Examples
    --------
    >>> import lacgeo
    >>> areas = lacgeo.read_areas("E06000017")  # Rutland: 26 LSOAs, 41,053 people
    >>> need = pd.Series(0.0, index=areas.index)
    >>> result = build_patches(areas, need, target_population=10_000, band=0.2)
    >>> sizes = areas["population"].groupby(result.patch_id).sum()
    >>> len(sizes), bool(sizes.between(8_000, 12_000).all()), result.flags
    (4, True, {})
    """
    if isinstance(nest_within, pd.Series):
        if not nest_within.index.equals(areas.index) or nest_within.isna().any():
            raise PatchingError("nest_within must give a unit for every area, indexed like areas")
        groups, group_label = nest_within.to_numpy(), str(nest_within.name or "unit")
    elif nest_within == "none":
        groups, group_label = None, ""
    elif nest_within in NEST_LEVELS:
        groups, group_label = areas[NEST_LEVELS[nest_within]].to_numpy(), nest_within.upper()
    else:
        raise PatchingError(f"unknown nest_within {nest_within!r}; use none, {', '.join(NEST_LEVELS)}")
    hi = target_population * (1 + band)
    typical = float(areas[POPULATION].median())
    if typical > hi:
        raise PatchingError(
            f"patches.target_population = {target_population:,} with band {band} allows at most {hi:,.0f} people, "
            f"but the median LSOA alone holds {typical:,.0f}: no patch could meet the band; raise the target or "
            "widen the band"
        )
    if not need.index.equals(areas.index):
        raise PatchingError("need must be indexed like areas (same codes, same order)")
    if need.isna().any():
        bad = need.index[need.isna()]
        raise PatchingError(f"need index is missing for {len(bad)} areas ({', '.join(bad[:5])})")
    if graph is None:
        graph = build_area_graph(areas, islands=islands)
    centroids = areas.geometry.representative_point()
    xy = np.column_stack([centroids.x.to_numpy(), centroids.y.to_numpy()])
    labels = np.full(len(areas), -1, dtype=np.int64)
    for k, group in enumerate(fixed):
        where = areas.index.get_indexer(list(group))
        if (where < 0).any() or (labels[where] >= 0).any():
            raise PatchingError(f"fixed patch {k + 1} names unknown or repeated areas: {', '.join(map(str, group))}")
        labels[where] = k
    rest = labels < 0
    flags: dict[int, str] = {}
    if rest.any():
        sub = graph.subgraph(rest) if fixed else graph
        part, part_flags = partition_areas(
            sub,
            areas[POPULATION].to_numpy(dtype=float)[rest],
            need.to_numpy(dtype=float)[rest],
            xy[rest],
            area=areas.geometry.area.to_numpy()[rest],
            land_weight=land_weight,
            groups=None if groups is None else groups[rest],
            group_label=group_label,
            whole=f"the area outside the {len(fixed)} fixed patches" if fixed else "the area",
            target=target_population,
            band=band,
            n_starts=n_starts,
            need_weight=need_weight,
            seed=seed,
        )
        labels[rest] = part + len(fixed)
        flags = {k + len(fixed): v for k, v in part_flags.items()}
    pieces_ok = set()
    for k, reason in enumerate(as_given):
        inside = labels == k
        people = float(areas[POPULATION].to_numpy()[inside].sum())
        broken = [] if Band(target_population, band).contains(people) else [f"{people:,.0f} people"]
        n_pieces = len(np.unique(graph.components(np.where(inside, 1, 0))[inside]))
        if n_pieces > 1:
            broken.append(f"in {n_pieces} pieces")
            pieces_ok.add(k)
        if broken:
            flags[k] = f"{reason} ({', '.join(broken)})"
    width = max(2, len(str(int(labels.max()) + 1)))
    ids = [f"P{i + 1:0{width}d}" for i in range(int(labels.max()) + 1)]
    patch_id = pd.Series(np.array(ids, dtype=object)[labels], index=areas.index, name=PATCH_ID)
    flag_by_id = {ids[k]: v for k, v in flags.items()}
    check_patches(
        patch_id,
        areas[POPULATION],
        graph,
        band=Band(target_population, band),
        flags=flag_by_id,
        pieces_ok={ids[k] for k in pieces_ok},
    )
    names = name_patches(areas, patch_id)
    bridges = tuple(sorted((graph.codes[a], graph.codes[b]) for a, b in graph.bridges))
    log.info("built %d patches (%d flagged)", len(ids), len(flag_by_id))
    return PatchAssignment(patch_id, names, flag_by_id, bridges, graph)


__all__ = [
    "AreaGraph",
    "Band",
    "PatchAssignment",
    "build_area_graph",
    "build_patches",
    "check_patches",
    "name_patches",
    "partition_areas",
]

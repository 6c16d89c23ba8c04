"""Patches from whole electoral wards, as councillors think: the ward units.

:func:`ward_units` turns a council's LSOAs into *units* that the patch search
(:func:`lacgeo.patches.build_patches`) then partitions like areas:

- a ward of at most the band's top (10,000 x 1.2 = 12,000 people by default) is one unit,
  its LSOAs dissolved; wards below the band join neighbouring units in the search;
- a ward above the band keeps its LSOAs as units of their own. When its population can
  be cut into in-band patches (17,000 people make two of 8,500) they form a nesting
  group of their own, so its patches stay inside it; when it cannot (13,000 is too many
  for one patch and too few for two), its LSOAs may join neighbouring wards' patches,
  and a note says so;
- a ward whose LSOAs do not all touch is one unit (or group) per connected piece, coded
  ``<ward code>-1``, ``-2``..., and a note says so;
- wards free to mix that are boxed in by wards cut on their own, so that together they
  cannot make in-band patches (a small ward between big ones), open one of those big
  wards to them (the smallest that lets them make in-band patches), and a note says so.

Unit codes are the ward code for a whole ward and the LSOA code for an LSOA of a split
ward. :class:`WardUnits` maps patches of units back to LSOAs (:meth:`WardUnits.to_lsoas`),
lock-ins to units (:meth:`WardUnits.unit_codes`), and :func:`name_ward_patches` names
patches after their wards.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..config import DEFAULTS
from ..errors import PatchingError, ValidationError, first_few
from ..schema import (
    BNG,
    LAD_CODE,
    MSOA_CODE,
    MSOA_NAME,
    MSOA_NAME_CY,
    NEED_INDEX,
    POPULATION,
    WARD_CODE,
    WARD_NAME,
)
from .graph import AreaGraph, build_area_graph
from .names import name_patches
from .partition import EXACT_MAX_AREAS, Band, can_tile

log = logging.getLogger(__name__)

UNIT_CODE = "unit_code"
"""Index name of the unit table (a ward code, a ward piece ``<code>-<n>`` or an LSOA code)."""
N_LSOAS = "n_lsoas"
FREE_GROUP = "(joined wards)"
"""The nesting group of every unit free to join its neighbours (whole wards, and the LSOAs
of wards that cannot make in-band patches of their own)."""
RESERVED = frozenset(
    {POPULATION, WARD_CODE, WARD_NAME, LAD_CODE, MSOA_CODE, MSOA_NAME, MSOA_NAME_CY, N_LSOAS, "geometry"}
)
"""Columns of the unit table a need column may not be called."""
TILE_BUDGET = 100_000
"""Connected sets the exact checks of one :func:`ward_units` call may try in all
(:func:`lacgeo.patches.partition.can_tile`); a piece left undecided counts as tileable."""


@dataclass(frozen=True)
class WardUnits:
    """The result of :func:`ward_units`: the units patches are built from.

    Attributes
    ----------
    unit_of
        Unit code of every LSOA, indexed like the areas given (named ``unit_code``).
    units
        One row per unit, indexed by unit code, in EPSG:27700: ``population`` (summed),
        the need column(s) given (population-weighted), ``ward_code`` and ``ward_name``,
        the ``msoa_code`` and ``msoa_name`` of its most populous MSOA (and
        ``msoa_name_cy``, ``lad_code`` when the areas have them), ``n_lsoas`` and the
        dissolved geometry.
    graph
        Contiguity of the units, from the LSOA graph: two units touch when any of their
        LSOAs do (island bridges carried over). Pass it to ``build_patches(graph=...)``.
    groups
        Nesting group per unit for ``build_patches(nest_within=...)``: the ward (or ward
        piece) code for the LSOAs of a ward cut into patches of its own, ``"(joined
        wards)"`` for every unit free to join its neighbours; None when no ward is cut
        on its own.
    notes
        Plain sentences on what did not go by the rule (wards in pieces, wards too big for
        one patch but too small to cut, wards opened to a boxed-in neighbour).
    """

    unit_of: pd.Series
    units: gpd.GeoDataFrame
    graph: AreaGraph
    groups: pd.Series | None
    notes: tuple[str, ...]

    @property
    def nest_within(self) -> pd.Series | str:
        """``groups``, or ``"none"`` when there are none: what ``build_patches(nest_within=...)`` takes."""
        return "none" if self.groups is None else self.groups

    def to_lsoas(self, unit_patch: pd.Series) -> pd.Series:
        """The patch of every LSOA (indexed like the areas given) from the patch of every unit.

        Raises :class:`PatchingError` when a unit has no patch.
        """
        if not unit_patch.index.is_unique:
            raise PatchingError("unit_patch must give one patch per unit (its index has repeated unit codes)")
        missing = self.units.index.difference(unit_patch.dropna().index)
        if len(missing):
            raise PatchingError(
                f"unit_patch has no patch for {len(missing)} of {len(self.units)} units ({first_few(missing)}); "
                "give one per row of units.units"
            )
        return pd.Series(
            unit_patch.reindex(self.unit_of.to_numpy()).to_numpy(), index=self.unit_of.index, name=unit_patch.name
        )

    def unit_codes(self, lsoa_codes: str | Iterable[str]) -> list[str]:
        """The units holding ``lsoa_codes``, each once, in the order first met.

        Locking an LSOA in (or out) locks in (or out) its whole unit: the whole ward, when
        the ward is a unit. Raises :class:`ValidationError` for codes not among the areas.
        """
        codes = [lsoa_codes] if isinstance(lsoa_codes, str) else [str(c) for c in lsoa_codes]
        unknown = [c for c in codes if c not in self.unit_of.index]
        if unknown:
            raise ValidationError(
                f"{len(unknown)} of {len(codes)} codes are not LSOAs of these areas ({first_few(unknown)}); "
                "give LSOA codes of the local authority (e.g. E01031841)"
            )
        return list(dict.fromkeys(self.unit_of.loc[codes].tolist()))


def _needs(need: pd.Series | dict[str, pd.Series] | None) -> dict[str, pd.Series]:
    if need is None:
        return {}
    if isinstance(need, pd.Series):
        return {str(need.name) if need.name is not None else NEED_INDEX: need}
    return dict(need)


def _validate(areas: gpd.GeoDataFrame, needs: dict[str, pd.Series], graph: AreaGraph | None) -> None:
    """Every problem with the inputs, raised at once."""
    problems: list[str] = []
    fix = (
        "read the areas with lacgeo.read_areas (which adds ward_code and ward_name), "
        "or join them from the ONS LSOA-to-ward lookup"
    )
    missing = [c for c in (WARD_CODE, WARD_NAME, POPULATION) if c not in areas.columns]
    if missing:
        problems.append(f"areas has no {' or '.join(missing)} column: ward units need every LSOA's ward; {fix}")
    if not areas.index.is_unique:
        dupes = areas.index[areas.index.duplicated()].unique()
        problems.append(f"areas has {len(dupes)} repeated codes ({first_few(dupes)}); give each LSOA once")
    if WARD_CODE in areas.columns:
        blank = areas.index[areas[WARD_CODE].isna() | (areas[WARD_CODE].astype(str).str.strip() == "")]
        if len(blank):
            problems.append(f"{len(blank)} LSOAs have no {WARD_CODE} ({first_few(blank)}); {fix}")
    if POPULATION in areas.columns:
        people = pd.to_numeric(areas[POPULATION], errors="coerce")
        bad = areas.index[~np.isfinite(people.to_numpy(dtype=float)) | (people < 0).to_numpy()]
        if len(bad):
            problems.append(f"{len(bad)} LSOAs have no valid population, 0 or more ({first_few(bad)})")
    if areas.crs is None or areas.crs.to_epsg() != 27700:
        problems.append(f"areas must be in {BNG} (found {areas.crs}); reproject with areas.to_crs({BNG!r})")
    for name, values in needs.items():
        if name in RESERVED:
            problems.append(f"need {name!r} would overwrite the unit table's own column; give it another name")
        elif not values.index.equals(areas.index):
            problems.append(f"need {name!r} must be indexed like areas (same codes, same order)")
        elif values.isna().any():
            gaps = values.index[values.isna()]
            problems.append(f"need {name!r} is missing for {len(gaps)} LSOAs ({first_few(gaps)})")
    if graph is not None and not graph.codes.equals(areas.index):
        problems.append("graph must be built on these areas (build_area_graph(areas)): its codes differ")
    if problems:
        raise ValidationError(problems)


def _patches_word(k: int) -> str:
    return f"{k} patch" if k == 1 else f"{k} patches"


class _Tiler:
    """Whether a connected set of units can be cut into contiguous in-band patches (cached;
    the exact checks share one budget, and "don't know" counts as yes)."""

    def __init__(self, nbrs: tuple[tuple[int, ...], ...], pop: np.ndarray, band: Band):
        self.nbrs, self.pop, self.band, self.budget = nbrs, pop, band, TILE_BUDGET
        self.seen: dict[frozenset[int], bool | None] = {}

    def __call__(self, members: Iterable[int]) -> bool | None:
        """True (a split exists or was not ruled out), False when proved impossible by
        contiguity, None when impossible by count alone."""
        key = frozenset(members)
        if key not in self.seen:
            order = sorted(key)
            people = math.fsum(self.pop[order])
            if not self.band.counts(people):
                self.seen[key] = None
            elif len(order) == 1 or len(order) > EXACT_MAX_AREAS:
                self.seen[key] = True  # one unit in the band; or too big a piece to check (the search will)
            else:
                index = {a: i for i, a in enumerate(order)}
                nbrs = [[index[u] for u in self.nbrs[a] if u in index] for a in order]
                verdict, spent = can_tile(nbrs, self.pop[order].tolist(), self.band, budget=max(self.budget, 0))
                self.budget -= spent
                self.seen[key] = verdict is not False
        return self.seen[key]


def _reach(start: int, free: np.ndarray, nbrs: tuple[tuple[int, ...], ...]) -> list[int]:
    seen, stack = {start}, [start]
    while stack:
        for u in nbrs[stack.pop()]:
            if free[u] and u not in seen:
                seen.add(u)
                stack.append(u)
    return sorted(seen)


def _unit_graph(graph: AreaGraph, unit_pos: np.ndarray, codes: pd.Index) -> AreaGraph:
    """The graph of units: LSOA edges between two units, each pair once."""
    pairs = np.sort(unit_pos[graph.edges], axis=1)
    pairs = np.unique(pairs[pairs[:, 0] != pairs[:, 1]], axis=0).reshape(-1, 2)
    bridges = frozenset(
        (int(min(unit_pos[a], unit_pos[b])), int(max(unit_pos[a], unit_pos[b])))
        for a, b in graph.bridges
        if unit_pos[a] != unit_pos[b]
    )
    return AreaGraph(codes, pairs.astype(np.int64), bridges)


def _dissolve(geoms: np.ndarray) -> shapely.Geometry:
    """One geometry from a unit's LSOAs: the coverage union (fast, exact on the shipped
    coverage), or the full union when the LSOAs are not a clean coverage."""
    if len(geoms) == 1:
        return geoms[0]
    merged = shapely.coverage_union_all(geoms)
    total = float(shapely.area(geoms).sum())
    if shapely.is_valid(merged) and abs(merged.area - total) <= 1e-6 * max(total, 1.0):
        return merged
    return shapely.union_all(geoms)


def _unit_table(
    areas: gpd.GeoDataFrame, unit_of: pd.Series, needs: dict[str, pd.Series], codes: pd.Index
) -> gpd.GeoDataFrame:
    key = unit_of.to_numpy()
    table = pd.DataFrame(index=codes)
    table[POPULATION] = areas[POPULATION].groupby(key).sum().reindex(codes)
    people = areas[POPULATION].astype(float)
    total = people.groupby(key).sum().reindex(codes)
    for name, values in needs.items():
        weighted = (values.astype(float) * people).groupby(key).sum().reindex(codes) / total
        plain = values.astype(float).groupby(key).mean().reindex(codes)
        table[name] = weighted.where(total > 0, plain)  # a unit nobody lives in takes its LSOAs' mean
    kept = [c for c in (WARD_CODE, WARD_NAME, LAD_CODE) if c in areas.columns]  # the same in every LSOA of a unit
    first = pd.DataFrame(areas[kept]).groupby(key, sort=False).first().reindex(codes)
    for col in kept:
        table[col] = first[col]
    if MSOA_CODE in areas.columns:  # the most populous MSOA of the unit, and its names
        names = [c for c in (MSOA_NAME, MSOA_NAME_CY) if c in areas.columns]
        by_msoa = pd.DataFrame({"unit": key, MSOA_CODE: areas[MSOA_CODE].to_numpy(), "pop": people.to_numpy()})
        by_msoa = by_msoa.groupby(["unit", MSOA_CODE], sort=True)["pop"].sum().reset_index()
        by_msoa = by_msoa.sort_values(["unit", "pop", MSOA_CODE], ascending=[True, False, True], kind="stable")
        main = by_msoa.drop_duplicates("unit").set_index("unit")[MSOA_CODE].reindex(codes)
        table[MSOA_CODE] = main
        lookup = areas[[MSOA_CODE, *names]].drop_duplicates(MSOA_CODE).set_index(MSOA_CODE)
        for col in names:
            table[col] = lookup[col].reindex(main.to_numpy()).to_numpy()
    table[N_LSOAS] = unit_of.value_counts().reindex(codes).astype(int)
    geoms = areas.geometry.to_numpy()
    members = pd.Series(np.arange(len(areas))).groupby(key).agg(list).reindex(codes)
    dissolved = [_dissolve(geoms[m]) for m in members]
    return gpd.GeoDataFrame(table, geometry=dissolved, crs=areas.crs)


def ward_units(
    areas: gpd.GeoDataFrame,
    *,
    need: pd.Series | dict[str, pd.Series] | None = None,
    target_population: int = DEFAULTS.patches.target_population,
    band: float = DEFAULTS.patches.band,
    graph: AreaGraph | None = None,
    split: Collection[str] = (),
) -> WardUnits:
    """Whole-ward units, for patches built from electoral wards rather than LSOAs.

    Parameters
    ----------
    areas
        LSOAs indexed by code in EPSG:27700, with ``population``, ``ward_code`` and
        ``ward_name`` (and, for names, ``msoa_code`` and ``msoa_name``), as
        :func:`lacgeo.read_areas` gives them. Not changed.
    need
        Need per LSOA (a Series, or a dict of named Series), indexed like ``areas``;
        each becomes a population-weighted column of the unit table (a Series without a
        name is called ``need_index``).
    target_population, band
        The patch band, ``target x (1 +/- band)``: wards up to its top are whole units.
    graph
        The LSOA contiguity graph (:func:`build_area_graph`; built here when not given).
    split
        Ward codes whose LSOAs are units of their own, free to join any neighbour: the
        wards around patches that whole wards could not bring into the band
        (:func:`lacgeo.pipeline` splits them and partitions again).

    Returns
    -------
    WardUnits
        The unit of every LSOA, the unit table, its graph, the nesting groups to build
        patches with and the notes. Partition the units with
        ``build_patches(units.units, units.units[name], nest_within=units.nest_within,
        graph=units.graph)``, then map the patches back with :meth:`WardUnits.to_lsoas`.

    Raises
    ------
    ValidationError
        Every problem with the inputs at once (no ward code column, LSOAs without a
        ward, need not indexed like ``areas``...).

    Examples
    --------
    >>> import lacgeo
    >>> areas = lacgeo.read_areas("E06000017")  # Rutland: 26 LSOAs in 15 wards, 41,053 people
    >>> units = ward_units(areas)
    >>> len(units.units), int(units.units["population"].sum()), units.groups, units.notes
    (15, 41053, None, ())
    >>> result = lacgeo.build_patches(units.units, pd.Series(0.0, index=units.units.index), graph=units.graph)
    >>> patch = units.to_lsoas(result.patch_id)
    >>> sizes = areas["population"].groupby(patch).sum()
    >>> len(sizes), bool(sizes.between(8_000, 12_000).all())
    (4, True)
    >>> bool((patch.groupby(areas["ward_code"]).nunique() == 1).all())  # no ward is cut
    True
    """
    needs = _needs(need)
    _validate(areas, needs, graph)
    bands = Band(target_population, band)
    if graph is None:
        graph = build_area_graph(areas)
    ward = areas[WARD_CODE].astype(str).to_numpy()
    ward_name = dict(zip(ward, areas[WARD_NAME].astype(str), strict=True))
    pop = areas[POPULATION].to_numpy(dtype=float)
    lsoa = areas.index.astype(str).to_numpy()
    piece = graph.components(ward)  # connected pieces of each ward, through its own LSOAs
    notes: list[str] = []

    def called(code: str) -> str:  # a ward, or a piece of one (ward codes hold no "-")
        return f"{ward_name[code.split('-')[0]]} ({code})"

    # 1. pieces of wards: whole units up to the band's top, their LSOAs above it
    unit_of = np.empty(len(areas), dtype=object)
    nest: dict[str, str] = {}  # unit code -> nesting group, for the LSOAs of wards above the band
    wards = pd.DataFrame({"ward": ward, "piece": piece, "lsoa": lsoa})
    for code, rows in wards.groupby("ward", sort=True):
        if code in split:  # opened to keep patches in the band: LSOA units, free to mix
            unit_of[rows.index] = lsoa[rows.index]
            continue
        parts = sorted((sorted(m.index) for _, m in rows.groupby("piece")), key=lambda m: min(lsoa[m]))
        if len(parts) > 1:
            notes.append(
                f"ward {called(code)} is in {len(parts)} pieces that do not touch: each piece is taken as a ward "
                f"of its own ({code}-1 to {code}-{len(parts)}), so the pieces may be in different patches"
            )
        for number, members in enumerate(parts, start=1):
            piece_code = code if len(parts) == 1 else f"{code}-{number}"
            if math.fsum(pop[members]) <= bands.hi:
                unit_of[members] = piece_code
            else:
                unit_of[members] = lsoa[members]
                nest.update((c, piece_code) for c in lsoa[members])

    codes = pd.Index(sorted(set(unit_of)), name=UNIT_CODE)
    unit_pos = codes.get_indexer(unit_of)
    unit_graph = _unit_graph(graph, unit_pos, codes)
    nbrs = unit_graph.neighbours()
    unit_pop = np.bincount(unit_pos, weights=pop, minlength=len(codes))
    tiles = _Tiler(nbrs, unit_pop, bands)
    group = np.array([nest.get(c) for c in codes], dtype=object)  # None: free to join neighbours
    piece_of = [nest.get(c, c) for c in codes]  # the ward, or ward piece, of every unit

    # 2. wards above the band that cannot make in-band patches of their own join their neighbours
    for label in sorted(set(nest.values())):
        members = np.flatnonzero(group == label)
        verdict = tiles(members)
        if verdict:
            continue
        people = math.fsum(unit_pop[members])
        if verdict is None:
            k = math.ceil(people / bands.hi)
            why = f"too many for {_patches_word(k - 1)} of {bands.lo:,.0f}-{bands.hi:,.0f} and too few for {k}"
        else:
            why = (
                f"but its LSOAs cannot be cut into contiguous patches of {bands.lo:,.0f}-{bands.hi:,.0f} "
                "(every split was checked)"
            )
        notes.append(
            f"ward {called(label)} holds {people:,.0f} people, {why}: its {len(members)} LSOAs may join "
            "patches with neighbouring wards"
        )
        group[members] = None

    # 3. free units boxed in by wards cut on their own: open the smallest such ward to them
    stuck: set[frozenset[int]] = set()
    while True:
        free = np.array([g is None for g in group])
        pieces, done = [], set()
        for u in np.flatnonzero(free):
            if int(u) not in done:
                members = _reach(int(u), free, nbrs)
                done.update(members)
                pieces.append(members)
        bad = next((m for m in pieces if frozenset(m) not in stuck and not tiles(m)), None)
        if bad is None:
            break
        around = sorted({group[v] for u in bad for v in nbrs[u] if group[v] is not None})
        if not around:
            stuck.add(frozenset(bad))  # nothing to open: the search will flag it
            continue
        size = {g: math.fsum(unit_pop[group == g]) for g in around}
        around.sort(key=lambda g: (size[g], g))

        chosen = around[0]  # the smallest, unless opening a bigger one lets the piece make in-band patches
        for g in around:
            if tiles(_reach(bad[0], free | (group == g), nbrs)):
                chosen = g
                break
        boxed = sorted({called(piece_of[u]) for u in bad})
        notes.append(
            f"{first_few(boxed, 3)}, with {math.fsum(unit_pop[bad]):,.0f} people between wards cut on their own, "
            f"could not make patches of {bands.lo:,.0f}-{bands.hi:,.0f}, so ward {called(chosen)} is opened to "
            "them: its LSOAs may join patches with theirs"
        )
        group[group == chosen] = None

    groups = None
    if any(g is not None for g in group):
        groups = pd.Series([FREE_GROUP if g is None else g for g in group], index=codes, name="ward")
    unit_series = pd.Series(unit_of, index=areas.index, name=UNIT_CODE)
    n_nested = 0 if groups is None else len(set(groups) - {FREE_GROUP})
    log.info("%d ward units from %d LSOAs (%d wards cut on their own)", len(codes), len(areas), n_nested)
    table = _unit_table(areas, unit_series, needs, codes)
    return WardUnits(unit_series, table, unit_graph, groups, tuple(notes))


def name_ward_patches(units: WardUnits, unit_patch: pd.Series) -> pd.Series:
    """One unique name per patch, from the wards of its units (patch id -> name).

    Named the way :func:`lacgeo.patches.name_patches` names patches after MSOAs: the
    ward holding most of the patch's people, joined with the second when that holds at
    least a quarter ("Trowbridge Drynham & Trowbridge Grove"). Patches that would share a
    name (the patches of one split ward) add their main neighbourhood (MSOA name), then
    a number.

    Examples
    --------
    >>> import lacgeo
    >>> units = ward_units(lacgeo.read_areas("E06000017"))
    >>> result = lacgeo.build_patches(units.units, pd.Series(0.0, index=units.units.index), graph=units.graph)
    >>> name_ward_patches(units, result.patch_id).tolist()
    ['Cottesmore', 'Uppingham / Braunston & Martinsthorpe', 'Oakham South & Oakham North East',
     'Normanton / Ryhall & Casterton']
    """
    table = units.units
    aside = table[MSOA_NAME] if MSOA_NAME in table.columns else table[WARD_CODE]
    frame = pd.DataFrame({MSOA_NAME: table[WARD_NAME], WARD_NAME: aside, POPULATION: table[POPULATION]})
    return name_patches(frame, unit_patch)


__all__ = ["FREE_GROUP", "UNIT_CODE", "WardUnits", "name_ward_patches", "ward_units"]

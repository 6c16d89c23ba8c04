"""Stages 5 and 6 of :func:`lacgeo.run`: where the coordinators go.

* :func:`select_phases`: the coordinators in post and the searched phases
  (:mod:`lacgeo.select.phases`), on LSOAs or, with ``area.units = "ward"``, on whole wards;
* :func:`partition`: the rest of the area cut into patches around them; with ward units,
  :func:`ward_partition` cuts whole wards and splits into LSOAs only the wards it must to
  keep every patch in the band;
* :func:`phases_of`: the phase of every patch: 0 in post, the searched phases, then the
  later phases packed from the partition under the same rules.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd

from . import rank
from .config import Config
from .config_checks import MAX_PHASES
from .errors import ConfigError, SelectionWarning, ValidationError, WardUnitWarning
from .patches import AreaGraph, Band, PatchAssignment, build_patches, check_patches
from .patches.units import WardUnits, name_ward_patches, ward_units
from .schema import (
    NEED_INDEX,
    NEST_LEVELS,
    PATCH_ID,
    PHASE,
    POPULATION,
    WARD_CODE,
    WARD_NAME,
)
from .select.existing import ExistingArea, existing_areas
from .select.phases import PhasePlan, pack_later_phases, search_phases

log = logging.getLogger(__name__)

WARD_REPAIRS = 3
"""Times wards are split into LSOAs and the area partitioned again: first the wards of the patches
outside the band, then also those of the patches touching them."""
IN_POST = "a coordinator's area in post, kept as given"
"""The band status of an area in post that is outside the band or in pieces."""


def select_phases(
    config: Config, areas: gpd.GeoDataFrame, graph: AreaGraph, units: WardUnits | None
) -> PhasePlan | None:
    """Stage 5: the coordinators in post and the searched phases (``recommend.method = "select"``), or None.

    Phase 1 and the next ``recommend.search_phases - 1`` phases are searched, each given the
    ones before it; more when the budget funds coordinators beyond them. With ward units the
    search runs on the units, so every pick is made of whole units; the plan names units.
    """
    r = config.recommend
    if r.method != "select":
        return None
    if config.patches.nest_within != "none":
        log.info('patches are nested, so phase 1 is the top-ranked nested patches (recommend.method = "rank")')
        return None
    existing = existing_areas(r.existing, areas)
    in_post = {c: e.name for e in existing for c in e.area_codes}
    held = [c for item in r.lock_in for c in ([item] if isinstance(item, str) else item) if c in in_post]
    if held:
        raise ConfigError(
            f"recommend.lock_in: {', '.join(f'{c} (in {in_post[c]!r})' for c in held[:5])} already "
            f"{'is' if len(held) == 1 else 'are'} in an area in post ([[recommend.existing]]); a new pick cannot "
            "hold it: remove it from lock_in"
        )
    lock_in, lock_out = r.lock_in, r.lock_out
    if units is not None:  # search on the units: locks and areas in post name the units holding them
        existing = [replace(e, area_codes=tuple(whole_units(units, e))) for e in existing]
        lock_in, lock_out = tuple(units.unit_codes(lock_in)), tuple(units.unit_codes(lock_out))
        areas, graph = units.units, units.graph
    # spread = "nest" needs nested patches, which take the "rank" route above
    spread = areas[NEST_LEVELS[r.spread]] if r.spread in ("ward", "msoa") else None
    b = rank.given_budget(config)
    funded = 0 if b is None else rank.budget_coordinators(b, cost_per_coordinator=r.cost_per_coordinator)[0]
    new = funded - (len(existing) if b is not None and b.includes_existing else 0)
    if b is not None and b.includes_existing and 0 < funded < len(existing):
        warnings.warn(
            f"the budget pays for {funded} coordinator{'s' if funded > 1 else ''} but {len(existing)} are in post "
            "already, so it funds none of the new picks; raise the budget, or set [budget] includes_existing = "
            "false if the coordinators in post are paid from elsewhere",
            SelectionWarning,
            stacklevel=2,
        )
    # as many phases as the budget funds, but never more than a config may ask for: the rest are packed
    n_phases = min(max(r.search_phases, 1 + math.ceil(max(0, new - r.n) / r.phase_size)), MAX_PHASES)
    phases, notes = search_phases(
        areas,
        areas[NEED_INDEX],
        graph,
        sizes=[r.n] + [r.phase_size] * (n_phases - 1),
        existing=[e.area_codes for e in existing],
        lock_in=lock_in,
        target_population=config.patches.target_population,
        band=config.patches.band,
        spread=spread,
        min_distance_m=r.min_distance_km * 1000.0 or None,
        near_m=r.near_km * 1000.0 or None,
        lock_out=lock_out,
        seed=config.seed,
    )
    for message in [*phases[0].warnings, *notes]:
        warnings.warn(message, SelectionWarning, stacklevel=2)
    return PhasePlan(tuple(existing), tuple(phases), tuple(notes))


def partition(
    config: Config,
    areas: gpd.GeoDataFrame,
    graph: AreaGraph,
    nest: str | pd.Series,
    fixed: Sequence[Sequence[str]],
    in_post: int,
) -> PatchAssignment:
    """Stage 6: partition the LA around the ``fixed`` groups: the first ``in_post`` are areas in post,
    kept as given, then the searched phases' picks."""
    p = config.patches
    return build_patches(
        areas,
        areas[NEED_INDEX],
        target_population=p.target_population,
        band=p.band,
        nest_within=nest,
        islands=p.islands,
        n_starts=p.n_starts,
        need_weight=p.need_weight,
        land_weight=p.land_weight,
        seed=config.seed,
        graph=graph,
        fixed=fixed,
        as_given=[IN_POST] * in_post,
    )


def ward_units_of(config: Config, areas: gpd.GeoDataFrame, graph: AreaGraph, split: set[str]) -> WardUnits:
    p = config.patches
    return ward_units(
        areas, need=areas[NEED_INDEX], target_population=p.target_population, band=p.band, graph=graph, split=split
    )


def ward_partition(
    config: Config, areas: gpd.GeoDataFrame, graph: AreaGraph, units: WardUnits, plan: PhasePlan | None
) -> tuple[PatchAssignment, PhasePlan | None]:
    """Stage 6 with ``area.units = "ward"``: patches of whole wards, mapped back to the LSOAs.

    When whole wards cannot bring some patches into the band, the wards of those patches
    (then also of the patches touching them) are split into LSOAs and the area is
    partitioned again (at most :data:`WARD_REPAIRS` times); every split ward is named in a
    warning.
    The picks and areas in post, whole units, stay as they are.
    """
    plan = plan.on_areas(units.unit_of) if plan else None
    placed = plan.groups if plan else []
    in_post = len(plan.existing) if plan else 0
    split: set[str] = set()
    kept: list[tuple[str, ...]] = []  # in-band patches left as they are while the rest is cut again
    for attempt in range(WARD_REPAIRS + 1):
        fixed = [units.unit_codes(g) for g in [*placed, *kept]]
        built = partition(config, units.units, units.graph, units.nest_within, fixed, in_post)
        bad = [pid for pid, why in built.flags.items() if not why.startswith((IN_POST, "a single LSOA"))]
        if not bad or attempt == WARD_REPAIRS:
            break
        # cut again the patches outside the band and those touching them, with the wards of the ones
        # outside the band (then, if that is not enough, of all of them) split into LSOAs
        placed_ids = {built.patch_id[group[0]] for group in fixed[: len(placed)]}  # never cut again
        edges, labels = units.graph.edges, built.patch_id.to_numpy()
        inside = np.isin(labels, bad)
        near = set(labels[edges[:, 1][inside[edges[:, 0]]]]) | set(labels[edges[:, 0][inside[edges[:, 1]]]])
        touching = (set(bad) | near) - placed_ids
        opened = set(bad) if attempt == 0 else touching
        split |= set(units.units.loc[built.patch_id.isin(opened).to_numpy(), WARD_CODE].astype(str))
        lsoa_patch = units.to_lsoas(built.patch_id)
        kept = [
            tuple(sorted(codes))
            for pid, codes in lsoa_patch.groupby(lsoa_patch, sort=True).groups.items()
            if pid not in touching and pid not in placed_ids
        ]
        units = ward_units_of(config, areas, graph, split)
    for note in units.notes:
        warnings.warn(note, WardUnitWarning, stacklevel=2)
    patch_id = units.to_lsoas(built.patch_id).rename(PATCH_ID)
    check_patches(
        patch_id,
        areas[POPULATION],
        graph,
        band=Band(config.patches.target_population, config.patches.band),
        flags=built.flags,
        pieces_ok={pid for pid, why in built.flags.items() if why.startswith(IN_POST)},
    )
    # every ward the patches cut, from the final patches: above the band, split to keep the band, or in pieces
    spans = patch_id.groupby(areas[WARD_CODE].astype(str)).nunique()
    cut = spans.index[spans > 1]
    if len(cut):
        names = areas.drop_duplicates(WARD_CODE).set_index(areas.drop_duplicates(WARD_CODE)[WARD_CODE].astype(str))
        listed = ", ".join(f"{names.at[c, WARD_NAME]} ({c})" for c in cut)
        repaired = len(split & set(cut))
        warnings.warn(
            f"{len(cut)} of {len(spans)} wards are in more than one patch ({repaired} of them split into LSOAs "
            "because whole wards could not keep every patch in the band; the others are above the band or in "
            f"pieces): {listed}",
            WardUnitWarning,
            stacklevel=2,
        )
    bridges = tuple(sorted((graph.codes[a], graph.codes[b]) for a, b in graph.bridges))
    names = name_ward_patches(units, built.patch_id)
    return PatchAssignment(patch_id, names, built.flags, bridges, graph), plan


def warn_cut_off(assignment: PatchAssignment, areas: gpd.GeoDataFrame, plan: PhasePlan | None) -> None:
    """Warn about every patch outside the band that touches an area in post: the areas in post cut it
    off, so it gets a coordinator of its own for too few (or too many) people unless the council
    moves its LSOAs into the area in post next to it."""
    if plan is None or not plan.existing:
        return
    graph, patch_id = assignment.graph, assignment.patch_id
    labels = patch_id.reindex(graph.codes).to_numpy()
    posts = {patch_id[e.area_codes[0]] for e in plan.existing}
    for pid, why in sorted(assignment.flags.items()):
        if pid in posts:
            continue
        inside = labels == pid
        edges = graph.edges
        touching = set(labels[edges[:, 1][inside[edges[:, 0]]]]) | set(labels[edges[:, 0][inside[edges[:, 1]]]])
        if touching & posts:
            codes = list(patch_id.index[patch_id == pid])
            people = int(areas.loc[codes, POPULATION].sum())
            warnings.warn(
                f"patch {pid} ({people:,} people; LSOAs {', '.join(codes[:8])}) is cut off by the areas in post "
                f"next to it ({', '.join(sorted(touching & posts))}) and cannot be a patch in the band ({why}); "
                "add its LSOAs to the area in post next to it ([[recommend.existing]]), or keep it flagged",
                SelectionWarning,
                stacklevel=2,
            )


def phases_of(config: Config, areas: gpd.GeoDataFrame, patch_id: pd.Series, plan: PhasePlan) -> pd.Series:
    """Stage 7: the phase of every patch: 0 in post, then the searched phases, then packed ones."""
    r = config.recommend
    phase = {patch_id[e.area_codes[0]]: 0 for e in plan.existing}
    for k, selection in enumerate(plan.phases, start=1):
        phase.update({patch_id[pick.area_codes[0]]: k for pick in selection.picks})
    later, notes = pack_later_phases(
        areas,
        patch_id,
        plan.groups,
        first_phase=len(plan.phases) + 1,
        phase_size=r.phase_size,
        target_population=config.patches.target_population,
        band=config.patches.band,
        spread=areas[NEST_LEVELS[r.spread]] if r.spread in ("ward", "msoa") else None,
        min_distance_m=r.min_distance_km * 1000.0 or None,
        near_m=r.near_km * 1000.0 or None,
        lock_out=r.lock_out,
    )
    for message in notes:
        warnings.warn(message, SelectionWarning, stacklevel=2)
    return pd.Series({**phase, **later.to_dict()}, dtype="int64", name=PHASE)


def whole_units(units: WardUnits, area: ExistingArea) -> list[str]:
    """The units making up an area in post; an area that takes part of a ward stops the run, naming it."""
    held = units.unit_codes(area.area_codes)
    cut = [u for u in held if not set(units.unit_of.index[units.unit_of == u]) <= set(area.area_codes)]
    if cut:
        names = units.units.loc[cut, WARD_NAME].astype(str)
        raise ValidationError(
            f'recommend.existing ({area.name}): with area.units = "ward", an area in post must be whole wards, '
            f"but it takes part of {', '.join(sorted(set(names)))}; list every LSOA of those wards, or use "
            'area.units = "lsoa"'
        )
    return held

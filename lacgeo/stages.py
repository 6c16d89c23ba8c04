"""The stage functions :func:`lacgeo.run` calls, in its order, except where the coordinators go
(stages 5 and 6, :mod:`lacgeo.placement`).

1. :func:`load_inputs`: the LA's areas and deprivation, the council's sources brought onto
   the areas (:mod:`lacgeo.harmonise`), every indicator, and the Census counts of the shares;
2. :func:`validate_inputs`: every problem with the areas and indicators at once;
3. :func:`need_stage`: the need index, deprivation quintiles, need profiles and the needs
   assessment; :func:`nest_units`: the units patches must not cross;
7. :func:`rank_table`: the patch table with its rank and phase; :func:`robustness`; and
   :func:`evaluation`, the comparison patches for the phase-1 picks;
   :func:`patch_geometry`: each patch's outline.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from . import harmonise, load, need, placement, rank, validate
from .catalogue import CATALOGUE
from .config import NEST_CHOICES, Config
from .errors import RobustnessWarning, SelectionWarning, UnusedSourceWarning
from .patches import AreaGraph, PatchAssignment, name_patches
from .schema import (
    MSOA_NAME_CY,
    NEST_LEVELS,
    PATCH_ID,
    PATCH_NAME,
    PATCH_NAME_CY,
    PHASE,
    POPULATION,
    RANK,
    DeprivationIndex,
    deprivation_index,
)
from .select.phases import PhasePlan, pack_later_phases

log = logging.getLogger(__name__)


@dataclass
class Inputs:
    """What the load stage read: the LA's areas, deprivation, council sources and indicators."""

    area: load.StudyArea
    areas: gpd.GeoDataFrame
    deprivation: pd.DataFrame
    sources: list[harmonise.SourceCounts]
    indicators: pd.DataFrame
    files: list[str]
    """Every file read: the shipped data first, then the user's files."""
    index: DeprivationIndex
    """The national deprivation index of the areas (England's IMD or Wales's WIMD)."""
    shares: dict[str, tuple[pd.Series, pd.Series]]
    """The Census counts behind each catalogue share in the need index, read once for every stage."""


def load_inputs(config: Config, area: load.StudyArea) -> Inputs:
    """Stage 1: the study area's LSOAs and deprivation, the council's sources and every indicator."""
    vintage = config.area.vintage
    areas = load.read_study_area(area, vintage=vintage)
    deprivation = load.read_deprivation(areas.index, vintage=vintage)
    sources = [harmonise.read_source(src, areas, vintage=vintage) for src in config.sources]
    names = [i.name for i in config.need.indicators]
    unused = [src.name for src in config.sources if src.name not in names]
    if unused:
        warnings.warn(
            f"[[sources]] {', '.join(map(repr, unused))} is read but not used: no [[need.indicators]] table names it, "
            "so it changes nothing; add one (name = the source's name) or remove the source",
            UnusedSourceWarning,
            stacklevel=2,
        )
    indicators = need.read_indicators(
        areas.index,
        names,
        vintage=vintage,
        deprivation=deprivation,
        sources={s.name: s.count / s.denominator * 1000.0 for s in sources},
    )
    index = deprivation_index(area.nation, vintage)
    shipped = [f"lsoa{vintage[2:]}.parquet", index.file, "areas.csv", *need.shipped_files(names, vintage)]
    files = [str(load.data_file(name)) for name in shipped]
    for src in config.sources:
        files += [src.path] + ([src.lookup] if src.kind == "postcodes" else [])
    if config.patches.nest_within not in NEST_CHOICES:  # a polygon file of units, e.g. community areas
        files.append(config.patches.nest_within)
    files += [e.path for e in config.recommend.existing if e.path]  # the coordinators' areas in post
    shares = need.share_counts(areas.index, names, vintage=vintage)
    return Inputs(area, areas, deprivation, sources, indicators, list(dict.fromkeys(files)), index, shares)


def validate_inputs(inputs: Inputs, vintage: str) -> None:
    """Stage 2: every problem with the areas and indicators, reported at once."""
    validate.validate_areas(inputs.areas, source=f"lsoa{vintage[2:]}.parquet")
    validate.validate_indicators(inputs.indicators, source=f"indicators for {inputs.area.name}")


def need_stage(config: Config, inputs: Inputs) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Stage 3: need index, deprivation quintiles and need profiles on the areas; the needs assessment."""
    specs, areas = config.need.indicators, inputs.areas
    reasons = pd.DataFrame({s.name: s.reason for s in inputs.sources}, index=areas.index)
    need.check_indicators(inputs.indicators, specs, area=inputs.area.name)
    index = need.compute_need_index(
        inputs.indicators, specs, method=config.need.standardise, missing=config.need.missing, reasons=reasons
    )
    index_of = inputs.index
    areas = areas.join(need.deprivation_columns(inputs.deprivation, areas[POPULATION], index_of)).join(index)
    profiles = need.need_profiles(
        inputs.indicators, specs, population=areas[POPULATION], n_profiles=config.need.n_profiles, seed=config.seed
    )
    areas = areas.join(profiles)
    assessment = need.needs_assessment(
        areas,
        inputs.indicators,
        specs,
        counts=council_counts(inputs),
        proportions=[s.name for s in inputs.sources if s.proportion],
        shares=inputs.shares,
        quintile_col=index_of.local_quintile,
    )
    return areas, assessment


def council_counts(inputs: Inputs) -> dict[str, tuple[pd.Series, pd.Series]]:
    return {s.name: (s.count, s.denominator) for s in inputs.sources}


def nest_units(config: Config, areas: gpd.GeoDataFrame) -> str | pd.Series:
    """``patches.nest_within``: a level name, or each area's unit of a user polygon file."""
    p = config.patches
    if p.nest_within in NEST_CHOICES:
        return p.nest_within
    units = load.read_polygons(p.nest_within, code_col=p.nest_code_col, layer=p.nest_layer)
    return harmonise.assign_to_units(areas, units, source=p.nest_within).rename(p.nest_code_col)


def rank_table(
    config: Config,
    areas: gpd.GeoDataFrame,
    inputs: Inputs,
    assignment: PatchAssignment,
    plan: PhasePlan | None,
) -> pd.DataFrame:
    """Stage 7: the patch table: summaries, profiles, indicator values, rank and phase."""
    patch_id, r = assignment.patch_id, config.recommend
    index_of = inputs.index
    table = rank.summarise_patches(areas, patch_id, names=assignment.names, flags=assignment.flags, index=index_of)
    if index_of.nation == "Wales" and MSOA_NAME_CY in areas:  # the Welsh-language name beside the English one
        table.insert(1, PATCH_NAME_CY, name_patches(areas, patch_id, msoa_col=MSOA_NAME_CY))
    table = table.join(rank.patch_profiles(areas, patch_id, areas["need_profile"]))
    table = table.join(
        rank.patch_indicators(areas, patch_id, inputs.indicators, counts=council_counts(inputs), shares=inputs.shares)
    )
    if plan is not None:
        for area in plan.existing:  # an area in post keeps the name the council gave it
            pid = patch_id[area.area_codes[0]]
            table.loc[pid, [c for c in (PATCH_NAME, PATCH_NAME_CY) if c in table]] = area.name
        table[PHASE] = placement.phases_of(config, areas, patch_id, plan).reindex(table.index)
        table[RANK] = rank.rank_patches(table, phase=table[PHASE])
        table = table[[c for c in table.columns if c != PHASE] + [PHASE]]
    else:
        table[RANK] = rank.rank_patches(table)
        if r.n > len(table):
            warnings.warn(
                f"only {len(table)} of the {r.n} requested phase-1 patches exist: the area makes {len(table)} "
                "patches, so every patch is in phase 1",
                SelectionWarning,
                stacklevel=2,
            )
        table[PHASE] = rank.assign_phases(table[RANK], n=r.n, phase_size=r.phase_size)
        spread = _spread_units(config, areas)
        if spread is not None or r.min_distance_km:  # the ranked or nested patches, phased under the rules
            phases, notes = pack_later_phases(
                areas,
                patch_id,
                [],
                first_phase=1,
                first_size=r.n,
                phase_size=r.phase_size,
                target_population=config.patches.target_population,
                band=config.patches.band,
                spread=spread,
                min_distance_m=r.min_distance_km * 1000.0 or None,
            )
            for message in notes:
                warnings.warn(message, SelectionWarning, stacklevel=2)
            table[PHASE] = phases.reindex(table.index).astype("int64")
            table[RANK] = rank.rank_patches(table, phase=table[PHASE])
    if rank.is_multi_district(areas):  # a county, ICB or list of councils: which district each patch is in
        names = load.read_places()["name"]
        table = table.join(rank.patch_districts(areas.assign(**{PATCH_ID: patch_id}), names))
    return table


def _spread_units(config: Config, areas: gpd.GeoDataFrame) -> pd.Series | None:
    """Each area's ``recommend.spread`` unit: its ward or MSOA, or its ``patches.nest_within`` unit ("nest")."""
    spread = config.recommend.spread
    if spread in ("ward", "msoa"):
        return areas[NEST_LEVELS[spread]]
    if spread == "nest":
        return areas["nest_unit"] if "nest_unit" in areas else areas[NEST_LEVELS[config.patches.nest_within]]
    return None


def robustness(config: Config, areas: gpd.GeoDataFrame, inputs: Inputs, table: pd.DataFrame) -> pd.DataFrame:
    """Stage 7, continued: how often each patch stays in the top n as weights and counts vary (the
    areas in post are not ranked, so their robustness columns are empty)."""
    r = config.recommend
    if r.robustness_draws == 0:
        return table
    robust = rank.rank_robustness(
        areas,
        areas[PATCH_ID],
        inputs.indicators,
        config.need.indicators,
        n=r.n,
        method=config.need.standardise,
        missing=config.need.missing,
        counts=council_counts(inputs),
        n_draws=r.robustness_draws,
        concentration=r.weight_concentration,
        seed=config.seed,
        unranked=list(table.index[table[PHASE] == 0]),  # areas in post compete for no place
    )
    table = table.join(robust.astype({"rank_low": "Int64", "rank_high": "Int64"}))
    weak = (table[PHASE] == 1) & (table["p_top_n"] < r.min_probability)
    table["robustness"] = np.where(
        weak,
        [f"not robust: in the top {r.n} in {p:.0%} of {r.robustness_draws} draws" for p in table["p_top_n"]],
        "",
    )
    for pid in table.index[weak]:
        warnings.warn(
            f"phase-1 patch {pid} ({table.at[pid, PATCH_NAME]}) is {table.at[pid, 'robustness']}",
            RobustnessWarning,
            stacklevel=2,
        )
    return table


def evaluation(config: Config, graph: AreaGraph, patch_id: pd.Series, table: pd.DataFrame) -> rank.Evaluation | None:
    """Stage 7, continued: comparison patches for each phase-1 pick (``recommend.comparators``), or None.

    They are matched on population and the need index's shipped indicators: a council's own
    source is left out, so no balance mean can carry its small counts. Patches the budget
    funds beyond phase 1 get coordinators in the same period, so they are no comparators.
    """
    k = config.recommend.comparators
    if k == 0 or not (table[PHASE] == 1).any():
        return None
    shipped = [s.name for s in config.need.indicators if s.name in CATALOGUE]
    budget, cost = rank.given_budget(config), config.recommend.cost_per_coordinator
    funded = () if budget is None else rank.budget_answer(table, budget, cost_per_coordinator=cost)
    evaluation = rank.match_comparators(
        table, rank.patch_adjacency(graph, patch_id), shipped, k=k, funded=() if not funded else funded.patches.index
    )
    for message in evaluation.warnings:
        log.info("evaluation: %s", message)
    return evaluation


def patch_geometry(areas: gpd.GeoDataFrame, table: pd.DataFrame) -> gpd.GeoDataFrame:
    """The patch table with each patch's outline (the union of its areas), best rank first."""
    geometry = areas.geometry.groupby(areas[PATCH_ID]).apply(lambda g: g.union_all(method="coverage"))
    patches = gpd.GeoDataFrame(table, geometry=geometry.reindex(table.index), crs=areas.crs)
    return patches.sort_values(RANK)

"""``run(config)``: the single code path behind the CLI, the API and the notebooks.

One call per stage, in the order the code runs:

1. **load** the LA's areas and deprivation (:mod:`lacgeo.load`) and the council's
   sources, brought onto the areas (:mod:`lacgeo.harmonise`);
2. **validate** the areas and indicators (:mod:`lacgeo.validate`);
3. **need**: the need index, profiles and needs assessment (:mod:`lacgeo.need`);
4. **graph**: the contiguity graph with the island policy (:mod:`lacgeo.patches.graph`);
5. **select** the phase-1 picks beyond one partition (:mod:`lacgeo.select`);
6. **patches**: partition the rest around the picks, check, name (:mod:`lacgeo.patches`);
7. **rank**: summaries, ranking, phases, robustness, rollout (:mod:`lacgeo.rank`);
8. **outputs**, when ``out`` is given (:mod:`lacgeo.outputs`).

The output folder is checked before any work is done, so a run that could not be
written fails at once. :func:`check_manifest` re-runs a recorded run.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from . import harmonise, load, need, outputs, rank, validate
from .catalogue import CATALOGUE
from .config import NEST_CHOICES, BudgetConfig, Config, config_from_dict
from .errors import ConfigError, RobustnessWarning, SelectionWarning, UnusedSourceWarning, ValidationError
from .patches import AreaGraph, PatchAssignment, build_area_graph, build_patches, name_patches
from .result import RunResult
from .schema import (
    MSOA_NAME_CY,
    NEED_INDEX,
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
from .select.existing import existing_areas
from .select.phases import PhasePlan, pack_later_phases, search_phases

log = logging.getLogger(__name__)

IN_POST = "a coordinator's area in post, kept as given"
"""The band status of an area in post that is outside the band or in pieces."""


@dataclass
class _Inputs:
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


@contextmanager
def _stage(timings: dict[str, float], name: str) -> Iterator[None]:
    log.info("%s ...", name)
    start = time.perf_counter()
    yield
    timings[name] = round(timings.get(name, 0.0) + time.perf_counter() - start, 4)


def _load(config: Config, area: load.StudyArea) -> _Inputs:
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
    shares = need.share_counts(areas.index, names, vintage=vintage)
    return _Inputs(area, areas, deprivation, sources, indicators, list(dict.fromkeys(files)), index, shares)


def _validate(inputs: _Inputs, vintage: str) -> None:
    """Stage 2: every problem with the areas and indicators, reported at once."""
    validate.validate_areas(inputs.areas, source=f"lsoa{vintage[2:]}.parquet")
    validate.validate_indicators(inputs.indicators, source=f"indicators for {inputs.area.name}")


def _need(config: Config, inputs: _Inputs) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
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
        counts=_counts(inputs),
        proportions=[s.name for s in inputs.sources if s.proportion],
        shares=inputs.shares,
        quintile_col=index_of.local_quintile,
    )
    return areas, assessment


def _counts(inputs: _Inputs) -> dict[str, tuple[pd.Series, pd.Series]]:
    return {s.name: (s.count, s.denominator) for s in inputs.sources}


def _nest_units(config: Config, areas: gpd.GeoDataFrame) -> str | pd.Series:
    """``patches.nest_within``: a level name, or each area's unit of a user polygon file."""
    p = config.patches
    if p.nest_within in NEST_CHOICES:
        return p.nest_within
    units = load.read_polygons(p.nest_within, code_col=p.nest_code_col, layer=p.nest_layer)
    return harmonise.assign_to_units(areas, units, source=p.nest_within).rename(p.nest_code_col)


def _select(config: Config, areas: gpd.GeoDataFrame, graph: AreaGraph) -> PhasePlan | None:
    """Stage 5: the coordinators in post and the searched phases (``recommend.method = "select"``), or None.

    Phase 1 and the next ``recommend.search_phases - 1`` phases are searched, each given the
    ones before it; more when the budget funds coordinators beyond them.
    """
    r = config.recommend
    if r.method != "select":
        return None
    if config.patches.nest_within != "none":
        log.info('patches are nested, so phase 1 is the top-ranked nested patches (recommend.method = "rank")')
        return None
    existing = existing_areas(r.existing, areas)
    # spread = "nest" needs nested patches, which take the "rank" route above
    spread = areas[NEST_LEVELS[r.spread]] if r.spread in ("ward", "msoa") else None
    b = config.budget if config.budget.total > 0 else BudgetConfig(total=r.budget, period_months=12)
    funded, _, _ = rank.budget_coordinators(b, cost_per_coordinator=r.cost_per_coordinator)
    new = funded - (len(existing) if b.includes_existing else 0)
    n_phases = max(r.search_phases, 1 + math.ceil(max(0, new - r.n) / r.phase_size))
    phases, notes = search_phases(
        areas,
        areas[NEED_INDEX],
        graph,
        sizes=[r.n] + [r.phase_size] * (n_phases - 1),
        existing=[e.area_codes for e in existing],
        lock_in=r.lock_in,
        target_population=config.patches.target_population,
        band=config.patches.band,
        spread=spread,
        min_distance_m=r.min_distance_km * 1000.0 or None,
        near_m=r.near_km * 1000.0 or None,
        lock_out=r.lock_out,
        seed=config.seed,
    )
    for message in [*phases[0].warnings, *notes]:
        warnings.warn(message, SelectionWarning, stacklevel=2)
    return PhasePlan(tuple(existing), tuple(phases), tuple(notes))


def _patches(
    config: Config,
    areas: gpd.GeoDataFrame,
    graph: AreaGraph,
    nest: str | pd.Series,
    plan: PhasePlan | None,
) -> PatchAssignment:
    """Stage 6: partition the LA around the areas in post and the searched phases' picks."""
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
        fixed=plan.groups if plan else (),
        as_given=[IN_POST] * len(plan.existing) if plan else (),
    )


def _phases(config: Config, areas: gpd.GeoDataFrame, patch_id: pd.Series, plan: PhasePlan) -> pd.Series:
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


def _rank(
    config: Config,
    areas: gpd.GeoDataFrame,
    inputs: _Inputs,
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
        rank.patch_indicators(areas, patch_id, inputs.indicators, counts=_counts(inputs), shares=inputs.shares)
    )
    if plan is not None:
        for area in plan.existing:  # an area in post keeps the name the council gave it
            pid = patch_id[area.area_codes[0]]
            table.loc[pid, [c for c in (PATCH_NAME, PATCH_NAME_CY) if c in table]] = area.name
        table[PHASE] = _phases(config, areas, patch_id, plan).reindex(table.index)
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
    if rank.is_multi_district(areas):  # a county, ICB or list of councils: which district each patch is in
        names = load.read_places()["name"]
        table = table.join(rank.patch_districts(areas.assign(**{PATCH_ID: patch_id}), names))
    return table


def _robustness(config: Config, areas: gpd.GeoDataFrame, inputs: _Inputs, table: pd.DataFrame) -> pd.DataFrame:
    """Stage 7, continued: how often each patch stays in the top n as weights and counts vary."""
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
        counts=_counts(inputs),
        n_draws=r.robustness_draws,
        concentration=r.weight_concentration,
        seed=config.seed,
    )
    table = table.join(robust)
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


def _evaluation(config: Config, graph: AreaGraph, patch_id: pd.Series, table: pd.DataFrame) -> rank.Evaluation | None:
    """Stage 7, continued: comparison patches for each phase-1 pick (``recommend.comparators``), or None.

    They are matched on population and the need index's shipped indicators: a council's own
    source is left out, so no balance mean can carry its small counts.
    """
    k = config.recommend.comparators
    if k == 0 or not (table[PHASE] == 1).any():
        return None
    shipped = [s.name for s in config.need.indicators if s.name in CATALOGUE]
    evaluation = rank.match_comparators(table, rank.patch_adjacency(graph, patch_id), shipped, k=k)
    for message in evaluation.warnings:
        log.info("evaluation: %s", message)
    return evaluation


def _patch_geometry(areas: gpd.GeoDataFrame, table: pd.DataFrame) -> gpd.GeoDataFrame:
    """The patch table with each patch's outline (the union of its areas), best rank first."""
    geometry = areas.geometry.groupby(areas[PATCH_ID]).apply(lambda g: g.union_all(method="coverage"))
    patches = gpd.GeoDataFrame(table, geometry=geometry.reindex(table.index), crs=areas.crs)
    return patches.sort_values(RANK)


def run(config: Config, *, out: str | Path | None = None, overwrite: bool = False, strict: bool = False) -> RunResult:
    """Run the whole analysis for ``config``; write the output folder ``out`` if given.

    Parameters
    ----------
    config
        The run's configuration (:func:`lacgeo.make_config` or :func:`lacgeo.load_config`).
    out
        Output folder, written atomically after the analysis. It is checked first:
        an existing folder without ``overwrite`` stops the run before any work.
    overwrite
        Replace an existing ``out``.
    strict
        Any warning (an island linked, codes repaired, values filled by the missing
        policy...) stops the run with a :class:`ValidationError` listing them all,
        before anything is written. Otherwise warnings are logged and recorded in
        ``run.json``.

    Returns
    -------
    RunResult
        Its ``areas`` (one row per LSOA) and ``patches`` (one row per patch) are
        GeoDataFrames in EPSG:27700 indexed by code; ``summary()`` describes phase 1.

    Examples
    --------
    >>> import lacgeo
    >>> result = lacgeo.run(lacgeo.make_config(la="Rutland"))
    >>> result.areas.crs.to_string(), bool(result.patches["population"].between(8000, 12000).all())
    ('EPSG:27700', True)
    >>> print(result.summary().splitlines()[0])
    Rutland: 26 LSOAs, 4 patches (population ...)
    """
    area = load.resolve_area(config.area.la, name=config.area.name)  # a misspelt name stops the run here
    config, left_out = for_nation(config, area)
    if out is None:
        return _analyse(config, area, left_out, strict=strict)
    with outputs.output_lock(out):  # a second run given the same out stops here, before any work
        outputs.check_output_folder(out, overwrite=overwrite)
        result = _analyse(config, area, left_out, strict=strict)
        result.write(out, overwrite=overwrite)
    return result


def for_nation(config: Config, area: load.StudyArea) -> tuple[Config, dict[str, str]]:
    """The configuration a run of ``area`` uses, and the preset's indicators it leaves out, with why.

    Welsh areas run on LSOA 2011 with the Welsh Index of Multiple Deprivation 2019 (the only
    Welsh small areas and index shipped). The need preset is spelt out for the area's nation
    and vintage (:func:`lacgeo.need.resolve_need`): in Wales the WIMD score takes the IMD
    score's place and weight, and indicators that exist for England only are left out and
    said so in every output. A need index the user listed is kept as it is: an indicator
    that does not exist for the area then stops the run, naming it.

    >>> from lacgeo import make_config, load
    >>> config, left_out = for_nation(make_config(la="Swansea"), load.resolve_area("Swansea"))
    >>> config.area.vintage, [(s.name, s.weight) for s in config.need.indicators], sorted(left_out)
    ('2011', [('wimd_score', 2.0), ('disability_pct', 1.0)], ['acute_morbidity', 'preventable_mortality_smr'])
    """
    if area.nation == "Wales":
        config = replace(config, area=replace(config.area, vintage="2011"))
    need_config, left_out = need.resolve_need(config.need, area.nation, config.area.vintage)
    return replace(config, need=need_config), left_out


def _analyse(config: Config, area: load.StudyArea, left_out: dict[str, str], *, strict: bool) -> RunResult:
    """Stages 1-7 of :func:`run`: everything but the outputs."""
    timings: dict[str, float] = {}
    vintage = config.area.vintage
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with _stage(timings, "load"):
            inputs = _load(config, area)
        with _stage(timings, "validate"):
            _validate(inputs, vintage)
        with _stage(timings, "need"):
            areas, assessment = _need(config, inputs)
        with _stage(timings, "graph"):
            nest = _nest_units(config, areas)
            if isinstance(nest, pd.Series):
                areas["nest_unit"] = nest
            graph = build_area_graph(areas, islands=config.patches.islands)
        with _stage(timings, "select"):
            plan = _select(config, areas, graph)
        with _stage(timings, "patches"):
            assignment = _patches(config, areas, graph, nest, plan)
            areas[PATCH_ID] = assignment.patch_id
        with _stage(timings, "rank"):
            table = _rank(config, areas, inputs, assignment, plan)
        with _stage(timings, "robustness"):
            table = _robustness(config, areas, inputs, table)
            rollout = rank.rollout_plan(table, cost_per_coordinator=config.recommend.cost_per_coordinator)
            districts = (
                rank.district_summary(areas, table, load.read_places()["name"])
                if rank.is_multi_district(areas)
                else None
            )
        with _stage(timings, "compare"):
            names = need.profile_names([s.name for s in config.need.indicators], area.nation, vintage)
            comparisons = need.compare_patches(
                areas,
                areas[PATCH_ID],
                names,
                nation=area.nation,
                vintage=vintage,
                indicators=inputs.indicators,
                directions={s.name: s.direction for s in config.need.indicators},
            )
        with _stage(timings, "evaluation"):
            evaluation = _evaluation(config, graph, areas[PATCH_ID], table)
            baseline = rank.baseline_table(evaluation, comparisons) if evaluation else None
        with _stage(timings, "geometry"):
            patches = _patch_geometry(areas, table)
    messages = [str(w.message) for w in caught]
    if strict and messages:
        raise ValidationError([f"--strict: {m}" for m in messages])
    for message in messages:
        log.warning(message)
    result = RunResult(
        config,
        area.code,
        area.name,
        areas,
        patches,
        inputs.indicators,
        inputs.files,
        messages,
        timings,
        sources={s.name: s for s in inputs.sources},
        needs_assessment=assessment,
        comparisons=comparisons,
        rollout=rollout,
        districts=districts,
        evaluation=evaluation,
        baseline=baseline,
        area=area,
        left_out=left_out,
        writer=outputs.write_outputs,
    )
    log.info(
        "%s: %d areas, %d patches; phase 1: %s",
        area.name,
        len(areas),
        len(patches),
        ", ".join(result.recommended[PATCH_NAME]),
    )
    return result


def check_manifest(path: str | Path) -> list[str]:
    """Re-run the run recorded in ``run.json`` and list every difference from it.

    An empty list means the inputs still hash the same and the re-run produced
    byte-identical tables. The re-run's output goes to a temporary folder that is
    removed afterwards.

    Examples
    --------
    >>> import lacgeo, pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "rutland"
    >>> _ = lacgeo.run(lacgeo.make_config(la="Rutland"), out=out)
    >>> check_manifest(out / "run.json")
    []
    """
    path = Path(path)
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(recorded, dict) or not isinstance(recorded.get("config"), dict):
            raise TypeError("no 'config' table")
        config = config_from_dict(recorded["config"], source=str(path))
        expected = recorded["outputs"]
        if not isinstance(expected, dict) or not expected:
            raise TypeError("it records no output tables to compare")
    except FileNotFoundError:
        raise ConfigError(f"{path}: manifest not found") from None
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a lacgeo run.json ({exc}); give the run.json a lacgeo run wrote") from None
    differences = []
    shipped = load.data_dir()
    for item in recorded.get("inputs", []):
        file = shipped / Path(item["path"]).name if item["path"].startswith("data/") else Path(item["path"])
        if not file.exists():
            differences.append(f"input {item['path']} is missing")
        elif outputs.sha256(file) != item["sha256"]:
            differences.append(f"input {item['path']} has changed since the recorded run")
    with tempfile.TemporaryDirectory(prefix="lacgeo-check-") as tmp:
        run(config, out=Path(tmp) / "rerun")
        for name, digest in sorted(expected.items()):
            now = Path(tmp) / "rerun" / name
            if not now.exists():
                differences.append(f"{name} was not produced by the re-run")
            elif outputs.sha256(now) != digest:
                differences.append(f"{name} differs from the recorded run")
    return differences


__all__ = ["check_manifest", "run"]

"""``run(config)``: the single code path behind the CLI, the API and the notebooks.

load -> validate -> need index -> patches -> rank and recommend -> (outputs)
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from . import datasets, harmonise, load, need, rank, robustness, validate
from .config import NEST_CHOICES, Config
from .errors import ValidationError
from .patches import build_area_graph, build_patches
from .schema import IOD_RELEASE, NEED_INDEX, NEST_LEVELS, PATCH_ID, PATCH_NAME, PHASE, RANK
from .select import Selection, select_patches

log = logging.getLogger(__name__)


class RobustnessWarning(UserWarning):
    """A phase-1 pick stays in the top n in too few Monte Carlo draws."""


@dataclass
class RunResult:
    """Everything a run produced, before it is written to disk."""

    config: Config
    lad_code: str
    lad_name: str
    areas: gpd.GeoDataFrame
    patches: gpd.GeoDataFrame
    indicators: pd.DataFrame
    inputs: list[str]
    """Every file the run read: shipped data first, then the user's files."""
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    rollout: pd.DataFrame | None = None
    """One row per phase: patches, population, need and yearly cost."""
    needs_assessment: pd.DataFrame | None = None
    """Each indicator by local deprivation quintile with 95% confidence intervals."""
    sources: dict[str, harmonise.SourceCounts] = field(default_factory=dict)
    """Council service-demand sources on the areas (counts are never written per area)."""

    @property
    def synthetic(self) -> bool:
        """Whether any input is made-up (SYNTHETIC) data; every output then says so."""
        return any(s.synthetic for s in self.sources.values())

    @property
    def recommended(self) -> gpd.GeoDataFrame:
        """Phase-1 patches, best first."""
        return self.patches[self.patches[PHASE] == 1].sort_values(RANK)

    @property
    def affordable(self) -> pd.DataFrame:
        """The patches ``recommend.budget`` pays a coordinator for (empty if no budget is set)."""
        r = self.config.recommend
        return rank.affordable_patches(self.patches, budget=r.budget, cost_per_coordinator=r.cost_per_coordinator)

    def write(self, out: str | Path, *, overwrite: bool = False) -> Path:
        """Write the output folder atomically (see :func:`lacgeo.report.write_outputs`)."""
        from .report import write_outputs

        return write_outputs(self, out, overwrite=overwrite)


@contextmanager
def _stage(timings: dict[str, float], name: str) -> Iterator[None]:
    log.info("%s ...", name)
    start = time.perf_counter()
    yield
    timings[name] = round(timings.get(name, 0.0) + time.perf_counter() - start, 4)  # a stage may run in parts


def _select_phase1(config: Config, areas: gpd.GeoDataFrame, graph) -> Selection | None:
    """Phase-1 picks beyond one partition (``recommend.method = "select"``), or None."""
    r = config.recommend
    if r.method != "select":
        return None
    if config.patches.nest_within != "none":
        log.info('patches are nested, so phase 1 is the top-ranked nested patches (recommend.method = "rank")')
        return None
    # spread = "nest" needs nested patches, which take the "rank" route above
    spread = areas[NEST_LEVELS[r.spread]] if r.spread in ("ward", "msoa") else None
    selection = select_patches(
        areas,
        areas[NEED_INDEX],
        graph,
        n=r.n,
        target_population=config.patches.target_population,
        band=config.patches.band,
        spread=spread,
        min_distance_m=r.min_distance_km * 1000.0 or None,
        lock_in=r.lock_in,
        lock_out=r.lock_out,
        seed=config.seed,
    )
    for message in selection.warnings:
        warnings.warn(message, SelectionWarning, stacklevel=2)
    return selection


class SelectionWarning(UserWarning):
    """Fewer phase-1 picks than asked for could be placed."""


def run(config: Config, *, out: str | Path | None = None, overwrite: bool = False, strict: bool = False) -> RunResult:
    """Run the whole analysis for ``config``; write ``out`` if given.

    Warnings (an island linked, codes repaired, values filled by the missing policy...)
    are logged and recorded in ``run.json``; with ``strict=True`` any warning stops the
    run with a :class:`ValidationError` listing them, before anything is written.

    Returns the :class:`RunResult`; its ``areas`` (one row per LSOA) and ``patches``
    (one row per patch) are GeoDataFrames in EPSG:27700 indexed by code.
    """
    timings: dict[str, float] = {}
    inputs: list[str] = []
    vintage = config.area.vintage
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with _stage(timings, "load"):
            lad_code, lad_name = datasets.resolve_la(config.area.la)
            areas = datasets.read_areas(lad_code, vintage=vintage)
            deprivation = datasets.read_deprivation(areas.index, vintage=vintage)
            sources = [harmonise.read_source(src, areas, vintage=vintage) for src in config.sources]
            for src in config.sources:
                inputs += [src.path] + ([src.lookup] if src.kind == "postcodes" else [])
            rates = {s.name: s.count / s.denominator * 1000.0 for s in sources}
            reasons = pd.DataFrame({s.name: s.reason for s in sources}, index=areas.index)
            names = [i.name for i in config.need.indicators]
            indicators = need.read_indicators(
                areas.index, names, vintage=vintage, deprivation=deprivation, sources=rates
            )
        with _stage(timings, "validate"):
            validate.validate_areas(areas, source=f"lsoa{vintage[2:]}.parquet")
            validate.validate_indicators(indicators, source=f"indicators for {lad_name}")
        with _stage(timings, "need"):
            index = need.compute_need_index(
                indicators,
                config.need.indicators,
                method=config.need.standardise,
                missing=config.need.missing,
                reasons=reasons,
            )
            areas = areas.join(need.deprivation_columns(deprivation, areas["population"])).join(index)
            profiles = need.need_profiles(
                indicators,
                config.need.indicators,
                population=areas["population"],
                n_profiles=config.need.n_profiles,
                seed=config.seed,
            )
            areas = areas.join(profiles)
            counts = {s.name: (s.count, s.denominator) for s in sources}
            assessment = need.needs_assessment(
                areas,
                indicators,
                config.need.indicators,
                counts=counts,
                proportions=[s.name for s in sources if s.proportion],
            )
        with _stage(timings, "patches"):
            p = config.patches
            nest = p.nest_within
            if nest not in NEST_CHOICES:  # a polygon file of units, e.g. community areas
                units = load.read_polygons(nest, code_col=p.nest_code_col)
                nest = harmonise.assign_to_units(areas, units, source=nest).rename(p.nest_code_col)
                areas["nest_unit"] = nest
                inputs.append(p.nest_within)
            graph = build_area_graph(areas, islands=p.islands)
        with _stage(timings, "select"):
            selection = _select_phase1(config, areas, graph)
        with _stage(timings, "patches"):
            assignment = build_patches(
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
                fixed=[pick.area_codes for pick in selection.picks] if selection else (),
            )
            areas[PATCH_ID] = assignment.patch_id
        with _stage(timings, "rank"):
            table = rank.summarise_patches(areas, assignment.patch_id, names=assignment.names, flags=assignment.flags)
            table = table.join(rank.patch_profiles(areas, assignment.patch_id, areas["need_profile"]))
            table = table.join(rank.patch_indicators(areas, assignment.patch_id, indicators, counts=counts))
            picks = [assignment.patch_id[pick.area_codes[0]] for pick in selection.picks] if selection else []
            table[RANK] = rank.rank_patches(table, first=picks)
            n_phase1 = len(picks) if selection else config.recommend.n
            table[PHASE] = rank.assign_phases(table[RANK], n=n_phase1, phase_size=config.recommend.phase_size)
        with _stage(timings, "robustness"):
            r = config.recommend
            if r.robustness_draws > 0:
                robust = robustness.rank_robustness(
                    areas,
                    areas[PATCH_ID],
                    indicators,
                    config.need.indicators,
                    n=r.n,
                    method=config.need.standardise,
                    missing=config.need.missing,
                    counts=counts,
                    n_draws=r.robustness_draws,
                    concentration=r.weight_concentration,
                    seed=config.seed,
                )
                table = table.join(robust)
                weak = (table[PHASE] == 1) & (table["p_top_n"] < r.min_probability)
                table["robustness"] = np.where(
                    weak,
                    [
                        f"not robust: in the top {r.n} in {p:.0%} of {r.robustness_draws} draws"
                        for p in table["p_top_n"]
                    ],
                    "",
                )
                for pid in table.index[weak]:
                    warnings.warn(
                        f"phase-1 patch {pid} ({table.at[pid, PATCH_NAME]}) is {table.at[pid, 'robustness']}",
                        RobustnessWarning,
                        stacklevel=2,
                    )
            rollout = rank.rollout_plan(table, cost_per_coordinator=r.cost_per_coordinator)
        with _stage(timings, "geometry"):
            geometry = areas.geometry.groupby(areas[PATCH_ID]).apply(lambda g: g.union_all(method="coverage"))
            patches = gpd.GeoDataFrame(table, geometry=geometry.reindex(table.index), crs=areas.crs)
            patches = patches.sort_values(RANK)
    messages = [str(w.message) for w in caught]
    if strict and messages:
        raise ValidationError([f"--strict: {m}" for m in messages])
    for message in messages:
        log.warning(message)
    shipped = [f"lsoa{vintage[2:]}.parquet", f"{IOD_RELEASE[vintage].lower()}_lsoa{vintage[2:]}.parquet", "lads.csv"]
    if "preventable_mortality_smr" in names:
        shipped += ["localhealth_msoa11.parquet", "lookup_lsoa11_lsoa21.csv", "lsoa11.parquet"]
    inputs = [str(datasets.data_file(name)) for name in shipped] + inputs
    result = RunResult(
        config,
        lad_code,
        lad_name,
        areas,
        patches,
        indicators,
        list(dict.fromkeys(inputs)),
        messages,
        timings,
        sources={s.name: s for s in sources},
        needs_assessment=assessment,
        rollout=rollout,
    )
    log.info(
        "%s: %d areas, %d patches; phase 1: %s",
        lad_name,
        len(areas),
        len(patches),
        ", ".join(result.recommended[PATCH_NAME]),
    )
    if out is not None:
        result.write(out, overwrite=overwrite)
    return result


__all__ = ["RunResult", "run"]

"""``run(config)``: the single code path behind the CLI, the API and the notebooks.

One call per stage, in the order the code runs (the stage functions are in
:mod:`lacgeo.stages`, and those of stages 5 and 6 in :mod:`lacgeo.placement`):

1. **load** the LA's areas and deprivation (:mod:`lacgeo.load`) and the council's
   sources, brought onto the areas (:mod:`lacgeo.harmonise`);
2. **validate** the areas and indicators (:mod:`lacgeo.validate`);
3. **need**: the need index, profiles and needs assessment (:mod:`lacgeo.need`);
4. **graph**: the contiguity graph with the island policy (:mod:`lacgeo.patches.graph`);
5. **select**: the coordinators in post and the searched phases (:mod:`lacgeo.select`), on
   LSOAs or whole wards (:mod:`lacgeo.patches.units`);
6. **patches**: partition the rest around them, check, name (:mod:`lacgeo.patches`);
7. **rank**: summaries, ranking, phases, robustness, rollout, the evaluation design (:mod:`lacgeo.rank`);
8. **outputs**, when ``out`` is given (:mod:`lacgeo.outputs`).

The output folder is checked before any work is done, so a run that could not be
written fails at once. :func:`check_manifest` re-runs a recorded run.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pandas as pd

from . import load, need, outputs, placement, rank, stages
from .config import Config, config_from_dict
from .errors import ConfigError, ValidationError
from .patches import build_area_graph
from .result import RunResult
from .schema import PATCH_ID, PATCH_NAME

log = logging.getLogger(__name__)


@contextmanager
def _stage(timings: dict[str, float], name: str) -> Iterator[None]:
    log.info("%s ...", name)
    start = time.perf_counter()
    yield
    timings[name] = round(timings.get(name, 0.0) + time.perf_counter() - start, 4)


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
            inputs = stages.load_inputs(config, area)
        with _stage(timings, "validate"):
            stages.validate_inputs(inputs, vintage)
        with _stage(timings, "need"):
            areas, assessment = stages.need_stage(config, inputs)
        with _stage(timings, "graph"):
            nest = stages.nest_units(config, areas)
            if isinstance(nest, pd.Series):
                areas["nest_unit"] = nest
            graph = build_area_graph(areas, islands=config.patches.islands)
            units = placement.ward_units_of(config, areas, graph, set()) if config.area.units == "ward" else None
        with _stage(timings, "select"):
            plan = placement.select_phases(config, areas, graph, units)
        with _stage(timings, "patches"):
            if units is not None:
                assignment, plan = placement.ward_partition(config, areas, graph, units, plan)
            else:
                fixed, in_post = (plan.groups, len(plan.existing)) if plan else ([], 0)
                assignment = placement.partition(config, areas, graph, nest, fixed, in_post)
            placement.warn_cut_off(assignment, areas, plan)
            areas[PATCH_ID] = assignment.patch_id
        with _stage(timings, "rank"):
            table = stages.rank_table(config, areas, inputs, assignment, plan)
        with _stage(timings, "robustness"):
            table = stages.robustness(config, areas, inputs, table)
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
            evaluation = stages.evaluation(config, graph, areas[PATCH_ID], table)
            baseline = rank.baseline_table(evaluation, comparisons) if evaluation else None
        with _stage(timings, "geometry"):
            patches = stages.patch_geometry(areas, table)
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

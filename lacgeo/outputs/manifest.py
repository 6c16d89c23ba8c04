"""``run.json``: what went into a run and what came out, so a re-run can be checked byte for byte."""

from __future__ import annotations

import hashlib
import platform
from importlib import metadata
from pathlib import Path

from .. import load
from .._version import __version__
from ..catalogue import CATALOGUE
from ..result import RunResult
from ..schema import PHASE, POPULATION

PACKAGES = [
    "numpy",
    "pandas",
    "geopandas",
    "shapely",
    "pyogrio",
    "pyarrow",
    "folium",
    "scipy",
]


def sha256(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


TABLES = (
    "patches.csv",
    "areas.csv",
    "needs_assessment.csv",
    "rollout.csv",
    "districts.csv",
    "comparisons.csv",
    "evaluation.csv",
    "evaluation_balance.csv",
    "evaluation_baseline.csv",
    "report.html",
    "lacgeo.xlsx",
    "map.html",
)
"""The tables that must be byte-identical for the same inputs and config."""


def manifest(result: RunResult, *, outputs: dict[str, str] | None = None) -> dict:
    """What ``run.json`` records: config, inputs with hashes, data vintages, versions, seed,
    warnings, timings and the SHA-256 of each output table."""
    vintage = result.config.area.vintage
    inputs = []
    shipped = load.data_dir().resolve()
    for name in result.inputs:
        path = Path(name).resolve()
        shown = f"data/{path.name}" if path.parent == shipped else str(path)
        inputs.append({"path": shown, "bytes": path.stat().st_size, "sha256": sha256(path)})
    versions = {"lacgeo": __version__, "python": platform.python_version()}
    for pkg in PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:  # pragma: no cover
            versions[pkg] = None
    return {
        "lacgeo_version": __version__,
        "local_authority": {"code": result.lad_code, "name": result.lad_name}
        | (
            {"kind": result.area.kind, "places": [p.label for p in result.area.places]}
            if result.area is not None
            else {}
        ),
        "config": result.config.to_dict(),
        "seed": result.config.seed,
        "inputs": inputs,
        "versions": versions,
        "warnings": result.warnings,
        "timings_seconds": result.timings,
        "summary": {
            "areas": len(result.areas),
            "patches": len(result.patches),
            "population": int(result.areas[POPULATION].sum()),
            "in_post": list(result.patches.index[result.patches[PHASE] == 0].sort_values()),
            "phase_1": list(result.recommended.index),
            "comparators": None
            if result.evaluation is None
            else {
                pick: list(group["comparator_id"])
                for pick, group in result.evaluation.pairs.groupby("pick_id", sort=False)
            },
            "cost_per_coordinator": result.config.recommend.cost_per_coordinator,
            "budget": result.config.budget.total or result.config.recommend.budget,
            "budget_coordinators": None if result.budget is None else result.budget.coordinators,
            "affordable_patches": list(result.affordable.index),
        },
        "data_vintages": {
            "geography": f"LSOA {vintage}",
            "deprivation": result.deprivation.release,
            "population": "ONS Census 2021 usual residents (TS038)"
            if vintage == "2021"
            else "ONS mid-2020 small area estimates",
        }
        | {
            spec.name: f"{i.publisher}, {i.period} ({i.geography})"
            for spec in result.config.need.indicators
            if (i := CATALOGUE.get(spec.name)) is not None
        },
        "left_out": result.left_out,
        "outputs": outputs or {},
        "synthetic": result.synthetic,
        "attribution": load.ATTRIBUTION,
    }

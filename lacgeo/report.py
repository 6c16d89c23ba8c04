"""Stage 7b: tables, GeoPackage, map and manifest, written atomically.

The output folder is built in a temporary sibling folder and renamed into place
only when everything succeeded, so a failed or interrupted run leaves no half
folder and never damages the previous output.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from . import __version__, datasets, disclosure
from .errors import OutputError
from .maps import make_result_map
from .report_html import render_report
from .schema import (
    AREA_CODE,
    AREA_NAME,
    BAND_STATUS,
    EXCESS_NEED,
    IMD_QUINTILE,
    IMD_SCORE,
    IOD_RELEASE,
    LOCAL_QUINTILE,
    MSOA_NAME,
    N_AREAS,
    NEED_INDEX,
    PATCH_ID,
    PATCH_NAME,
    PHASE,
    POPULATION,
    RANK,
    WARD_NAME,
)
from .workbook import FORMULA_START, write_workbook

if TYPE_CHECKING:
    from .pipeline import RunResult

AREA_COLUMNS = [
    AREA_NAME,
    POPULATION,
    NEED_INDEX,
    IMD_QUINTILE,
    PATCH_ID,
    LOCAL_QUINTILE,
    IMD_SCORE,
    MSOA_NAME,
    WARD_NAME,
]
PATCH_COLUMNS = [PATCH_NAME, POPULATION, NEED_INDEX, RANK, N_AREAS, PHASE, EXCESS_NEED, IMD_SCORE, BAND_STATUS] + [
    f"share_imd_q{q}" for q in range(1, 6)
]
PACKAGES = [
    "numpy",
    "pandas",
    "geopandas",
    "shapely",
    "pyogrio",
    "pyarrow",
    "libpysal",
    "folium",
    "scipy",
    "scikit-learn",
]
FLOAT_FORMAT = "%.6f"
SYNTHETIC_NOTE = "SYNTHETIC: built from made-up service-demand data, not for decisions"


def area_table(result: RunResult) -> gpd.GeoDataFrame:
    """The ``areas`` layer: one row per small area.

    Indicator values appear as ``value_<name>``. For council service-demand sources
    the value (a rate) is withheld where the area's count is small, and where that
    is needed so no small count can be recovered by subtracting from a published
    total (see :mod:`lacgeo.disclosure`).
    Counts themselves and point records never appear in any output.
    """
    contrib = [c for c in result.areas.columns if c.startswith("contrib_")]
    table = result.areas[AREA_COLUMNS + contrib + ["geometry"]].copy()
    values = result.indicators.add_prefix("value_")
    for name, hidden in _hidden_areas(result).items():
        col = f"value_{name}"
        if col in values:
            values.loc[hidden, col] = float("nan")
            # the index and this source's contribution would give the rate back
            table.loc[hidden, [NEED_INDEX, f"contrib_{name}"]] = float("nan")
    table = table.join(values)
    if result.synthetic:
        table["data_status"] = SYNTHETIC_NOTE
    table.index.name = AREA_CODE
    return table.sort_index()


def _hidden_areas(result: RunResult) -> dict[str, pd.Index]:
    """Per council source, the areas whose rate must not be published (see ``disclosure``)."""
    groups = [result.areas[PATCH_ID], result.areas[LOCAL_QUINTILE], pd.Series(0, index=result.areas.index)]
    limit = result.config.disclosure.small_count_max
    return {name: disclosure.suppress_cells(src.count, groups, max_count=limit) for name, src in result.sources.items()}


def assessment_table(result: RunResult) -> pd.DataFrame:
    """The needs-assessment table with small council counts (and their rates) withheld."""
    table = result.needs_assessment.copy()
    limit = result.config.disclosure.small_count_max
    for name in result.sources:
        rows = table.index[(table["indicator"] == name) & (table["quintile"] != "All")]
        hidden = disclosure.suppress_totals(table.loc[rows, "count"].astype(float), max_count=limit)
        everyone = table.index[(table["indicator"] == name) & (table["quintile"] == "All")]
        hidden = hidden.union(everyone[table.loc[everyone, "count"].astype(float).between(1, limit)])
        table.loc[hidden, ["value", "lower", "upper", "count"]] = pd.NA
    if result.synthetic:
        table["data_status"] = SYNTHETIC_NOTE
    return table


def patch_table(result: RunResult) -> gpd.GeoDataFrame:
    """The ``patches`` layer: one row per patch, best rank first."""
    values = [c for c in result.patches.columns if c.startswith("value_")]
    robust = [c for c in ("p_top_n", "rank_low", "rank_high", "robustness") if c in result.patches.columns]
    table = result.patches[PATCH_COLUMNS + robust + ["need_profile", "need_profile_share"] + values + ["geometry"]]
    table = table.sort_values(RANK).copy()
    for name, src in result.sources.items():
        col = f"value_{name}"
        if col in table:
            patch_count = src.count.groupby(result.areas[PATCH_ID]).sum().reindex(table.index)
            limit = result.config.disclosure.small_count_max
            table.loc[disclosure.suppress_totals(patch_count, max_count=limit), col] = float("nan")
    if result.synthetic:
        table["data_status"] = SYNTHETIC_NOTE
    table.index.name = PATCH_ID
    return table


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


TABLES = ("patches.csv", "areas.csv", "needs_assessment.csv", "rollout.csv", "report.html", "lacgeo.xlsx", "map.html")
"""The tables that must be byte-identical for the same inputs and config."""


def manifest(result: RunResult, *, outputs: dict[str, str] | None = None) -> dict:
    """What ``run.json`` records: config, inputs with hashes, data vintages, versions, seed,
    warnings, timings and the SHA-256 of each output table."""
    vintage = result.config.area.vintage
    inputs = []
    shipped = datasets.data_dir().resolve()
    for name in result.inputs:
        path = Path(name).resolve()
        shown = f"data/{path.name}" if path.parent == shipped else str(path)
        inputs.append({"path": shown, "bytes": path.stat().st_size, "sha256": _sha256(path)})
    versions = {"lacgeo": __version__, "python": platform.python_version()}
    for pkg in PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:  # pragma: no cover
            versions[pkg] = None
    return {
        "lacgeo_version": __version__,
        "local_authority": {"code": result.lad_code, "name": result.lad_name},
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
            "phase_1": list(result.recommended.index),
            "cost_per_coordinator": result.config.recommend.cost_per_coordinator,
            "budget": result.config.recommend.budget,
            "affordable_patches": list(result.affordable.index),
        },
        "data_vintages": {
            "geography": f"LSOA {vintage}",
            "deprivation": IOD_RELEASE[vintage],
            "population": "ONS mid-2020 small area estimates"
            + (" (derived for LSOA 2021)" if vintage == "2021" else ""),
            "preventable_mortality": "Local Health, deaths 2015-19 (MSOA 2011)",
        },
        "outputs": outputs or {},
        "synthetic": result.synthetic,
        "attribution": datasets.ATTRIBUTION,
    }


def spreadsheet_safe(values: pd.Series) -> pd.Series:
    """Text that a spreadsheet would run as a formula (starting ``=``, ``+``, ``-``, ``@``)
    gets a leading apostrophe, so it opens as text. Numbers are left alone."""
    if values.dtype.kind in "biufc":
        return values
    text = values.astype("string")
    risky = text.str.startswith(FORMULA_START).fillna(False) & pd.to_numeric(text, errors="coerce").isna()
    return values.where(~risky, "'" + text)


def write_csv(table: pd.DataFrame, path: Path, *, index: bool = True) -> None:
    """A CSV output: fixed float format and line endings (byte-stable), formula-safe text."""
    safe = table.apply(spreadsheet_safe)
    if index and not pd.api.types.is_numeric_dtype(table.index):
        safe.index = spreadsheet_safe(pd.Series(table.index, index=table.index)).to_numpy()
        safe.index.name = table.index.name
    safe.to_csv(path, index=index, float_format=FLOAT_FORMAT, lineterminator="\n")


def _write_all(result: RunResult, folder: Path) -> None:
    areas = area_table(result)
    patches = patch_table(result)
    recommended = patches[patches[PHASE] == 1]
    gpkg = folder / "lacgeo.gpkg"
    areas.reset_index().to_file(gpkg, layer="areas", driver="GPKG", engine="pyogrio")
    patches.reset_index().to_file(gpkg, layer="patches", driver="GPKG", engine="pyogrio")
    recommended.reset_index().to_file(gpkg, layer="recommended", driver="GPKG", engine="pyogrio")
    write_csv(pd.DataFrame(patches.drop(columns="geometry")), folder / "patches.csv")
    write_csv(pd.DataFrame(areas.drop(columns="geometry")), folder / "areas.csv")
    if result.rollout is not None:
        write_csv(result.rollout, folder / "rollout.csv", index=False)
    if result.needs_assessment is not None:
        write_csv(assessment_table(result), folder / "needs_assessment.csv", index=False)
    title = f"lacgeo: Local Area Coordination patches for {result.lad_name}"
    if result.synthetic:
        title += " (SYNTHETIC data)"
    make_result_map(result, title=title).save(str(folder / "map.html"))
    (folder / "report.html").write_text(render_report(result), encoding="utf-8")
    write_workbook(result, folder / "lacgeo.xlsx")
    outputs = {name: _sha256(folder / name) for name in TABLES if (folder / name).exists()}
    (folder / "run.json").write_text(
        json.dumps(manifest(result, outputs=outputs), indent=2, sort_keys=True, default=str) + "\n",
        encoding="utf-8",
    )


def write_outputs(result: RunResult, out: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``out`` atomically: build a temporary sibling folder, then rename it.

    An existing ``out`` is replaced only with ``overwrite=True``; on any error the
    temporary folder is removed and ``out`` is left as it was.
    """
    out = Path(out).resolve()
    if out.exists() and not overwrite:
        raise OutputError(f"{out} already exists; choose another --out or pass --overwrite to replace it")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder; choose another --out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder next to {out}: {exc.strerror}") from None
    try:
        _write_all(result, tmp)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / out.name)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def check_manifest(path: str | Path) -> list[str]:
    """Re-run the run recorded in ``run.json`` and list every difference from it.

    An empty list means the inputs still hash the same and the re-run produced
    byte-identical tables. The re-run's output goes to a temporary folder that is
    removed afterwards.
    """
    from .config import config_from_dict
    from .pipeline import run

    path = Path(path)
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
        config = config_from_dict(recorded["config"], source=str(path))
        expected = recorded["outputs"]
    except FileNotFoundError:
        raise OutputError(f"{path}: manifest not found") from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise OutputError(f"{path}: not a lacgeo run.json ({exc})") from None
    differences = []
    shipped = datasets.data_dir()
    for item in recorded.get("inputs", []):
        file = shipped / Path(item["path"]).name if item["path"].startswith("data/") else Path(item["path"])
        if not file.exists():
            differences.append(f"input {item['path']} is missing")
        elif _sha256(file) != item["sha256"]:
            differences.append(f"input {item['path']} has changed since the recorded run")
    with tempfile.TemporaryDirectory(prefix="lacgeo-check-") as tmp:
        run(config, out=Path(tmp) / "rerun")
        for name, digest in sorted(expected.items()):
            now = Path(tmp) / "rerun" / name
            if not now.exists():
                differences.append(f"{name} was not produced by the re-run")
            elif _sha256(now) != digest:
                differences.append(f"{name} differs from the recorded run")
    return differences

"""Stage 8, the output folder: every file of a run, written atomically.

The folder is built in a temporary sibling folder and renamed into place only when
everything succeeded, so a failed or interrupted run leaves no half folder and never
damages the previous output.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ..errors import OutputError
from ..result import RunResult
from ..schema import NEED_INDEX, PATCH_ID, PATCH_NAME, PHASE, POPULATION
from .manifest import TABLES, manifest, sha256
from .map import make_result_map
from .report import render_report
from .styles import gpkg_styles, write_layer_styles
from .tables import (
    EVALUATION_FILES,
    area_table,
    assessment_table,
    comparison_table,
    district_table,
    evaluation_tables,
    patch_table,
    rollout_table,
    write_csv,
)
from .workbook import write_workbook

GPKG_LAYERS = ("areas", "patches", "recommended", "comparators")
"""The GeoPackage's map layers, in order (it also holds the ``layer_styles`` table); ``comparators`` only
in a run with an evaluation design (``result.evaluation``)."""
COMPARATOR_COLUMNS = [PATCH_NAME, "pick_id", "pick_name", "match_order", "distance", "same_profile", POPULATION, PHASE]
"""The ``comparators`` layer's columns (after ``patch_id``, the comparison patch): its pick, and its own phase."""


def geopackage_layer(table: gpd.GeoDataFrame, *, score_col: str) -> gpd.GeoDataFrame:
    """A table as a GeoPackage layer: without ``value_<score>`` where it repeats ``score_col``.

    When the deprivation score is also an indicator (the default), the tables carry it twice:
    ``imd_score`` (the deprivation columns every run has) and ``value_imd_score`` (the
    indicators' columns). The layer keeps ``imd_score`` only; the CSVs and the workbook keep
    both, as ``lacgeo compare`` reads the ``value_`` columns.
    """
    twin = f"value_{score_col}"
    if twin in table and score_col in table:
        a, b = table[twin], table[score_col]
        if ((a == b) | (a.isna() & b.isna())).all():
            table = table.drop(columns=twin)
    return table


def comparator_layer(result: RunResult, patches: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """The ``comparators`` layer: one row per comparison patch of the evaluation design, its outline,
    the pick it is matched to (``pick_id``, ``pick_name``, ``match_order``, ``distance``,
    ``same_profile``), its population and its own rollout phase (a comparator keeps no coordinator
    until the follow-up is measured); None without a design. Indexed by the comparator's ``patch_id``."""
    if result.evaluation is None:
        return None
    pairs = result.evaluation.pairs.set_index("comparator_id")
    layer = pairs.rename(columns={"comparator_name": PATCH_NAME, "comparator_population": POPULATION})
    layer[PHASE] = patches[PHASE].reindex(layer.index).astype("int64")
    layer.index.name = PATCH_ID
    return gpd.GeoDataFrame(layer[COMPARATOR_COLUMNS], geometry=patches.geometry.reindex(layer.index), crs=patches.crs)


def write_geopackage(result: RunResult, path: Path, *, areas: gpd.GeoDataFrame, patches: gpd.GeoDataFrame) -> None:
    """``lacgeo.gpkg``: layers ``areas``, ``patches``, ``recommended`` (phase 1) and, with an evaluation design,
    ``comparators``, every one MultiPolygon in EPSG:27700, and a ``layer_styles`` table so QGIS opens each
    layer styled."""
    score = result.deprivation.score
    layers = {
        "areas": geopackage_layer(areas, score_col=score),
        "patches": geopackage_layer(patches, score_col=score),
    }
    layers["recommended"] = layers["patches"][layers["patches"][PHASE] == 1]
    comparators = comparator_layer(result, patches)
    if comparators is not None:
        layers["comparators"] = comparators
    for name in [n for n in GPKG_LAYERS if n in layers]:  # one geometry type for all: MultiPolygon
        layers[name].reset_index().to_file(
            path, layer=name, driver="GPKG", engine="pyogrio", promote_to_multi=True, geometry_type="MultiPolygon"
        )
    index = result.deprivation
    styles = gpkg_styles(
        layers["areas"],
        layers["patches"],
        layers["recommended"],
        need_col=NEED_INDEX,
        quintile_col=index.quintile,
        short=index.short,
        nation=index.nation,
        id_col=PATCH_ID,
        name_col=PATCH_NAME,
        phase_col=PHASE,
        comparators=comparators,
    )
    write_layer_styles(path, styles)


def _write_all(result: RunResult, folder: Path) -> None:
    areas = area_table(result)
    patches = patch_table(result)
    write_geopackage(result, folder / "lacgeo.gpkg", areas=areas, patches=patches)
    write_csv(pd.DataFrame(patches.drop(columns="geometry")), folder / "patches.csv")
    write_csv(pd.DataFrame(areas.drop(columns="geometry")), folder / "areas.csv")
    if result.rollout is not None:
        write_csv(rollout_table(result), folder / "rollout.csv", index=False)
    if result.needs_assessment is not None:
        write_csv(assessment_table(result), folder / "needs_assessment.csv", index=False)
    districts = district_table(result)
    if districts is not None:
        write_csv(districts, folder / "districts.csv", index=False)
    comparisons = comparison_table(result)
    if comparisons is not None:
        write_csv(comparisons, folder / "comparisons.csv", index=False)
    for name, table in evaluation_tables(result).items():
        write_csv(table, folder / name, index=False)
    title = f"lacgeo: Local Area Coordination patches for {result.lad_name}"
    if result.synthetic:
        title += " (SYNTHETIC data)"
    make_result_map(result, title=title).save(str(folder / "map.html"))
    (folder / "report.html").write_text(render_report(result), encoding="utf-8")
    write_workbook(result, folder / "lacgeo.xlsx")
    outputs = {name: sha256(folder / name) for name in TABLES if (folder / name).exists()}
    (folder / "run.json").write_text(
        json.dumps(manifest(result, outputs=outputs), indent=2, sort_keys=True, default=str) + "\n",
        encoding="utf-8",
    )


def default_output_folder(la_name: str) -> Path:
    """Where a run goes when no folder is given: ``lacgeo-output/<la>`` in the working folder.

    >>> default_output_folder("King's Lynn and West Norfolk").as_posix()
    'lacgeo-output/king-s-lynn-and-west-norfolk'
    """
    slug = "".join(c.lower() if c.isalnum() else "-" for c in la_name).strip("-").replace("--", "-")
    return Path("lacgeo-output") / slug


def check_output_folder(out: str | Path, *, overwrite: bool = False) -> Path:
    """Raise :class:`OutputError` now if ``out`` could not be written after the analysis.

    ``out`` may not exist yet, or be an existing folder with ``overwrite=True``; the
    nearest existing folder above it must be writable. Returns ``out`` resolved.
    """
    out = Path(out).resolve()
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder; choose another --out")
    if out.exists() and not overwrite:
        raise OutputError(f"{out} already exists; choose another --out or pass --overwrite to replace it")
    if out.exists():
        foreign = foreign_files(out)
        if foreign:
            raise OutputError(
                f"{out} holds files lacgeo did not write ({', '.join(foreign[:4])}"
                + (f" and {len(foreign) - 4} more" if len(foreign) > 4 else "")
                + "); --overwrite only replaces a lacgeo output folder, so nothing was touched. Choose a new "
                "or empty --out"
            )
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot create the output folder {out}: {parent} is not a writable folder")
    return out


OUTPUT_FILES = frozenset(
    {
        "areas.csv",
        "patches.csv",
        "needs_assessment.csv",
        "rollout.csv",
        "districts.csv",
        "comparisons.csv",
        *EVALUATION_FILES,
        "lacgeo.gpkg",
        "lacgeo.xlsx",
        "map.html",
        "report.html",
        "run.json",
    }
)
"""Every file a run writes: a folder holding anything else is not lacgeo's to replace."""


SYSTEM_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
"""Files macOS Finder and Windows Explorer leave in a folder they have shown: not a user's."""


def foreign_files(folder: Path) -> list[str]:
    """The entries of ``folder`` that a lacgeo run did not write (sorted), so ``--overwrite`` never
    deletes a user's files, inputs or a folder such as the home folder. The files a file browser
    leaves behind (:data:`SYSTEM_FILES`) do not count."""
    return sorted(
        p.name + ("/" if p.is_dir() else "")
        for p in folder.iterdir()
        if p.name not in OUTPUT_FILES and p.name not in SYSTEM_FILES
    )


_HELD: set[tuple[Path, int]] = set()
"""(folder, thread) pairs holding a lock: a run holds it while it computes, and writing takes it again."""


def _lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.lacgeo-lock"


def _stale(lock: Path) -> bool:
    """Whether ``lock`` was left by a lacgeo process on this machine that is no longer running."""
    try:
        pid_text, host = lock.read_text(encoding="utf-8").split("\n")[:2]
        pid = int(pid_text)
    except (OSError, ValueError):
        return False
    if host != socket.gethostname() or sys.platform == "win32":  # on Windows, signal 0 is not a probe
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, but another user's
        return False
    return False


@contextmanager
def output_lock(out: str | Path) -> Iterator[Path]:
    """Hold the lock of the output folder ``out`` (a ``.<name>.lacgeo-lock`` file beside it) while a run
    computes and writes it, so two runs given the same ``--out`` cannot replace each other's output: the
    second stops at once with :class:`OutputError`. A lock left by a lacgeo process that has died on this
    machine is taken over; the error names the file for any other case.
    """
    out = Path(out).resolve()
    me = (out, threading.get_ident())
    if me in _HELD:
        yield out
        return
    lock = _lock_path(out)
    created = [d for d in reversed(out.parents) if not d.exists()]  # removed again if left empty
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                break
            except FileExistsError:
                if attempt == 0 and _stale(lock):
                    lock.unlink(missing_ok=True)
                    continue
                raise OutputError(
                    f"{out} is being written by another lacgeo run (lock file {lock}); wait for it to finish or "
                    "choose another --out (if no run is active, delete the lock file)"
                ) from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()}\n{socket.gethostname()}\n")
    except OSError as exc:
        if isinstance(exc, OutputError):
            raise
        raise OutputError(f"cannot create the output folder next to {out}: {exc.strerror}") from None
    _HELD.add(me)
    try:
        yield out
    finally:
        _HELD.discard(me)
        lock.unlink(missing_ok=True)
        for folder in reversed(created):  # a run that wrote nothing leaves no empty folders behind
            try:
                folder.rmdir()
            except OSError:
                break


def write_outputs(result: RunResult, out: str | Path, *, overwrite: bool = False) -> Path:
    """Write the output folder ``out`` atomically: build a temporary sibling folder, then rename it.

    Parameters
    ----------
    result
        A run's result (:func:`lacgeo.run`).
    out
        The folder to write; its parent folders are created.
    overwrite
        Replace an existing ``out``. Without it an existing folder is an :class:`OutputError`.

    Returns
    -------
    Path
        ``out``, resolved. On any error the temporary folder is removed and ``out`` is
        left as it was; input files are never modified.

    Examples
    --------
    >>> import lacgeo, pathlib, tempfile
    >>> result = lacgeo.run(lacgeo.make_config(la="Rutland"))
    >>> out = write_outputs(result, pathlib.Path(tempfile.mkdtemp()) / "rutland")
    >>> sorted(path.name for path in out.iterdir())  # doctest: +NORMALIZE_WHITESPACE
    ['areas.csv', 'comparisons.csv', 'evaluation.csv', 'evaluation_balance.csv', 'evaluation_baseline.csv',
     'lacgeo.gpkg', 'lacgeo.xlsx', 'map.html', 'needs_assessment.csv', 'patches.csv', 'report.html',
     'rollout.csv', 'run.json']
    """
    out = check_output_folder(out, overwrite=overwrite)
    with output_lock(out):
        return _write_atomically(result, out, overwrite=overwrite)


def _write_atomically(result: RunResult, out: Path, *, overwrite: bool) -> Path:
    # this run holds the folder's lock, so a half-written sibling is what a killed run left: remove it
    for stale in out.parent.glob(f".{out.name}.partial-*") if out.parent.is_dir() else ():
        shutil.rmtree(stale, ignore_errors=True)
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
        if out.exists() and not overwrite:  # it appeared while this run wrote (a run not using lacgeo's lock)
            raise OutputError(f"{out} appeared while this run was writing; nothing was written: choose another --out")
        if out.exists():
            check_output_folder(out, overwrite=True)  # again: a user may have put a file in it meanwhile
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

"""The output contract other tools read: layers, columns, coverage, totals, determinism, atomicity."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

import lacgeo
from lacgeo.cli import main
from lacgeo.errors import OutputError

AREA_COLUMNS = {"area_code", "area_name", "population", "need_index", "imd_quintile", "patch_id"}
PATCH_COLUMNS = {"patch_id", "patch_name", "population", "need_index", "rank", "n_areas"}


def test_geopackage_layers_and_columns(solihull_out):
    layers = {name: kind for name, kind in pyogrio.list_layers(solihull_out / "lacgeo.gpkg")}
    assert layers == {
        "areas": "MultiPolygon",
        "patches": "MultiPolygon",
        "recommended": "MultiPolygon",
        "comparators": "MultiPolygon",  # the evaluation design's comparison patches (see test_outputs_phases.py)
        "layer_styles": None,  # QGIS's style table (see test_gpkg_styles.py)
    }
    areas = gpd.read_file(solihull_out / "lacgeo.gpkg", layer="areas")
    patches = gpd.read_file(solihull_out / "lacgeo.gpkg", layer="patches")
    rec = gpd.read_file(solihull_out / "lacgeo.gpkg", layer="recommended")
    assert AREA_COLUMNS <= set(areas.columns)
    assert PATCH_COLUMNS <= set(patches.columns)
    assert PATCH_COLUMNS | {"phase"} <= set(rec.columns)
    assert areas.crs.to_epsg() == 27700


def test_every_area_in_exactly_one_patch_and_totals_match(solihull_out):
    areas = gpd.read_file(solihull_out / "lacgeo.gpkg", layer="areas")
    patches = pd.read_csv(solihull_out / "patches.csv", index_col="patch_id")
    assert areas["area_code"].is_unique and len(areas) == 134
    assert areas["patch_id"].notna().all()
    assert set(areas["patch_id"]) == set(patches.index)
    assert patches["population"].sum() == areas["population"].sum() == 216_230  # Census 2021 usual residents
    by_patch = areas.groupby("patch_id")["population"].sum()
    pd.testing.assert_series_equal(by_patch.sort_index(), patches["population"].sort_index(), check_names=False)
    assert (areas.groupby("patch_id").size() == patches["n_areas"].sort_index()).all()
    assert sorted(patches["rank"]) == list(range(1, len(patches) + 1))
    assert patches["patch_name"].is_unique


def test_recommended_are_the_top_ranked(solihull_out):
    rec = gpd.read_file(solihull_out / "lacgeo.gpkg", layer="recommended")
    assert sorted(rec["rank"]) == [1, 2, 3]
    assert (rec["phase"] == 1).all()


def test_run_json_records_config_inputs_versions_seed(solihull_out):
    manifest = json.loads((solihull_out / "run.json").read_text())
    assert manifest["seed"] == 42 and manifest["config"]["area"]["la"] == "Solihull"
    assert manifest["local_authority"] == {
        "code": "E08000029",
        "name": "Solihull",
        "kind": "district",
        "places": ["Solihull (district or unitary council, E08000029)"],
    }
    paths = {i["path"] for i in manifest["inputs"]}
    assert "data/lsoa21.parquet" in paths and "data/iod2025_lsoa21.parquet" in paths
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert {"lacgeo", "geopandas", "shapely", "scipy"} <= set(manifest["versions"])
    assert {"load", "validate", "need", "patches", "rank", "robustness"} <= set(manifest["timings_seconds"])


def test_map_is_written_with_patches(solihull_out):
    html = (solihull_out / "map.html").read_text()
    assert "<title>lacgeo: Local Area Coordination patches for Solihull</title>" in html
    assert "Recommended for phase 1" in html


def test_same_inputs_give_byte_identical_patches_csv(tmp_path, solihull_out):
    again = lacgeo.run(lacgeo.make_config(la="Solihull"), out=tmp_path / "again")
    for name in (
        "patches.csv",
        "areas.csv",
        "needs_assessment.csv",
        "rollout.csv",
        "report.html",
        "map.html",
        "lacgeo.xlsx",
    ):
        assert (tmp_path / "again" / name).read_bytes() == (solihull_out / name).read_bytes(), name
    assert again.patches.index.is_unique


def test_failed_write_leaves_nothing_and_keeps_old_output(tmp_path, solihull_run, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "run.json").write_text("previous run")  # an earlier lacgeo output
    with pytest.raises(OutputError, match="already exists; choose another --out or pass --overwrite"):
        solihull_run.write(out)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("lacgeo.outputs.folder.make_result_map", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        solihull_run.write(out, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert (out / "run.json").read_text() == "previous run"
    with pytest.raises(RuntimeError, match="disk full"):
        solihull_run.write(tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()


def test_overwrite_never_replaces_a_folder_lacgeo_did_not_write(tmp_path, solihull_run, capsys):
    """--overwrite given a user's folder (or the folder holding the config and its inputs) used to delete it."""
    project = tmp_path / "myproject"
    (project / "notes").mkdir(parents=True)
    (project / "notes" / "analysis.txt").write_text("my notes")
    (project / "budget.xlsx").write_bytes(b"not lacgeo's")
    (project / "run.json").write_text("{}")
    with pytest.raises(OutputError, match=r"holds files lacgeo did not write \(budget.xlsx, notes/\)"):
        solihull_run.write(project, overwrite=True)
    assert (project / "notes" / "analysis.txt").read_text() == "my notes" and (project / "budget.xlsx").exists()
    assert main(["run", "--la", "Rutland", "--out", str(project), "--overwrite"]) == 5
    assert "--overwrite only replaces a lacgeo output folder, so nothing was touched" in capsys.readouterr().err
    assert sorted(p.name for p in project.iterdir()) == ["budget.xlsx", "notes", "run.json"]
    # a lacgeo output folder is still replaced, also after a file browser has left its files in it
    solihull_run.write(tmp_path / "ours")
    for name in (".DS_Store", "Thumbs.db", "desktop.ini"):
        (tmp_path / "ours" / name).write_bytes(b"")
    solihull_run.write(tmp_path / "ours", overwrite=True)
    assert not (tmp_path / "ours" / ".DS_Store").exists()


def test_a_second_run_to_the_same_folder_stops_before_any_work(tmp_path, capsys, monkeypatch):
    """Two runs given one --out used to both exit 0, one silently replacing the other's output."""
    import os
    import socket
    import subprocess
    import sys

    from lacgeo import outputs, stages
    from lacgeo.cli import main

    out = tmp_path / "rutland"
    lock = tmp_path / ".rutland.lacgeo-lock"
    lock.write_text(f"{os.getpid()}\n{socket.gethostname()}\n")  # another run (alive) is writing out
    with monkeypatch.context() as m:
        m.setattr(stages, "load_inputs", lambda *a, **k: pytest.fail("the second run did work"))
        assert main(["run", "--la", "Rutland", "--out", str(out), "-q"]) == 5
        err = capsys.readouterr().err
        assert f"{out} is being written by another lacgeo run (lock file {lock})" in err and "another --out" in err
        with pytest.raises(OutputError, match="is being written by another lacgeo run"):
            lacgeo.run(lacgeo.make_config(la="Rutland"), out=out)
    lock.unlink()
    with outputs.output_lock(out):  # held by this thread: writing inside the same run takes it again
        assert lock.exists()
    assert not out.exists() and list(tmp_path.iterdir()) == []  # the lock goes with the run that held it
    # a lock left by a lacgeo process that died is taken over
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / ".rutland.lacgeo-lock").write_text(f"{dead.stdout.strip()}\n{socket.gethostname()}\n")
    assert main(["run", "--la", "Rutland", "--out", str(out), "-q"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rutland"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("la", "settings", "n_patches"),
    [
        ("Rutland", {"patches": {"target_population": 100_000}}, 1),  # the whole LA is one patch below the band
        ("Rutland", {"patches": {"target_population": 40_000}}, 1),  # one patch in the band: the only pick
        ("Rutland", {"recommend": {"n": 9}}, 4),  # more picks asked for than patches exist
    ],
)
def test_edge_results_go_through_every_writer(tmp_path, la, settings, n_patches):
    config = lacgeo.config.replace(lacgeo.make_config(la=la), **settings)
    result = lacgeo.run(config, out=tmp_path / "out")
    assert len(result.patches) == n_patches
    written = {p.name: p.stat().st_size for p in (tmp_path / "out").iterdir()}
    designed = result.evaluation is not None  # phase-1 picks: their comparison patches, however few
    evaluation = {"evaluation.csv", "evaluation_balance.csv", "evaluation_baseline.csv"} if designed else set()
    assert set(written) == {
        "areas.csv",
        "patches.csv",
        "needs_assessment.csv",
        "rollout.csv",
        "comparisons.csv",
        "report.html",
        "lacgeo.xlsx",
        "map.html",
        "lacgeo.gpkg",
        "run.json",
        *evaluation,
    }
    assert all(written.values())
    layers = dict(pyogrio.list_layers(tmp_path / "out" / "lacgeo.gpkg"))
    assert layers == {
        "areas": "MultiPolygon",
        "patches": "MultiPolygon",
        "recommended": "MultiPolygon",
        **({"comparators": "MultiPolygon"} if designed else {}),
        "layer_styles": None,
    }
    summary = result.summary()
    assert summary.splitlines()[1] in ("Phase 1:", "Phase 1: no patch could be recommended")


def test_a_failed_run_leaves_no_folder_behind(tmp_path):
    config = lacgeo.config.replace(lacgeo.make_config(la="Rutland"), patches={"target_population": 100})
    with pytest.raises(lacgeo.PatchingError, match="the median LSOA alone holds"):
        lacgeo.run(config, out=tmp_path / "runs" / "2026" / "rutland")
    assert list(tmp_path.iterdir()) == []  # not even the parent folders the run made for its lock

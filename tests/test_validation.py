"""Trust on bad input: --strict, manifests, interrupted runs, impossible bands, untouched inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import lacgeo
from lacgeo import harmonise, load
from lacgeo.cli import main
from lacgeo.config import SourceConfig, replace
from lacgeo.errors import OutsideAreaWarning, PatchingError, ValidationError
from lacgeo.pipeline import check_manifest

from .conftest import sha256

SYNTHETIC = Path(__file__).resolve().parent.parent / "data" / "synthetic"


def test_strict_turns_warnings_into_one_error():
    config = lacgeo.load_config(SYNTHETIC / "wiltshire_synthetic.toml")
    with pytest.raises(ValidationError, match=r"--strict: indicator 'mh_crisis' has no value for 3 areas"):
        lacgeo.run(config, strict=True)


def test_inputs_are_never_modified(synthetic_inputs_before, synthetic_out):
    assert len(synthetic_inputs_before) >= 3
    assert {f: sha256(f) for f in synthetic_inputs_before} == synthetic_inputs_before


def test_check_manifest_confirms_and_detects_differences(tmp_path, solihull_out, capsys):
    assert check_manifest(solihull_out / "run.json") == []
    recorded = json.loads((solihull_out / "run.json").read_text())
    recorded["outputs"]["patches.csv"] = "0" * 64
    recorded["inputs"][0]["sha256"] = "0" * 64
    tampered = tmp_path / "run.json"
    tampered.write_text(json.dumps(recorded))
    assert main(["run", "--check-manifest", str(tampered)]) == 6
    out = capsys.readouterr().out
    assert "patches.csv differs from the recorded run" in out and "has changed since the recorded run" in out


def test_interrupted_write_leaves_nothing_behind(tmp_path, solihull_run, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("lacgeo.outputs.folder.make_result_map", interrupt)
    with pytest.raises(KeyboardInterrupt):
        solihull_run.write(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_a_band_no_patch_can_meet_is_an_error():
    config = replace(lacgeo.make_config(la="Solihull"), patches={"target_population": 500})
    with pytest.raises(PatchingError, match=r"allows at most 600 people, but the median LSOA alone holds 1,570"):
        lacgeo.run(config)


def test_rows_for_other_local_authorities_are_ignored_with_a_warning(tmp_path):
    wilts = load.read_areas("E06000054")
    derby = load.read_areas("E06000015")
    path = tmp_path / "county.csv"
    pd.DataFrame({"code": list(wilts.index) + list(derby.index[:4]), "n": 5}).to_csv(path, index=False)
    src = SourceConfig(name="d", path=str(path), code_col="code", value_col="n")
    with pytest.warns(OutsideAreaWarning, match=r"4 of 311 LSOA 2021 codes are outside the local authority"):
        out = harmonise.read_source(src, wilts, vintage="2021")
    assert out.count.sum() == 5 * len(wilts)


def test_missing_denominators_and_more_events_than_people_are_errors(tmp_path):
    wilts = load.read_areas("E06000054")
    path = tmp_path / "den.csv"
    pd.DataFrame({"code": wilts.index[:3], "n": [5, 50, 1], "den": ["100", "20", ""]}).to_csv(path, index=False)
    src = SourceConfig(name="d", path=str(path), code_col="code", value_col="n", denominator_col="den")
    with pytest.raises(ValidationError) as info:
        harmonise.read_source(src, wilts, vintage="2021")
    msg = str(info.value)
    assert "'den': 1 rows have no denominator (rows 4)" in msg
    assert "1 rows count more people than the denominator 'den' (rows 3)" in msg


def test_formula_like_text_is_written_as_text_in_csv_outputs(tmp_path):
    from lacgeo.outputs import write_csv

    table = pd.DataFrame(
        {"name": ['=HYPERLINK("x")', "+SUM(A1)", "-2", "@cmd", "Melksham"], "n": [1, -2, 3, 4, 5]},
        index=pd.Index(["=A1", "b", "c", "d", "e"], name="id"),
    )
    write_csv(table, tmp_path / "t.csv")
    text = (tmp_path / "t.csv").read_text()
    assert "'=HYPERLINK" in text and "'+SUM(A1)" in text and "'@cmd" in text and "'=A1" in text
    assert ",-2," in text and ",-2\n" in text  # numbers, and number-like text, stay as they are


def test_missing_rows_and_reverse_vintage_are_named(tmp_path):
    wilts11 = load.read_areas("E06000054", vintage="2011")
    wilts21 = load.read_areas("E06000054", vintage="2021")
    only21 = wilts21.index.difference(wilts11.index)
    path = tmp_path / "c.csv"
    pd.DataFrame({"code": only21, "n": 1}).to_csv(path, index=False)
    src = SourceConfig(name="d", path=str(path), code_col="code", value_col="n", geography="lsoa11")
    with pytest.raises(ValidationError, match='looks like LSOA 2021 codes; set geography = "lsoa21"'):
        harmonise.read_source(src, wilts11, vintage="2011")
    pd.DataFrame({"code": wilts21.index[:-2], "n": 5}).to_csv(path, index=False)
    src = SourceConfig(name="d", path=str(path), code_col="code", value_col="n")
    out = harmonise.read_source(src, wilts21, vintage="2021")
    assert out.reason[wilts21.index[-1]] == "no row in c.csv" and out.count.isna().sum() == 2


def test_more_events_than_residents_warns(tmp_path):
    wilts = load.read_areas("E06000054")
    path = tmp_path / "c.csv"
    pd.DataFrame({"code": wilts.index, "n": [5] * (len(wilts) - 1) + [99_999]}).to_csv(path, index=False)
    src = SourceConfig(name="d", path=str(path), code_col="code", value_col="n")
    with pytest.warns(harmonise.ImplausibleValueWarning, match="1 areas have more events than residents"):
        harmonise.read_source(src, wilts, vintage="2021")


def test_invalid_unit_polygons_are_repaired_with_a_warning(tmp_path):
    import geopandas as gpd
    import shapely

    from lacgeo.errors import GeometryRepairWarning
    from lacgeo.load import read_polygons

    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10), (0, 0)])
    path = tmp_path / "units.gpkg"
    gpd.GeoDataFrame({"name": ["Bow"]}, geometry=[bowtie], crs="EPSG:27700").to_file(path)
    with pytest.warns(GeometryRepairWarning, match=r"repaired 1 invalid polygons \(Bow\)"):
        units = read_polygons(path, code_col="name")
    assert units.geometry.is_valid.all()


def test_swapped_lat_lon_is_diagnosed(tmp_path):
    wilts = load.read_areas("E06000054")
    pts = wilts.geometry.representative_point().to_crs("EPSG:4326")
    path = tmp_path / "p.csv"
    pd.DataFrame({"lon": pts.y, "lat": pts.x}).to_csv(path, index=False)  # columns mixed up
    src = SourceConfig(name="p", kind="points", path=str(path), x_col="lon", y_col="lat", crs="EPSG:4326")
    with pytest.raises(ValidationError, match="look swapped"):
        harmonise.read_source(src, wilts, vintage="2021")

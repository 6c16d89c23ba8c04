"""Messy and hostile council files and settings: one clear line naming the file, rows and fix, or a named
warning; never a traceback, never silent loss. Each test is a class of input found going wrong, with a neighbour."""

from __future__ import annotations

import json
import shutil
import warnings

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import lacgeo
from lacgeo import harmonise, load
from lacgeo.cli import main
from lacgeo.config import IndicatorConfig, SourceConfig, load_config_text
from lacgeo.errors import ConfigError, OutsideAreaWarning, OverlappingUnitsWarning, ValidationError
from lacgeo.load import read_polygons, read_table
from lacgeo.need import compute_need_index

WILTS = "E06000054"


@pytest.fixture(scope="module")
def wilts21():
    return load.read_areas(WILTS, vintage="2021")


def _source(path, geography="lsoa21") -> SourceConfig:
    return SourceConfig(name="demand", path=str(path), code_col="code", value_col="n", geography=geography)


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


# --- rows and cells ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ("code,population,n\nE01031841,1,850,105\nE01031842,2,000,90\n", "rows 2, 3"),  # unquoted thousands
        ("code,n\nE01031841,12,345\nE01031842,7\n", "rows 2"),  # a row wider than the header
    ],
)
def test_rows_wider_than_the_header_are_refused_by_row(tmp_path, text, rows):
    path = tmp_path / "counts.csv"
    path.write_text(text)
    with pytest.raises(ValidationError, match=rf"more cells than the header's \d \({rows}\); an unquoted comma"):
        read_table(path, columns=["code", "n"])


@pytest.mark.parametrize("value", ["0,250", "0,5", "-0,75"])
def test_a_leading_zero_comma_is_a_decimal_comma_not_thousands(tmp_path, wilts21, value):
    path = tmp_path / "counts.csv"
    pd.DataFrame({"code": wilts21.index[:2], "n": ["4", value]}).to_csv(path, index=False)
    with pytest.raises(ValidationError, match=rf"1 values use a decimal comma \(row 3: '{value}'\)"):
        harmonise.read_source(_source(path), wilts21, vintage="2021")


def test_a_column_named_twice_is_refused_with_its_positions(tmp_path):
    path = tmp_path / "counts.csv"
    path.write_text("code,n,n\nE01031841,1,2\n")
    with pytest.raises(ValidationError, match=r"names a column twice \('n' is columns 2, 3\)"):
        read_table(path, columns=["code", "n"])


@pytest.mark.parametrize(
    ("encode", "why"),
    [
        (lambda t: t.encode("utf-16-be"), "UTF-16 big-endian without a byte-order mark"),
        (lambda t: t.replace("\n", "\r").encode(), "old Mac line endings (CR only)"),
        (lambda t: t.replace("\n", "\r\n").encode("utf-16-le"), "UTF-16 little-endian, Windows line endings"),
    ],
)
def test_other_encodings_and_line_endings_are_read(tmp_path, encode, why):
    path = tmp_path / "counts.csv"
    path.write_bytes(encode("code,n\nE01031841,3\nE01031842,4\n"))
    table = read_table(path, columns=["code", "n"])
    assert table["n"].tolist() == ["3", "4"], why


def test_a_binary_file_named_csv_is_named_not_echoed(tmp_path):
    path = tmp_path / "counts.csv"
    path.write_bytes(b"code,n\n\x00\x01\x02binary\x00\n")
    with pytest.raises(ValidationError, match="holds NUL bytes, so it is not a text table"):
        read_table(path, columns=["code", "n"])


@pytest.mark.parametrize(
    ("codes", "geography", "message"),
    [
        (["E01031841", "WILTSHIRE"], "lsoa21", r"\('WILTSHIRE' \(row 3\)\): they are not ONS codes at all: a total"),
        (["E01031841", ""], "lsoa21", r"\('' \(row 3\)\): they are not ONS codes at all"),
        (["W01000736", "W01000737"], "lsoa21", r"these are Welsh codes: lacgeo runs Welsh councils on LSOA 2011"),
        (
            ["E01031841", "E01031842"],
            "msoa11",
            r'not MSOA 2011 codes .*looks like LSOA 2021 codes; set geography = "lsoa21"',
        ),
        (["E02006634", "E02006635"], "lsoa21", r'looks like MSOA 2011 codes; set geography = "msoa11"'),
    ],
)
def test_codes_of_the_wrong_kind_are_named_with_their_rows(tmp_path, wilts21, codes, geography, message):
    path = tmp_path / "counts.csv"
    pd.DataFrame({"code": codes, "n": [3, 4]}).to_csv(path, index=False)
    with pytest.raises(ValidationError, match=message):
        harmonise.read_source(_source(path, geography), wilts21, vintage="2021")


def test_counts_shared_into_another_authority_are_warned_not_dropped_silently(tmp_path):
    """Gateshead's LSOAs 2011 partly became Northumberland's: those counts used to vanish."""
    areas = load.read_areas(load.resolve_area("Gateshead").code, vintage="2021")
    lookup = load.read_lsoa_lookup()
    codes = sorted(lookup.loc[lookup["lsoa21_code"].isin(areas.index), "lsoa11_code"].unique())
    path = tmp_path / "counts.csv"
    pd.DataFrame({"code": codes, "n": 50}).to_csv(path, index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = harmonise.read_source(_source(path, "lsoa11"), areas, vintage="2021")
    moved = [str(w.message) for w in caught if w.category is OutsideAreaWarning and "belong" in str(w.message)]
    kept, total = int(out.count.sum()), 50 * len(codes)
    assert kept < total  # one LSOA 2011 of Gateshead's reaches across the new boundary
    assert len(moved) == 1 and f"{total - kept:,} of {total:,} counts" in moved[0]


# --- indicators with no value -------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["error", "la_mean", "reweight"])
def test_an_indicator_with_no_value_anywhere_stops_whatever_the_policy(missing):
    table = pd.DataFrame({"imd": [1.0, 2.0, 3.0], "asc": [float("nan")] * 3}, index=list("abc"))
    specs = [IndicatorConfig("imd"), IndicatorConfig("asc")]
    with pytest.raises(ValidationError, match="'asc' has no value in any of the 3 areas; no mean or reweighting"):
        compute_need_index(table, specs, missing=missing)


def test_reweighting_an_area_with_no_indicator_at_all_stops_naming_it():
    table = pd.DataFrame({"asc": [1.0, float("nan"), 3.0]}, index=list("abc"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the reweighting warning comes first
        with pytest.raises(ValidationError, match=r"1 areas have no value for any indicator of the need index \(b\)"):
            compute_need_index(table, [IndicatorConfig("asc")], missing="reweight")


# --- settings ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[[need.indicators]]\nname = 'imd_score'\nweight = nan", r"weight must be a finite number, found nan"),
        ("[patches]\nneed_weight = inf", r"patches.need_weight must be a finite number, found inf"),
        ("[recommend]\nbudget = inf", r"recommend.budget must be a finite number"),
        ("[recommend]\ncost_per_coordinator = 1e-300", r"cost_per_coordinator must be at least 1"),
        ("seed = -1", r"seed must be a whole number from 0 to 4,294,967,295, found -1"),
        ("seed = 9999999999999", r"seed must be a whole number from 0"),
        ("[need]\nn_profiles = 0", r"need.n_profiles must be at least 1, found 0"),
        ("[recommend]\nrobustness_draws = 1000000000", r"robustness_draws must be at most 100,000"),
        ("[patches]\nn_starts = 9223372036854775807", r"n_starts must be at most 1,000"),
        ("[recommend]\nmethod = 'rank'\nlock_out = ['E01031841']", r"lock_in and lock_out are honoured only by"),
        ("[patches]\nnest_within = 'ward'\n[recommend]\nlock_in = ['E01031841']", r"nested patches are ranked"),
    ],
)
def test_impossible_settings_are_named_before_any_work(toml, message):
    with pytest.raises(ConfigError, match=message):
        top = toml.startswith("seed")  # a top-level key must come before the first table
        text = toml + "\n[area]\nla = 'Wiltshire'\n" if top else "[area]\nla = 'Wiltshire'\n" + toml
        load_config_text(text, source="lacgeo.toml")


def test_a_source_named_like_a_shipped_indicator_is_refused():
    text = (
        "[area]\nla = 'Wiltshire'\n[[sources]]\nname = 'imd_score'\npath = 'x.csv'\ncode_col = 'c'\nvalue_col = 'n'\n"
    )
    with pytest.raises(ConfigError, match=r"'imd_score' is the name of a shipped indicator; give the source another"):
        load_config_text(text, source="lacgeo.toml")


def test_a_config_saved_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "lacgeo.toml"
    path.write_bytes("[area]\nla = 'Rutland'\n".encode("utf-8-sig"))  # as Windows Notepad saves UTF-8
    assert lacgeo.load_config(path).area.la == "Rutland"


@pytest.mark.parametrize("flag", [["--seed", "-5"], ["--budget", "inf"], ["--budget", "nan"]])
def test_command_line_values_are_checked_like_the_file(tmp_path, capsys, flag):
    assert main(["run", "--la", "Rutland", "--out", str(tmp_path / "o"), *flag]) == 2
    assert "must be" in _one_line(capsys) and not (tmp_path / "o").exists()


# --- boundary files --------------------------------------------------------------------------------------------


def _units(tmp_path, frame, name="units.gpkg"):
    path = tmp_path / name
    frame.to_file(path)
    return path


def test_a_table_given_as_a_boundary_file_is_named(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("unit,x\nA,1\n")
    with pytest.raises(ValidationError, match="has no geometry \\(a table, not a polygon file\\)"):
        read_polygons(path, code_col="unit")


def test_a_boundary_file_in_the_wrong_crs_is_diagnosed(tmp_path, wilts21):
    lonlat = gpd.GeoDataFrame({"unit": ["A"]}, geometry=[shapely.box(-2.2, 51.2, -1.9, 51.4)], crs=27700)
    path = _units(tmp_path, lonlat)
    units = read_polygons(path, code_col="unit")
    with pytest.raises(ValidationError, match="no unit overlaps the local authority at all.*longitude and latitude"):
        harmonise.assign_to_units(wilts21, units, source=str(path))


def test_the_geometry_column_as_code_column_is_named(tmp_path):
    path = _units(tmp_path, gpd.GeoDataFrame({"unit": ["A"]}, geometry=[shapely.box(0, 0, 10, 10)], crs=27700))
    with pytest.raises(ValidationError, match="'geometry' is the geometry column"):
        read_polygons(path, code_col="geometry")


def test_one_code_on_several_polygons_is_warned(tmp_path):
    frame = gpd.GeoDataFrame(
        {"unit": ["A", "A", "B"]},
        geometry=[
            shapely.box(400000, 100000, 401000, 101000),
            shapely.box(402000, 100000, 403000, 101000),
            shapely.box(404000, 100000, 405000, 101000),
        ],
        crs=27700,
    )
    with pytest.warns(OverlappingUnitsWarning, match=r"1 codes name more than one polygon \(A\); each is taken"):
        units = read_polygons(_units(tmp_path, frame), code_col="unit")
    assert len(units) == 2


# --- the command line's own files ---------------------------------------------------------------------------------


def test_init_and_compare_given_a_folder_or_a_missing_folder(tmp_path, capsys, solihull_out):
    (tmp_path / "adir").mkdir()
    assert main(["init", "--la", "Rutland", "--path", str(tmp_path / "adir"), "--overwrite"]) == 2
    assert "is a folder; give --path the config file to write" in _one_line(capsys)
    assert main(["init", "--la", "Rutland", "--path", str(tmp_path / "no" / "such" / "x.toml")]) == 2
    assert "does not exist; create it or choose another --path" in _one_line(capsys)
    assert main(["compare", str(solihull_out), str(solihull_out), "--csv", str(tmp_path / "adir")]) == 5
    assert "is a folder; give --csv the file to write" in _one_line(capsys)
    assert list((tmp_path / "adir").iterdir()) == []


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m | {"outputs": {}}, "records no output tables to compare"),
        (lambda m: m | {"config": [1, 2]}, "no 'config' table"),
        (lambda m: [m], "no 'config' table"),
    ],
)
def test_check_manifest_refuses_a_manifest_with_nothing_to_check(tmp_path, capsys, solihull_out, edit, message):
    copy = tmp_path / "run"
    shutil.copytree(solihull_out, copy)
    manifest = json.loads((copy / "run.json").read_text())
    (copy / "run.json").write_text(json.dumps(edit(manifest)))
    assert main(["run", "--check-manifest", str(copy / "run.json")]) == 2
    assert message in _one_line(capsys)


def test_decimal_comma_and_infinite_coordinates_are_named_by_row(tmp_path):
    path = tmp_path / "pts.csv"
    path.write_text('x,y\n"400000,5","150000,25"\n401000,151000\n')
    with pytest.raises(ValidationError, match=r"column 'x': 1 coordinates use a decimal comma \(row 2: '400000,5'\)"):
        load.read_points(path, x_col="x", y_col="y", crs="EPSG:27700")
    path.write_text("x,y\ninf,150000\n401000,151000\n")
    with pytest.raises(ValidationError, match=r"column 'x': 1 records have no usable coordinate \(row 2: 'inf'\)"):
        load.read_points(path, x_col="x", y_col="y", crs="EPSG:27700")


def test_a_source_no_indicator_uses_is_warned(tmp_path, wilts21):
    path = tmp_path / "counts.csv"
    pd.DataFrame({"code": wilts21.index, "n": 5}).to_csv(path, index=False)
    config = lacgeo.config.config_from_dict(
        {
            "area": {"la": "Wiltshire"},
            "sources": [{"name": "asc", "path": str(path), "code_col": "code", "value_col": "n"}],
            "recommend": {"robustness_draws": 0},
        }
    )
    result = lacgeo.run(config)
    assert any("[[sources]] 'asc' is read but not used" in w for w in result.warnings)


def test_more_rank_picks_than_patches_is_warned():
    config = lacgeo.config.replace(
        lacgeo.make_config(la="Rutland"), recommend={"method": "rank", "n": 1000, "robustness_draws": 0}
    )
    result = lacgeo.run(config)
    assert any(
        w.startswith(f"only {len(result.patches)} of the 1000 requested phase-1 patches") for w in result.warnings
    )


def test_blank_lines_in_a_one_column_file_and_hidden_excel_rows_are_warned(tmp_path):
    import openpyxl

    from lacgeo.errors import RowWarning

    path = tmp_path / "postcodes.csv"
    path.write_text("postcode\nSN1 1AA\n\nSN1 1AB\n")
    with pytest.warns(RowWarning, match=r"1 blank rows between records \(rows 3\) are left out"):
        assert len(read_table(path, columns=["postcode"])) == 2
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["code", "n"], ["E01031841", 3], ["E01031842", 4]):
        sheet.append(row)
    sheet.row_dimensions[3].hidden = True
    xlsx = tmp_path / "counts.xlsx"
    book.save(xlsx)
    with pytest.warns(RowWarning, match=r"1 rows are hidden in Excel \(rows 3\) and are read like the others"):
        assert len(read_table(xlsx, columns=["code", "n"])) == 2


def test_a_half_written_folder_left_by_a_killed_run_is_cleared(tmp_path, solihull_run):
    stale = tmp_path / ".out.partial-abc123"
    stale.mkdir()
    (stale / "areas.csv").write_text("half")
    solihull_run.write(tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_las_by_region_names_its_limits(capsys):
    assert main(["las", "--region", "South Wst"]) == 2
    assert "is not an English region; use one of" in _one_line(capsys)
    assert main(["las", "--region", "South West", "--kind", "county"]) == 2
    assert "--region lists English districts and unitaries only" in _one_line(capsys)

"""Fuzzing the loaders: random bytes, truncated files, random CSVs and configs give a
LacgeoError (one clear line in the CLI), never a traceback."""

from __future__ import annotations

import tomllib
import warnings

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lacgeo.config import config_from_dict, load_config
from lacgeo.errors import LacgeoError, ValidationError
from lacgeo.load import parse_numbers, read_points, read_polygons, read_table

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def quietly(fn, *args, **kwargs):
    """Call a loader; loaders may warn (e.g. a cp1252 file), which is fine here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@SETTINGS
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".xlsx", ".tsv", ".txt"]))
def test_random_bytes_as_a_table(tmp_path, data, suffix):
    path = tmp_path / f"f{suffix}"
    path.write_bytes(data)
    try:
        table = quietly(read_table, path, columns=["code", "n"])
    except LacgeoError:
        return
    assert {"code", "n"} <= set(table.columns)


cell = st.one_of(st.text(max_size=8), st.integers(-(10**6), 10**6).map(str), st.sampled_from(["*", "c", ":", "..", ""]))


@SETTINGS
@given(rows=st.lists(st.tuples(cell, cell), max_size=12), cut=st.integers(0, 400))
def test_random_and_truncated_csvs(tmp_path, rows, cut):
    text = "code,n\n" + "\n".join(f'"{a.replace(chr(34), "")}","{b.replace(chr(34), "")}"' for a, b in rows)
    path = tmp_path / "t.csv"
    path.write_text(text[: max(cut, 0)] if cut < len(text) else text, encoding="utf-8")
    try:
        table = quietly(read_table, path, columns=["code", "n"])
        quietly(parse_numbers, table["n"], source="t.csv", column="n")
    except LacgeoError:
        pass


@SETTINGS
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".gpkg", ".geojson", ".shp"]))
def test_random_bytes_as_a_vector_file(tmp_path, data, suffix):
    path = tmp_path / f"units{suffix}"
    path.write_bytes(data)
    with pytest.raises(LacgeoError):
        quietly(read_polygons, path, code_col="name")


@SETTINGS
@given(rows=st.lists(st.tuples(cell, cell), min_size=1, max_size=8), crs=st.sampled_from(["EPSG:27700", "nonsense"]))
def test_random_point_files(tmp_path, rows, crs):
    path = tmp_path / "p.csv"
    path.write_text("x,y\n" + "\n".join(f'"{a.replace(chr(34), "")}","{b.replace(chr(34), "")}"' for a, b in rows))
    try:
        quietly(read_points, path, x_col="x", y_col="y", crs=crs)
    except LacgeoError:
        pass


toml_value = st.recursive(
    st.one_of(st.booleans(), st.integers(-5, 10**5), st.floats(-2, 2, allow_nan=False), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)
sections = st.sampled_from(["area", "need", "patches", "recommend", "sources", "seed", "extra"])


@SETTINGS
@given(st.dictionaries(sections, toml_value, max_size=5))
def test_random_configs(data):
    try:
        config_from_dict(data)
    except LacgeoError:
        pass


@SETTINGS
@given(text=st.text(max_size=200))
def test_random_config_text(tmp_path, text):
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    try:
        load_config(path)
    except LacgeoError:
        pass
    except tomllib.TOMLDecodeError:  # pragma: no cover - must be wrapped
        pytest.fail("TOML errors must become ConfigError")


# --- files as spreadsheets and other tools write them -------------------------------------------


def test_excel_unicode_text_and_semicolon_files_are_read(tmp_path):
    utf16 = tmp_path / "export.txt"  # Excel "Unicode Text": UTF-16 with a byte-order mark, tab-separated
    utf16.write_bytes("code\tn\nE01000001\t3\nE01000002\t5\n".encode("utf-16"))
    assert read_table(utf16, columns=["code", "n"])["n"].tolist() == ["3", "5"]
    semi = tmp_path / "semicolons.csv"  # European-locale Excel
    semi.write_text("code;n\nE01000001;3\n", encoding="utf-8")
    assert read_table(semi, columns=["code", "n"])["code"].tolist() == ["E01000001"]
    with pytest.raises(
        ValidationError, match=r"no column 'code'.*'count'.*\(one column: is the file semicolon-separated\?\)"
    ):
        read_table(semi, columns=["code", "count"])


def test_infinite_cells_are_named_by_row_both_signs():
    values = pd.Series(["inf", "3", "-inf", "#DIV/0!"], index=[2, 3, 4, 5])
    with pytest.raises(
        ValidationError,
        match=r"2 problems: .*1 cells are not numbers \(row 5: '#DIV/0!'\).*"
        r"f.csv, column 'n': 2 cells are infinite \(row 2: 'inf', row 4: '-inf'\)",
    ):
        parse_numbers(values, source="f.csv", column="n")


def test_formulas_saved_without_values_are_named(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in (["code", "n"], ["E01000001", 3], ["E01000002", "=B2*2"], ["E01000003", "=B2+1"]):
        sheet.append(row)
    book.save(tmp_path / "script.xlsx")  # openpyxl, like any script, stores formulas without their values
    with pytest.raises(
        ValidationError,
        match=r"script.xlsx, column 'n': 2 cells are formulas with no calculated "
        r"value \(rows 3, 4\).*open it in Excel and save it, or paste the values",
    ):
        read_table(tmp_path / "script.xlsx", columns=["code", "n"])

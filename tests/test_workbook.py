"""lacgeo.xlsx: the CSVs' tables for non-GIS colleagues, explained, safe to open, reproducible."""

from __future__ import annotations

import dataclasses
import math
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter

from lacgeo.outputs import area_table, assessment_table, patch_table
from lacgeo.outputs.tables import SYNTHETIC_NOTE, comparison_table
from lacgeo.outputs.workbook import FALLBACK, FIXED_TIME, write_workbook
from lacgeo.schema import AREA_NAME, PATCH_NAME, RANK

from .conftest import with_small_patch_count

SHEETS = [
    "About",
    "Patches",
    "Areas",
    "Needs assessment",
    "Rollout",
    "Comparisons",
    "Evaluation",
    "Evaluation balance",
    "Evaluation baseline",
    "Columns",
]
FORMULAS = [
    "=1+1",
    "+SUM(A1:A9)",
    "-2+3",
    "@SUM(1)",
    '=HYPERLINK("https://example.invalid","click")',
    "=cmd|' /C calc'!A0",
    "#N/A",
    "\t=1+1",
]


@pytest.fixture(scope="module")
def solihull_xlsx(solihull_run, tmp_path_factory) -> Path:
    return write_workbook(solihull_run, tmp_path_factory.mktemp("xlsx") / "lacgeo.xlsx")


@pytest.fixture(scope="module")
def synthetic_xlsx(synthetic_out) -> Path:
    return synthetic_out / "lacgeo.xlsx"


def _rows(ws) -> list[list]:
    return [list(row) for row in ws.iter_rows(values_only=True)]


def _same(a, b) -> bool:
    """A cell value read back against the table value (blank = NaN/None/'', floats to 6 dp)."""
    blank = [v is None or v is pd.NA or v == "" or (isinstance(v, float) and math.isnan(v)) for v in (a, b)]
    if any(blank):
        return all(blank)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == pytest.approx(b, abs=1e-6)
    return str(a) == str(b)


def test_sheets_hold_the_same_tables_as_the_csvs(solihull_run, solihull_xlsx):
    wb = openpyxl.load_workbook(solihull_xlsx)
    assert wb.sheetnames == SHEETS
    expected = {
        "Patches": pd.DataFrame(patch_table(solihull_run).drop(columns="geometry")).reset_index(),
        "Areas": pd.DataFrame(area_table(solihull_run).drop(columns="geometry")).reset_index(),
        "Needs assessment": assessment_table(solihull_run),
        "Comparisons": comparison_table(solihull_run),
    }
    for name, table in expected.items():
        rows = _rows(wb[name])
        assert rows[0] == list(table.columns), name
        assert len(rows) == len(table) + 1, name
        for got, want in zip(rows[1:], table.itertuples(index=False, name=None), strict=True):
            assert all(_same(g, w) for g, w in zip(got, want, strict=True)), (name, got, want)
    patches = _rows(wb["Patches"])
    assert [r[0] for r in patches[1:]] == list(solihull_run.patches.sort_values(RANK).index)
    rollout = pd.DataFrame(_rows(wb["Rollout"])[1:], columns=_rows(wb["Rollout"])[0])
    assert rollout["n_patches"].sum() == len(solihull_run.patches)
    assert rollout["population"].sum() == solihull_run.areas["population"].sum()
    assert wb["Patches"].freeze_panes == "B2" and wb["Patches"].tables["lacgeo_patches"].ref.startswith("A1:")


def test_columns_sheet_describes_every_column_of_every_sheet(synthetic_run, synthetic_xlsx):
    wb = openpyxl.load_workbook(synthetic_xlsx)
    described = _rows(wb["Columns"])
    assert described[0] == ["sheet", "column", "description"]
    listed = [(s, c) for s, c, _ in described[1:]]
    headers = [(ws.title, c) for ws in wb.worksheets for c in _rows(ws)[0]]
    assert sorted(listed) == sorted(headers)
    missing = [(s, c) for s, c, d in described[1:] if not d or d == FALLBACK]
    assert missing == [], f"columns with no plain-English description in lacgeo/workbook.py: {missing}"
    text = {(s, c): d for s, c, d in described[1:]}
    assert "per 1,000 residents" in text[("Patches", "value_asc_referrals")]
    assert "England = 100" in text[("Areas", "value_preventable_mortality_smr")]
    assert text[("Patches", "share_imd_q1")].startswith("Share of the patch's residents")


def test_formula_like_text_is_written_as_text(solihull_run, tmp_path):
    patches = solihull_run.patches.copy()
    areas = solihull_run.areas.copy()
    top = list(patches.sort_values(RANK).index[: len(FORMULAS)])
    patches.loc[top, PATCH_NAME] = FORMULAS
    areas.loc[areas.index[: len(FORMULAS)], AREA_NAME] = FORMULAS
    areas.loc[areas.index[len(FORMULAS)], AREA_NAME] = "bad\x01name"  # a control character Excel refuses
    hostile = dataclasses.replace(
        solihull_run,
        patches=patches,
        areas=areas,
        lad_name=FORMULAS[4],
        **{f.name: None for f in dataclasses.fields(solihull_run) if f.name == "rollout"},
    )
    path = write_workbook(hostile, tmp_path / "lacgeo.xlsx")
    wb = openpyxl.load_workbook(path)
    cells = [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert [c.coordinate for c in cells if c.data_type == "e"] == []  # "#N/A" stays text, not an error value
    names = {row[1].value: row[1] for row in wb["Patches"].iter_rows(min_row=2)}
    for text in FORMULAS:
        assert names[text].data_type == "s", text
        assert names[text].quotePrefix == text.startswith(("=", "+", "-", "@", "\t")), text  # text on edit too
    area_names = [row[1].value for row in wb["Areas"].iter_rows(min_row=2)]
    assert set(FORMULAS) <= set(area_names) and "bad\ufffdname" in area_names
    about = {row[0]: row[1] for row in _rows(wb["About"])[1:]}
    assert about["Area"] == f"{FORMULAS[4]} ({solihull_run.lad_code})"
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and not any(b"<f>" in archive.read(n) or b"<f " in archive.read(n) for n in sheets)


def test_same_result_gives_identical_bytes_and_values(solihull_run, solihull_xlsx, tmp_path):
    again = write_workbook(solihull_run, tmp_path / "again.xlsx")
    assert again.read_bytes() == solihull_xlsx.read_bytes()
    first, second = openpyxl.load_workbook(solihull_xlsx), openpyxl.load_workbook(again)
    assert [_rows(ws) for ws in first.worksheets] == [_rows(ws) for ws in second.worksheets]
    assert first.properties.created == first.properties.modified == FIXED_TIME
    about = _rows(first["About"])
    assert {"lacgeo version", "Seed", "Geography", "Attribution", "Input file"} <= {r[0] for r in about}
    assert "Contains public sector information licensed under the Open Government Licence v3.0" in str(about)


def test_synthetic_data_is_marked(synthetic_run, synthetic_xlsx):
    wb = openpyxl.load_workbook(synthetic_xlsx)
    about = _rows(wb["About"])
    assert about[1] == ["WARNING", SYNTHETIC_NOTE]
    assert wb["About"]["A2"].font.bold
    assert dict(about[1:])["Title"].endswith("(SYNTHETIC data)")
    for name in ("Patches", "Areas", "Needs assessment"):
        rows = _rows(wb[name])
        status = rows[0].index("data_status")
        assert {r[status] for r in rows[1:]} == {SYNTHETIC_NOTE}, name
    council = [v for k, v in about[1:] if k == "Council data"]
    assert len(council) == len(synthetic_run.sources) and all("(SYNTHETIC)" in v for v in council)


def test_real_data_has_no_synthetic_marker(solihull_xlsx):
    wb = openpyxl.load_workbook(solihull_xlsx)
    text = [str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v]
    assert not any("SYNTHETIC" in t for t in text)
    assert "data_status" not in _rows(wb["Patches"])[0]


def test_small_council_counts_stay_blank(synthetic_run, tmp_path):
    """A patch whose referrals add up to 1-7 has a blank rate, as in patches.csv."""
    pid, result = with_small_patch_count(synthetic_run)
    wb = openpyxl.load_workbook(write_workbook(result, tmp_path / "small.xlsx"))
    rows = _rows(wb["Patches"])
    col = rows[0].index("value_asc_referrals")
    by_id = {r[0]: r[col] for r in rows[1:]}
    assert by_id[pid] is None
    assert sum(v is None for v in by_id.values()) == patch_table(result)["value_asc_referrals"].isna().sum()


def _column(ws, header: str) -> list:
    headers = [c.value for c in ws[1]]
    return [
        row[0] for row in ws.iter_rows(min_row=2, min_col=headers.index(header) + 1, max_col=headers.index(header) + 1)
    ]


@pytest.mark.parametrize(
    ("sheet", "header", "fmt"),
    [
        ("Rollout", "annual_cost", '"£"#,##0'),
        ("Rollout", "annual_cost_to_date", '"£"#,##0'),
        ("Rollout", "population_share_to_date", "0.0%"),
        ("Rollout", "population", "#,##0"),
        ("Rollout", "phase", "0"),
        ("Patches", "p_top_n", "0.0%"),
        ("Patches", "share_imd_q1", "0.0%"),
        ("Patches", "need_profile_share", "0.0%"),
        ("Patches", "population", "#,##0"),
        ("Patches", "n_areas", "#,##0"),
        ("Patches", "rank", "0"),
        ("Patches", "need_index", "0.000"),
        ("Patches", "imd_score", "#,##0.00"),
        ("Patches", "excess_need", "#,##0.0"),
        ("Areas", "imd_quintile", "0"),
        ("Areas", "local_imd_quintile", "0"),
        ("Areas", "contrib_imd_score", "0.000"),
        ("Areas", "value_preventable_mortality_smr", "#,##0.00"),
        ("Needs assessment", "count", "#,##0"),
        ("Needs assessment", "lower", "#,##0.00"),
    ],
)
def test_numbers_are_shown_by_kind(solihull_xlsx, sheet, header, fmt):
    cells = _column(openpyxl.load_workbook(solihull_xlsx)[sheet], header)
    assert cells and {c.number_format for c in cells} == {fmt}, (sheet, header)
    assert all(c.value is None or (isinstance(c.value, int | float) and c.data_type == "n") for c in cells)


def test_costs_are_pounds_and_quintiles_are_numbers(solihull_xlsx):
    wb = openpyxl.load_workbook(solihull_xlsx)
    costs = _column(wb["Rollout"], "annual_cost")
    assert costs[0].value == 150_000  # shown as £150,000, not 150000.000
    quintiles = [c for c in _column(wb["Needs assessment"], "quintile")]
    assert {c.value for c in quintiles if isinstance(c.value, int)} == {1, 2, 3, 4, 5}
    assert {c.number_format for c in quintiles if isinstance(c.value, int)} == {"0"}
    assert {c.value for c in quintiles if not isinstance(c.value, int)} <= {"All"}
    for ws in wb.worksheets:  # no text column was given a number format
        for cells in ws.iter_cols(min_row=2):
            if all(isinstance(c.value, str) for c in cells if c.value is not None) and any(c.value for c in cells):
                assert {c.number_format for c in cells if isinstance(c.value, str)} == {"General"}, ws.title


def test_every_sheet_is_one_named_excel_table(solihull_xlsx):
    wb = openpyxl.load_workbook(solihull_xlsx)
    names = []
    for ws in wb.worksheets:
        assert len(ws.tables) == 1, ws.title
        (table,) = ws.tables.values()
        names.append(table.displayName)
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", table.displayName) and len(table.displayName) <= 255
        assert not re.fullmatch(r"[A-Za-z]{1,3}\d+|[RrCc]\d*|R\d+C\d+", table.displayName)  # not a cell reference
        assert table.ref == f"A1:{get_column_letter(ws.max_column)}{max(ws.max_row, 2)}", ws.title
        assert table.headerRowCount in (None, 1) and table.autoFilter is not None
        assert [c.name for c in table.tableColumns] == [c.value for c in ws[1]]  # the header row names the columns
        assert ws.auto_filter.ref is None  # a sheet filter over a table makes Excel repair the file
        assert ws.freeze_panes == "B2"
        widths = [ws.column_dimensions[get_column_letter(j)].width for j in range(1, ws.max_column + 1)]
        assert all(8 <= w <= 110 for w in widths), ws.title
    assert len({n.lower() for n in names}) == len(names)
    assert names[:3] == ["lacgeo_about", "lacgeo_patches", "lacgeo_areas"]
    with zipfile.ZipFile(solihull_xlsx) as archive:
        tables = sorted(n for n in archive.namelist() if n.startswith("xl/tables/"))
        assert len(tables) == len(wb.worksheets)
        assert b"table+xml" in archive.read("[Content_Types].xml")


def test_withheld_small_counts_are_empty_cells_with_the_number_format(synthetic_run, tmp_path):
    pid, result = with_small_patch_count(synthetic_run)
    wb = openpyxl.load_workbook(write_workbook(result, tmp_path / "small.xlsx"))
    cells = dict(
        zip(
            (c.value for c in _column(wb["Patches"], "patch_id")),
            _column(wb["Patches"], "value_asc_referrals"),
            strict=True,
        )
    )
    assert cells[pid].value is None and cells[pid].data_type == "n"
    assert {c.number_format for c in cells.values()} == {"#,##0.00"}

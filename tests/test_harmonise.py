"""Service demand onto the analysis LSOAs: apportioning, vintages, points, postcodes, bad files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lacgeo
from lacgeo import harmonise, load
from lacgeo.config import SourceConfig, config_from_dict
from lacgeo.errors import (
    CodeRepairWarning,
    OutsideAreaWarning,
    TextEncodingWarning,
    TotalRowWarning,
    ValidationError,
)
from lacgeo.load import parse_numbers, read_table

SYNTHETIC = Path(__file__).resolve().parent.parent / "data" / "synthetic"
WILTS = "E06000054"


@pytest.fixture(scope="module")
def wilts21():
    return load.read_areas(WILTS, vintage="2021")


@pytest.fixture(scope="module")
def wilts11():
    return load.read_areas(WILTS, vintage="2011")


def counts_source(path, **kw) -> SourceConfig:
    return SourceConfig(
        name="demand", path=str(path), code_col=kw.pop("code_col", "code"), value_col=kw.pop("value_col", "n"), **kw
    )


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(0, 500), min_size=1, max_size=8),
    st.lists(st.lists(st.floats(0, 5000), min_size=1, max_size=4), min_size=8, max_size=8),
)
def test_apportion_keeps_every_source_total_to_the_unit(values, weights):
    src = pd.Series(values, index=[f"S{i}" for i in range(len(values))], dtype=float)
    rows = [(f"S{i}", f"T{i}_{j}", w) for i in range(len(values)) for j, w in enumerate(weights[i])]
    mapping = pd.DataFrame(rows, columns=["source", "target", "weight"])
    out = harmonise.apportion(src, mapping)
    assert (out == np.floor(out)).all()
    per_source = out.groupby(out.index.str.split("_").str[0].str.replace("T", "S")).sum()
    assert per_source.to_dict() == src.to_dict()


def write_counts(tmp_path, codes, counts, name="counts.csv"):
    path = tmp_path / name
    pd.DataFrame({"code": codes, "n": counts}).to_csv(path, index=False)
    return path


def test_lsoa11_counts_reach_lsoa21_with_the_total_kept(tmp_path, wilts11, wilts21):
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 60, len(wilts11))
    src = counts_source(write_counts(tmp_path, wilts11.index, counts), geography="lsoa11")
    out = harmonise.read_source(src, wilts21, vintage="2021")
    assert out.count.sum() == counts.sum()
    assert out.count.index.equals(wilts21.index) and out.reason.eq("").all()
    lookup = load.read_lsoa_lookup()
    merged = lookup[(lookup["change_code"] == "M") & lookup["lsoa21_code"].isin(wilts21.index)]
    for code, parts in merged.groupby("lsoa21_code")["lsoa11_code"]:
        assert out.count[code] == pd.Series(counts, index=wilts11.index)[list(parts)].sum()


def test_lsoa21_counts_reach_lsoa11_and_msoa_counts_are_apportioned(tmp_path, wilts11, wilts21):
    counts = np.arange(len(wilts21)) % 37
    src = counts_source(write_counts(tmp_path, wilts21.index, counts), geography="lsoa21")
    assert harmonise.read_source(src, wilts11, vintage="2011").count.sum() == counts.sum()
    msoas = sorted(wilts11["msoa_code"].unique())
    src = counts_source(write_counts(tmp_path, msoas, [100] * len(msoas), "msoa.csv"), geography="msoa11")
    out = harmonise.read_source(src, wilts11, vintage="2011")
    assert out.count.sum() == 100 * len(msoas)
    by_msoa = out.count.groupby(wilts11["msoa_code"]).sum()
    assert (by_msoa == 100).all()


def test_suppressed_cells_are_missing_with_reason_never_zero():
    values, reason = parse_numbers(pd.Series(["12", "*", "c", ":", "..", "", "1,204"]), source="f.csv", column="n")
    assert values.tolist()[0] == 12 and values.tolist()[-1] == 1204
    assert values.iloc[1:6].isna().all()
    assert reason.tolist()[:3] == ["", "suppressed ('*')", "suppressed ('c')"] and reason[5] == "blank"
    with pytest.raises(ValidationError, match=r"f.csv, column 'n': 1 cells are not numbers \(row 1: 'twelve'\)"):
        parse_numbers(pd.Series(["twelve"], index=[1]), source="f.csv", column="n")


def test_suppressed_source_stops_the_default_run_naming_areas_and_reasons(tmp_path, wilts21):
    counts = ["5"] * len(wilts21)
    counts[3] = "*"
    path = write_counts(tmp_path, wilts21.index, counts)
    config = config_from_dict(
        {
            "area": {"la": "Wiltshire"},
            "sources": [{"name": "demand", "path": str(path), "code_col": "code", "value_col": "n"}],
            "need": {"indicators": [{"name": "imd_score"}, {"name": "demand"}]},
        }
    )
    with pytest.raises(
        ValidationError,
        match=rf"'demand' has no value for 1 areas \({wilts21.index[3]} "
        r"\(suppressed \('\*'\) in counts.csv, row 5\)\).*need.missing",  # the file and row to look at
    ):
        lacgeo.run(config)


def test_wrong_vintage_welsh_and_duplicate_codes_are_diagnosed(tmp_path, wilts11, wilts21):
    only11 = wilts11.index.difference(wilts21.index)
    src = counts_source(write_counts(tmp_path, only11, [1] * len(only11)), geography="lsoa21")
    with pytest.raises(ValidationError, match='looks like LSOA 2011 codes; set geography = "lsoa11"'):
        harmonise.read_source(src, wilts21, vintage="2021")
    src = counts_source(write_counts(tmp_path, ["W01000001", "W01000002"], [1, 2]), geography="lsoa21")
    with pytest.raises(ValidationError, match="Welsh codes"):
        harmonise.read_source(src, wilts21, vintage="2021")
    dup = [wilts21.index[0]] * 2
    src = counts_source(write_counts(tmp_path, dup, [1, 2]), geography="lsoa21")
    with pytest.raises(ValidationError, match=rf"1 codes appear more than once \({dup[0]}\)"):
        harmonise.read_source(src, wilts21, vintage="2021")


def test_codes_with_spaces_and_lower_case_are_repaired_with_a_warning(tmp_path, wilts21):
    codes = [f" {c.lower()} " for c in wilts21.index]
    src = counts_source(write_counts(tmp_path, codes, [3] * len(codes)), geography="lsoa21")
    with pytest.warns(CodeRepairWarning, match=r"repaired 307 codes with spaces or lower case"):
        out = harmonise.read_source(src, wilts21, vintage="2021")
    assert out.count.sum() == 3 * 307


def test_negative_counts_and_zero_denominators_are_errors(tmp_path, wilts21):
    src = counts_source(write_counts(tmp_path, wilts21.index[:2], [4, -1]), geography="lsoa21")
    with pytest.raises(ValidationError, match=r"1 values are negative or not whole numbers \(row 3: -1\)"):
        harmonise.read_source(src, wilts21, vintage="2021")
    path = tmp_path / "den.csv"
    pd.DataFrame({"code": wilts21.index[:2], "n": [1, 2], "den": [10, 0]}).to_csv(path, index=False)
    src = counts_source(path, geography="lsoa21", denominator_col="den")
    with pytest.raises(ValidationError, match=r"'den': 1 rows have a zero denominator \(rows 3\)"):
        harmonise.read_source(src, wilts21, vintage="2021")


def test_ward_counts_on_another_boundary_review_are_diagnosed(tmp_path, wilts11, wilts21):
    """Counts keyed on 2019 wards (the wards LSOA 2011 uses) in an LSOA 2021 run were a pandas TypeError."""
    old_wards = sorted(set(wilts11["ward_code"]) - set(wilts21["ward_code"]))
    src = counts_source(write_counts(tmp_path, old_wards, range(len(old_wards))), geography="ward")
    with pytest.raises(
        ValidationError,
        match=rf"{len(old_wards)} codes are not 2024 ward codes \({old_wards[0]}, .*they look like the ward codes "
        r"of an earlier or later boundary review \(2019, used with LSOA 2011\).*set area.vintage = \"2011\"",
    ):
        harmonise.read_source(src, wilts21, vintage="2021")
    src = counts_source(write_counts(tmp_path, ["E05999999", "X123"], [1, 2], name="typo.csv"), geography="ward")
    with pytest.raises(ValidationError, match=r"2 codes are not 2024 ward codes \(E05999999, X123\): check the file"):
        harmonise.read_source(src, wilts21, vintage="2021")
    current = sorted(set(wilts21["ward_code"]))  # the same counts keyed on 2024 wards are apportioned, total kept
    src = counts_source(write_counts(tmp_path, current, [10] * len(current), name="now.csv"), geography="ward")
    assert harmonise.read_source(src, wilts21, vintage="2021").count.sum() == 10 * len(current)


def test_decimal_commas_are_refused_not_read_as_thousands(tmp_path, wilts21):
    """European-locale Excel writes 92.3 as "92,3"; read as a thousands separator it became 923, silently."""
    path = tmp_path / "rates.csv"
    path.write_text(f'code,n\n{wilts21.index[0]},"1,204"\n{wilts21.index[1]},"92,3"\n{wilts21.index[2]},"1.234,5"\n')
    src = counts_source(path, geography="lsoa21")
    with pytest.raises(
        ValidationError,
        match=r"rates.csv, column 'n': 2 values use a decimal comma \(row 3: '92,3', row 4: '1.234,5'\), as Excel "
        r"writes numbers in European locales; .*save the file with decimal points, or as XLSX",
    ):
        harmonise.read_source(src, wilts21, vintage="2021")
    values, _ = parse_numbers(pd.Series(["1,204", "12,345,678", "-3,000.5"]), source="f", column="n")
    assert values.tolist() == [1204.0, 12345678.0, -3000.5]


def test_a_trailing_total_row_is_left_out_with_a_warning(tmp_path, wilts21):
    """A 'Total' row under the areas was reported as an unknown LSOA code."""
    path = write_counts(tmp_path, [*wilts21.index[:3], "Total", "Grand total:"], [4, 10, 20, 34, 34])
    with pytest.warns(TotalRowWarning, match=r"counts.csv: row 5, 6 \('Total', 'Grand total:'\) is a total row"):
        out = harmonise.read_source(counts_source(path, geography="lsoa21"), wilts21, vintage="2021")
    assert out.count.sum() == 34
    inside = write_counts(tmp_path, [wilts21.index[0], "TOTAL", wilts21.index[1]], [4, 4, 5], name="middle.csv")
    with pytest.raises(
        ValidationError,
        match=r"1 codes are not LSOA 2021 codes \('TOTAL' \(row 3\)\): they are not ONS codes at all: a total",
    ):  # not at the end
        harmonise.read_source(counts_source(inside, geography="lsoa21"), wilts21, vintage="2021")


def test_an_absurd_count_is_refused_by_row(tmp_path, wilts21):
    """1e308 (a spreadsheet overflow) once reached the robustness draws as 'lam value too large'."""
    src = counts_source(write_counts(tmp_path, wilts21.index[:3], [4, 1e308, 2_000_000_000]), geography="lsoa21")
    with pytest.raises(
        ValidationError,
        match=r"'n': 2 values are too large to be counts of people or events \(row 3: 1e\+308, row 4: 2e\+09\); "
        r"more than 1,000,000,000 in one row is a typo or an overflow: fix the row",
    ):
        harmonise.read_source(src, wilts21, vintage="2021")


def test_cp1252_bom_thousands_and_xlsx_header_offset(tmp_path):
    cp = tmp_path / "cp1252.csv"
    cp.write_bytes('code,n,note\nE01031841,"1,204",£5 voucher\n'.encode("cp1252"))
    with pytest.warns(TextEncodingWarning, match="not UTF-8; read as Windows-1252"):
        table = read_table(cp, columns=["code", "n"])
    assert table["note"].iloc[0] == "£5 voucher"
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffcode,n\nE01031841,3\n".encode())
    assert list(read_table(bom, columns=["code", "n"]).columns) == ["code", "n"]
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Adult social care referrals, 2025"])
    sheet.append([])
    sheet.append(["code", "n"])
    sheet.append(["E01031841", 7])
    xlsx = tmp_path / "t.xlsx"
    book.save(xlsx)
    table = read_table(xlsx, columns=["code", "n"])
    assert table["n"].tolist() == ["7"] and table.index[0] == 4  # spreadsheet row number


def test_bad_tables_name_file_and_fix(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValidationError, match="empty.csv: the file is empty"):
        read_table(empty, columns=["code"])
    path = tmp_path / "cols.csv"
    path.write_text("LSOA_code,count\nE01031841,3\n")
    with pytest.raises(ValidationError, match=r"no column 'LSOA code' \(did you mean 'LSOA_code'\?\)"):
        read_table(path, columns=["LSOA code"])


def test_points_are_counted_and_a_crs_mistake_is_explained(tmp_path, wilts21):
    pts = pd.read_csv(SYNTHETIC / "wiltshire_safeguarding_points_SYNTHETIC.csv")
    src = SourceConfig(
        name="sg",
        kind="points",
        path=str(SYNTHETIC / "wiltshire_safeguarding_points_SYNTHETIC.csv"),
        x_col="easting",
        y_col="northing",
        crs="EPSG:27700",
    )
    out = harmonise.read_source(src, wilts21, vintage="2021")
    assert out.count.sum() == len(pts) and out.synthetic
    swapped = tmp_path / "swapped.csv"
    pts.rename(columns={"easting": "northing", "northing": "easting"}).to_csv(swapped, index=False)
    bad = replace(src, path=str(swapped))
    with pytest.raises(ValidationError, match="100% of 1695 points lie outside.*look swapped"):
        harmonise.read_source(bad, wilts21, vintage="2021")
    wrong = replace(src, crs="EPSG:4326")
    with pytest.raises(ValidationError, match="outside the local authority; check the declared crs"):
        harmonise.read_source(wrong, wilts21, vintage="2021")


def postcode_source(records, lookup) -> SourceConfig:
    return SourceConfig(
        name="ev",
        kind="postcodes",
        path=str(records),
        postcode_col="postcode",
        lookup=str(lookup),
        lookup_postcode_col="pcds",
        lookup_code_col="lsoa21cd",
    )


def test_postcodes_through_the_users_lookup(tmp_path, wilts21):
    lookup = tmp_path / "lookup.csv"
    pd.DataFrame(
        {"pcds": ["SN1 1AA", "SN1 1AB", "BA14 8AA"], "lsoa21cd": [wilts21.index[0], wilts21.index[1], wilts21.index[1]]}
    ).to_csv(lookup, index=False)
    records = tmp_path / "records.csv"
    pd.DataFrame({"postcode": ["sn11aa", "SN1 1AB", "ba14 8aa", "SN1 1AA"]}).to_csv(records, index=False)
    src = postcode_source(records, lookup)
    out = harmonise.read_source(src, wilts21, vintage="2021")
    assert out.count[wilts21.index[0]] == 2 and out.count[wilts21.index[1]] == 2 and out.count.sum() == 4
    pd.DataFrame({"postcode": ["ZZ9 9ZZ"] * 3 + ["SN1 1AA"]}).to_csv(records, index=False)
    with pytest.raises(ValidationError, match="3 of 4 postcodes are not in lookup.csv"):
        harmonise.read_source(src, wilts21, vintage="2021")


def test_a_postcode_lookup_that_conflicts_or_leaves_the_area_is_never_silent(tmp_path, wilts21):
    solihull = load.read_areas("E08000029").index  # LSOAs of another local authority
    lookup = tmp_path / "lookup.csv"
    records = tmp_path / "records.csv"
    src = postcode_source(records, lookup)
    pd.DataFrame({"postcode": ["SN1 1AA", "SN1 1AB", "B37 5AA", "SN1 1AA"]}).to_csv(records, index=False)
    pd.DataFrame(
        {
            "pcds": ["SN1 1AA", "SN1 1AB", "B37 5AA", "SN1 1AB"],
            "lsoa21cd": [*wilts21.index[:2], solihull[0], solihull[1]],
        }
    ).to_csv(lookup, index=False)
    with pytest.raises(
        ValidationError,
        match=r"lookup.csv, column 'pcds': 1 postcodes map to more than one lsoa21cd \(rows 3, 5\); lacgeo will "
        r"not pick one: keep one row per postcode",
    ):
        harmonise.read_source(src, wilts21, vintage="2021")
    pd.DataFrame(  # the same postcode twice with the same LSOA is only a repeat
        {
            "pcds": ["SN1 1AA", "SN1 1AB", "B37 5AA", "SN1 1AB"],
            "lsoa21cd": [*wilts21.index[:2], solihull[0], wilts21[1:2].index[0]],
        }
    ).to_csv(lookup, index=False)
    with pytest.warns(
        OutsideAreaWarning,
        match=r"records.csv: 1 of 4 records \(25%\) have postcodes in LSOAs outside the local authority and are "
        r"not counted \(rows 4\)",
    ):
        out = harmonise.read_source(src, wilts21, vintage="2021")
    assert out.count.sum() == 3
    pd.DataFrame({"pcds": ["SN1 1AA", "SN1 1AB", "B37 5AA"], "lsoa21cd": ["Swindon", "X", "Y"]}).to_csv(
        lookup, index=False
    )
    with pytest.raises(ValidationError, match=r"column 'lsoa21cd': 3 codes are not English .* point lookup_code_col"):
        harmonise.read_source(src, wilts21, vintage="2021")


def test_synthetic_example_config_runs_and_is_marked(synthetic_run, synthetic_out):
    result = synthetic_run  # run() records the missing-value warning instead of raising it
    assert result.synthetic
    assert any("'mh_crisis' has no value for 3 areas" in w for w in result.warnings)
    assert {"asc_referrals", "mh_crisis", "safeguarding"} <= set(result.indicators.columns)
    areas = pd.read_csv(synthetic_out / "areas.csv")
    assert "value_safeguarding" in areas.columns and "easting" not in " ".join(areas.columns)

"""CSV numbers: whole numbers as whole numbers, measures to a fixed number of decimals per kind,
withheld values blank, formula-safe text, close to the unrounded values."""

from __future__ import annotations

import csv
import re

import numpy as np
import pandas as pd
import pytest

from lacgeo.outputs import area_table, assessment_table, patch_table, write_csv
from lacgeo.outputs.tables import DECIMALS, column_kind, csv_numbers

from .conftest import with_small_patch_count

CSVS = ("areas.csv", "patches.csv", "needs_assessment.csv", "rollout.csv", "comparisons.csv")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _cells(path) -> dict[str, list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return {name: [row[i] for row in rows[1:]] for i, name in enumerate(rows[0])}


def _pattern(decimals: int) -> re.Pattern:
    return re.compile(r"-?\d+" if decimals == 0 else rf"-?\d+\.\d{{{decimals}}}")


@pytest.mark.parametrize("name", CSVS)
def test_numbers_have_the_decimals_of_their_kind(solihull_out, name):
    text = (solihull_out / name).read_text(encoding="utf-8")
    assert not re.search(r"\d\.\d{6}", text), "six-decimal numbers such as 150000.000000 are back"
    for column, cells in _cells(solihull_out / name).items():
        numbers = [c for c in cells if c and NUMBER.fullmatch(c)]
        if not numbers or len(numbers) < len([c for c in cells if c]):
            continue  # a text column (or one mixing text, like quintile's "All")
        whole = all(re.fullmatch(r"-?\d+", c) for c in numbers)
        expected = _pattern(DECIMALS[column_kind(column)])
        assert whole or all(expected.fullmatch(c) for c in numbers), (name, column, numbers[:3])
        if column_kind(column) in ("integer", "code", "money"):
            assert whole, (name, column, numbers[:3])
        assert not any(c.startswith("-0") and float(c) == 0 for c in numbers), (name, column)


def test_costs_are_whole_pounds_and_shares_keep_four_decimals(solihull_out):
    rollout = _cells(solihull_out / "rollout.csv")
    assert rollout["annual_cost"][0] == "150000" and rollout["annual_cost_to_date"][1] == "450000"
    assert all(re.fullmatch(r"[01]\.\d{4}", c) for c in rollout["population_share_to_date"])
    patches = _cells(solihull_out / "patches.csv")
    assert all(re.fullmatch(r"-?\d+\.\d{3}", c) for c in patches["need_index"])
    assert all(re.fullmatch(r"\d+", c) for c in patches["population"] + patches["rank"] + patches["phase"])


def test_rounded_values_stay_within_half_a_last_digit(solihull_run, solihull_out):
    tables = {
        "areas.csv": pd.DataFrame(area_table(solihull_run).drop(columns="geometry")).reset_index(),
        "patches.csv": pd.DataFrame(patch_table(solihull_run).drop(columns="geometry")).reset_index(),
        "needs_assessment.csv": assessment_table(solihull_run).reset_index(drop=True),
    }
    for name, table in tables.items():
        read = pd.read_csv(solihull_out / name, keep_default_na=False, na_values=[""])
        assert list(read.columns) == list(table.columns), name
        for column in table.columns:
            if not pd.api.types.is_float_dtype(table[column]):
                continue
            step = 0.5 * 10.0 ** -DECIMALS[column_kind(column)]
            got, want = read[column].to_numpy(float), table[column].to_numpy(float)
            assert np.array_equal(np.isnan(got), np.isnan(want)), (name, column)
            assert np.nanmax(np.abs(got - want), initial=0) <= step + 1e-9, (name, column)


def test_withheld_council_values_stay_blank(synthetic_run, tmp_path):
    """A patch whose referrals add up to 3: its rate, and the area rates that would give it back, are blank."""
    pid, result = with_small_patch_count(synthetic_run)
    areas_table, patches_table = area_table(result), patch_table(result)
    write_csv(pd.DataFrame(areas_table.drop(columns="geometry")), tmp_path / "areas.csv")
    write_csv(pd.DataFrame(patches_table.drop(columns="geometry")), tmp_path / "patches.csv")
    write_csv(assessment_table(result), tmp_path / "needs_assessment.csv", index=False)
    areas = _cells(tmp_path / "areas.csv")
    hidden = areas_table["value_asc_referrals"].isna()
    assert hidden.sum() >= 2
    assert [c == "" for c in areas["value_asc_referrals"]] == hidden.tolist()
    assert [c == "" for c in areas["need_index"]] == areas_table["need_index"].isna().tolist()
    patches = _cells(tmp_path / "patches.csv")
    rates = dict(zip(patches["patch_id"], patches["value_asc_referrals"], strict=True))
    assert rates[pid] == ""
    assert sum(v == "" for v in rates.values()) == patches_table["value_asc_referrals"].isna().sum()
    assessment = _cells(tmp_path / "needs_assessment.csv")
    counts = [c for c in assessment["count"] if c]
    assert counts and all(re.fullmatch(r"\d+", c) for c in counts)  # published counts are whole numbers
    assert sum(c == "" for c in assessment["count"]) >= assessment_table(result)["count"].isna().sum()


def test_write_csv_keeps_integers_blanks_and_formula_safety(tmp_path):
    table = pd.DataFrame(
        {
            "name": ["=1+1", "-2", "Melksham"],
            "n": [1, -2, 3],
            "population": [1200.0, 950.0, float("nan")],
            "count": pd.array([4, pd.NA, 12], dtype=object),
            "need_index": [-0.0001, 1.23456, float("nan")],
            "annual_cost": [150000.0, 49999.5, 0.0],
            "p_top_n": [1.0, 0.12345, 0.0],
            "value_rate": [12.34567, float("nan"), 0.0],
        },
        index=pd.Index(["a", "b", "c"], name="id"),
    )
    write_csv(table, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text().splitlines() == [
        "id,name,n,population,count,need_index,annual_cost,p_top_n,value_rate",
        "a,'=1+1,1,1200,4,0.000,150000,1.0000,12.346",
        "b,-2,-2,950,,1.235,50000,0.1235,",
        "c,Melksham,3,,12,,0,0.0000,0.000",
    ]
    assert csv_numbers(table)["name"].tolist() == table["name"].tolist()  # text is left alone

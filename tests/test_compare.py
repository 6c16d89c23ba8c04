"""lacgeo compare: settings, inputs, phase-1 changes and their reasons across two runs."""

from __future__ import annotations

import hashlib
import json
import shutil

import pandas as pd
import pytest

import lacgeo
from lacgeo.cli import main
from lacgeo.compare import compare_runs
from lacgeo.config import replace
from lacgeo.errors import OutputError


@pytest.fixture(scope="module")
def two_vintages(tmp_path_factory):
    root = tmp_path_factory.mktemp("cmp")
    config = replace(lacgeo.make_config(la="Derby"), recommend={"robustness_draws": 0})
    lacgeo.run(replace(config, area={"vintage": "2011"}), out=root / "old")
    lacgeo.run(config, out=root / "new")
    return root / "old", root / "new"


def test_vintage_change_is_explained(two_vintages):
    old, new = two_vintages
    c = compare_runs(old, new)
    assert "area.vintage: 2011 -> 2021" in c.settings
    assert "data deprivation: IoD2019 -> IoD2025" in c.settings
    assert "iod2025_lsoa21.parquet: new in this run" in c.inputs
    assert c.moves is not None and len(c.moves) > 20  # most patches are matched across vintages
    assert (c.moves["shared"] > 0).all()
    p1 = [e for e in c.explanations if "need index" in e]
    assert len(p1) == 3  # one line per new phase-1 patch


def test_a_run_compared_with_itself_changes_nothing(two_vintages):
    _, new = two_vintages
    c = compare_runs(new, new)
    assert c.settings == [] and c.inputs == [] and c.entered == [] and c.left == []
    assert (c.moves["move"] == 0).all() and (c.moves["shared"] == 1.0).all()


def test_cli_compare_and_bad_folders(two_vintages, tmp_path, capsys):
    old, new = two_vintages
    assert main(["compare", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    assert "Phase 1 entered:" in out and "Largest rank moves" in out
    with pytest.raises(OutputError, match="not a lacgeo run folder \\(run.json is missing\\)"):
        compare_runs(tmp_path, new)


def test_runs_of_two_different_areas_are_refused_with_a_reason(two_vintages, solihull_out, tmp_path, capsys):
    _, derby = two_vintages
    assert main(["compare", str(solihull_out), str(derby)]) == 5
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{solihull_out} is a run for Solihull (E08000029) and {derby} for Derby (E06000015)" in err
    # a run.json that does not name its area (an older run) is caught by the areas themselves
    anonymous = tmp_path / "anonymous"
    shutil.copytree(solihull_out, anonymous)
    manifest = json.loads((anonymous / "run.json").read_text())
    del manifest["local_authority"]
    (anonymous / "run.json").write_text(json.dumps(manifest))
    with pytest.raises(OutputError, match="share no small area: compare matches patches by the residents they share"):
        compare_runs(anonymous, derby)


def test_picks_that_changed_shape_are_reported_as_changed(two_vintages):
    old, new = two_vintages
    c = compare_runs(old, new)
    table = c.table
    p1 = table[table["new_phase"] == 1]
    assert len(p1) == 3 and set(p1["status"]) <= {"kept", "changed", "entered"}
    # the statuses follow from the shares: kept only when every resident is shared both ways
    for row in p1.itertuples():
        whole = row.share_of_new_from_old >= 1 - 1e-9 and row.share_of_old_kept >= 1 - 1e-9
        if row.status != "entered":
            assert (row.status == "kept") == whole
    assert len(c.changed) == (p1["status"] == "changed").sum()
    for line, row in zip(c.changed, p1[p1["status"] == "changed"].itertuples(), strict=True):
        assert line.startswith(f"{row.new_patch} {row.new_name} (was {row.old_patch} {row.old_name})")
    drawn = table[table["new_patch"].notna()]
    assert drawn["share_of_new_from_old"].between(0, 1).all() and drawn["share_of_old_kept"].between(0, 1).all()
    left = table[table["status"] == "left"]
    assert len(left) == len(c.left) and left["new_patch"].isna().all() and (left["old_phase"] == 1).all()


def test_a_pick_redrawn_in_the_same_vintage_is_changed_not_silent(two_vintages, tmp_path):
    _, new = two_vintages
    redrawn = tmp_path / "redrawn"
    shutil.copytree(new, redrawn)
    areas = pd.read_csv(redrawn / "areas.csv", dtype={"area_code": str, "patch_id": str})
    patches = pd.read_csv(redrawn / "patches.csv", dtype={"patch_id": str})
    first = patches.loc[patches["rank"] == 1, "patch_id"].iloc[0]
    other = patches.loc[patches["phase"] != 1, "patch_id"].iloc[0]
    moved = areas.index[areas["patch_id"] == other][:2]
    areas.loc[moved, "patch_id"] = first  # two areas of a later patch join the first pick
    areas.to_csv(redrawn / "areas.csv", index=False)
    manifest = json.loads((redrawn / "run.json").read_text())  # as a run that drew it so would record it
    manifest["outputs"]["areas.csv"] = hashlib.sha256((redrawn / "areas.csv").read_bytes()).hexdigest()
    (redrawn / "run.json").write_text(json.dumps(manifest))
    c = compare_runs(new, redrawn)
    assert c.entered == [] and c.left == []
    assert len(c.changed) == 1 and c.changed[0].startswith(f"{first} ")
    assert "keeps 100% of the old pick's residents" in c.changed[0]
    assert "Phase 1 changed shape:" in "\n".join(c.lines())


def test_indicators_are_named_by_label(two_vintages):
    old, new = two_vintages
    text = "\n".join(compare_runs(old, new).lines())
    assert "imd_score" not in text and "preventable_mortality_smr" not in text
    explained = [e for e in compare_runs(old, new).explanations if " -> " in e and "need index" in e]
    assert explained and all(":" in e for e in explained)


def test_cli_writes_the_comparison_as_csv_too(two_vintages, tmp_path, capsys):
    old, new = two_vintages
    path = tmp_path / "changes.csv"
    assert main(["compare", str(old), str(new), "--csv", str(path)]) == 0
    assert f"Patch by patch: {path}" in capsys.readouterr().out
    table = pd.read_csv(path, dtype={"new_patch": str, "old_patch": str})
    assert list(table.columns[:4]) == ["new_patch", "new_name", "new_rank", "new_phase"]
    assert (table["status"].fillna("") != "").sum() >= 3  # every phase-1 pick of either run has a status
    before = path.read_bytes()
    assert main(["compare", str(old), str(new), "--csv", str(path)]) == 5  # never replaced without --overwrite
    assert "already exists; pass --overwrite" in capsys.readouterr().err and path.read_bytes() == before
    assert main(["compare", str(old), str(new), "--csv", str(path), "--overwrite"]) == 0
    assert path.read_bytes() == before  # same runs, same bytes


def test_an_edited_or_truncated_table_is_refused_not_compared(two_vintages, tmp_path, capsys):
    _, new = two_vintages
    cut = tmp_path / "cut"
    shutil.copytree(new, cut)
    text = (cut / "areas.csv").read_bytes()
    (cut / "areas.csv").write_bytes(text[: len(text) // 2])  # truncated mid-row
    assert main(["compare", str(new), str(cut)]) == 5
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "areas.csv: does not match the checksum run.json recorded" in err

"""lacgeo compare: settings, inputs, phase-1 changes and their reasons across two runs."""

from __future__ import annotations

import json
import shutil

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

"""Trust on bad input: --strict, manifests, interrupted runs, impossible bands, untouched inputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

import lacgeo
from lacgeo import datasets, harmonise
from lacgeo.cli import main
from lacgeo.config import SourceConfig, replace
from lacgeo.errors import PatchingError, ValidationError
from lacgeo.harmonise import OutsideAreaWarning
from lacgeo.report import check_manifest

SYNTHETIC = Path(__file__).resolve().parent.parent / "data" / "synthetic"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_strict_turns_warnings_into_one_error():
    config = lacgeo.load_config(SYNTHETIC / "wiltshire_synthetic.toml")
    with pytest.raises(ValidationError, match=r"--strict: indicator 'mh_crisis' has no value for 3 areas"):
        lacgeo.run(config, strict=True)


def test_inputs_are_never_modified(tmp_path):
    files = sorted(SYNTHETIC.glob("*SYNTHETIC*.csv"))
    before = {f: sha(f) for f in files}
    lacgeo.run(lacgeo.load_config(SYNTHETIC / "wiltshire_synthetic.toml"), out=tmp_path / "o")
    assert {f: sha(f) for f in files} == before


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

    monkeypatch.setattr("lacgeo.report.make_map", interrupt)
    with pytest.raises(KeyboardInterrupt):
        solihull_run.write(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_a_band_no_patch_can_meet_is_an_error():
    config = replace(lacgeo.make_config(la="Solihull"), patches={"target_population": 500})
    with pytest.raises(PatchingError, match=r"allows at most 600 people, but the median LSOA alone holds 1,571"):
        lacgeo.run(config)


def test_rows_for_other_local_authorities_are_ignored_with_a_warning(tmp_path):
    wilts = datasets.read_areas("E06000054")
    derby = datasets.read_areas("E06000015")
    path = tmp_path / "county.csv"
    pd.DataFrame({"code": list(wilts.index) + list(derby.index[:4]), "n": 5}).to_csv(path, index=False)
    src = SourceConfig(name="d", path=str(path), code_col="code", value_col="n")
    with pytest.warns(OutsideAreaWarning, match=r"4 of 311 LSOA 2021 codes are outside the local authority"):
        out = harmonise.read_source(src, wilts, vintage="2021")
    assert out.count.sum() == 5 * len(wilts)


def test_missing_denominators_and_more_events_than_people_are_errors(tmp_path):
    wilts = datasets.read_areas("E06000054")
    path = tmp_path / "den.csv"
    pd.DataFrame({"code": wilts.index[:3], "n": [5, 50, 1], "den": ["100", "20", ""]}).to_csv(path, index=False)
    src = SourceConfig(name="d", path=str(path), code_col="code", value_col="n", denominator_col="den")
    with pytest.raises(ValidationError) as info:
        harmonise.read_source(src, wilts, vintage="2021")
    msg = str(info.value)
    assert "'den': 1 rows have no denominator (rows 4)" in msg
    assert "1 rows count more people than the denominator 'den' (rows 3)" in msg

"""The command line: exit codes, one-line errors, init, las, validate, run."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lacgeo.cli import main


def run_cli(*args, cwd=None):
    proc = subprocess.run([sys.executable, "-m", "lacgeo.cli", *args], capture_output=True, text=True, cwd=cwd)
    return proc.returncode, proc.stdout, proc.stderr


def test_unknown_la_is_one_line_with_suggestion_and_exit_2(tmp_path):
    code, out, err = run_cli("run", "--la", "Wiltshre", "--out", str(tmp_path / "o"))
    assert code == 2
    expected = "lacgeo: error: unknown local authority 'Wiltshre': did you mean \"Wiltshire\"?"
    assert err.strip().splitlines() == [expected]
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_run_without_la_or_config_is_a_usage_error(capsys):
    assert main(["run"]) == 2
    assert "give a config file" in capsys.readouterr().err


def test_las_lists_every_english_la(capsys):
    assert main(["las"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 296
    assert any(line.startswith("E06000054\tWiltshire\tSouth West") for line in lines)


def test_init_writes_a_valid_config_and_validate_accepts_it(tmp_path, capsys):
    path = tmp_path / "derby.toml"
    assert main(["init", "--la", "derby", "--path", str(path)]) == 0
    assert 'la = "Derby"' in path.read_text()
    assert main(["validate", str(path)]) == 0
    assert "valid (Derby, E06000015" in capsys.readouterr().out
    assert main(["init", "--la", "Derby", "--path", str(path)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_validate_reports_config_errors_with_exit_2(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('[area]\nla = "Derby"\n[patches]\ntarget_populaton = 9000\n')
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean 'target_population'" in err


@pytest.mark.slow
def test_run_by_code_writes_outputs_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "solihull"
    code, stdout, err = run_cli("run", "--la", "E08000029", "--out", str(out))
    assert code == 0, err
    assert "Solihull: 134 LSOAs" in stdout and "Phase 1:" in stdout
    assert {p.name for p in out.iterdir()} >= {"lacgeo.gpkg", "patches.csv", "map.html", "run.json"}
    code, _, err = run_cli("run", "--la", "E08000029", "--out", str(out))
    assert code == 5 and "already exists" in err and "--overwrite" in err
    code, _, err = run_cli("run", "--la", "E08000029", "--out", str(out), "--overwrite", "--seed", "3")
    assert code == 0, err
    assert list(tmp_path.iterdir()) == [out]  # no temporary folders left behind


def test_budget_answer_names_the_affordable_patches(tmp_path, capsys):
    assert main(["run", "--la", "Solihull", "--budget", "160000", "--out", str(tmp_path / "o"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "A budget of £160,000 a year pays for 3 coordinators at £50,000: P" in out
    assert "in the top 3 in" in out
    assert (tmp_path / "o" / "rollout.csv").exists()

"""The command line: exit codes, one-line errors, init, las, validate, run."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lacgeo import stages
from lacgeo.cli import main


def run_cli(capsys, *args):
    """``lacgeo ARGS`` in this process: exit code, stdout, stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_module_runs_as_a_command():
    proc = subprocess.run([sys.executable, "-m", "lacgeo.cli", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("lacgeo ")


def test_unknown_la_is_one_line_with_suggestion_and_exit_2(tmp_path, capsys):
    code, out, err = run_cli(capsys, "run", "--la", "Wiltshre", "--out", str(tmp_path / "o"))
    assert code == 2
    (line,) = err.strip().splitlines()
    assert line.startswith("lacgeo: error: unknown area 'Wiltshre': did you mean Wiltshire (district or unitary ")
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_run_without_la_or_config_is_a_usage_error(capsys):
    assert main(["run"]) == 2
    assert "give a config file" in capsys.readouterr().err


def test_las_lists_every_english_district_and_unitary(capsys):
    assert main(["las", "--kind", "district"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 296
    assert any(line.startswith("E06000054\tWiltshire\tdistrict or unitary council\t") for line in lines)
    assert main(["las", "--kind", "district", "--region", "South West"]) == 0
    assert any(line.startswith("E06000054\tWiltshire") for line in capsys.readouterr().out.splitlines())


def test_init_writes_a_valid_config_and_validate_accepts_it(tmp_path, capsys):
    path = tmp_path / "derby.toml"
    assert main(["init", "--la", "derby", "--path", str(path)]) == 0
    assert 'la = "Derby"' in path.read_text()
    assert main(["validate", str(path)]) == 0
    assert "valid (Derby (district or unitary council, E06000015), LSOA 2021)" in capsys.readouterr().out
    assert main(["init", "--la", "Derby", "--path", str(path)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_validate_reports_config_errors_with_exit_2(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('[area]\nla = "Derby"\n[patches]\ntarget_populaton = 9000\n')
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean 'target_population'" in err


@pytest.mark.slow
def test_run_by_code_writes_outputs_and_refuses_to_overwrite(tmp_path, capsys, monkeypatch):
    out = tmp_path / "solihull"
    code, stdout, err = run_cli(capsys, "run", "--la", "E08000029", "--out", str(out), "--seed", "3")
    assert code == 0, err
    assert "Solihull: 134 LSOAs" in stdout and "Phase 1:" in stdout and f"Outputs: {out}" in stdout
    assert {p.name for p in out.iterdir()} >= {"lacgeo.gpkg", "patches.csv", "map.html", "run.json"}
    before = (out / "run.json").read_bytes()

    def no_work(*args, **kwargs):
        raise AssertionError("the analysis ran although the output folder could not be written")

    with monkeypatch.context() as m:  # an existing --out is refused before any work is done
        m.setattr(stages, "load_inputs", no_work)
        code, _, err = run_cli(capsys, "run", "--la", "E08000029", "--out", str(out))
        assert code == 5 and "already exists" in err and "--overwrite" in err
        (tmp_path / "a-file").write_text("not a folder")
        code, _, err = run_cli(capsys, "run", "--la", "E08000029", "--out", str(tmp_path / "a-file"), "--overwrite")
        assert code == 5 and "is not a folder" in err
    assert (out / "run.json").read_bytes() == before
    code, _, err = run_cli(capsys, "run", "--la", "E08000029", "--out", str(out), "--overwrite", "--seed", "3")
    assert code == 0, err
    assert sorted(tmp_path.iterdir()) == [tmp_path / "a-file", out]  # no temporary folders left behind


def test_budget_answer_names_the_affordable_patches(tmp_path, capsys):
    assert main(["run", "--la", "Solihull", "--budget", "160000", "--out", str(tmp_path / "o"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "A budget of £160,000 over 12 months pays for 3 coordinators for 12 months (£50,000 each" in out
    assert "in the top 3 in" in out
    assert (tmp_path / "o" / "rollout.csv").exists()


def test_a_config_without_an_area_names_the_file(tmp_path, capsys):
    path = tmp_path / "no-area.toml"
    path.write_text('[need]\nstandardise = "rank"\n')
    for command in (["run", str(path), "--out", str(tmp_path / "o")], ["validate", str(path)]):
        code, _, err = run_cli(capsys, *command)
        assert code == 2
        expected = f'{path}: area.la is not set; add it to the file ([area] la = "Wiltshire") or pass --la NAME'
        assert err == f"lacgeo: error: {expected}\n"
    code, out, err = run_cli(capsys, "validate", str(tmp_path / "missing.toml"))
    assert code == 2 and "config file not found; create one with `lacgeo init --la NAME`" in err


def test_the_command_entry_point_runs_main_and_exits_with_its_code():
    """``lacgeo`` (pyproject's console script) is ``console()``: main on sys.argv, exit code kept."""
    import subprocess
    import sys

    script = "import sys; from lacgeo.cli import console; sys.argv = ['lacgeo', *sys.argv[1:]]; console()"
    ok = subprocess.run([sys.executable, "-c", script, "las", "--kind", "county"], capture_output=True, text=True)
    assert ok.returncode == 0 and "Nottinghamshire" in ok.stdout
    bad = subprocess.run([sys.executable, "-c", script, "run", "--la", "Wiltshre"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown area 'Wiltshre'" in bad.stderr

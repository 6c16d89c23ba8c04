"""RunResult: the summary a notebook gets, the same text the CLI prints; writing through its writer."""

from __future__ import annotations

import dataclasses

import pytest

import lacgeo
from lacgeo.cli import main
from lacgeo.errors import OutputError


def test_summary_names_every_phase_1_pick_as_the_cli_prints_it(solihull_run, tmp_path, capsys):
    lines = solihull_run.summary().splitlines()
    patches = solihull_run.patches
    assert lines[0] == (
        f"Solihull: 134 LSOAs, {len(patches)} patches "
        f"(population {patches['population'].min():,}-{patches['population'].max():,})"
    )
    assert lines[1] == "Phase 1:"
    picks = solihull_run.recommended
    assert len(lines) == 3 + len(picks)
    pairs = solihull_run.evaluation.pairs
    assert lines[-1] == "Comparison patches for evaluating phase 1: " + "; ".join(
        f"{pid}: {', '.join(g['comparator_id'])}" for pid, g in pairs.groupby("pick_id", sort=False)
    )
    for line, (pid, row) in zip(lines[2:-1], picks.iterrows(), strict=True):
        assert line.startswith(f"  {row['rank']}. {pid} {row['patch_name']} - {row['population']:,} people")
    assert main(["run", "--la", "Solihull", "--out", str(tmp_path / "o"), "-q"]) == 0
    assert capsys.readouterr().out == solihull_run.summary() + f"\nOutputs: {tmp_path / 'o'}\n"


def test_summary_answers_the_budget_question(solihull_run):
    config = lacgeo.override(solihull_run.config, budget=160_000)
    text = dataclasses.replace(solihull_run, config=config).summary()
    paid = ", ".join(f"{pid} {name}" for pid, name in solihull_run.recommended["patch_name"].items())
    assert text.splitlines()[-2] == (
        "A budget of £160,000 over 12 months pays for 3 coordinators for 12 months (£50,000 each, after £0 of other "
        f"costs; £10,000 left over); £{160_000 / solihull_run.recommended['population'].sum():,.2f} per resident "
        f"covered per year: {paid}"
    )


def test_override_changes_only_what_is_given_and_checks_it():
    config = lacgeo.make_config(la="Wiltshire")
    assert lacgeo.override(config) is config
    changed = lacgeo.override(config, la="Derby", vintage="2011", seed=7, budget=1.0)
    assert (changed.area.la, changed.area.vintage, changed.seed, changed.budget.total) == ("Derby", "2011", 7, 1.0)
    assert changed.patches == config.patches and changed.need == config.need
    with pytest.raises(lacgeo.ConfigError, match="area.vintage = '2001' is not one of '2021', '2011'"):
        lacgeo.override(config, vintage="2001")


def test_run_refuses_an_existing_output_folder_before_any_work(tmp_path, monkeypatch):
    out = tmp_path / "taken"
    out.mkdir()
    monkeypatch.setattr("lacgeo.stages.load_inputs", lambda *a, **k: pytest.fail("the analysis ran"))
    with pytest.raises(OutputError, match="taken already exists; choose another --out or pass --overwrite"):
        lacgeo.run(lacgeo.make_config(la="Rutland"), out=out)


def test_a_result_without_a_writer_says_how_to_write_it(solihull_run, tmp_path):
    bare = dataclasses.replace(solihull_run, writer=None)
    with pytest.raises(OutputError, match=r"write it with lacgeo.write_outputs\(result, out\)"):
        bare.write(tmp_path / "o")
    assert not (tmp_path / "o").exists()

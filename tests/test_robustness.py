"""Robustness of the ranking, the rollout plan and the budget answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lacgeo
from lacgeo import rank
from lacgeo.config import IndicatorConfig, replace
from lacgeo.need import compute_need_index
from lacgeo.rank import rank_robustness


@pytest.fixture(scope="module")
def derby():
    config = lacgeo.make_config(la="Derby")
    return lacgeo.run(replace(config, recommend={"robustness_draws": 0}))


def test_fixed_weights_and_values_reproduce_the_ranking(derby):
    specs = derby.config.need.indicators
    robust = rank_robustness(
        derby.areas, derby.areas["patch_id"], derby.indicators, specs, n=3, n_draws=50, concentration=1e9, seed=1
    )
    ranks = derby.patches["rank"].reindex(robust.index)
    assert (robust["rank_low"] == ranks).all() and (robust["rank_high"] == ranks).all()
    assert robust["p_top_n"].to_dict() == (ranks <= 3).astype(float).to_dict()


def test_draws_are_seeded_and_bounded(derby):
    specs = (IndicatorConfig("imd_score", weight=1.0), IndicatorConfig("preventable_mortality_smr", weight=1.0))
    kw = dict(n=3, n_draws=300, concentration=3.0)
    a = rank_robustness(derby.areas, derby.areas["patch_id"], derby.indicators, specs, seed=5, **kw)
    b = rank_robustness(derby.areas, derby.areas["patch_id"], derby.indicators, specs, seed=5, **kw)
    pd.testing.assert_frame_equal(a, b)
    assert a["p_top_n"].between(0, 1).all() and (a["rank_low"] <= a["rank_high"]).all()
    assert a["p_top_n"].sum() == pytest.approx(3.0)  # exactly three patches are top-3 in every draw
    assert (a["rank_high"] > a["rank_low"]).any()  # weights that wander do move ranks


def test_counts_are_redrawn_within_their_uncertainty(derby):
    areas = derby.areas
    count = pd.Series(np.random.default_rng(0).integers(0, 6, len(areas)), index=areas.index, dtype=float)
    denom = areas["population"].astype(float)
    ind = pd.DataFrame({"demand": count / denom * 1000}, index=areas.index)
    specs = (IndicatorConfig("demand"),)
    out = rank_robustness(
        areas, areas["patch_id"], ind, specs, n=3, n_draws=200, seed=2, counts={"demand": (count, denom)}
    )
    assert ((out["p_top_n"] > 0) & (out["p_top_n"] < 1)).any()
    base = compute_need_index(ind, specs)["need_index"]
    assert base.notna().all()


def test_weak_picks_are_flagged_in_outputs(tmp_path):
    config = replace(
        lacgeo.make_config(la="Solihull"),
        need={"indicators": [{"name": "imd_score", "weight": 1.0}, {"name": "environment_score", "weight": 1.0}]},
        recommend={"weight_concentration": 2.0, "min_probability": 0.9},
    )
    result = lacgeo.run(config, out=tmp_path / "o")
    rec = result.recommended
    assert ((rec["robustness"] != "") == (rec["p_top_n"] < 0.9)).all()
    table = pd.read_csv(tmp_path / "o" / "patches.csv", index_col="patch_id", keep_default_na=False)
    assert {"p_top_n", "rank_low", "rank_high", "robustness"} <= set(table.columns)
    for pid in rec.index[rec["robustness"] != ""]:
        assert table.loc[pid, "robustness"].startswith("not robust: in the top 3 in")
        assert any(pid in w and "not robust" in w for w in result.warnings)


def test_rollout_covers_everyone_and_costs_add_up(derby):
    plan = rank.rollout_plan(derby.patches, cost_per_coordinator=48_000)
    assert plan["n_patches"].sum() == len(derby.patches) and plan["population"].sum() == 261_374
    assert plan["n_patches"].iloc[0] == 3 and (plan["n_patches"].iloc[1:-1] == 6).all()
    assert plan["annual_cost_to_date"].iloc[-1] == 48_000 * len(derby.patches)
    assert plan["population_share_to_date"].iloc[-1] == pytest.approx(1.0)
    paid = rank.affordable_patches(derby.patches, budget=200_000, cost_per_coordinator=48_000)
    assert list(paid["rank"]) == [1, 2, 3, 4]

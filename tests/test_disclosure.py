"""Disclosure control: no small council count can be read from any output, even by subtraction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lacgeo
from lacgeo import load
from lacgeo.config import config_from_dict
from lacgeo.outputs.disclosure import suppress_cells, suppress_totals


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 4)), min_size=1, max_size=30))
def test_no_group_holds_a_lone_suppressed_cell(cells):
    idx = [f"A{i:02d}" for i in range(len(cells))]
    counts = pd.Series([c for c, _ in cells], index=idx, dtype=float)
    patch = pd.Series([g for _, g in cells], index=idx)
    everyone = pd.Series(0, index=idx)
    hidden = set(suppress_cells(counts, [patch, everyone]))
    assert {c for c in idx if 1 <= counts[c] <= 7} <= hidden
    for group in (patch, everyone):
        for _, members in counts.groupby(group):
            n_hidden = sum(c in hidden for c in members.index)
            assert n_hidden != 1 or len(members) == 1


def test_secondary_suppression_picks_the_smallest_open_cell():
    counts = pd.Series([3, 40, 12, 9], index=["a", "b", "c", "d"], dtype=float)
    assert list(suppress_cells(counts, [pd.Series(1, index=counts.index)])) == ["a", "d"]
    assert list(suppress_totals(pd.Series([0, 50, 60], index=["p", "q", "r"], dtype=float))) == []
    assert list(suppress_totals(pd.Series([5, 50, 60], index=["p", "q", "r"], dtype=float))) == ["p", "q"]


def run_solihull_with_demand(counts: pd.Series, tmp_path, **sections) -> None:
    """A Solihull run with council counts ``counts`` as the indicator "demand", written to ``tmp_path/out``."""
    path = tmp_path / "demand.csv"
    pd.DataFrame({"code": counts.index, "n": counts.to_numpy()}).to_csv(path, index=False)
    config = config_from_dict(
        {
            "area": {"la": "Solihull"},
            "sources": [{"name": "demand", "path": str(path), "code_col": "code", "value_col": "n"}],
            "need": {"indicators": [{"name": "imd_score", "weight": 2}, {"name": "demand"}]},
            **sections,
        }
    )
    lacgeo.run(config, out=tmp_path / "out")


def test_a_small_area_count_cannot_be_recovered_from_the_outputs(tmp_path):
    areas = load.read_areas("E08000029")
    counts = pd.Series(40, index=areas.index)
    small = areas.index[10]
    counts[small] = 3
    run_solihull_with_demand(counts, tmp_path)
    table = pd.read_csv(tmp_path / "out" / "areas.csv", index_col="area_code")
    assert np.isnan(table.loc[small, "value_demand"])
    # the need index and the source's contribution would give the rate back
    assert np.isnan(table.loc[small, "need_index"]) and np.isnan(table.loc[small, "contrib_demand"])
    assert table["contrib_imd_score"].notna().all()
    patch = table.loc[small, "patch_id"]
    in_patch = table[table["patch_id"] == patch]
    assert in_patch["value_demand"].isna().sum() >= 2  # patch total minus the rest cannot isolate it
    assessment = pd.read_csv(tmp_path / "out" / "needs_assessment.csv")
    q = table.loc[small, "local_imd_quintile"]
    in_q = table[table["local_imd_quintile"] == q]
    row = assessment[(assessment["indicator"] == "demand") & (assessment["quintile"] == str(q))]
    assert row["count"].isna().all() or in_q["value_demand"].isna().sum() >= 2
    assert table["value_demand"].notna().mean() >= 0.9  # suppression stays proportionate


def _rate_from_contribution(areas: pd.DataFrame) -> tuple[float, float]:
    """The attacker's line contrib_demand = a x rate + b, fitted on the areas that publish both
    (a z-scored index is linear in the rate); b / a is minus the area mean of the rate."""
    both = areas[["value_demand", "contrib_demand"]].dropna()
    a, b = np.polyfit(both["value_demand"], both["contrib_demand"], 1)
    return float(a), float(b)


def _recoverable_ranges(out, *, through_need_index: bool = False) -> dict[str, tuple[float, float]]:
    """An attacker's best bounds on every withheld area count, from the published files alone.

    Disclosed area rates give their counts (rate x population / 1,000: the denominator is
    the population), patch rates give patch counts, and the needs assessment gives each
    local quintile's count and the whole area's. Linear programming then bounds each
    withheld count, which can be no less than 0.
    """
    from scipy.optimize import linprog

    areas = pd.read_csv(out / "areas.csv", index_col="area_code")
    patches = pd.read_csv(out / "patches.csv", index_col="patch_id")
    assessment = pd.read_csv(out / "needs_assessment.csv")
    assessment = assessment[assessment["indicator"] == "demand"].set_index("quintile")
    known = (areas["value_demand"] * areas["population"] / 1000).round()
    hidden = list(areas.index[areas["value_demand"].isna()])
    position = {c: i for i, c in enumerate(hidden)}
    rows, rhs = [], []

    def publish(members, total):
        if pd.isna(total):
            return
        row = np.zeros(len(hidden))
        row[[position[c] for c in members if c in position]] = 1.0
        rows.append(row)
        rhs.append(round(total) - known.reindex(members).sum())

    for pid, rate in patches["value_demand"].items():
        members = areas.index[areas["patch_id"] == pid]
        publish(members, rate * areas.loc[members, "population"].sum() / 1000)
    for q in range(1, 6):
        publish(areas.index[areas["local_imd_quintile"] == q], assessment.loc[str(q), "count"])
    publish(areas.index, assessment.loc["All", "count"])
    bands = []  # weighted sums known only to within the rounding of the published figures
    if through_need_index:
        a, b = _rate_from_contribution(areas)
        public = [c for c in areas.columns if c.startswith("contrib_") and c != "contrib_demand"]
        for pid, need in patches["need_index"].items():
            if pd.isna(need):
                continue
            members = areas.index[areas["patch_id"] == pid]
            pop = areas.loc[members, "population"]
            others = (areas.loc[members, public].mul(pop, axis=0).sum() / pop.sum()).sum()
            rate = (need - others - b) / a  # the patch's council rate, recovered from its need index
            publish(members, rate * pop.sum() / 1000)
        # every z-scored index gives away the mean rate over all areas: a weighted sum of the hidden counts
        mean = -b / a
        weights = np.zeros(len(hidden))
        for c in hidden:
            weights[position[c]] = 1000 / areas.at[c, "population"]
        total = mean * len(areas) - areas["value_demand"].sum()
        bands.append((weights, total, 0.002 * abs(mean) * len(areas) + 0.5))
    a_eq, b_eq = np.vstack(rows), np.array(rhs)
    a_ub = np.vstack([w for w, _, _ in bands] + [-w for w, _, _ in bands]) if bands else None
    b_ub = np.array([t + tol for _, t, tol in bands] + [-(t - tol) for _, t, tol in bands]) if bands else None
    ranges = {}
    for cell in hidden:
        objective = np.zeros(len(hidden))
        objective[position[cell]] = 1.0
        low = linprog(objective, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        high = linprog(-objective, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        assert low.status == 0, low.message
        ranges[cell] = (low.fun, np.inf if high.status == 3 else -high.fun)
    return ranges


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_no_small_count_can_be_solved_from_all_the_published_totals(tmp_path, seed):
    """The attack: solve every published total (patch rates, quintile and area counts) for the withheld
    cells. Before the audit, a count of 3 was pinned exactly by a patch total minus a quintile total."""
    areas = load.read_areas("E08000029")
    rng = np.random.default_rng(seed)
    counts = pd.Series(rng.integers(15, 60, len(areas)), index=areas.index)
    small = rng.choice(len(areas), 12, replace=False)
    counts.iloc[small] = rng.integers(1, 8, 12)
    run_solihull_with_demand(counts, tmp_path, recommend={"robustness_draws": 0})
    ranges = _recoverable_ranges(tmp_path / "out")
    small_codes = counts.index[counts.between(1, 7)]
    assert set(small_codes) <= set(ranges)
    for code in small_codes:
        low, high = ranges[code]
        assert low <= counts[code] <= high + 1e-6  # the attack is sound: the truth is inside its bounds
        assert high - low >= 7 - 1e-6, f"{code} ({counts[code]}) confined to {low:.1f}-{high:.1f}"
    assert len(ranges) <= 0.35 * len(areas)  # suppression stays proportionate


@pytest.mark.slow
def test_no_small_count_can_be_solved_through_the_need_index(tmp_path):
    """The red team's attack: a z-scored need index is linear in the council rate, so a patch's published
    need index less its public indicators' part gave back the patch's withheld count, and the area
    need indices gave away the mean rate over all areas. Rare events (a few small counts, most areas
    zero) are where it bit."""
    areas = load.read_areas("E08000029")
    rng = np.random.default_rng(3)
    counts = pd.Series(rng.poisson(1.2, len(areas)), index=areas.index)  # rare: most cells 0 to 3
    counts.iloc[rng.choice(len(areas), 40, replace=False)] = rng.integers(20, 40, 40)
    run_solihull_with_demand(counts, tmp_path, recommend={"robustness_draws": 0})
    out = tmp_path / "out"
    patches = pd.read_csv(out / "patches.csv", index_col="patch_id")
    withheld = patches["value_demand"].isna()
    assert withheld.any()  # some patch totals are small and withheld...
    assert patches.loc[withheld, "need_index"].isna().all()  # ...and so are the need indices that hold them
    # a phase's need index averages its patches' (population-weighted): it would give a withheld one back
    rollout = pd.read_csv(out / "rollout.csv")
    holds = rollout["patch_ids"].str.split(", ").map(lambda ids: bool(set(ids) & set(patches.index[withheld])))
    assert rollout.loc[holds, "need_index"].isna().all() and rollout.loc[~holds, "need_index"].notna().all()
    ranges = _recoverable_ranges(out, through_need_index=True)
    for code in counts.index[counts.between(1, 7)]:
        low, high = ranges[code]
        assert low - 1e-6 <= counts[code] <= high + 1e-6  # the attack is sound
        assert high - low >= 7 - 1e-6, f"{code} ({counts[code]}) confined to {low:.1f}-{high:.1f}"


def test_a_rate_on_another_denominator_withholds_the_need_index_of_any_group_holding_a_withheld_cell(tmp_path):
    """With a denominator other than the population, a patch's need index is a weighted sum of its counts that
    differs from its total: with the total it solved two withheld cells exactly. Such a patch withholds it."""
    areas = load.read_areas("E08000029")
    rng = np.random.default_rng(11)
    counts = pd.Series(rng.integers(10, 40, len(areas)), index=areas.index)
    counts.iloc[rng.choice(len(areas), 10, replace=False)] = rng.integers(1, 8, 10)
    denominator = (areas["population"] * rng.uniform(0.12, 0.35, len(areas))).round().astype(int)
    path = tmp_path / "demand.csv"
    pd.DataFrame({"code": counts.index, "n": counts.to_numpy(), "den": denominator.to_numpy()}).to_csv(
        path, index=False
    )
    config = config_from_dict(
        {
            "area": {"la": "Solihull"},
            "sources": [
                {"name": "demand", "path": str(path), "code_col": "code", "value_col": "n", "denominator_col": "den"}
            ],
            "need": {"indicators": [{"name": "imd_score", "weight": 2}, {"name": "demand"}]},
            "recommend": {"robustness_draws": 0},
        }
    )
    lacgeo.run(config, out=tmp_path / "out")
    area_table = pd.read_csv(tmp_path / "out" / "areas.csv", index_col="area_code")
    patches = pd.read_csv(tmp_path / "out" / "patches.csv", index_col="patch_id")
    holding = set(area_table.loc[area_table["value_demand"].isna(), "patch_id"])
    assert holding and patches.loc[sorted(holding), "need_index"].isna().all()
    assert patches.loc[~patches.index.isin(holding), "need_index"].notna().all()
    assert "withheld" in (tmp_path / "out" / "report.html").read_text()

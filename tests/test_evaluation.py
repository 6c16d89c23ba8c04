"""Matched comparison patches for evaluating phase 1: invariants on a real run, exact answers on made-up patches."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import lacgeo
from lacgeo.config import replace
from lacgeo.errors import ConfigError, ValidationError
from lacgeo.need.benchmark import COLUMNS
from lacgeo.patches import AreaGraph
from lacgeo.rank.evaluation import (
    BALANCE_COLUMNS,
    PAIR_COLUMNS,
    baseline_table,
    match_comparators,
    patch_adjacency,
)

# --- a real run -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wiltshire():
    """One Wiltshire run (no robustness draws: they do not change the patch table's matching columns)."""
    result = lacgeo.run(replace(lacgeo.make_config(la="Wiltshire"), recommend={"robustness_draws": 0}))
    graph = lacgeo.build_area_graph(result.areas)
    names = [s.name for s in result.config.need.indicators]
    return result, graph, patch_adjacency(graph, result.areas["patch_id"]), names


def touching(result, graph) -> dict[str, set[str]]:
    """Each patch's neighbours, walked from the LSOA edges (independently of patch_adjacency)."""
    pid = result.areas["patch_id"].reindex(graph.codes).to_numpy()
    out: dict[str, set[str]] = {p: set() for p in result.patches.index}
    for i, j in graph.edges:
        if pid[i] != pid[j]:
            out[pid[i]].add(pid[j])
            out[pid[j]].add(pid[i])
    return out


def with_picks(table: pd.DataFrame, n: int) -> pd.DataFrame:
    """The real table with the top ``n`` by rank as phase 1 (more picks than the run's 3)."""
    return table.assign(phase=np.where(table["rank"] <= n, 1, 2))


def test_patch_adjacency_is_the_lsoa_contacts_between_patches(wiltshire):
    result, graph, adjacency, _ = wiltshire
    ids = sorted(result.patches.index)
    dense = adjacency.toarray()
    assert dense.shape == (len(ids), len(ids)) and (dense == dense.T).all() and not dense.diagonal().any()
    expected = touching(result, graph)
    assert {p: {ids[j] for j in np.flatnonzero(dense[i])} for i, p in enumerate(ids)} == expected
    # the patch of each area can come in any order
    shuffled = result.areas["patch_id"].sample(frac=1.0, random_state=3)
    assert (patch_adjacency(graph, shuffled) != adjacency).nnz == 0


@pytest.mark.parametrize(("n_picks", "k"), [(3, 1), (3, 2), (3, 3), (6, 2)])
def test_comparators_are_eligible_unique_and_k_per_pick(wiltshire, n_picks, k):
    result, graph, adjacency, names = wiltshire
    table = with_picks(result.patches, n_picks)
    # a coordinator already in post, away from the picks: neither it nor its neighbours may be comparators
    nbrs = touching(result, graph)
    picks = set(table.index[table["phase"] == 1])
    in_post = next(p for p in sorted(table.index) if p not in picks and not nbrs[p] & picks)
    table.loc[in_post, "phase"] = 0
    evaluation = match_comparators(table, adjacency, names, k=k)
    pairs = evaluation.pairs

    comparators = list(pairs["comparator_id"])
    assert len(comparators) == len(set(comparators))  # without replacement
    blocked = picks | {in_post} | set().union(*(nbrs[p] for p in picks | {in_post}))
    assert not set(comparators) & blocked
    assert set(comparators) <= set(evaluation.eligibility.index[evaluation.eligibility == "eligible"])
    assert evaluation.eligibility[in_post] == "in post"
    assert set(evaluation.eligibility[sorted(nbrs[in_post] - picks)]) <= {"next to a patch in post", "next to a pick"}

    assert evaluation.picks == tuple(table.loc[list(picks)].sort_values("rank").index)
    assert (pairs.groupby("pick_id").size() == k).all() and list(pairs["pick_id"].unique()) == list(evaluation.picks)
    assert (pairs.groupby("pick_id")["match_order"].apply(list) == [list(range(1, k + 1))] * n_picks).all()
    assert list(pairs.columns) == PAIR_COLUMNS and list(evaluation.balance.columns) == BALANCE_COLUMNS
    assert list(evaluation.balance.index) == ["population", *names]
    assert not any("only" in w for w in evaluation.warnings)


def costs(table: pd.DataFrame, evaluation, names: list[str], penalty: float = 1.0) -> pd.DataFrame:
    """Pick x eligible cost, recomputed here from the definition: z-scores over picks and eligible, Euclidean,
    plus the penalty for another need profile."""
    eligible = evaluation.eligibility.index[evaluation.eligibility == "eligible"]
    picks = list(evaluation.picks)
    cols = ["population", *[f"value_{n}" if n not in table else n for n in names]]
    values = table.loc[picks + list(eligible), cols].astype(float)
    z = (values - values.mean()) / values.std(ddof=1)
    zp, ze = z.loc[picks].to_numpy(), z.loc[eligible].to_numpy()
    distance = np.sqrt(((zp[:, None] - ze[None]) ** 2).sum(axis=2))
    differ = table.loc[picks, "need_profile"].to_numpy()[:, None] != table.loc[eligible, "need_profile"].to_numpy()
    return pd.DataFrame(distance + penalty * differ, index=picks, columns=eligible)


@pytest.mark.parametrize(("n_picks", "k"), [(3, 2), (6, 2), (6, 3)])
def test_the_assignment_is_optimal_and_beats_greedy(wiltshire, n_picks, k):
    result, _, adjacency, names = wiltshire
    table = with_picks(result.patches, n_picks)
    evaluation = match_comparators(table, adjacency, names, k=k)
    cost = costs(table, evaluation, names)
    pairs = list(zip(evaluation.pairs["pick_id"], evaluation.pairs["comparator_id"], strict=True))
    total = sum(cost.at[p, c] for p, c in pairs)
    # distances reported are the recomputed ones without the profile penalty
    penalty = np.where(evaluation.pairs["same_profile"], 0.0, 1.0)
    assert np.allclose(evaluation.pairs["distance"] + penalty, [cost.at[p, c] for p, c in pairs])
    # no unused eligible patch is cheaper for any pick, and no swap between two picks lowers the total
    unused = [c for c in cost.columns if c not in {c for _, c in pairs}]
    for p, c in pairs:
        assert all(cost.at[p, c] <= cost.at[p, u] + 1e-9 for u in unused)
    for (p1, c1), (p2, c2) in itertools.combinations(pairs, 2):
        assert cost.at[p1, c1] + cost.at[p2, c2] <= cost.at[p1, c2] + cost.at[p2, c1] + 1e-9
    # greedy in rank order (each pick takes its k cheapest left) is never better
    left, greedy = set(cost.columns), 0.0
    for p in evaluation.picks:
        best = sorted(left, key=lambda c: (cost.at[p, c], c))[:k]
        greedy += sum(cost.at[p, c] for c in best)
        left -= set(best)
    assert total <= greedy + 1e-9


@pytest.mark.parametrize("n_picks", [3, 6])
def test_matching_improves_balance_on_real_data(wiltshire, n_picks):
    result, _, adjacency, names = wiltshire
    balance = match_comparators(with_picks(result.patches, n_picks), adjacency, names, k=2).balance
    assert balance["smd_after"].abs().mean() < balance["smd_before"].abs().mean()
    assert np.isfinite(balance[["smd_before", "smd_after"]].to_numpy()).all()
    assert (balance["balanced"] == (balance["smd_after"].abs() < 0.1)).all()


def test_smd_is_the_documented_formula(wiltshire):
    result, _, adjacency, names = wiltshire
    table = result.patches
    evaluation = match_comparators(table, adjacency, names, k=2)
    picks = table.loc[list(evaluation.picks), "population"].astype(float)
    matched = table.loc[evaluation.pairs["comparator_id"], "population"].astype(float)
    eligible = table.loc[evaluation.eligibility == "eligible", "population"].astype(float)
    row = evaluation.balance.loc["population"]
    for other, col in ((eligible, "smd_before"), (matched, "smd_after")):
        expected = (picks.mean() - other.mean()) / np.sqrt((picks.var() + other.var()) / 2)
        assert row[col] == pytest.approx(expected)
    assert row["mean_comparators"] == pytest.approx(matched.mean())


def test_deterministic_and_row_order_free(wiltshire):
    result, _, adjacency, names = wiltshire
    table = with_picks(result.patches, 6)
    first, second = (match_comparators(table, adjacency, names, k=2) for _ in range(2))
    shuffled = match_comparators(table.sample(frac=1.0, random_state=7), adjacency, names, k=2)
    for other in (second, shuffled):
        pd.testing.assert_frame_equal(first.pairs, other.pairs)
        pd.testing.assert_frame_equal(first.balance, other.balance)
        pd.testing.assert_series_equal(first.eligibility, other.eligibility)
        assert first.picks == other.picks and first.warnings == other.warnings


def test_inputs_are_not_changed(wiltshire):
    result, _, adjacency, names = wiltshire
    table, before = result.patches.copy(), adjacency.copy()
    match_comparators(table, adjacency, names, k=2)
    pd.testing.assert_frame_equal(table, result.patches)
    assert (adjacency != before).nnz == 0


def test_fewer_eligible_than_needed_warns_and_matches_what_it_can(wiltshire):
    result, _, adjacency, names = wiltshire
    evaluation = match_comparators(result.patches, adjacency, names, k=20)
    n_eligible = int((evaluation.eligibility == "eligible").sum())
    assert n_eligible < 3 * 20
    assert len(evaluation.pairs) == n_eligible and evaluation.pairs["comparator_id"].is_unique
    counts = evaluation.pairs["pick_id"].value_counts()
    assert counts.max() - counts.min() <= n_eligible  # every pick has some
    assert set(counts.index) == set(evaluation.picks)
    (warning,) = [w for w in evaluation.warnings if w.startswith("only")]
    assert f"only {n_eligible} patches are eligible" in warning and "for 3 picks x 20" in warning


def test_baseline_table_has_every_indicator_of_the_picks_and_comparators(wiltshire):
    result, _, adjacency, names = wiltshire
    evaluation = match_comparators(result.patches, adjacency, names, k=2)
    base = baseline_table(evaluation, result.comparisons)
    n_indicators = result.comparisons["indicator"].nunique()
    assert len(base) == (3 + 6) * n_indicators
    assert set(COLUMNS) | {"role", "period"} == set(base.columns)
    assert list(base.columns[:2]) == ["patch_id", "role"]
    roles = base.groupby("patch_id", sort=False)["role"].first()
    expected = []
    for pick in evaluation.picks:
        expected.append((pick, "pick"))
        for c in evaluation.pairs.loc[evaluation.pairs["pick_id"] == pick, "comparator_id"]:
            expected.append((c, f"comparator for {pick}"))
    assert list(roles.items()) == expected
    assert (base.groupby("patch_id")["indicator"].nunique() == n_indicators).all()
    assert (base["period"] != "").all()
    assert base.loc[base["indicator"] == "disability_pct", "period"].eq("Census 2021 (21 March 2021)").all()
    assert base.loc[base["indicator"] == "disability_pct", ["lower", "upper"]].notna().all().all()
    merged = base.merge(result.comparisons, on=["patch_id", "indicator"], suffixes=("", "_run"))
    assert np.allclose(merged["patch_value"], merged["patch_value_run"])
    with pytest.raises(ValidationError, match=r"comparisons has no rows for 9 of the design's patches"):
        baseline_table(evaluation, result.comparisons.assign(patch_id="X"))
    with pytest.raises(ValidationError, match=r"comparisons has no 'indicator' column"):
        baseline_table(evaluation, result.comparisons.drop(columns="indicator"))


# --- made-up patches ------------------------------------------------------------------------


def made_up(rows: list[tuple], edges: list[tuple[int, int]] = ()):
    """A patch table from rows of (name, phase, population, imd_score, need_profile), ids P01..., rank in row
    order, and the adjacency of one area per patch with ``edges`` between rows."""
    ids = [f"P{i + 1:02d}" for i in range(len(rows))]
    table = pd.DataFrame(
        rows, columns=["patch_name", "phase", "population", "imd_score", "need_profile"], index=ids
    ).assign(rank=range(1, len(rows) + 1), need_index=0.0)
    table.index.name = "patch_id"
    graph = AreaGraph(pd.Index([f"E{i:02d}" for i in range(len(rows))]), np.array(edges).reshape(-1, 2), frozenset())
    return table, patch_adjacency(graph, pd.Series(ids, index=graph.codes))


DECOYS = [
    ("Decoy A", 3, 8_000, 10.0, "low"),
    ("Decoy B", 3, 12_000, 15.0, "low"),
    ("Decoy C", 3, 9_000, 50.0, "high"),
    ("Decoy D", 3, 11_500, 22.0, "mid"),
]


def test_a_crafted_twin_is_matched():
    rows = [
        ("Pick one", 1, 10_000, 40.0, "high"),
        ("Pick two", 1, 9_000, 20.0, "mid"),
        *DECOYS,
        ("Twin of two", 2, 9_020, 20.3, "mid"),
        ("Twin of one", 2, 10_030, 39.8, "high"),
    ]
    table, adjacency = made_up(rows)
    evaluation = match_comparators(table, adjacency, ["imd_score"], k=1)
    assert dict(zip(evaluation.pairs["pick_id"], evaluation.pairs["comparator_id"], strict=True)) == {
        "P01": "P08",
        "P02": "P07",
    }
    assert evaluation.balance["balanced"].all() and evaluation.warnings == ()
    # next door to its pick, the twin is no control: it spills over
    table, adjacency = made_up(rows, edges=[(0, 7)])
    evaluation = match_comparators(table, adjacency, ["imd_score"], k=1)
    assert "P08" not in set(evaluation.pairs["comparator_id"]) and evaluation.eligibility["P08"] == "next to a pick"
    # a coordinator in post next to the twin rules it out too
    table, adjacency = made_up([*rows, ("In post", 0, 10_000, 40.0, "high")], edges=[(7, 8)])
    evaluation = match_comparators(table, adjacency, ["imd_score"], k=1)
    assert evaluation.eligibility[["P08", "P09"]].tolist() == ["next to a patch in post", "in post"]
    assert not {"P08", "P09"} & set(evaluation.pairs["comparator_id"])


def test_the_need_profile_breaks_near_ties_and_the_penalty_is_optional():
    rows = [
        ("Pick", 1, 10_000, 40.0, "high"),
        *DECOYS,
        ("Close, other profile", 2, 10_000, 39.0, "mid"),
        ("A little further, same profile", 2, 10_000, 41.5, "high"),
    ]
    table, adjacency = made_up(rows)
    same = match_comparators(table, adjacency, ["imd_score"], k=1)
    assert same.pairs["comparator_id"].tolist() == ["P07"] and same.pairs["same_profile"].all()
    plain = match_comparators(table, adjacency, ["imd_score"], k=1, profile_penalty=0)
    assert plain.pairs["comparator_id"].tolist() == ["P06"]
    assert any("different need profile" in w and "P06 for P01" in w for w in plain.warnings)


def test_ties_go_to_the_lower_patch_id_and_order_follows_distance():
    rows = [("Pick", 1, 10_000, 40.0, "high"), *DECOYS, ("Same", 2, 10_000, 39.0, "high")] + [
        ("Same again", 2, 10_000, 39.0, "high")
    ]
    table, adjacency = made_up(rows)
    evaluation = match_comparators(table, adjacency, ["imd_score"], k=1)
    assert evaluation.pairs["comparator_id"].tolist() == ["P06"]
    two = match_comparators(table, adjacency, ["imd_score"], k=3)
    assert two.pairs["comparator_id"].tolist()[:2] == ["P06", "P07"]
    assert two.pairs["distance"].is_monotonic_increasing


def test_shortage_gives_every_pick_one_before_any_gets_two():
    rows = [
        ("Pick one", 1, 10_000, 40.0, "high"),
        ("Pick two", 1, 9_000, 20.0, "mid"),
        ("Pick three", 1, 11_000, 30.0, "mid"),
        ("Near one", 2, 10_000, 40.5, "high"),
        ("Nearer one", 2, 10_000, 40.2, "high"),
        ("Also near one", 2, 10_000, 39.5, "high"),
    ]
    table, adjacency = made_up(rows)
    evaluation = match_comparators(table, adjacency, ["imd_score"], k=2)
    assert evaluation.pairs["pick_id"].value_counts().to_dict() == {"P01": 1, "P02": 1, "P03": 1}
    assert evaluation.pairs.loc[evaluation.pairs["pick_id"] == "P01", "comparator_id"].tolist() == ["P05"]
    (warning,) = [w for w in evaluation.warnings if w.startswith("only")]
    assert "only 3 patches are eligible" in warning and "P01 (Pick one) has 1" in warning


def test_no_eligible_patch_at_all_warns_without_crashing():
    table, adjacency = made_up(
        [("Pick", 1, 10_000, 40.0, "high"), ("Next door", 2, 9_000, 30.0, "mid"), ("In post", 0, 9_500, 35.0, "mid")],
        edges=[(0, 1)],
    )
    evaluation = match_comparators(table, adjacency, ["imd_score"], k=2)
    assert evaluation.pairs.empty and list(evaluation.pairs.columns) == PAIR_COLUMNS
    assert evaluation.balance["smd_after"].isna().all() and not evaluation.balance["balanced"].any()
    assert any("only 0 patches are eligible" in w and "P01 (Pick) has 0" in w for w in evaluation.warnings)
    assert any("no comparator could be matched" in w for w in evaluation.warnings)


def test_one_pick_constant_and_zero_variance_variables():
    rows = [
        ("Pick", 1, 10_000, 40.0, "high"),
        ("A", 2, 10_000, 40.0, "high"),
        ("B", 2, 10_000, 20.0, "high"),
        ("C", 2, 10_000, 30.0, "high"),
    ]
    table, adjacency = made_up(rows)
    table["flat"] = 5.0
    evaluation = match_comparators(table, adjacency, ["imd_score", "flat"], k=1)
    balance = evaluation.balance
    assert evaluation.pairs["comparator_id"].tolist() == ["P02"]
    assert balance.loc[["population", "flat"], ["smd_before", "smd_after"]].eq(0.0).all().all()
    # one pick: the eligible patches' spread is the yardstick (30 - mean 30) -> pick 40: (40 - 30) / sd(40, 20, 30)
    assert balance.at["imd_score", "smd_before"] == pytest.approx(10.0 / 10.0)
    # one pick and one comparator with the same value: no spread, no difference -> 0
    assert balance.at["imd_score", "smd_after"] == 0.0 and balance["balanced"].all()
    assert any("population, flat have one value" in w for w in evaluation.warnings)
    assert any("with one pick" in w for w in evaluation.warnings)
    # no spread but a difference: an infinite SMD, never balanced, never NaN
    table.loc["P02", "imd_score"] = 41.0
    balance = match_comparators(table, adjacency, ["imd_score"], k=1).balance
    assert balance.at["imd_score", "smd_after"] == -np.inf and not balance.at["imd_score", "balanced"]


def test_patch_with_a_missing_value_is_not_eligible():
    rows = [("Pick", 1, 10_000, 40.0, "high"), *DECOYS, ("Twin, no value", 2, 10_000, np.nan, "high")]
    table, adjacency = made_up(rows)
    evaluation = match_comparators(table, adjacency, ["imd_score"], k=1)
    assert evaluation.eligibility["P06"] == "no value of imd_score"
    assert "P06" not in set(evaluation.pairs["comparator_id"])
    assert any("1 patch(es) cannot be comparators" in w and "(P06)" in w for w in evaluation.warnings)


# --- bad inputs -----------------------------------------------------------------------------


@pytest.fixture
def small():
    return made_up([("Pick", 1, 10_000, 40.0, "high"), *DECOYS])


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_bad_k(small, k):
    table, adjacency = small
    with pytest.raises(ConfigError, match=r"k must be a whole number of comparators per pick, 1 or more"):
        match_comparators(table, adjacency, ["imd_score"], k=k)


def test_bad_penalty(small):
    table, adjacency = small
    with pytest.raises(ConfigError, match=r"profile_penalty must be a finite number .* \(got -1\)"):
        match_comparators(table, adjacency, ["imd_score"], profile_penalty=-1)


def test_missing_indicator_names_it_and_the_ones_there_are(wiltshire, small):
    result, _, adjacency, _ = wiltshire
    with pytest.raises(ValidationError, match=r"indicator 'imd_scroe' is not in the patch table .*imd_score"):
        match_comparators(result.patches, adjacency, ["imd_scroe"])
    table, adjacency = small
    with pytest.raises(ValidationError, match=r"write \['imd_score'\]"):
        match_comparators(table, adjacency, "imd_score")


def test_no_picks(small):
    table, adjacency = small
    with pytest.raises(ValidationError, match=r"no phase-1 picks: the patch table has no patch with phase 1"):
        match_comparators(table.assign(phase=2), adjacency, ["imd_score"])


def test_every_table_problem_at_once(small):
    table, adjacency = small
    table = table.drop(columns="need_profile").assign(phase=[1.0, 2.0, np.nan, 2.0, 2.0])
    with pytest.raises(ValidationError, match=r"^4 problems: .*'need_profile'.*'rates'.*phase must be a whole.*2 x 2"):
        match_comparators(table, adjacency[:2, :2], ["rates"])


def test_pick_without_a_value(small):
    table, adjacency = small
    table.loc["P01", "imd_score"] = np.nan
    with pytest.raises(ValidationError, match=r"1 phase-1 picks have a missing matching variable \(P01\)"):
        match_comparators(table, adjacency, ["imd_score"])


def test_asymmetric_or_unfit_adjacency(small):
    table, adjacency = small
    one_way = np.zeros((5, 5))
    one_way[0, 1] = 1
    with pytest.raises(ValidationError, match=r"adjacency must be symmetric"):
        match_comparators(table, one_way, ["imd_score"])
    with pytest.raises(ValidationError, match=r"adjacency must be a square matrix"):
        match_comparators(table, [{1}, {0}], ["imd_score"])


def test_patch_adjacency_needs_every_area():
    graph = AreaGraph(pd.Index(["a", "b"]), np.array([[0, 1]]), frozenset())
    with pytest.raises(ValidationError, match=r"patch_id gives no patch for 1 of the graph's 2 areas \(b\)"):
        patch_adjacency(graph, pd.Series({"a": "P1"}))

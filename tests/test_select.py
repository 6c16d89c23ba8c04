"""Phase-1 selection invariants: contiguous, in band, disjoint, rules respected, deterministic.

Heuristics are tested by what must hold for any answer, never by golden picks; the one
quality test is that the selection captures at least the need of the best cells of a
partition, which it can always choose.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

import lacgeo
from lacgeo import load
from lacgeo.errors import IslandWarning, PatchingError
from lacgeo.patches import build_area_graph, build_patches
from lacgeo.patches.graph import is_connected
from lacgeo.select import Selection, select_patches

from .conftest import make_grid

LO, HI = 8_000, 12_000


def excess(areas, need) -> pd.Series:
    pop = areas["population"].astype(float)
    return pop * (need - (pop * need).sum() / pop.sum())


def remaining_pieces(areas, graph, picked: np.ndarray) -> list[float]:
    """Populations of the connected pieces of the unpicked areas that touch a pick."""
    keep = ~picked
    e = graph.edges[keep[graph.edges[:, 0]] & keep[graph.edges[:, 1]]]
    m = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(graph.n, graph.n))
    _, piece = connected_components(m, directed=False)
    pop = areas["population"].to_numpy(dtype=float)
    nbrs = graph.neighbours()
    out = []
    for c in np.unique(piece[keep]):
        members = np.flatnonzero((piece == c) & keep)
        if any(picked[u] for i in members for u in nbrs[i]):
            out.append(float(pop[members].sum()))
    return out


def assert_valid(selection: Selection, areas, need, graph, *, lo=LO, hi=HI):
    """Every promise of a selection, checked independently of lacgeo.select."""
    pos = {c: i for i, c in enumerate(areas.index)}
    nbrs = graph.neighbours()
    value = excess(areas, need)
    seen: set[str] = set()
    for pick in selection.picks:
        codes = pick.area_codes
        assert list(codes) == sorted(codes), "codes sorted"
        assert not seen & set(codes), "picks do not overlap"
        seen |= set(codes)
        assert is_connected({pos[c] for c in codes}, nbrs), f"pick {codes} contiguous"
        people = areas.loc[list(codes), "population"].sum()
        assert pick.population == pytest.approx(people)
        assert lo <= people <= hi, f"pick of {people} people outside the band"
        assert pick.excess_need == pytest.approx(value[list(codes)].sum())
    assert selection.total_excess_need == pytest.approx(sum(p.excess_need for p in selection.picks))
    values = [p.excess_need for p in selection.picks]
    assert values == sorted(values, reverse=True), "best pick first"
    picked = areas.index.isin(list(seen))
    for people in remaining_pieces(areas, graph, picked):
        k = math.ceil(people / hi - 1e-9)
        assert people == 0 or k * lo <= people, f"a remaining piece of {people} people cannot form patches"


def partition_top(areas, need, n: int, **kw) -> float:
    result = build_patches(areas, need, **kw)
    value = excess(areas, need).groupby(result.patch_id).sum()
    pop = areas["population"].groupby(result.patch_id).sum()
    in_band = value[(pop >= LO) & (pop <= HI) & ~value.index.isin(list(result.flags))]
    return float(in_band.sort_values(ascending=False).head(n).sum())


@pytest.fixture(scope="module")
def grid_case():
    areas = make_grid(12, 10)
    return areas, areas["need"], build_area_graph(areas)


@pytest.fixture(scope="module")
def middlesbrough():
    areas = load.read_areas("E06000002")
    need = load.read_deprivation(areas.index)["imd_score"].astype(float)
    return areas, need, build_area_graph(areas)


# --------------------------------------------------------------------------- invariants


def test_grid_picks_are_valid_and_complete(grid_case):
    areas, need, graph = grid_case
    selection = select_patches(areas, need, graph, n=3)
    assert selection.complete and len(selection.picks) == 3
    assert selection.warnings == ()
    assert_valid(selection, areas, need, graph)
    assert selection.total_excess_need > 0


@pytest.mark.parametrize("n", [1, 2, 4])
def test_other_n_and_band(grid_case, n):
    areas, need, graph = grid_case
    selection = select_patches(areas, need, graph, n=n, target_population=9_000, band=0.1)
    assert len(selection.picks) == n
    assert_valid(selection, areas, need, graph, lo=8_100, hi=9_900)


def test_same_seed_same_picks_and_inputs_untouched(grid_case):
    areas, need, graph = grid_case
    areas_before, need_before = areas.copy(), need.copy()
    a = select_patches(areas, need, graph, seed=5)
    b = select_patches(areas, need, graph, seed=5)
    assert a == b
    pd.testing.assert_frame_equal(areas, areas_before)
    pd.testing.assert_series_equal(need, need_before)


def test_labels_follow_the_picks(grid_case):
    areas, need, graph = grid_case
    selection = select_patches(areas, need, graph)
    labels = selection.labels(areas.index)
    assert labels.index.equals(areas.index)
    for k, pick in enumerate(selection.picks, start=1):
        assert sorted(labels.index[labels == k]) == list(pick.area_codes)
    assert labels.isna().sum() == len(areas) - sum(len(p.area_codes) for p in selection.picks)


def test_beats_the_best_cells_of_a_partition_on_a_grid(grid_case):
    areas, need, graph = grid_case
    selection = select_patches(areas, need, graph, n=3)
    assert selection.total_excess_need >= partition_top(areas, need, 3, graph=graph) - 1e-6


def test_shuffled_rows_and_a_hole_keep_the_invariants(grid_case):
    areas, _, _ = grid_case
    shuffled = areas.sample(frac=1, random_state=3)
    graph = build_area_graph(shuffled)
    assert_valid(select_patches(shuffled, shuffled["need"], graph, seed=2), shuffled, shuffled["need"], graph)
    holed = make_grid(12, 10, drop={(5, 4), (6, 4), (5, 5), (6, 5)})
    graph = build_area_graph(holed)
    assert_valid(select_patches(holed, holed["need"], graph, n=3), holed, holed["need"], graph)


def test_many_picks_fill_the_area():
    areas = make_grid(8, 6, seed=5)  # about 82,000 people: 8 patches in a partition
    graph = build_area_graph(areas)
    selection = select_patches(areas, areas["need"], graph, n=6)
    assert selection.complete
    assert_valid(selection, areas, areas["need"], graph)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(1, 3), nx=st.integers(6, 10))
def test_any_grid_gives_valid_picks(seed, n, nx):
    areas = make_grid(nx, 7, seed=seed)
    graph = build_area_graph(areas)
    selection = select_patches(areas, areas["need"], graph, n=n, seed=seed)
    assert_valid(selection, areas, areas["need"], graph)
    assert selection.complete or selection.warnings


# --------------------------------------------------------------------------- rules


def test_spread_one_pick_per_unit(grid_case):
    areas, need, graph = grid_case
    spread = areas["ward_code"]
    selection = select_patches(areas, need, graph, n=3, spread=spread)
    assert_valid(selection, areas, need, graph)
    units = []
    for pick in selection.picks:
        by_unit = areas.loc[list(pick.area_codes)].groupby("ward_code")["population"].sum()
        majority = by_unit[by_unit == by_unit.max()].index.min()
        assert pick.unit == majority
        units.append(majority)
    assert len(set(units)) == len(units), "at most one pick per unit"


def test_min_distance_between_centroids(grid_case):
    areas, need, graph = grid_case
    selection = select_patches(areas, need, graph, n=3, min_distance_m=3_000)
    assert_valid(selection, areas, need, graph)
    centroids = [areas.loc[list(p.area_codes)].geometry.union_all().centroid for p in selection.picks]
    for pick, c in zip(selection.picks, centroids, strict=True):
        assert pick.centroid == pytest.approx((c.x, c.y))
    for a in range(len(centroids)):
        for b in range(a + 1, len(centroids)):
            assert centroids[a].distance(centroids[b]) >= 3_000 - 1e-6


def test_lock_in_and_lock_out(grid_case):
    areas, need, graph = grid_case
    free = select_patches(areas, need, graph, n=3)
    best_area = free.picks[0].area_codes[0]
    low = excess(areas, need).idxmin()  # the least needy area: would never be picked freely
    selection = select_patches(areas, need, graph, n=3, lock_in=low, lock_out=[best_area])  # a bare code works
    assert_valid(selection, areas, need, graph)
    inside = {c for p in selection.picks for c in p.area_codes}
    assert low in inside
    assert best_area not in inside


def test_lock_in_groups_get_a_pick_each(grid_case):
    areas, need, graph = grid_case
    a, b, c = "G0000", "G0001", "G0119"  # two adjacent corner cells; the far corner
    selection = select_patches(areas, need, graph, n=3, lock_in=[(a, b), (c,)])
    assert_valid(selection, areas, need, graph)
    holder = {code: k for k, p in enumerate(selection.picks) for code in p.area_codes}
    assert holder[a] == holder[b]
    assert holder[c] != holder[a]


def test_lock_in_group_joined_through_other_areas(grid_case):
    areas, need, graph = grid_case
    selection = select_patches(areas, need, graph, n=2, lock_in=[("G0000", "G0003")])  # three cells apart
    assert_valid(selection, areas, need, graph)
    assert any({"G0000", "G0003"} <= set(p.area_codes) for p in selection.picks)


def test_impossible_lock_ins_raise_with_the_fix(grid_case):
    areas, need, graph = grid_case
    with pytest.raises(PatchingError, match=r"G0000, G0119 .*more than the band's 12,000; split the group"):
        select_patches(areas, need, graph, lock_in=[("G0000", "G0119")])
    with pytest.raises(PatchingError, match=r"3 locked-in groups need a pick each, but n = 2; raise n"):
        select_patches(areas, need, graph, n=2, lock_in=[("G0000",), ("G0050",), ("G0119",)])
    with pytest.raises(PatchingError, match=r"G0005 are both locked in and locked out"):
        select_patches(areas, need, graph, lock_in=["G0005"], lock_out=["G0005"])
    with pytest.raises(PatchingError, match=r"1 locked area codes are not in areas \(E01999999\)"):
        select_patches(areas, need, graph, lock_in=["E01999999"])


def test_lock_in_of_an_area_too_big_for_the_band():
    areas = make_grid(8, 8, seed=2)
    areas.loc["G0010", "population"] = 13_000
    graph = build_area_graph(areas)
    with pytest.raises(PatchingError, match=r"G0010 holds 13,000 people, more than the band's 12,000"):
        select_patches(areas, areas["need"], graph, lock_in=["G0010"])


def test_lock_in_that_cannot_reach_the_band_raises():
    areas = make_grid(3, 3, seed=4)  # about 15,000 people: one pick at most, and it strands the rest
    graph = build_area_graph(areas)
    with pytest.raises(PatchingError, match=r"no selection of up to 3 picks holds the locked-in areas G0004"):
        select_patches(areas, areas["need"], graph, lock_in=["G0004"])


# --------------------------------------------------------------------------- shortfalls and bad input


def test_fewer_picks_than_asked_says_why():
    areas = make_grid(5, 4, seed=1)  # about 34,000 people: room for 3 or 4 picks at most
    graph = build_area_graph(areas)
    selection = select_patches(areas, areas["need"], graph, n=6)
    assert not selection.complete
    assert 1 <= len(selection.picks) < 6
    assert_valid(selection, areas, areas["need"], graph)
    assert len(selection.warnings) == 1
    assert selection.warnings[0].startswith(f"only {len(selection.picks)} of the 6 requested picks")
    assert "too few for 6 patches of at least 8,000" in selection.warnings[0]


def test_no_stranded_pockets_even_when_they_would_pay():
    # a needy ring around one well-off cell: taking the ring would strand that cell
    areas = make_grid(9, 9, seed=3, pop_range=(1400, 1500))
    need = pd.Series(0.0, index=areas.index)
    ring = [f"G{j * 9 + i:04d}" for j in range(3, 6) for i in range(3, 6) if (i, j) != (4, 4)]
    need[ring] = 10.0
    need["G0040"] = -5.0  # the centre cell (4, 4)
    graph = build_area_graph(areas)
    selection = select_patches(areas, need, graph, n=1)
    assert_valid(selection, areas, need, graph)
    assert "G0040" in selection.picks[0].area_codes or not set(ring) <= set(selection.picks[0].area_codes)


def test_islands_join_through_declared_bridges():
    areas = make_grid(8, 6, island=True)
    with pytest.warns(IslandWarning, match=r"G0048 is detached"):
        graph = build_area_graph(areas)
    selection = select_patches(areas, areas["need"], graph, n=2)
    assert_valid(selection, areas, areas["need"], graph)


def test_bad_inputs_are_listed_together(grid_case):
    areas, need, graph = grid_case
    with pytest.raises(PatchingError, match=r"need must be indexed like areas.*n must be a whole number.*band"):
        select_patches(areas, need.iloc[::-1], graph, n=0, band=1.5)
    with pytest.raises(PatchingError, match=r"graph was built for other areas"):
        select_patches(areas.iloc[:50], need.iloc[:50], graph)
    gappy = need.copy()
    gappy.iloc[3] = np.nan
    with pytest.raises(PatchingError, match=r"need is missing for 1 areas \(G0003\)"):
        select_patches(areas, gappy, graph)
    with pytest.raises(PatchingError, match=r"spread must give a unit for every area"):
        select_patches(areas, need, graph, spread=areas["ward_code"].iloc[:10])


def test_a_broken_selection_is_never_returned(grid_case, monkeypatch):
    import lacgeo.select as select_module

    def merge_first_two(p, picks, rules, blocked, rng):
        merged = select_module.make_candidate(p, picks[0].members | picks[1].members)
        return [merged, *picks[1:]]

    monkeypatch.setattr(select_module, "improve_jointly", merge_first_two)
    monkeypatch.setattr(select_module, "anneal", lambda p, picks, *args, **kw: picks)
    areas, need, graph = grid_case
    with pytest.raises(
        PatchingError, match=r"selection check failed: pick 1 holds .* outside 8,000-12,000.*share areas"
    ):
        select_patches(areas, need, graph, n=3)


def test_picks_whose_rest_cuts_badly_are_swapped(grid_case, monkeypatch):
    """When the rest around the best picks cannot be cut into in-band patches, a set with one
    pick swapped for another candidate is taken: valid, and never worth more than the best."""
    from lacgeo.select import rest

    areas, need, graph = grid_case
    best = select_patches(areas, need, graph, n=3)
    banned = frozenset(best.picks[0].area_codes)
    codes = areas.index

    def flags(self, picks):  # pretend the best pick's rest can never be cut cleanly
        return int(any(frozenset(str(codes[i]) for i in c.members) == banned for c in picks))

    monkeypatch.setattr(rest.RestCheck, "flags", flags)
    swapped = select_patches(areas, need, graph, n=3)
    assert_valid(swapped, areas, need, graph)
    assert banned not in {frozenset(p.area_codes) for p in swapped.picks}
    assert swapped.total_excess_need <= best.total_excess_need + 1e-6


def test_a_district_whose_best_picks_left_an_impossible_rest_is_all_in_band():
    """High Peak: the searched picks left 59,233 people that no split cuts into patches of
    8,000-12,000 (every split was checked); a swapped pick set leaves a rest that cuts cleanly."""
    result = lacgeo.run(lacgeo.make_config(la="High Peak"))
    assert (result.patches["band_status"] == "in band").all()
    assert result.patches["population"].between(LO, HI).all() and len(result.recommended) == 3


# --------------------------------------------------------------------------- real data


def test_real_la_picks_are_valid_and_beat_the_partition(middlesbrough):
    areas, need, graph = middlesbrough
    selection = select_patches(areas, need, graph, n=3)
    assert selection.complete
    assert_valid(selection, areas, need, graph)
    assert selection.total_excess_need >= partition_top(areas, need, 3, graph=graph) - 1e-6


def test_real_la_with_every_rule(middlesbrough):
    areas, need, graph = middlesbrough
    free = select_patches(areas, need, graph, n=3)
    locked = free.picks[1].area_codes[0]
    banned = free.picks[0].area_codes[0]
    selection = select_patches(
        areas, need, graph, n=3, spread=areas["ward_code"], min_distance_m=1_500, lock_in=[locked], lock_out=[banned]
    )
    assert_valid(selection, areas, need, graph)
    inside = {c for p in selection.picks for c in p.area_codes}
    assert locked in inside and banned not in inside
    units = [p.unit for p in selection.picks]
    assert len(set(units)) == len(units)
    for a in range(3):
        for b in range(a + 1, 3):
            assert math.dist(selection.picks[a].centroid, selection.picks[b].centroid) >= 1_500


def test_real_la_2011_vintage_beats_the_partition():
    areas = load.read_areas("E08000029", vintage="2011")
    need = load.read_deprivation(areas.index, vintage="2011")["imd_score"].astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IslandWarning)
        graph = build_area_graph(areas)
    selection = select_patches(areas, need, graph, n=3, seed=1)
    assert_valid(selection, areas, need, graph)
    assert selection.total_excess_need >= partition_top(areas, need, 3, graph=graph) - 1e-6

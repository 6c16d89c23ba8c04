"""Patch invariants: contiguity, coverage, band (or flagged), index kept, determinism.

Heuristics are tested by what must hold for any answer, never by golden labels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lacgeo import load
from lacgeo.errors import IslandWarning, PatchingError
from lacgeo.patches import Band, build_area_graph, build_patches, check_patches, partition_areas
from lacgeo.patches.graph import is_connected

from .conftest import make_grid


def assert_invariants(areas, result, *, target=10_000, band=0.2, nest_col=None):
    pid = result.patch_id
    assert pid.index.equals(areas.index), "index preserved, same order"
    assert pid.notna().all(), "every area in a patch"
    graph = result.graph
    nbrs = graph.neighbours()
    pops = areas["population"].groupby(pid).sum()
    lo, hi = target * (1 - band), target * (1 + band)
    for p in pops.index:
        members = set(np.flatnonzero(pid.to_numpy() == p).tolist())
        assert is_connected(members, nbrs), f"{p} contiguous"
        if not lo <= pops[p] <= hi:
            assert p in result.flags, f"{p} out of band ({pops[p]}) without a reason"
        if nest_col:
            assert areas.loc[pid == p, nest_col].nunique() == 1, f"{p} crosses {nest_col}"
    assert pops.sum() == areas["population"].sum()
    assert set(result.names.index) == set(pops.index)
    assert result.names.is_unique


def test_grid_patches_are_contiguous_and_in_band(grid):
    result = build_patches(grid, grid["need"], seed=1)
    assert_invariants(grid, result)
    assert result.flags == {}
    pops = grid["population"].groupby(result.patch_id).sum()
    assert len(pops) == round(grid["population"].sum() / 10_000)


def test_inputs_are_not_modified(grid):
    before = grid.copy()
    build_patches(grid, grid["need"], seed=1)
    pd.testing.assert_frame_equal(grid, before)


def test_same_seed_same_patches_and_row_order_does_not_matter(grid):
    a = build_patches(grid, grid["need"], seed=7)
    b = build_patches(grid, grid["need"], seed=7)
    pd.testing.assert_series_equal(a.patch_id, b.patch_id)
    shuffled = grid.sample(frac=1, random_state=3)
    c = build_patches(shuffled, shuffled["need"], seed=7)
    assert_invariants(shuffled, c)


def test_grid_with_hole(grid):
    holed = make_grid(12, 10, drop={(5, 4), (6, 4), (5, 5), (6, 5)})
    result = build_patches(holed, holed["need"], seed=2)
    assert_invariants(holed, result)


def test_island_is_linked_to_nearest_with_a_warning():
    areas = make_grid(10, 8, island=True)
    island = areas.index[-1]
    with pytest.warns(IslandWarning, match=rf"{island} is detached.*linked to its nearest area G\d+"):
        result = build_patches(areas, areas["need"], seed=0)
    assert len(result.bridges) == 1 and island in result.bridges[0]
    assert_invariants(areas, result)


def test_island_policy_error_and_separate():
    areas = make_grid(10, 8, island=True)
    with pytest.raises(PatchingError, match=r"detached part.*G0080.*patches.islands"):
        build_patches(areas, areas["need"], islands="error")
    result = build_patches(areas, areas["need"], islands="separate", seed=0)
    island_patch = result.patch_id.iloc[-1]
    assert (result.patch_id == island_patch).sum() == 1
    assert "detached part" in result.flags[island_patch]
    assert_invariants(areas, result)


def test_contiguity_check_accepts_only_declared_bridges():
    areas = make_grid(10, 8, island=True)
    graph = build_area_graph(areas, islands="separate")
    pid = pd.Series("P1", index=areas.index)  # one patch holding the detached island
    with pytest.raises(PatchingError, match="P1 is not contiguous"):
        check_patches(pid, areas["population"], graph, band=Band(10**6, 0.99), flags={})


def test_feasibility_check_rejects_out_of_band_without_reason(grid):
    graph = build_area_graph(grid)
    pid = pd.Series("P1", index=grid.index)
    with pytest.raises(PatchingError, match="outside 8,000-12,000, with no reason"):
        check_patches(pid, grid["population"], graph, band=Band(10_000, 0.2), flags={})


def test_nesting_keeps_patches_inside_units_and_flags_small_units(grid):
    result = build_patches(grid, grid["need"], nest_within="msoa", seed=0)
    assert_invariants(grid, result, nest_col="msoa_code")
    unit_pop = grid.groupby("msoa_code")["population"].sum()
    small = unit_pop[unit_pop < 8_000]
    assert len(small) > 0
    for unit in small.index:
        pids = result.patch_id[grid["msoa_code"] == unit].unique()
        assert len(pids) == 1 and f"MSOA {unit} holds" in result.flags[pids[0]]


def test_tiny_area_cannot_reach_band_and_is_flagged():
    areas = make_grid(2, 2)
    result = build_patches(areas, areas["need"])
    assert result.patch_id.nunique() == 1
    assert "cannot make a patch of 8,000-12,000" in result.flags["P01"]


def test_missing_need_is_an_error(grid):
    need = grid["need"].copy()
    need.iloc[[3, 8]] = np.nan
    with pytest.raises(PatchingError, match=r"need index is missing for 2 areas \(G0003, G0008\)"):
        build_patches(grid, need)


def test_land_weight_wiring_and_bad_areas(grid):
    graph = build_area_graph(grid)
    pop = grid["population"].to_numpy(dtype=float)
    need = grid["need"].to_numpy(dtype=float)
    xy = np.column_stack([grid.geometry.centroid.x, grid.geometry.centroid.y])
    land = grid.geometry.area.to_numpy()
    people_only, _ = partition_areas(graph, pop, need, xy, seed=3)
    no_land, _ = partition_areas(graph, pop, need, xy, area=land, land_weight=0.0, seed=3)
    np.testing.assert_array_equal(people_only, no_land)
    bad = land.copy()
    bad[4] = np.nan
    with pytest.raises(PatchingError, match="area must give a finite land area"):
        partition_areas(graph, pop, need, xy, area=bad)
    with pytest.raises(PatchingError, match="land_weight must be between 0 and 1, found 1.5"):
        partition_areas(graph, pop, need, xy, area=land, land_weight=1.5)
    for values, name in ((need, "need"), (xy, "xy"), (pop, "pop")):
        broken = values.copy()
        broken[2] = np.nan
        args = {"need": need, "xy": xy, "pop": pop, name: broken}
        with pytest.raises(PatchingError, match="finite"):
            partition_areas(graph, args["pop"], args["need"], args["xy"])
    with pytest.raises(PatchingError, match=r"one \(x, y\) pair per area, found shape \(\d+, 1\)"):
        partition_areas(graph, pop, need, xy[:, :1])
    negative = pop.copy()
    negative[0] = -1
    with pytest.raises(PatchingError, match="population must be a finite number of people, 0 or more"):
        partition_areas(graph, negative, need, xy)


@pytest.mark.parametrize("la", ["E06000054", "E08000029", "E06000015", "E06000052"])
@pytest.mark.parametrize("vintage", ["2021", "2011"])
def test_real_local_authorities(la, vintage):
    areas = load.read_areas(la, vintage=vintage)
    need = load.read_deprivation(areas.index, vintage=vintage)["imd_score"]
    result = build_patches(areas, need, seed=0, n_starts=4)
    assert_invariants(areas, result)
    pops = areas["population"].groupby(result.patch_id).sum()
    assert ((pops >= 8_000) & (pops <= 12_000)).mean() >= 0.95


def test_real_la_nested_within_msoa():
    areas = load.read_areas("E08000029", vintage="2011")
    need = load.read_deprivation(areas.index, vintage="2011")["imd_score"]
    result = build_patches(areas, need, nest_within="msoa", seed=0, n_starts=2)
    assert_invariants(areas, result, nest_col="msoa_code")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    nx=st.integers(2, 9),
    ny=st.integers(2, 9),
    seed=st.integers(0, 10_000),
    low=st.integers(200, 2_000),
    spread=st.integers(1, 4_000),
    band=st.sampled_from([0.1, 0.2, 0.3]),
)
def test_random_grids_keep_the_invariants(nx, ny, seed, low, spread, band):
    areas = make_grid(nx, ny, seed=seed, pop_range=(low, low + spread))
    result = build_patches(areas, areas["need"], band=band, seed=seed, n_starts=2)
    assert_invariants(areas, result, band=band)


def test_single_area_above_the_band_is_its_own_flagged_patch(grid):
    areas = grid.copy()
    areas.loc["G0050", "population"] = 15_000
    result = build_patches(areas, areas["need"], seed=0)
    pid = result.patch_id["G0050"]
    assert (result.patch_id == pid).sum() == 1
    assert result.flags[pid] == "a single LSOA holding 15,000 people, more than the band's 12,000"
    assert_invariants(areas, result)

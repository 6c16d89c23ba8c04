"""Phase 1 through the pipeline: picks beyond one partition, the rest partitioned around them."""

from __future__ import annotations

import pytest

import lacgeo
from lacgeo.config import replace
from lacgeo.errors import ConfigError


@pytest.fixture(scope="module")
def solihull_rank():
    return lacgeo.run(replace(lacgeo.make_config(la="Solihull"), recommend={"method": "rank", "robustness_draws": 0}))


@pytest.fixture(scope="module")
def solihull_select():
    return lacgeo.run(replace(lacgeo.make_config(la="Solihull"), recommend={"robustness_draws": 0}))


def test_selected_picks_are_patches_and_capture_at_least_the_top_cells(solihull_rank, solihull_select):
    sel = solihull_select.recommended
    assert len(sel) == 3 and (sel["phase"] == 1).all() and sorted(sel["rank"]) == [1, 2, 3]
    assert sel["population"].between(8_000, 12_000).all()
    assert sel["excess_need"].sum() >= solihull_rank.recommended["excess_need"].sum() - 1e-6
    # every area is in exactly one patch and the rest of the LA is still covered in band
    patches = solihull_select.patches
    assert patches["population"].sum() == 216_230  # Census 2021 usual residents
    assert (patches["band_status"] == "in band").all()


def test_rank_method_phase1_is_the_top_captured_need(solihull_rank):
    patches = solihull_rank.patches.sort_values("excess_need", ascending=False)
    assert list(patches.index[:3]) == list(solihull_rank.recommended.index)


def test_spread_lock_in_and_lock_out_through_the_config(solihull_select):
    areas = solihull_select.areas
    top = solihull_select.recommended.index[0]
    banned = list(areas.index[areas["patch_id"] == top])
    wanted = areas.index[~areas.index.isin(banned)].sort_values()[0]
    config = replace(
        lacgeo.make_config(la="Solihull"),
        recommend={"robustness_draws": 0, "spread": "ward", "lock_out": banned, "lock_in": [wanted]},
    )
    result = lacgeo.run(config)
    picks = result.areas[result.areas["patch_id"].isin(result.recommended.index)]
    assert not picks.index.isin(banned).any()
    assert wanted in picks.index
    main_ward = picks.groupby("patch_id").apply(lambda g: g.groupby("ward_code")["population"].sum().idxmax())
    assert main_ward.is_unique


def test_spread_nest_needs_a_nesting_layer():
    with pytest.raises(ConfigError, match='spread = "nest" needs patches.nest_within'):
        replace(lacgeo.make_config(la="Solihull"), recommend={"spread": "nest"})

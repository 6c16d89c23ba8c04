"""Ward units (patches built from whole wards), tested by invariants on the shipped data.

Wiltshire (98 wards of 2,500-9,100 people: every ward is a whole unit), Birmingham (69 wards,
47 above the band: the units mix whole wards, wards cut on their own and wards that join
their neighbours), Leeds (33 wards, all above the band) and a made-up ward in two pieces.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csgraph

import lacgeo
from lacgeo.config import replace
from lacgeo.errors import PatchingError, ValidationError
from lacgeo.patches import Band, build_area_graph, build_patches
from lacgeo.patches.graph import symmetric_adjacency
from lacgeo.patches.units import FREE_GROUP, WardUnits, name_ward_patches, ward_units

BAND = Band(10_000, 0.2)


def ward_pieces(areas, graph) -> pd.Series:
    """Connected pieces of each ward, found independently of the module: number of pieces per ward."""
    ward = areas["ward_code"].to_numpy()
    same = ward[graph.edges[:, 0]] == ward[graph.edges[:, 1]]
    comp = csgraph.connected_components(symmetric_adjacency(graph.edges[same], graph.n), directed=False)[1]
    return pd.Series(comp, index=areas.index).groupby(areas["ward_code"]).nunique()


class LA:
    def __init__(self, code: str):
        self.areas = lacgeo.read_areas(code)
        self.need = lacgeo.read_deprivation(self.areas.index)["imd_score"].rename("need_index")
        self.graph = build_area_graph(self.areas)
        self.units = ward_units(self.areas, need=self.need, graph=self.graph)
        self.ward_pop = self.areas["population"].groupby(self.areas["ward_code"]).sum()
        self.pieces = ward_pieces(self.areas, self.graph)
        self._patches = None

    @property
    def patches(self):
        """The units partitioned as a run would, with the LSOA patch of every area."""
        if self._patches is None:
            u = self.units
            result = build_patches(u.units, u.units["need_index"], nest_within=u.nest_within, graph=u.graph)
            self._patches = result, u.to_lsoas(result.patch_id)
        return self._patches


@pytest.fixture(scope="module")
def wiltshire() -> LA:
    return LA("E06000054")


@pytest.fixture(scope="module")
def birmingham() -> LA:
    return LA("E08000025")


@pytest.fixture(scope="module")
def leeds() -> LA:
    return LA("E08000035")


@pytest.fixture(params=["wiltshire", "birmingham", "leeds"])
def la(request) -> LA:
    return request.getfixturevalue(request.param)


# --- the units ------------------------------------------------------------------------------


def test_every_lsoa_is_in_one_unit_and_the_table_adds_up(la):
    areas, u = la.areas, la.units
    assert u.unit_of.index.equals(areas.index) and u.unit_of.notna().all()
    assert set(u.unit_of) == set(u.units.index) and u.units.index.is_unique
    assert u.units.index.name == "unit_code" and u.units.crs.to_epsg() == 27700
    assert u.units["population"].sum() == areas["population"].sum()
    by_unit = areas["population"].groupby(u.unit_of).sum()
    assert (u.units["population"] == by_unit.reindex(u.units.index)).all()
    assert (u.units["n_lsoas"] == u.unit_of.value_counts().reindex(u.units.index)).all()
    lsoa_area = areas.geometry.area.groupby(u.unit_of).sum().reindex(u.units.index)
    np.testing.assert_allclose(u.units.geometry.area, lsoa_area, rtol=1e-6)
    assert u.units.geometry.is_valid.all()
    # need is population-weighted; ward and MSOA names come with every unit
    weighted = (la.need * areas["population"]).groupby(u.unit_of).sum() / by_unit
    np.testing.assert_allclose(u.units["need_index"], weighted.reindex(u.units.index))
    assert u.units[["ward_code", "ward_name", "msoa_code", "msoa_name"]].notna().all().all()
    assert u.graph.codes.equals(u.units.index)


def test_wards_up_to_the_band_stay_whole_and_bigger_ones_are_cut_into_lsoas(la):
    areas, u = la.areas, la.units
    units_per_ward = u.unit_of.groupby(areas["ward_code"]).nunique()
    small = la.ward_pop[la.ward_pop <= BAND.hi].index
    big = la.ward_pop[la.ward_pop > BAND.hi].index
    # a ward up to the band's top is one unit per connected piece: whole unless it is in pieces
    assert (units_per_ward[small] == la.pieces[small]).all()
    whole = [w for w in small if la.pieces[w] == 1]
    assert all(u.unit_of[areas["ward_code"] == w].iloc[0] == w for w in whole)
    # a ward above it keeps its LSOAs as units (unless a piece of it fits the band)
    for w in big:
        if la.pieces[w] == 1:
            lsoas = areas.index[areas["ward_code"] == w]
            assert (u.unit_of[lsoas] == lsoas).all(), w


def test_only_wards_that_can_be_cut_by_count_are_nested(birmingham):
    areas, u = birmingham.areas, birmingham.units
    assert u.groups is not None and u.groups.index.equals(u.units.index) and u.groups.notna().all()
    nested = u.groups[u.groups != FREE_GROUP]
    assert len(nested) > 0
    for label, members in nested.groupby(nested):
        wards = u.units.loc[members.index, "ward_code"].unique()
        assert len(wards) == 1 and label.split("-")[0] == wards[0], label
        assert BAND.counts(u.units.loc[members.index, "population"].sum()), f"{label} cannot be cut by count"
    # a ward of 12,000-16,000 (one patch too big, two too small) joins its neighbours, with a note
    pop, pieces = birmingham.ward_pop, birmingham.pieces
    gap = pop[(pop > BAND.hi) & (pop < 2 * BAND.lo) & (pieces == 1)]
    assert len(gap) > 0
    for w, people in gap.items():
        units = u.unit_of[areas["ward_code"] == w].unique()
        assert (u.groups[units] == FREE_GROUP).all(), w
        name = areas.loc[areas["ward_code"] == w, "ward_name"].iloc[0]
        assert any(name in note and f"{people:,}" in note and "too few for 2" in note for note in u.notes), w


def test_whole_wards_stay_in_one_patch_and_patches_are_contiguous(la):
    areas, u = la.areas, la.units
    result, patch = la.patches
    assert patch.index.equals(areas.index) and patch.notna().all()
    # contiguous on the LSOA graph, not only on the units' graph
    comps = pd.Series(la.graph.components(patch.to_numpy()), index=areas.index)
    assert (comps.groupby(patch).nunique() == 1).all()
    sizes = areas["population"].groupby(patch).sum()
    out = sizes[(sizes < BAND.lo) | (sizes > BAND.hi)]
    assert set(out.index) <= set(result.flags)
    # every contiguous ward up to the band's top is in one patch
    patches_per_ward = patch.groupby(areas["ward_code"]).nunique()
    whole = [w for w in la.ward_pop.index if la.ward_pop[w] <= BAND.hi and la.pieces[w] == 1]
    assert (patches_per_ward[whole] == 1).all()
    # the LSOAs of a ward cut on its own stay inside it
    if u.groups is not None:
        nested = u.groups[u.groups != FREE_GROUP]
        inside = u.unit_of.map(nested)
        mixed = inside.groupby(patch).agg(lambda g: g.nunique(dropna=False))
        assert (mixed[inside.dropna().groupby(patch).size().index] == 1).all()


def test_birmingham_patches_are_in_the_band(birmingham):
    result, patch = birmingham.patches
    sizes = birmingham.areas["population"].groupby(patch).sum()
    assert sizes.between(BAND.lo, BAND.hi).mean() >= 0.95


def test_wiltshire_patches_are_mostly_in_the_band(wiltshire):
    result, patch = wiltshire.patches
    sizes = wiltshire.areas["population"].groupby(patch).sum()
    assert sizes.between(BAND.lo, BAND.hi).mean() >= 0.80


@pytest.fixture(scope="module")
def wiltshire_run():
    config = replace(
        lacgeo.make_config(la="Wiltshire"),
        area={"units": "ward"},
        recommend={"robustness_draws": 0, "comparators": 0, "spread": "ward", "lock_out": ["E01031983"]},
    )
    return lacgeo.run(config)


def test_a_ward_run_keeps_every_patch_in_band_and_wards_whole_unless_it_says_so(wiltshire_run):
    """``area.units = "ward"``: whole wards make the patches; the wards the run had to split to
    keep the band are named in its warnings, and every other ward lies in one patch."""
    areas, patches = wiltshire_run.areas, wiltshire_run.patches
    assert patches["band_status"].eq("in band").all()
    said = [m for m in wiltshire_run.warnings if "wards are in more than one patch" in m]
    assert len(said) == 1
    named = set(re.findall(r"\((E05\d{6})\)", said[0]))
    spans = areas.groupby("ward_code")["patch_id"].nunique()
    assert set(spans.index[spans > 1]) == named  # every cut ward is named, and only those
    assert len(named) < 20, "most wards stay whole"
    # patches are named after their wards, and phase-1 picks are whole units of one ward each at most
    first_wards = areas.loc[areas["patch_id"].isin(wiltshire_run.recommended.index)].groupby("patch_id")["ward_name"]
    for pid, name in wiltshire_run.recommended["patch_name"].items():
        assert any(w in name for w in first_wards.get_group(pid)), (pid, name)
    # the locked-out LSOA's whole ward stays out of phase 1
    assert areas.at["E01031983", "patch_id"] not in set(wiltshire_run.recommended.index)
    ward_of_lock = areas.at["E01031983", "ward_code"]
    assert not areas.loc[areas["ward_code"] == ward_of_lock, "patch_id"].isin(wiltshire_run.recommended.index).any()


def test_an_area_in_post_must_be_whole_wards_in_a_ward_run():
    areas = lacgeo.read_areas("E06000054")
    ward = areas[areas["ward_name"] == "Trowbridge Lambrok"].index
    config = replace(
        lacgeo.make_config(la="Wiltshire"),
        area={"units": "ward"},
        recommend={"robustness_draws": 0, "existing": [{"name": "Lambrok", "areas": list(ward[:-1])}]},
    )
    with pytest.raises(
        ValidationError, match=r"\(Lambrok\): with area.units = \"ward\", an area in post must be whole"
    ):
        lacgeo.run(config)


def test_patches_are_named_after_their_wards(wiltshire):
    u = wiltshire.units
    result, _ = wiltshire.patches
    names = name_ward_patches(u, result.patch_id)
    assert set(names.index) == set(result.patch_id) and names.is_unique
    by_ward = u.units.groupby([result.patch_id, "ward_name"])["population"].sum().reset_index()
    by_ward = by_ward.sort_values(["patch_id", "population", "ward_name"], ascending=[True, False, True])
    main = by_ward.drop_duplicates("patch_id").set_index("patch_id")["ward_name"]
    assert all(names[pid].startswith(main[pid]) for pid in names.index), "named after the ward holding most people"
    assert any(" & " in name or " / " in name for name in names), "two wards joined in some names"


@pytest.mark.parametrize("name", ["birmingham", "leeds"])
def test_no_free_piece_is_boxed_in_below_the_band(name, request):
    """Wards free to mix, cut off from each other by wards cut on their own, still hold enough
    people for in-band patches (else a boxing ward is opened to them)."""
    u = request.getfixturevalue(name).units
    free = (u.groups == FREE_GROUP).to_numpy()
    keep = free[u.graph.edges[:, 0]] & free[u.graph.edges[:, 1]]
    comp = csgraph.connected_components(symmetric_adjacency(u.graph.edges[keep], u.graph.n), directed=False)[1]
    people = u.units["population"][free].groupby(comp[free]).sum()
    assert all(BAND.counts(p) for p in people), people[[not BAND.counts(p) for p in people]]
    assert any("is opened to them" in note for note in u.notes)


# --- mapping back ---------------------------------------------------------------------------


def test_to_lsoas_round_trip(birmingham):
    u = birmingham.units
    unit_patch = pd.Series([f"X{i}" for i in range(len(u.units))], index=u.units.index, name="patch_id")
    lsoa_patch = u.to_lsoas(unit_patch)
    assert lsoa_patch.index.equals(birmingham.areas.index) and lsoa_patch.name == "patch_id"
    assert (lsoa_patch == u.unit_of.map(unit_patch)).all()
    back = lsoa_patch.groupby(u.unit_of).agg(lambda g: g.unique().tolist())
    assert all(len(v) == 1 and v[0] == unit_patch[k] for k, v in back.items())
    with pytest.raises(PatchingError, match=r"no patch for 1 of \d+ units"):
        u.to_lsoas(unit_patch.iloc[1:])


def test_unit_codes_of_lock_ins(birmingham):
    u = birmingham.units
    whole = u.units.index[u.units["n_lsoas"] > 1][0]  # a whole ward
    inside = u.unit_of.index[u.unit_of == whole]
    cut = u.units.index[u.units.index.str.startswith("E01")][0]  # an LSOA of a ward cut up
    assert u.unit_codes(list(inside) + [cut, inside[0]]) == [whole, cut]
    assert u.unit_codes(cut) == [cut]
    with pytest.raises(ValidationError, match=r"1 of 2 codes are not LSOAs of these areas \(E01999999\)"):
        u.unit_codes(["E01999999", cut])


# --- made-up wards and bad input ------------------------------------------------------------


def test_a_ward_in_two_pieces_is_two_units_with_a_note():
    areas = lacgeo.read_areas("E06000017")  # Rutland
    graph = build_area_graph(areas)
    nbrs = graph.neighbours()
    ward = areas["ward_code"]
    home = ward.value_counts().index[0]  # the ward with most LSOAs
    touching = {int(v) for i in np.flatnonzero(ward == home) for v in nbrs[i]}
    far = next(i for i in range(len(areas)) if ward.iloc[i] != home and i not in touching)
    made_up = areas.copy()
    made_up.iloc[far, made_up.columns.get_loc("ward_code")] = home
    made_up.iloc[far, made_up.columns.get_loc("ward_name")] = areas.loc[ward == home, "ward_name"].iloc[0]
    before = made_up.copy()
    units = ward_units(made_up, graph=graph)
    pd.testing.assert_frame_equal(made_up, before)  # the input is not changed
    pieces = sorted(set(units.unit_of[made_up["ward_code"] == home]))
    assert pieces == [f"{home}-1", f"{home}-2"]
    assert units.unit_of.iloc[far] in pieces and units.units.loc[pieces, "n_lsoas"].min() == 1
    assert any(home in note and "2 pieces" in note for note in units.notes)


def test_shuffled_rows_give_the_same_units(wiltshire):
    shuffled = wiltshire.areas.sample(frac=1.0, random_state=1)
    units = ward_units(shuffled)
    assert (units.unit_of.reindex(wiltshire.areas.index) == wiltshire.units.unit_of).all()
    cols = ["population", "ward_code", "msoa_name", "n_lsoas"]
    pd.testing.assert_frame_equal(units.units[cols], wiltshire.units.units[cols])


def test_no_ward_column_names_the_column_and_the_fix(wiltshire):
    areas = wiltshire.areas.drop(columns=["ward_code"])
    with pytest.raises(ValidationError, match=r"no ward_code column.*lacgeo\.read_areas.*ONS LSOA-to-ward lookup"):
        ward_units(areas)


def test_every_input_problem_is_reported_at_once(wiltshire):
    areas = wiltshire.areas.copy()
    areas.loc[areas.index[:2], "ward_code"] = None
    need = {"need_index": wiltshire.need.iloc[::-1], "population": wiltshire.need}
    with pytest.raises(
        ValidationError,
        match=r"3 problems: 2 LSOAs have no ward_code .*need 'need_index' must be indexed like areas.*"
        r"need 'population' would overwrite",
    ):
        ward_units(areas, need=need)


def test_result_is_frozen(wiltshire):
    assert isinstance(wiltshire.units, WardUnits)
    with pytest.raises(AttributeError):
        wiltshire.units.notes = ()

"""Growing a programme: coordinators in post, every phase a search under the rules, budgets that follow phases.

Checked by invariants on real areas: areas in post are kept exactly and never overlapped;
every phase keeps spread, distance and nearness against every patch placed before it; the
budget funds patches in phase order. Bad existing-area inputs are checked by their messages.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

import lacgeo
from lacgeo.config import replace
from lacgeo.errors import ConfigError, ValidationError
from lacgeo.schema import BAND_STATUS, IN_BAND, PATCH_ID, PATCH_NAME, PHASE, POPULATION

MACKWORTH = "Mackworth & New Zealand"  # 15,498 people: above the band, kept as given
CHADDESDEN = "Chaddesden West"  # 9,450 people: in the band


def _config(la, **recommend):
    return replace(lacgeo.make_config(la=la), recommend={"robustness_draws": 0, **recommend})


def _ward_codes(la, ward):
    areas = lacgeo.read_areas(lacgeo.load.resolve_area(la).code)
    return sorted(areas.index[areas["ward_name"] == ward])


def _unit_of(areas, codes, column):
    people = areas.loc[list(codes)].groupby(column)[POPULATION].sum()
    return people.sort_index().idxmax()


def _centre(areas, codes):
    sub = areas.loc[list(codes)]
    land = sub.geometry.area
    cent = sub.geometry.centroid
    return float((land * cent.x).sum() / land.sum()), float((land * cent.y).sum() / land.sum())


@pytest.fixture(scope="module")
def derby():
    existing = [
        {"name": "Mackworth learning site", "areas": _ward_codes("Derby", MACKWORTH)},
        {"name": "Chaddesden learning site", "areas": _ward_codes("Derby", CHADDESDEN)},
    ]
    config = replace(
        _config("Derby", existing=existing, n=5, phase_size=3, spread="ward"),
        budget={"total": 10 * 50_000.0, "period_months": 12},
    )
    return existing, lacgeo.run(config)


def test_areas_in_post_are_kept_exactly_and_never_overlapped(derby):
    existing, result = derby
    areas, patches = result.areas, result.patches
    for spec in existing:
        pid = areas.loc[spec["areas"][0], PATCH_ID]
        assert sorted(areas.index[areas[PATCH_ID] == pid]) == sorted(spec["areas"])
        assert patches.at[pid, PHASE] == 0
        assert patches.at[pid, PATCH_NAME] == spec["name"]
    mackworth = areas.loc[existing[0]["areas"][0], PATCH_ID]
    assert patches.at[mackworth, POPULATION] > 12_000
    assert patches.at[mackworth, BAND_STATUS].startswith("a coordinator's area in post, kept as given")
    assert patches.at[areas.loc[existing[1]["areas"][0], PATCH_ID], BAND_STATUS] == IN_BAND
    # the rest is partitioned around them, in the band
    new = patches[patches[PHASE] > 0]
    assert new[BAND_STATUS].eq(IN_BAND).mean() >= 0.95


def test_derby_grows_to_seven_then_ten_one_per_ward(derby):
    existing, result = derby
    areas, patches = result.areas, result.patches
    assert (patches[PHASE] == 0).sum() == 2
    assert (patches[PHASE] == 1).sum() == 5  # 7 coordinators
    assert (patches[PHASE] == 2).sum() == 3  # 10 coordinators
    # the budget of ten funds the two in post first, then phase 1, then phase 2
    funded = result.budget.patches
    assert result.budget.coordinators == 10 and result.budget.in_post == 2
    assert list(funded[PHASE]) == [0, 0, 1, 1, 1, 1, 1, 2, 2, 2]
    # no two funded patches share a ward (the unit holding most of their people)
    wards = [_unit_of(areas, areas.index[areas[PATCH_ID] == pid], "ward_code") for pid in funded.index]
    assert len(set(wards)) == len(wards), wards
    assert "2 of them in post already" in result.budget.sentence()


def test_every_phase_keeps_spread_and_distance_against_the_phases_before(tmp_path):
    config = replace(
        _config("Wiltshire", spread="ward", min_distance_km=4.0, phase_size=4), budget={"total": 11 * 50_000.0}
    )
    result = lacgeo.run(config)
    areas, patches = result.areas, result.patches
    order = patches.sort_values(["phase", "rank"])
    placed = []
    ruled = [k for k in range(1, 5) if not any(f"from phase {k} on" in m for m in result.warnings)]
    for pid, row in order.iterrows():
        if row[PHASE] not in ruled:
            continue
        codes = areas.index[areas[PATCH_ID] == pid]
        ward, centre = _unit_of(areas, codes, "ward_code"), _centre(areas, codes)
        for other_ward, other_centre, other in placed:
            assert ward != other_ward, (pid, other)
            assert math.dist(centre, other_centre) >= 4_000 - 1e-6, (pid, other)
        placed.append((ward, centre, pid))
    assert len(placed) >= 11  # the funded patches are all searched under the rules
    assert (patches[PHASE] == 1).sum() == 3


def test_keep_the_team_close_places_each_pick_near_one_before():
    existing = [{"name": "Mackworth", "areas": _ward_codes("Derby", MACKWORTH)}]
    result = lacgeo.run(_config("Derby", existing=existing, near_km=3.0, search_phases=2, phase_size=2))
    areas, patches = result.areas, result.patches
    placed = [_centre(areas, existing[0]["areas"])]
    for phase in (1, 2):
        centres = [
            _centre(areas, areas.index[areas[PATCH_ID] == pid]) for pid in patches.index[patches[PHASE] == phase]
        ]
        assert centres
        for centre in centres:
            assert min(math.dist(centre, c) for c in placed) <= 3_000 + 1e-6
        placed += centres


def test_existing_areas_from_a_polygon_file(tmp_path):
    areas = lacgeo.read_areas("E06000015")
    mack = _ward_codes("Derby", MACKWORTH)
    shape = gpd.GeoDataFrame(
        {"coordinator": ["Mackworth"]}, geometry=[areas.loc[mack].union_all().buffer(-5)], crs=areas.crs
    )
    path = tmp_path / "coordinators.gpkg"
    shape.to_file(path)
    result = lacgeo.run(_config("Derby", existing=[{"path": str(path), "name_col": "coordinator"}]))
    pid = result.areas.loc[mack[0], PATCH_ID]
    assert sorted(result.areas.index[result.areas[PATCH_ID] == pid]) == mack
    assert result.patches.at[pid, PATCH_NAME] == "Mackworth" and result.patches.at[pid, PHASE] == 0


def test_budget_can_leave_the_coordinators_in_post_out():
    existing = [{"name": "Chaddesden", "areas": _ward_codes("Derby", CHADDESDEN)}]
    config = replace(_config("Derby", existing=existing), budget={"total": 3 * 50_000.0, "includes_existing": False})
    answer = lacgeo.run(config).budget
    assert answer.coordinators == 3 and answer.in_post == 0
    assert (answer.patches[PHASE] == 1).all()


def test_unknown_and_overlapping_existing_codes_are_named():
    mack = _ward_codes("Derby", MACKWORTH)
    bad = _config("Derby", existing=[{"name": "Site A", "areas": [*mack[:2], "E01099999"]}])
    with pytest.raises(ValidationError, match=r"Site A\): 1 code is not an LSOA of the area \(E01099999\)"):
        lacgeo.run(bad)
    twice = _config("Derby", existing=[{"name": "A", "areas": mack[:3]}, {"name": "B", "areas": mack[2:5]}])
    with pytest.raises(ValidationError, match=rf"LSOA {mack[2]} is in both 'A' and 'B'"):
        lacgeo.run(twice)


def test_existing_config_problems_are_reported_at_once():
    text = '[area]\nla = "Derby"\n[[recommend.existing]]\nareas = ["E01013547"]\n[[recommend.existing]]\nname = "x"\n'
    with pytest.raises(ConfigError) as err:
        lacgeo.config.load_config_text(text)
    message = str(err.value)
    assert "recommend.existing[0]: name is required with areas" in message
    assert "recommend.existing[1] (x): give either areas (LSOA codes) or path" in message
    with pytest.raises(ConfigError, match="recommend.existing and near_km are honoured only by the phase search"):
        lacgeo.config.load_config_text('[area]\nla = "Derby"\n[recommend]\nmethod = "rank"\nnear_km = 2.0\n')


def test_polygon_holding_no_lsoa_is_named(tmp_path):
    areas = lacgeo.read_areas("E06000015")
    tiny = areas.geometry.iloc[0].centroid.buffer(50)
    path = tmp_path / "sites.gpkg"
    gpd.GeoDataFrame({"name": ["Tiny site"]}, geometry=[tiny], crs=areas.crs).to_file(path)
    with pytest.raises(ValidationError, match=r"more than half of no LSOA of the run \(Tiny site\)"):
        lacgeo.run(_config("Derby", existing=[{"path": str(path), "name_col": "name"}]))


def test_phases_are_the_same_for_the_same_seed(derby):
    existing, first = derby
    config = first.config
    again = lacgeo.run(config)
    pd.testing.assert_series_equal(first.patches[PHASE], again.patches[PHASE])
    pd.testing.assert_series_equal(first.areas[PATCH_ID], again.areas[PATCH_ID])


def test_cli_takes_areas_in_post_from_a_polygon_file(tmp_path, capsys):
    from lacgeo.cli import main

    areas = lacgeo.read_areas("E06000015")
    chad = _ward_codes("Derby", CHADDESDEN)
    path = tmp_path / "in_post.geojson"
    gpd.GeoDataFrame({"site": ["Chaddesden"]}, geometry=[areas.loc[chad].union_all()], crs=areas.crs).to_file(path)
    config = tmp_path / "derby.toml"
    config.write_text('[area]\nla = "Derby"\n[recommend]\nrobustness_draws = 0\n', encoding="utf-8")
    code = main(
        ["run", str(config), "--existing", str(path), "--existing-name-col", "site", "--out", str(tmp_path / "o")]
    )
    stdout = capsys.readouterr().out
    assert code == 0
    assert "In post: 1 coordinator (P01 Chaddesden, 9,450 people), kept as patches" in stdout
    assert "Comparison patches for evaluating phase 1:" in stdout
    manifest = json.loads((tmp_path / "o" / "run.json").read_text(encoding="utf-8"))
    assert any(item["path"].endswith("in_post.geojson") for item in manifest["inputs"])  # hashed like any input
    assert Path(manifest["config"]["recommend"]["existing"][0]["path"]).is_absolute()  # re-runs from anywhere
    code = main(["run", str(config), "--existing-name-col", "site", "--out", str(tmp_path / "p")])
    assert code == 2 and "--existing-name-col needs --existing FILE" in capsys.readouterr().err


def test_comparators_are_never_patches_the_budget_funds_or_areas_in_post(derby):
    _, result = derby
    funded = set(result.budget.patches.index)
    comparators = set(result.evaluation.pairs["comparator_id"])
    assert comparators and not comparators & funded
    status = result.evaluation.eligibility
    assert set(status[status == "funded by the budget"].index) == funded - set(
        result.patches.index[result.patches[PHASE] <= 1]
    )


def test_an_area_wholly_in_post_gets_no_picks_and_says_why():
    areas = lacgeo.read_areas("E06000017")  # Rutland
    result = lacgeo.run(_config("Rutland", existing=[{"name": "All of it", "areas": list(areas.index)}]))
    assert list(result.patches[PHASE]) == [0] and result.evaluation is None
    assert any("every area already holds a coordinator" in m for m in result.warnings)
    assert "Phase 1: no patch could be recommended" in result.summary()


def test_an_area_in_post_in_pieces_is_kept_and_flagged():
    mack, chad = _ward_codes("Derby", MACKWORTH), _ward_codes("Derby", CHADDESDEN)
    result = lacgeo.run(_config("Derby", existing=[{"name": "Two halves", "areas": mack[:3] + chad[:3]}]))
    pid = result.areas.at[mack[0], PATCH_ID]
    assert sorted(result.areas.index[result.areas[PATCH_ID] == pid]) == sorted(mack[:3] + chad[:3])
    status = result.patches.at[pid, BAND_STATUS]
    assert status.startswith("a coordinator's area in post, kept as given (") and " pieces)" in status
    assert int(status.split(" pieces)")[0].split()[-1]) >= 2


def test_a_pocket_cut_off_by_areas_in_post_is_warned_with_the_fix():
    existing = [
        {"name": w, "areas": _ward_codes("Derby", w)} for w in (CHADDESDEN, "Chaddesden North", "Chaddesden East")
    ]
    result = lacgeo.run(_config("Derby", existing=existing))
    said = [m for m in result.warnings if "is cut off by the areas in post" in m]
    assert len(said) == 1 and "E01013513" in said[0] and "add its LSOAs to the area in post" in said[0]


def test_a_lock_in_inside_an_area_in_post_is_refused_naming_both():
    chad = _ward_codes("Derby", CHADDESDEN)
    config = _config("Derby", existing=[{"name": "Chaddesden", "areas": chad}], lock_in=[chad[0]])
    with pytest.raises(ConfigError, match=rf"recommend.lock_in: {chad[0]} \(in 'Chaddesden'\) already is in an area"):
        lacgeo.run(config)


def test_a_budget_too_small_for_the_coordinators_in_post_says_so():
    existing = [{"name": w, "areas": _ward_codes("Derby", w)} for w in (CHADDESDEN, MACKWORTH)]
    result = lacgeo.run(replace(_config("Derby", existing=existing), budget={"total": 60_000.0}))
    assert result.budget.coordinators == 1
    assert any("pays for 1 coordinator but 2 are in post already" in m for m in result.warnings)


def test_a_yearly_budget_keeps_includes_existing():
    existing = [{"name": "Chaddesden", "areas": _ward_codes("Derby", CHADDESDEN)}]
    config = replace(_config("Derby", existing=existing, budget=150_000.0), budget={"includes_existing": False})
    answer = lacgeo.run(config).budget
    assert answer.in_post == 0 and (answer.patches[PHASE] == 1).all()


def test_the_starter_configs_in_post_example_parses_when_uncommented():
    from lacgeo.config import load_config_text
    from lacgeo.starter import starter_config

    text = starter_config("Derby")
    start = text.index("# [[recommend.existing]]\n# name =")
    block = text[start:].split("# ... or", 1)[0]
    config = load_config_text(text.replace(block, block.replace("# ", "", 3)))
    assert config.recommend.existing[0].name == "Learning site 1"
    assert config.recommend.robustness_draws == lacgeo.config.DEFAULTS.recommend.robustness_draws  # not swallowed


def test_batch_and_validate_check_areas_in_post(tmp_path, capsys):
    from lacgeo.batch import batch_places, run_batch
    from lacgeo.cli import main

    config = _config("Derby", existing=[{"name": "Site", "areas": _ward_codes("Derby", CHADDESDEN)}])
    with pytest.raises(ConfigError, match="recommend.existing names one council's coordinators in post"):
        run_batch(batch_places(la=("Derby", "Rutland")), tmp_path / "b", config=config)
    path = tmp_path / "bad.toml"
    path.write_text('[area]\nla = "Derby"\n[[recommend.existing]]\nname = "Site"\nareas = ["E01099999"]\n')
    assert main(["validate", str(path)]) == 3
    assert "code is not an LSOA of the area (E01099999)" in capsys.readouterr().err


def test_patches_holding_a_locked_out_area_come_last():
    chad = _ward_codes("Derby", CHADDESDEN)
    result = lacgeo.run(_config("Derby", lock_out=chad[:1], min_distance_km=0.5))
    pid = result.areas.at[chad[0], PATCH_ID]
    assert result.patches.at[pid, PHASE] == result.patches[PHASE].max()
    assert any(f"({pid}): it comes in the last phases, without the phase rules" in m for m in result.warnings)


def test_the_comparators_of_barking_and_dagenham_are_matched():
    """Its matrix never returned from scipy.sparse.csgraph's matching, hanging a national batch."""
    result = lacgeo.run(_config("Barking and Dagenham"))
    assert len(result.evaluation.pairs) == 2 * len(result.recommended)


@pytest.mark.parametrize(
    ("recommend", "patches"),
    [({"method": "rank", "min_distance_km": 3.0}, {}), ({"spread": "nest"}, {"nest_within": "ward"})],
)
def test_ranked_and_nested_phases_keep_spread_and_distance(recommend, patches):
    """With ``method = "rank"`` or nesting there is no search, but phase 1 still keeps the rules."""
    config = replace(lacgeo.make_config(la="Derby"), recommend={"robustness_draws": 0, **recommend}, patches=patches)
    result = lacgeo.run(config)
    areas = result.areas
    picks = list(result.recommended.index)
    assert len(picks) == 3
    centres = [_centre(areas, areas.index[areas[PATCH_ID] == pid]) for pid in picks]
    wards = [_unit_of(areas, areas.index[areas[PATCH_ID] == pid], "ward_code") for pid in picks]
    if "min_distance_km" in recommend:
        assert min(math.dist(a, b) for i, a in enumerate(centres) for b in centres[i + 1 :]) >= 3_000 - 1e-6
    else:
        assert len(set(wards)) == 3

"""The indicator catalogue: every shipped indicator loads, says what it is, and reaches LSOAs honestly."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from lacgeo import load, need
from lacgeo.catalogue import CATALOGUE, CATALOGUE_LIST, THEMES, catalogue_table
from lacgeo.cli import main
from lacgeo.config import IndicatorConfig, load_config_text
from lacgeo.errors import ConfigError, IndicatorOverlapWarning, NoVariationWarning, ValidationError
from lacgeo.schema import MSOA_CODE

RUNS = [("Wiltshire", "2021"), ("Wiltshire", "2011"), ("Swansea", "2011")]


def _areas(la: str, vintage: str):
    return load.read_study_area(load.resolve_area(la), vintage=vintage)


def test_the_catalogue_is_complete_and_every_entry_says_what_it_is():
    assert len(CATALOGUE_LIST) >= 25 and len(CATALOGUE) == len(CATALOGUE_LIST)  # names are unique
    assert {i.theme for i in CATALOGUE_LIST} == set(THEMES)
    for i in CATALOGUE_LIST:
        assert i.label and i.unit and i.period and i.publisher and i.licence and i.geography, i.name
        assert i.polarity in ("higher_is_worse", "higher_is_better", "context"), i.name
        assert i.route in ("native", "msoa_ratio", "share"), i.name
        assert (i.route == "share") == bool(i.denominator), i.name
        assert set(i.vintages) <= {"2021", "2011"} and set(i.nations) <= {"England", "Wales"}, i.name
    table = catalogue_table()
    assert list(table["name"]) == sorted(table["name"], key=lambda n: THEMES.index(CATALOGUE[n].theme))
    assert set(catalogue_table(vintage="2011", nation="Wales")["name"]) == {
        i.name for i in CATALOGUE_LIST if i.exists_for("2011", "Wales")
    }


@pytest.mark.parametrize(("la", "vintage"), RUNS)
def test_every_indicator_loads_for_a_real_area_of_each_vintage_and_nation(la, vintage):
    areas = _areas(la, vintage)
    nation = load.nation_of(areas.index)
    names = [i.name for i in CATALOGUE_LIST if i.exists_for(vintage, nation)]
    assert len(names) >= (30 if nation == "England" else 15)
    table = need.read_indicators(areas.index, names, vintage=vintage)
    assert list(table.columns) == names and table.index.equals(areas.index)
    assert table.notna().all().all(), table.columns[table.isna().any()].tolist()
    for name in names:
        values = table[name]
        if CATALOGUE[name].route == "share":
            assert values.between(0, 100).all(), name
        assert values.dtype.kind == "f", name


def test_every_indicator_of_every_vintage_and_nation_is_covered_by_some_run():
    covered = {(v, n) for v, n in [("2021", "England"), ("2011", "England"), ("2011", "Wales")]}
    for i in CATALOGUE_LIST:
        assert any(i.exists_for(v, n) for v, n in covered), i.name


def test_a_suppressed_local_health_value_is_missing_never_filled():
    # Local Health suppresses hip-fracture admissions in 57 MSOAs; those LSOAs must stay missing
    ratio = load.read_mortality()["Emergency hospital admissions for hip fracture in 65+"]
    suppressed = ratio.index[ratio.isna()]
    lsoa11 = pd.read_parquet(load.data_file("lsoa11.parquet"), columns=[MSOA_CODE])
    codes = lsoa11.index[lsoa11[MSOA_CODE].isin(suppressed)][:3]
    values = need.read_indicators(codes, ["hip_fracture_admissions_sar"], vintage="2011")
    assert values["hip_fracture_admissions_sar"].isna().all()
    specs = [IndicatorConfig("hip_fracture_admissions_sar")]
    with pytest.raises(ValidationError, match="'hip_fracture_admissions_sar' has no value in any of the 3 areas"):
        need.compute_need_index(values, specs)


def test_msoa_ratios_are_inherited_by_their_lsoas():
    areas = _areas("Wiltshire", "2011")
    table = need.read_indicators(areas.index, ["emergency_admissions_sar", "mortality_smr"], vintage="2011")
    lh = load.read_mortality()
    expected = areas[MSOA_CODE].map(lh["Emergency hospital admissions for all causes"])
    pd.testing.assert_series_equal(table["emergency_admissions_sar"], expected, check_names=False)
    # an LSOA 2021 unchanged since 2011 keeps its MSOA's value exactly
    lookup = load.read_lsoa_lookup()
    unchanged = lookup[(lookup["change_code"] == "U") & lookup["lsoa11_code"].isin(areas.index)].head(5)
    on21 = need.read_indicators(pd.Index(unchanged["lsoa21_code"]), ["mortality_smr"], vintage="2021")
    by11 = table["mortality_smr"].reindex(unchanged["lsoa11_code"]).to_numpy()
    assert on21["mortality_smr"].to_numpy() == pytest.approx(by11)


def test_census_shares_match_hand_computed_values():
    # Census 2021 counts for E01000001 (City of London 001A), read off the ONS tables by hand:
    # TS038 1,475 residents, 152 disabled; TS054 837 households, 18 + 4 social, 280 + 49 private;
    # TS011 838 households, 34 + 3 + 0 deprived in 2+ dimensions; age: 1,477 residents, 370 aged 65+, 125 aged 0-15.
    names = ["disability_pct", "social_rented_pct", "private_rented_pct", "households_deprived_2plus_pct"]
    names += ["aged_65_plus_pct", "aged_0_15_pct", "rural_pct"]
    row = need.read_indicators(pd.Index(["E01000001"]), names, vintage="2021").iloc[0]
    expected = [152 / 1475, 22 / 837, 329 / 837, 37 / 838, 370 / 1477, 125 / 1477, 0.0]
    assert row.to_numpy() == pytest.approx([100 * e for e in expected])


def test_census_counts_reach_lsoa_2011_with_totals_kept():
    c21 = pd.read_parquet(load.data_file("census2021_lsoa21.parquet"))
    c11 = pd.read_parquet(load.data_file("census2021_lsoa11.parquet"))
    assert c11.sum().equals(c21.sum())
    assert int(c21.loc[c21.index.str.startswith("E"), "residents"].sum()) == 56_490_046
    assert (c11 >= 0).all().all() and (c11["disabled"] <= c11["residents"]).all()


def test_a_vintage_or_nation_without_the_indicator_is_one_clear_error():
    with pytest.raises(ConfigError, match="'mental_health' is not available for vintage 2011: it exists for LSOA 2021"):
        need.read_indicators(_areas("Rutland", "2011").index, ["mental_health"], vintage="2011")
    with pytest.raises(ConfigError, match="'emergency_admissions_sar' does not exist for these areas: Local Health"):
        need.read_indicators(_areas("Swansea", "2011").index, ["emergency_admissions_sar"], vintage="2011")


def test_direction_and_label_come_from_the_catalogue_unless_set():
    spec = IndicatorConfig("life_expectancy_male")
    assert spec.direction == "higher_is_better" and spec.label == "Life expectancy at birth, males"
    assert IndicatorConfig("life_expectancy_male", direction="higher_is_worse").direction == "higher_is_worse"
    assert IndicatorConfig("my_council_rate").direction == "higher_is_worse"
    text = '[area]\nla = "Derby"\n[[need.indicators]]\nname = "rural_pct"\n'
    with pytest.raises(ConfigError, match="'rural_pct' .* describes an area rather than measuring need"):
        load_config_text(text)
    config = load_config_text(text + 'direction = "higher_is_worse"\n')
    assert config.need.indicators[0].label == "Residents in rural LSOAs"


def test_near_duplicate_indicators_warn_with_r_and_weights():
    areas = _areas("Derby", "2021")
    names = ["health_score", "illness_disability_ratio", "emergency_admissions_sar"]
    table = need.read_indicators(areas.index, names, vintage="2021")
    r = table["health_score"].corr(table["illness_disability_ratio"])
    assert abs(r) > 0.9  # the IMD health domain is built partly from the illness and disability ratio
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        need.check_indicators(table, [IndicatorConfig(n) for n in names], area="Derby")
    overlap = [str(w.message) for w in caught if w.category is IndicatorOverlapWarning]
    assert overlap == [
        f"need.indicators: 'health_score' and 'illness_disability_ratio' are near-duplicates in Derby (r = {r:.2f}): "
        "weighting both (weights 1 and 1) counts one need twice. Keep one, or lower their weights so that "
        "together they carry the weight you mean"
    ]


def test_an_indicator_published_for_the_whole_district_warns_it_adds_nothing():
    areas = _areas("Derby", "2021")
    table = need.read_indicators(areas.index, ["imd_score", "homelessness_rate"], vintage="2021")
    with pytest.warns(NoVariationWarning, match="'homelessness_rate' has the same value .* in every area of Derby"):
        need.check_indicators(table, [IndicatorConfig("imd_score"), IndicatorConfig("homelessness_rate")], area="Derby")


def test_cli_prints_the_catalogue_by_theme_and_as_csv(capsys):
    assert main(["indicators"]) == 0
    out = capsys.readouterr().out
    assert [t.upper() for t in THEMES] == [line for line in out.splitlines() if line.isupper() and line.strip()]
    assert f"{len(CATALOGUE)} indicators." in out
    assert main(["indicators", "--la", "Swansea", "--csv"]) == 0
    table = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert set(table["name"]) == {i.name for i in CATALOGUE_LIST if "Wales" in i.nations}


def test_presets_weight_themes_and_resolve_for_each_nation():
    from lacgeo.config import DEFAULTS, NeedConfig
    from lacgeo.need import PRESETS, preset_indicators, resolve_need

    assert DEFAULTS.need.preset == "lac" and DEFAULTS.need.indicators == ()
    for preset in PRESETS.values():
        assert preset.why and preset.title
        for theme in preset.themes:
            assert theme.theme in THEMES and all(CATALOGUE[n].theme == theme.theme for n in theme.indicators)
    specs, left_out = preset_indicators("lac", "England", "2021")
    assert [(s.name, s.weight) for s in specs] == [
        ("imd_score", 2.0),
        ("preventable_mortality_smr", 1.0),
        ("acute_morbidity", 1.0),
        ("disability_pct", 1.0),
    ]
    assert left_out == {}
    old, _ = preset_indicators("imd", "England", "2011")
    assert [(s.name, s.weight) for s in old] == [("imd_score", 2.0), ("preventable_mortality_smr", 1.0)]
    # listed indicators replace the preset; the preset's own list, as run.json records it, keeps its name
    mine = (IndicatorConfig("income_score"),)
    assert resolve_need(NeedConfig(indicators=mine), "England", "2021")[0].preset == "custom"
    assert resolve_need(NeedConfig(indicators=specs), "England", "2021")[0].preset == "lac"


@pytest.mark.parametrize("la", ["Wiltshire", "Solihull", "Derby", "Middlesbrough", "Thurrock"])
def test_the_lac_preset_counts_no_need_twice(la):
    from lacgeo.need import preset_indicators

    specs, _ = preset_indicators("lac", "England", "2021")
    areas = _areas(la, "2021")
    table = need.read_indicators(areas.index, [s.name for s in specs], vintage="2021")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no near-duplicate or constant indicator in the default index
        need.check_indicators(table, specs, area=la)


def test_a_census_share_is_compared_with_england_by_its_wilson_interval():
    # worked example: a one-LSOA patch of E01000001, 152 disabled of 1,475 residents (Census 2021 TS038).
    # Wilson 95%: (2x + z^2 -/+ z sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2)) = 8.86% to 11.96%, wholly below
    # England's 17.30%, and fewer disabled residents is better.
    areas = pd.DataFrame({"population": [1500]}, index=pd.Index(["E01000001"], name="area_code"))
    table = need.compare_patches(
        areas,
        pd.Series("P01", index=areas.index),
        ["disability_pct", "aged_65_plus_pct", "imd_score"],
        nation="England",
        vintage="2021",
    ).set_index("indicator")
    row = table.loc["disability_pct"]
    assert row["patch_value"] == pytest.approx(100 * 152 / 1475)
    assert (row["lower"], row["upper"]) == pytest.approx((8.8553, 11.9611), abs=1e-3)
    assert row["national_value"] == pytest.approx(17.303, abs=1e-3)
    assert row["compared_with_nation"] == "better than"
    # a context indicator is higher or lower, never better or worse: 370 of 1,477 aged 65+ against 18.4%
    assert table.loc["aged_65_plus_pct", "compared_with_nation"] == "higher than"
    # the IoD publishes no interval, so none is invented
    imd = table.loc["imd_score"]
    assert imd["compared_with_nation"].startswith("not tested") and pd.isna(imd["lower"]) and pd.isna(imd["upper"])


@pytest.mark.parametrize(("la", "vintage"), [("Solihull", "2021"), ("Swansea", "2011")])
def test_every_patch_is_compared_on_every_profile_indicator_consistently(la, vintage):
    import lacgeo

    result = lacgeo.run(
        lacgeo.config.replace(lacgeo.make_config(la=la, vintage=vintage), recommend={"robustness_draws": 0})
    )
    table = result.comparisons
    nation = result.area.nation
    names = need.profile_names([s.name for s in result.config.need.indicators], nation, result.config.area.vintage)
    assert len(table) == len(result.patches) * len(names)
    assert set(table["indicator"]) == set(names) and set(table["patch_id"]) == set(result.patches.index)
    shares = table[table["method"].str.startswith("Wilson")]
    assert len(shares) and (shares["lower"] <= shares["patch_value"]).all()
    assert (shares["patch_value"] <= shares["upper"]).all()
    above = shares["lower"] > shares["national_value"]
    below = shares["upper"] < shares["national_value"]
    verdict = shares["compared_with_nation"]
    assert (verdict[~above & ~below] == "similar to").all()
    assert verdict[above].isin(["worse than", "higher than"]).all()
    assert verdict[below].isin(["better than", "lower than"]).all()
    others = table[~table["method"].str.startswith("Wilson")]
    assert others["compared_with_nation"].str.startswith("not tested").all() and others["lower"].isna().all()
    # the patch values agree with the patch table's own (population-weighted) indicator values
    for name in [s.name for s in result.config.need.indicators if CATALOGUE[s.name].route != "share"]:
        mine = table[table["indicator"] == name].set_index("patch_id")["patch_value"]
        assert mine.to_numpy() == pytest.approx(result.patches[f"value_{name}"].reindex(mine.index).to_numpy())


def test_national_values_shipped_match_a_recomputation():
    from lacgeo.need.benchmark import compute_national_value

    for name, nation, vintage in [
        ("disability_pct", "England", "2021"),
        ("social_rented_pct", "Wales", "2011"),
        ("acute_morbidity", "England", "2011"),
        ("emergency_admissions_sar", "England", "2021"),
    ]:
        assert need.national_value(name, nation, vintage) == pytest.approx(
            compute_national_value(name, nation, vintage)
        )
    assert pd.isna(need.national_value("life_expectancy_male", "England", "2021"))  # not shipped, never guessed
    assert pd.isna(need.national_value("imd_score", "Wales", "2011"))  # no English index for Wales


def test_comparisons_follow_the_runs_direction_and_never_test_a_share_of_whole_lsoas():
    areas = _areas("Wiltshire", "2021")
    patch = pd.Series("P01", index=areas.index)
    names = ["disability_pct", "rural_pct"]
    table = need.compare_patches(areas, patch, names, nation="England", vintage="2021").set_index("indicator")
    flipped = need.compare_patches(
        areas, patch, names, nation="England", vintage="2021", directions={"disability_pct": "higher_is_better"}
    ).set_index("indicator")
    assert table.loc["disability_pct", "polarity"] == "higher_is_worse"
    assert flipped.loc["disability_pct", "polarity"] == "higher_is_better"
    swap = {"worse than": "better than", "better than": "worse than", "similar to": "similar to"}
    assert (
        flipped.loc["disability_pct", "compared_with_nation"]
        == swap[table.loc["disability_pct", "compared_with_nation"]]
    )
    rural = table.loc["rural_pct"]
    assert rural["compared_with_nation"].startswith("not tested: a share of whole LSOAs") and pd.isna(rural["lower"])


def test_a_suppressed_value_draws_no_marker_and_prints_a_dash():
    from lacgeo.outputs.report.spine import spine_chart, spread_over_patches

    rows = pd.DataFrame(
        {
            "patch_id": ["P01", "P01"],
            "indicator": ["self_harm_admissions_sar", "disability_pct"],
            "label": ["Hospital stays for self-harm (SAR)", "Disabled residents"],
            "unit": ["ratio, England = 100", "% of residents"],
            "polarity": ["higher_is_worse", "higher_is_worse"],
            "patch_value": [float("nan"), 21.0],
            "lower": [float("nan"), 20.0],
            "upper": [float("nan"), 22.0],
            "area_value": [float("nan"), 17.0],
            "national_value": [100.0, 17.3],
            "compared_with_nation": ["not tested: published without a confidence interval", "worse than"],
            "method": ["", ""],
        }
    )
    svg = spine_chart(rows, spread_over_patches(rows), la="Wiltshire", nation="England", svg_id="s")
    assert "nan" not in svg.lower().replace("wiltshire", "") and ">–<" in svg

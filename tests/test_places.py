"""Areas beyond one council: names and codes of every kind, lists, counties, ICBs, and the
per-district outputs of an area of several districts (shipped data)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

import lacgeo
from lacgeo import cli, load
from lacgeo.config import load_config_text
from lacgeo.errors import ConfigError, LacgeoError, UnknownAreaError
from lacgeo.load import KINDS, list_places, read_places, read_study_area, resolve_area, resolve_place
from lacgeo.load.places import _index
from lacgeo.patches import Band, build_area_graph, check_patches


def test_the_registry_holds_every_kind_of_area():
    places = read_places()
    assert places["kind"].value_counts().to_dict() == {
        "district": 296,
        "sub-icb": 106,
        "icb": 42,
        "wales": 22,
        "county": 21,
    }
    assert places.index.is_unique
    assert set(places["kind"]) == set(KINDS)


@pytest.mark.parametrize(
    ("text", "code", "kind"),
    [
        ("Nottingham", "E06000018", "district"),
        ("Nottinghamshire", "E10000024", "county"),
        ("Derby", "E06000015", "district"),
        ("Derbyshire", "E10000007", "county"),
        ("Durham", "E06000047", "district"),  # the council is "County Durham"
        ("County Durham", "E06000047", "district"),
        ("  nottinghamSHIRE ", "E10000024", "county"),
        ("e10000024", "E10000024", "county"),
        ("Bristol", "E06000023", "district"),
        ("Somerset", "E06000066", "district"),  # the council, not the ICB of the same short name
        ("Swansea", "W06000011", "wales"),
        ("Abertawe", "W06000011", "wales"),  # Swansea's Welsh name
        ("Neath Port Talbot", "W06000012", "wales"),
    ],
)
def test_names_and_codes_resolve_to_one_area(text, code, kind):
    place = resolve_place(text)
    assert (place.code, place.kind) == (code, kind)


def test_icbs_and_sub_icb_locations_resolve_by_name_short_name_and_nhs_code():
    icb = read_places().query("kind == 'icb' and name.str.contains('Nottingham')")
    assert len(icb) == 1
    code, row = icb.index[0], icb.iloc[0]
    assert resolve_place(row["name"]).code == code
    assert resolve_place("Nottingham and Nottinghamshire ICB").code == code
    assert resolve_place(row["code_nhs"]).code == code
    sub = read_places().query("kind == 'sub-icb'").iloc[0]
    assert resolve_place(sub["code_nhs"]).kind == "sub-icb"


def test_a_short_form_shared_by_two_areas_is_refused_with_both_named(monkeypatch):
    codes, names, short = _index()
    clash = {key: found for key, found in short.items() if len(set(found)) > 1 and key not in names}
    if not clash:  # the shipped names have no clash: make one from two real areas
        key = "derbys"
        monkeypatch.setitem(short, key, ["E06000015", "E10000007"])
    else:
        key = next(iter(clash))
    with pytest.raises(UnknownAreaError) as err:
        resolve_place(key)
    message = str(err.value)
    assert "could be more than one area" in message and "give the code" in message
    assert message.count("(") >= 2 and any(label in message for label in KINDS.values())


def test_an_unknown_name_gets_candidates_with_their_kind():
    with pytest.raises(UnknownAreaError, match=r"unknown area 'Nottinghamshre': did you mean .*county council"):
        resolve_place("Nottinghamshre")
    with pytest.raises(UnknownAreaError, match="no area given"):
        resolve_place("  ")


def test_a_list_runs_as_one_area_with_a_display_name():
    area = resolve_area(["Cumberland", "Westmorland and Furness"], name="Cumbria")
    assert (area.name, area.kind) == ("Cumbria", "combined")
    assert [p.kind for p in area.places] == ["district", "district"]
    assert resolve_area("Cumberland,Westmorland and Furness").name == "Cumberland and Westmorland and Furness"
    assert resolve_area("Bristol, City of").code == "E06000023"  # a name with a comma stays whole
    areas = read_study_area(area, vintage="2021")
    assert areas.index.is_unique and set(areas["lad_code"]) == {p.code for p in area.places}


@pytest.mark.parametrize(
    ("la", "message"),
    [
        ("Derby, Derby", "names Derby .* twice"),
        ("Swansea, Cardiff, Derby", "mixes Welsh and English areas; WIMD and IMD scores cannot be compared"),
    ],
)
def test_a_bad_list_is_refused_with_the_reason(la, message):
    with pytest.raises(ConfigError, match=message):
        resolve_area(la)


def test_overlapping_places_are_refused():
    with pytest.raises(ConfigError, match=r"overlap .*Nottinghamshire .*Mansfield"):
        read_study_area(resolve_area("Nottinghamshire, Mansfield"), vintage="2021")


def test_a_place_outside_its_vintage_says_which_vintage_to_use():
    with pytest.raises(ConfigError, match=r'integrated care board, .*LSOA 2021 only; set area.vintage = "2021"'):
        read_study_area(resolve_area("Nottingham and Nottinghamshire ICB"), vintage="2011")


def test_a_county_reads_its_districts_lsoas():
    county = read_study_area(resolve_area("Nottinghamshire"), vintage="2021")
    assert county["lad_code"].nunique() == 7
    assert (county["county_code"] == "E10000024").all()
    lads = lacgeo.read_lads()
    assert int(county["population"].sum()) == int(lads.loc[county["lad_code"].unique(), "population"].sum())


def test_config_takes_a_list_and_a_name():
    config = load_config_text('[area]\nla = ["Mansfield", "Ashfield"]\nname = "Mansfield and Ashfield"\n')
    assert config.area.la == ("Mansfield", "Ashfield") and config.area.name == "Mansfield and Ashfield"
    with pytest.raises(ConfigError, match=r"area.la must be a name or code, or a list of them, found int 5"):
        load_config_text("[area]\nla = 5\n")


def test_las_lists_every_area_with_its_kind(capsys):
    assert cli.main(["las", "--kind", "county"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 21 and all("\tcounty council\t" in line for line in lines)
    assert any(line.startswith("E10000024\tNottinghamshire") for line in lines)
    assert cli.main(["las"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == len(list_places())


def test_two_districts_run_as_one_with_a_summary_by_district(two_districts):
    result, out = two_districts
    districts = pd.read_csv(out / "districts.csv")
    assert list(districts["district"]) == ["Ashfield", "Mansfield", "All"]
    body = districts.iloc[:-1]
    assert body["population"].sum() == districts.iloc[-1]["population"] == result.areas["population"].sum()
    assert body["patches"].sum() == len(result.patches) and body["phase1"].sum() == len(result.recommended)
    patches = pd.read_csv(out / "patches.csv")
    assert set(patches["district"]) == {"Ashfield", "Mansfield"}
    assert patches["district_share"].between(0.5, 1).all()
    areas = pd.read_csv(out / "areas.csv")
    assert set(areas["district_code"]) == {"E07000170", "E07000174"}
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["local_authority"]["kind"] == "combined" and len(manifest["local_authority"]["places"]) == 2
    report = (out / "report.html").read_text()
    assert '<section id="districts"><h2>By district</h2>' in report and "district boundaries dashed" in report
    assert "By district: Ashfield" in result.summary()


def test_a_single_council_keeps_its_outputs_without_district_columns(solihull_out):
    assert not (solihull_out / "districts.csv").exists()
    assert "district" not in pd.read_csv(solihull_out / "patches.csv").columns


def _smallest(kind: str) -> str:
    places = read_places()
    of_kind = places[places["kind"] == kind]
    return str(of_kind["n_lsoa21"].astype(int).idxmin())


@pytest.mark.parametrize("kind", ["county", "icb"])
def test_a_county_and_an_icb_run_end_to_end(kind):
    """The smallest county council and the smallest ICB, default config: every LSOA of the
    place in one patch, contiguous, nearly all in band, and a summary by district."""
    code = _smallest(kind)
    result = lacgeo.run(lacgeo.make_config(la=code))
    expected = read_study_area(resolve_area(code), vintage="2021")
    assert set(result.areas.index) == set(expected.index)
    assert result.districts is not None and len(result.districts) == expected["lad_code"].nunique() + 1
    assert result.districts.loc["All", "patches"] == len(result.patches)
    assert result.patches["population"].between(8_000, 12_000).mean() >= 0.95
    assert len(result.recommended) == result.config.recommend.n
    graph = build_area_graph(result.areas)
    flags = {pid: reason for pid, reason in result.patches["band_status"].items() if reason != "in band"}
    check_patches(result.areas["patch_id"], result.areas["population"], graph, band=Band(10_000, 0.2), flags=flags)


@pytest.fixture(scope="module")
def neath_port_talbot():
    return lacgeo.run(lacgeo.make_config(la="Neath Port Talbot"))


def test_a_welsh_council_runs_on_wimd_with_local_health_left_out(neath_port_talbot):
    """A Welsh council runs on LSOA 2011 with WIMD 2019, ranked within Wales: the default need
    index puts the WIMD score where the IMD score was, and leaves out Local Health (England
    only), saying why. No column or summary line calls WIMD "IMD"."""
    result = neath_port_talbot
    assert result.config.area.vintage == "2011"
    assert [(s.name, s.weight) for s in result.config.need.indicators] == [("wimd_score", 2.0), ("disability_pct", 1.0)]
    assert sorted(result.left_out) == ["acute_morbidity", "preventable_mortality_smr"]
    assert "England only" in result.left_out["preventable_mortality_smr"]
    expected = read_study_area(resolve_area("W06000012"), vintage="2011")
    assert set(result.areas.index) == set(expected.index) and result.areas.index.str.startswith("W01").all()
    for frame in (result.areas, result.patches):
        assert not [c for c in frame.columns if re.search(r"(?<!w)imd", c)], "an English IMD column on Welsh areas"
    wimd = load.read_deprivation(result.areas.index, vintage="2011")
    assert (result.areas["wimd_score"] == wimd["wimd_score"]).all()
    assert (result.areas["wimd_quintile"] == np.ceil(wimd["wimd_decile"] / 2)).all()  # within Wales
    assert result.areas["local_wimd_quintile"].value_counts().sort_index().index.tolist() == [1, 2, 3, 4, 5]
    assert result.areas["msoa_name_cy"].notna().all()
    summary = result.summary()
    assert "Welsh Index of Multiple Deprivation 2019, ranked within Wales" in summary
    assert "Left out of the need index: preventable_mortality_smr" in summary
    assert not re.search(r"(?<!W)IMD", summary)
    graph = build_area_graph(result.areas)
    flags = {pid: reason for pid, reason in result.patches["band_status"].items() if reason != "in band"}
    check_patches(result.areas["patch_id"], result.areas["population"], graph, band=Band(10_000, 0.2), flags=flags)
    assert len(result.recommended) == 3


def test_a_welsh_output_folder_names_wimd_and_what_was_left_out(neath_port_talbot, tmp_path):
    out = neath_port_talbot.write(tmp_path / "npt")
    assert lacgeo.check_manifest(out / "run.json") == []  # the recorded Welsh config re-runs byte for byte
    manifest = json.loads((out / "run.json").read_text())
    assert (
        manifest["data_vintages"]["deprivation"] == "WIMD2019"
        and "preventable_mortality" not in manifest["data_vintages"]
    )
    assert sorted(manifest["left_out"]) == ["acute_morbidity", "preventable_mortality_smr"]
    assert manifest["config"]["area"]["vintage"] == "2011"
    for name in ("areas.csv", "patches.csv", "needs_assessment.csv"):
        text = (out / name).read_text()
        assert "wimd" in text.lower() or name == "needs_assessment.csv"
        assert not re.search(r"(?<![wW])(imd|IMD)", text), f"{name} calls something IMD"
    areas = pd.read_csv(out / "areas.csv")
    assert {"wimd_score", "wimd_quintile", "local_wimd_quintile", "msoa_name_cy"} <= set(areas.columns)
    patches = pd.read_csv(out / "patches.csv")
    assert {"patch_name_cy", "wimd_score", "share_wimd_q1"} <= set(patches.columns)
    assert patches["patch_name_cy"].str.contains("Castell-nedd").any()  # Neath, in Welsh
    about = pd.read_excel(out / "lacgeo.xlsx", sheet_name="About")
    rows = dict(zip(about["Item"], about["Value"], strict=False))
    assert rows["Deprivation"].startswith("Welsh Index of Multiple Deprivation 2019 (WIMD2019), ranked within Wales")
    left = " ".join(about.loc[about["Item"] == "Left out", "Value"])
    assert "Local Health (OHID) publishes it for England only" in left and "(acute_morbidity)" in left


@pytest.mark.parametrize(
    ("la", "indicator", "message"),
    [
        ("Neath Port Talbot", "imd_score", "'imd_score' does not exist for these areas: the English Indices"),
        ("Neath Port Talbot", "preventable_mortality_smr", "Local Health (OHID) publishes it for England only"),
        ("Rutland", "wimd_score", "'wimd_score' does not exist for these areas: WIMD covers Wales only"),
    ],
)
def test_an_indicator_of_the_other_nation_stops_the_run_naming_it(la, indicator, message):
    config = load_config_text(f'[area]\nla = "{la}"\n[[need.indicators]]\nname = "{indicator}"\n')
    with pytest.raises(ConfigError, match=re.escape(message)):
        lacgeo.run(config)


def test_deprivation_is_never_read_for_english_and_welsh_areas_together():
    with pytest.raises(
        LacgeoError, match=r"must all be English \(E01...\) or all Welsh \(W01...\).*found codes starting E, W"
    ):
        load.read_deprivation(pd.Index(["E01000001", "W01000001"]), vintage="2011")


def test_nesting_within_districts_keeps_every_patch_inside_one():
    config = load_config_text('[area]\nla = "Mansfield, Ashfield"\n[patches]\nnest_within = "lad"\n')
    result = lacgeo.run(config)
    assert (result.patches["district_share"] == 1).all()
    by_patch = result.areas.groupby("patch_id")["lad_code"].nunique()
    assert (by_patch == 1).all() and result.areas["lad_code"].nunique() == 2


def test_init_for_a_welsh_council_writes_the_welsh_defaults(tmp_path):
    path = tmp_path / "swansea.toml"
    assert cli.main(["init", "--la", "Swansea", "--path", str(path)]) == 0
    text = path.read_text()
    assert 'vintage = "2011"' in text and 'name = "wimd_score"' in text and "imd_score" not in text.replace("wimd", "")
    assert "# Left out of the preset: preventable_mortality_smr, because Local Health (OHID)" in text
    config = lacgeo.load_config(path)
    ran, left_out = lacgeo.pipeline.for_nation(config, resolve_area("Swansea"))
    # runs the preset it names, spelt out as the comments show, and says what it leaves out
    assert ran.area == config.area and ran.need.preset == config.need.preset == "lac"
    assert [s.name for s in ran.need.indicators] == ["wimd_score", "disability_pct"]
    assert sorted(left_out) == ["acute_morbidity", "preventable_mortality_smr"]

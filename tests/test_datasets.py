"""The shipped data: row counts, joins across both vintages, population totals, LA lookup."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from lacgeo import load
from lacgeo.errors import UnknownAreaError

ENGLAND_MID2020 = 56_550_138
ENGLAND_CENSUS2021 = 56_490_046  # usual residents, TS038: the LSOA 2021 population
WALES_MID2020 = 3_169_586


def test_lads_cover_every_english_local_authority():
    lads = load.read_lads()
    assert len(lads) == 296
    assert lads.index.str.match(r"^E0[6-9]\d{6}$").all()
    assert (lads["n_lsoa21"] > 0).all() and (lads["n_lsoa11"] > 0).all()
    assert lads["population"].sum() == ENGLAND_CENSUS2021


@pytest.mark.parametrize(
    "vintage, n_areas, n_wales, england",
    [("2021", 33_755, 0, ENGLAND_CENSUS2021), ("2011", 32_844, 1_909, ENGLAND_MID2020)],
)
def test_national_population_matches_the_published_total(vintage, n_areas, n_wales, england):
    table = pd.read_parquet(load.data_file(f"lsoa{vintage[2:]}.parquet"), columns=["population", "lad_code"])
    assert table.index.is_unique
    assert table["population"].min() > 0
    nation = table.index.str[0]
    assert (nation == "E").sum() == n_areas and (nation == "W").sum() == n_wales and len(table) == n_areas + n_wales
    assert int(table.loc[nation == "E", "population"].sum()) == england
    assert int(table.loc[nation == "W", "population"].sum()) == (WALES_MID2020 if n_wales else 0)


@pytest.mark.parametrize("vintage, n_areas, population", [("2021", 307, 510_316), ("2011", 285, 504_070)])
def test_wiltshire_areas_join_deprivation(vintage, n_areas, population):
    areas = load.read_areas("E06000054", vintage=vintage)
    assert len(areas) == n_areas
    assert int(areas["population"].sum()) == population
    assert areas.crs.to_epsg() == 27700
    assert areas.index.name == "area_code"
    iod = load.read_deprivation(areas.index, vintage=vintage)
    assert iod.index.equals(areas.index)
    assert iod[["imd_score", "imd_rank", "imd_decile"]].notna().all().all()
    assert areas[["msoa_name", "ward_name"]].notna().all().all()


def test_iod2019_uses_2011_codes_and_iod2025_uses_2021_codes():
    a11 = load.read_areas("E06000054", vintage="2011")
    a21 = load.read_areas("E06000054", vintage="2021")
    only21 = a21.index.difference(a11.index)
    assert len(only21) > 0  # Wiltshire had LSOA splits in 2021
    with pytest.raises(Exception, match="no deprivation data"):
        load.read_deprivation(only21, vintage="2011")


def test_shipped_boundaries_are_a_valid_coverage():
    areas = load.read_areas("E08000029", vintage="2021")
    assert shapely.is_valid(areas.geometry.values).all()
    assert shapely.coverage_is_valid(areas.geometry.values)


def test_mortality_loads_on_msoa_2011():
    mort = load.read_mortality()
    assert len(mort) == 6_791
    col = "Deaths from causes considered preventable, under 75 years, SMR"
    assert mort[col].between(10, 400).all()
    assert mort.index.str.startswith("E02").all()


def test_lsoa_lookup_change_codes():
    lookup = load.read_lsoa_lookup()
    assert set(lookup["change_code"]) == {"U", "S", "M", "X"}


@pytest.mark.parametrize(
    "text, code",
    [
        ("Wiltshire", "E06000054"),
        ("wiltshire", "E06000054"),
        ("E08000029", "E08000029"),
        ("e08000029", "E08000029"),
        ("Bristol", "E06000023"),
        ("  Derby ", "E06000015"),
    ],
)
def test_resolve_la_by_name_or_code(text, code):
    assert load.resolve_la(text)[0] == code


def test_unknown_la_suggests_close_matches():
    with pytest.raises(UnknownAreaError, match='did you mean "Wiltshire"'):
        load.resolve_la("Wiltshre")
    with pytest.raises(UnknownAreaError, match="districts and unitaries only; .*resolve_area"):
        load.resolve_la("W06000011")  # a Welsh council: resolve_area finds it
    with pytest.raises(UnknownAreaError, match="lacgeo las"):
        load.resolve_la("Atlantis")


def test_read_areas_is_a_geodataframe_in_bng():
    areas = load.read_areas("E06000002", vintage="2011")
    assert isinstance(areas, gpd.GeoDataFrame)
    assert len(areas) == 86


def test_the_data_travels_inside_the_package_and_lacgeo_data_overrides_it(tmp_path, monkeypatch):
    import lacgeo
    from lacgeo.errors import LacgeoError

    monkeypatch.delenv("LACGEO_DATA", raising=False)
    assert load.data_dir() == Path(lacgeo.__file__).parent / "data"
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("lads.csv", "lsoa21.parquet"):
        (copy / name).write_bytes(load.data_file(name).read_bytes())
    monkeypatch.setenv("LACGEO_DATA", str(copy))
    assert load.data_file("lads.csv") == copy / "lads.csv"
    monkeypatch.setenv("LACGEO_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(LacgeoError, match=r"shipped data not found in .*nowhere \(LACGEO_DATA = .*nowhere\): point"):
        load.data_dir()

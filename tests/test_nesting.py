"""Nesting in a user polygon file (e.g. community areas): reading, assignment, and the run."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pytest
import shapely

import lacgeo
from lacgeo import load
from lacgeo.config import config_from_dict
from lacgeo.errors import ConfigError, ValidationError
from lacgeo.harmonise import assign_to_units
from lacgeo.load import read_polygons


@pytest.fixture(scope="module")
def community_areas(tmp_path_factory):
    """Made-up 'community areas' for Solihull: its LSOAs grouped into 3 bands west to east."""
    areas = load.read_areas("E08000029")
    x = areas.geometry.representative_point().x
    band = (x.rank(pct=True) * 3).clip(upper=2.999).astype(int)
    units = areas.dissolve(by=band.map({0: "West", 1: "Central", 2: "East"}).rename("community"))
    path = tmp_path_factory.mktemp("units") / "community_areas_made_up.gpkg"
    units[["geometry"]].to_crs("EPSG:4326").reset_index().to_file(path, layer="units")
    return path


def test_run_nested_in_community_areas_keeps_patches_inside(community_areas):
    config = config_from_dict(
        {
            "area": {"la": "Solihull"},
            "patches": {"nest_within": str(community_areas), "nest_code_col": "community", "n_starts": 2},
        }
    )
    result = lacgeo.run(config)
    per_patch = result.areas.groupby("patch_id")["nest_unit"].nunique()
    assert (per_patch == 1).all()
    assert set(result.areas["nest_unit"]) == {"West", "Central", "East"}
    assert str(community_areas) in result.inputs


def test_relative_unit_path_is_read_from_the_config_folder(community_areas):
    path = community_areas.parent / "lacgeo.toml"
    path.write_text(
        f'[area]\nla = "Solihull"\n[patches]\nnest_within = "{community_areas.name}"\nnest_code_col = "community"\n'
    )
    config = lacgeo.load_config(path)
    assert config.patches.nest_within == str(community_areas.resolve())


def test_config_rejects_missing_unit_file_and_missing_code_column(tmp_path, community_areas):
    with pytest.raises(ConfigError, match="neither one of none, ward, msoa, lad nor an existing polygon file"):
        config_from_dict({"area": {"la": "Solihull"}, "patches": {"nest_within": "nowhere.gpkg"}})
    with pytest.raises(ConfigError, match="nest_code_col is required"):
        config_from_dict({"area": {"la": "Solihull"}, "patches": {"nest_within": str(community_areas)}})


def test_unit_file_errors_name_the_problem(tmp_path, community_areas):
    with pytest.raises(ValidationError, match="no column 'comunity'; did you mean 'community'"):
        read_polygons(community_areas, code_col="comunity")
    no_crs = tmp_path / "no_crs.shp"  # a shapefile without its .prj
    with warnings.catch_warnings():  # writing a file without a CRS warns; that file is the point
        warnings.simplefilter("ignore", UserWarning)
        gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(0, 0, 1, 1)]).to_file(no_crs)
    with pytest.raises(ValidationError, match="no coordinate reference system"):
        read_polygons(no_crs, code_col="name")
    with pytest.raises(ValidationError, match="cannot read it as a vector file"):
        read_polygons(tmp_path / "missing.gpkg", code_col="name")


def test_units_that_miss_part_of_the_la_are_an_error(community_areas):
    areas = load.read_areas("E08000029")
    units = read_polygons(community_areas, code_col="community").drop(index="East")
    with pytest.raises(ValidationError, match=r"LSOAs are less than 50% inside any unit \(E01"):
        assign_to_units(areas, units, source="community_areas.gpkg")


def test_a_geopackage_of_several_layers_needs_its_layer_named(tmp_path, community_areas):
    path = tmp_path / "two_layers.gpkg"
    units = gpd.read_file(community_areas, layer="units")
    units.to_file(path, layer="communities")
    units.assign(community=units["community"] + " old").to_file(path, layer="communities_2019")
    with pytest.raises(ValidationError, match=r"has 2 layers \(communities, communities_2019\); name the one to use"):
        read_polygons(path, code_col="community")
    with pytest.raises(ValidationError, match=r"no layer 'communitys'; its layers are communities, communities_2019"):
        read_polygons(path, code_col="community", layer="communitys")
    assert sorted(read_polygons(path, code_col="community", layer="communities_2019").index) == [
        "Central old",
        "East old",
        "West old",
    ]


def test_overlapping_units_are_named_in_a_warning(tmp_path, community_areas):
    from lacgeo.errors import OverlappingUnitsWarning

    units = gpd.read_file(community_areas, layer="units").to_crs("EPSG:27700")
    west = units["community"] == "West"
    units.loc[west, "geometry"] = units.loc[west].buffer(300)  # West now spills 300 m into Central
    path = tmp_path / "overlapping.gpkg"
    units.to_file(path, layer="units")
    with pytest.warns(OverlappingUnitsWarning, match=r"1 pairs of units overlap \(Central & West: [\d,]+ m²\)"):
        read_polygons(path, code_col="community")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_polygons(community_areas, code_col="community")  # touching units do not overlap


def test_a_boundary_file_with_a_saved_qgis_style_is_still_one_layer(tmp_path):
    """QGIS saves styles into a GeoPackage as a table without geometry; that is not a second layer."""
    import sqlite3

    from lacgeo.load import read_polygons

    path = tmp_path / "units.gpkg"
    square = gpd.GeoDataFrame({"unit": ["a"]}, geometry=[shapely.box(400000, 100000, 401000, 101000)], crs=27700)
    square.to_file(path, layer="units")
    with sqlite3.connect(path) as db:
        db.execute("create table layer_styles (id integer primary key, f_table_name text, styleQML text)")
        db.execute(
            "insert into gpkg_contents (table_name, data_type, identifier) values ('layer_styles', 'attributes', 'x')"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_polygons(path, code_col="unit")) == 1

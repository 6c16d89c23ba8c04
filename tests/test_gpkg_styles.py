"""lacgeo.gpkg opens styled in QGIS: a layer_styles table as QGIS writes it, one default style per layer,
valid QML naming the right fields; one geometry type; no column that repeats another."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pyogrio
import pytest

from lacgeo.outputs import patch_table
from lacgeo.outputs.styles import need_classes

LAYERS = ("areas", "patches", "recommended", "comparators")
QGIS_COLUMNS = [
    "f_table_catalog",
    "f_table_schema",
    "f_table_name",
    "f_geometry_column",
    "styleName",
    "styleQML",
    "styleSLD",
    "useAsDefault",
    "description",
    "owner",
    "ui",
    "update_time",
]


def _styles(gpkg) -> pd.DataFrame:
    with sqlite3.connect(gpkg) as con:
        return pd.read_sql_query("SELECT * FROM layer_styles ORDER BY id", con)


def _qml(styles: pd.DataFrame, table: str, *, name: str | None = None) -> ET.Element:
    rows = styles[(styles["f_table_name"] == table) & (styles["useAsDefault"] == 1 if name is None else True)]
    if name is not None:
        rows = rows[rows["styleName"] == name]
    assert len(rows) == 1, (table, name)
    return ET.fromstring(rows["styleQML"].iloc[0])


def _grey(rgba: str) -> float:
    """Lightness (0 black to 255 white) of a QGIS colour ``r,g,b,a`` drawn over white, as in greyscale print."""
    r, g, b, a = (int(v) for v in rgba.split(","))
    lum = 0.299 * r + 0.587 * g + 0.114 * b
    return lum * a / 255 + 255 * (1 - a / 255)


def _fill_props(symbol: ET.Element) -> list[dict[str, str]]:
    return [
        {o.get("name"): o.get("value") for o in layer.find("Option")}
        for layer in symbol.findall("layer")
        if layer.get("class") == "SimpleFill"
    ]


def test_layer_styles_table_is_registered_as_qgis_makes_it(solihull_out):
    gpkg = solihull_out / "lacgeo.gpkg"
    with sqlite3.connect(gpkg) as con:
        contents = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        columns = [row[1] for row in con.execute("PRAGMA table_info(layer_styles)")]
        geometry = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
    assert contents == {
        "areas": "features",
        "patches": "features",
        "recommended": "features",
        "comparators": "features",
        "layer_styles": "attributes",
    }
    assert columns == ["id", *QGIS_COLUMNS]
    info = pyogrio.read_info(gpkg, layer="layer_styles")  # GDAL sees it too, as a table without geometry
    assert info["fid_column"] == "id" and info["geometry_type"] is None
    styles = _styles(gpkg)
    # QGIS looks a layer's styles up by f_table_schema = '' (not NULL), its name and its geometry column
    assert (styles["f_table_schema"] == "").all() and (styles["f_table_catalog"] == "").all()
    assert all(styles["f_geometry_column"] == styles["f_table_name"].map(geometry))
    assert styles["styleName"].str.len().max() <= 30  # QGIS declares styleName as 30 characters
    assert styles["styleName"].is_unique


def test_one_default_style_per_layer_and_every_qml_parses(solihull_out):
    gpkg = solihull_out / "lacgeo.gpkg"
    styles = _styles(gpkg)
    defaults = styles[styles["useAsDefault"] == 1]
    assert sorted(defaults["f_table_name"]) == sorted(LAYERS)
    for _, row in styles.iterrows():
        fields = set(pyogrio.read_info(gpkg, layer=row["f_table_name"])["fields"])
        assert row["styleQML"].startswith("<!DOCTYPE qgis")
        root = ET.fromstring(row["styleQML"])
        assert root.tag == "qgis" and root.find("layerGeometryType").text == "2"  # polygon
        renderer = root.find("renderer-v2")
        attr = renderer.get("attr")
        assert attr is None or attr in fields, (row["styleName"], attr)
        for text_style in root.iter("text-style"):  # every field a label expression names is in the layer
            named = set(pd.Series(text_style.get("fieldName")).str.findall(r'"([^"]+)"').iloc[0])
            assert named and named <= fields, (row["styleName"], named)
        assert row["description"]


def test_areas_open_as_the_need_choropleth_darker_for_more_need(solihull_out):
    gpkg = solihull_out / "lacgeo.gpkg"
    areas = pyogrio.read_dataframe(gpkg, layer="areas", read_geometry=False)
    renderer = _qml(_styles(gpkg), "areas").find("renderer-v2")
    assert renderer.get("type") == "graduatedSymbol" and renderer.get("attr") == "need_index"
    ranges = renderer.find("ranges").findall("range")
    assert len(ranges) == 5
    bounds = [(float(r.get("lower")), float(r.get("upper"))) for r in ranges]
    assert bounds == sorted(bounds, reverse=True)  # highest need first in the legend
    assert min(lo for lo, _ in bounds) <= areas["need_index"].min()
    assert max(hi for _, hi in bounds) >= areas["need_index"].max()
    labels = [r.get("label") for r in ranges]
    assert labels[0].startswith("Highest need") and labels[-1].startswith("Lowest need")
    # each class holds about a fifth of the areas
    in_class = [((areas["need_index"] >= lo) & (areas["need_index"] <= hi)).sum() for lo, hi in bounds]
    assert all(abs(n - len(areas) / 5) <= 3 for n in in_class), in_class
    symbols = {s.get("name"): s for s in renderer.find("symbols").findall("symbol")}
    lightness = [_grey(_fill_props(symbols[r.get("symbol")])[0]["color"]) for r in ranges]
    assert lightness == sorted(lightness)  # more need, darker
    assert lightness[0] < 100 < 200 < lightness[-1]


def test_patches_open_as_labelled_outlines(solihull_out):
    root = _qml(_styles(solihull_out / "lacgeo.gpkg"), "patches")
    assert root.get("labelsEnabled") == "1"
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "singleSymbol"
    (fill,) = _fill_props(renderer.find("symbols").find("symbol"))
    assert fill["style"] == "no" and float(fill["outline_width"]) >= 0.5  # an outline, nothing hidden beneath
    label = root.find("labeling/settings/text-style")
    assert label.get("isExpression") == "1"
    assert '"patch_id"' in label.get("fieldName") and '"patch_name"' in label.get("fieldName")


def test_picks_are_categorised_on_phase_phase_1_prominent_and_apart_in_greyscale(solihull_out):
    styles = _styles(solihull_out / "lacgeo.gpkg")
    picks = _qml(styles, "recommended").find("renderer-v2")
    assert picks.get("type") == "categorizedSymbol" and picks.get("attr") == "phase"
    assert [(c.get("value"), c.get("type")) for c in picks.find("categories")] == [("1", "long")]
    assert picks.find("categories")[0].get("label") == "Phase 1: start here (3 patches)"
    rollout = _qml(styles, "patches", name="lacgeo rollout phases").find("renderer-v2")
    categories = rollout.find("categories").findall("category")
    patches = pyogrio.read_dataframe(solihull_out / "lacgeo.gpkg", layer="patches", read_geometry=False)
    assert [int(c.get("value")) for c in categories] == sorted(patches["phase"].unique())
    symbols = {s.get("name"): s for s in rollout.find("symbols").findall("symbol")}
    looks = [_fill_props(symbols[c.get("symbol")]) for c in categories]
    lightness = [_grey(layers[0]["color"]) if layers[0]["style"] != "no" else 255.0 for layers in looks]
    assert lightness == sorted(lightness) and len(set(lightness[:4])) == 4  # each phase lighter than the last
    edges = [float(layers[0]["outline_width"]) for layers in looks]
    assert edges[0] == max(edges) and edges[0] > edges[1]  # phase 1: the thickest edge
    assert any(layer["style"] == "f_diagonal" for layer in looks[1])  # phase 2 is hatched


def test_layers_are_all_multipolygon_with_no_repeated_column(solihull_run, solihull_out):
    gpkg = solihull_out / "lacgeo.gpkg"
    with sqlite3.connect(gpkg) as con:
        types = dict(con.execute("SELECT table_name, geometry_type_name FROM gpkg_geometry_columns").fetchall())
    assert types == dict.fromkeys(LAYERS, "MULTIPOLYGON")
    for layer in LAYERS:
        frame = pyogrio.read_dataframe(gpkg, layer=layer)
        assert set(frame.geom_type) == {"MultiPolygon"}, layer
        columns = list(frame.columns)
        assert len(columns) == len(set(columns))
        repeated = [c for c in columns if f"value_{c}" in columns]
        assert repeated == [], f"{layer}: {repeated} also appear as value_<name>"
    # the score dropped from the layers as value_imd_score is still there as imd_score, unchanged
    patches = pyogrio.read_dataframe(gpkg, layer="patches", read_geometry=False).set_index("patch_id")
    table = patch_table(solihull_run)
    assert "value_imd_score" in table and "value_imd_score" not in patches
    np.testing.assert_allclose(patches["imd_score"], table.loc[patches.index, "value_imd_score"])


def test_withheld_need_index_is_described_in_the_style(synthetic_out):
    styles = _styles(synthetic_out / "lacgeo.gpkg")
    areas = pyogrio.read_dataframe(synthetic_out / "lacgeo.gpkg", layer="areas", read_geometry=False)
    described = styles.loc[styles["styleName"] == "lacgeo need index", "description"].iloc[0]
    withheld = int(areas["need_index"].isna().sum())
    assert (f"{withheld} areas whose need index is withheld" in described) == (withheld > 0)
    # a council-data run keeps the same layers and styles
    assert sorted(styles.loc[styles["useAsDefault"] == 1, "f_table_name"]) == sorted(LAYERS)


@pytest.mark.parametrize(
    ("values", "n"),
    [
        ([0.5] * 10, 1),  # one value: one class
        ([0.0, 1.0], 5),
        ([0.0, 0.0, 0.0, 1.0, 2.0, 3.0, float("nan")], 3),
        (list(np.linspace(-1.234, 2.345, 50)), 5),
    ],
)
def test_need_classes_cover_every_value_once(values, n):
    classes = need_classes(pd.Series(values))
    assert len(classes) == n
    known = [v for v in values if not np.isnan(v)]
    for v in known:
        assert any(lo <= v <= hi for lo, hi, _ in classes), v
    assert all(lo <= hi for lo, hi, _ in classes)
    assert need_classes(pd.Series([float("nan")])) == []

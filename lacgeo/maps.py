"""Stage 7a: the interactive map (folium). The only module that reprojects for display.

Every text value that comes from data passes through :func:`escape_text` before it
reaches the page.
"""

from __future__ import annotations

import html

import branca.colormap as cm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .schema import (
    AREA_NAME,
    BAND_STATUS,
    IMD_QUINTILE,
    NEED_INDEX,
    PATCH_ID,
    PATCH_NAME,
    PHASE,
    POPULATION,
    RANK,
    WGS84,
)

QUINTILE_COLOURS = {1: "#b2182b", 2: "#ef8a62", 3: "#fddbc7", 4: "#d1e5f0", 5: "#67a9cf"}


def escape_text(value: object) -> str:
    """Text from data, safe for HTML and for the map's JavaScript and templates."""
    text = html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("{", "&#123;").replace("}", "&#125;").replace("$", "&#36;")


def _display(frame: gpd.GeoDataFrame, *, decimals: int = 5) -> gpd.GeoDataFrame:
    """Reproject to WGS84 and round coordinates (5 dp is about 1 m)."""
    out = frame.to_crs(WGS84)
    geoms = shapely.transform(out.geometry.values, lambda xy: np.round(xy, decimals))
    return out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=WGS84))


def make_map(
    areas: gpd.GeoDataFrame,
    patches: gpd.GeoDataFrame,
    *,
    title: str,
    synthetic: bool = False,
) -> folium.Map:
    """Areas by need and IMD quintile, patch outlines, and the recommended patches."""
    areas_d = _display(areas)
    patches_d = _display(patches)
    west, south, east, north = areas_d.total_bounds
    fmap = folium.Map(location=[(south + north) / 2, (west + east) / 2], tiles=None, zoom_start=10, control_scale=True)
    fmap.get_root().header.add_child(folium.Element(f"<title>{escape_text(title)}</title>"))
    fmap.fit_bounds([[south, west], [north, east]])

    need = areas_d[NEED_INDEX]
    scale = cm.LinearColormap(
        ["#ffffcc", "#fd8d3c", "#800026"],
        vmin=float(need.min()),
        vmax=float(need.max()),
        caption="Need index (higher = more need)",
    )
    area_props = pd.DataFrame(
        {
            "code": areas_d.index.map(escape_text),
            "name": areas_d[AREA_NAME].map(escape_text),
            "pop": areas_d[POPULATION].map("{:,}".format),
            "need": need.round(2),
            "quintile": areas_d[IMD_QUINTILE],
            "patch": areas_d[PATCH_ID].map(escape_text),
        },
        index=areas_d.index,
    )
    area_layer = gpd.GeoDataFrame(area_props, geometry=areas_d.geometry, crs=WGS84)
    tooltip_fields = ["code", "name", "pop", "need", "quintile", "patch"]
    aliases = ["LSOA", "Name", "Population", "Need index", "IMD quintile (1 = most deprived)", "Patch"]
    folium.GeoJson(
        area_layer,
        name="Need index",
        show=True,
        style_function=lambda f: {
            "fillColor": scale(f["properties"]["need"]),
            "color": "#999999",
            "weight": 0.3,
            "fillOpacity": 0.7,
        },
        tooltip=folium.GeoJsonTooltip(fields=tooltip_fields, aliases=aliases),
    ).add_to(fmap)
    folium.GeoJson(
        area_layer,
        name="National IMD quintile",
        show=False,
        style_function=lambda f: {
            "fillColor": QUINTILE_COLOURS.get(int(f["properties"]["quintile"]), "#cccccc"),
            "color": "#999999",
            "weight": 0.3,
            "fillOpacity": 0.7,
        },
        tooltip=folium.GeoJsonTooltip(fields=tooltip_fields, aliases=aliases),
    ).add_to(fmap)
    scale.add_to(fmap)

    patch_props = pd.DataFrame(
        {
            "id": patches_d.index.map(escape_text),
            "name": patches_d[PATCH_NAME].map(escape_text),
            "pop": patches_d[POPULATION].map("{:,}".format),
            "need": patches_d[NEED_INDEX].round(2),
            "rank": patches_d[RANK],
            "phase": patches_d[PHASE],
            "band": patches_d[BAND_STATUS].map(escape_text),
        },
        index=patches_d.index,
    )
    patch_layer = gpd.GeoDataFrame(patch_props, geometry=patches_d.geometry, crs=WGS84)
    patch_fields = ["id", "name", "pop", "need", "rank", "phase", "band"]
    patch_aliases = ["Patch", "Name", "Population", "Need index", "Need rank", "Phase", "Population band"]
    folium.GeoJson(
        patch_layer,
        name="All patches",
        style_function=lambda f: {"fill": False, "color": "#222222", "weight": 1.5},
        tooltip=folium.GeoJsonTooltip(fields=patch_fields, aliases=patch_aliases),
    ).add_to(fmap)
    recommended = patch_layer[patch_layer["phase"] == 1]
    folium.GeoJson(
        recommended,
        name="Recommended for phase 1",
        style_function=lambda f: {"fillColor": "#2166ac", "fillOpacity": 0.15, "color": "#2166ac", "weight": 4},
        tooltip=folium.GeoJsonTooltip(fields=patch_fields, aliases=patch_aliases),
    ).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    if synthetic:
        banner = (
            '<div style="position:fixed;top:10px;left:50px;z-index:9999;background:#fff3cd;'
            'padding:6px;border:2px solid #d39e00;font-weight:bold">SYNTHETIC service-demand data: '
            "not for decisions</div>"
        )
        fmap.get_root().html.add_child(folium.Element(banner))
    return fmap

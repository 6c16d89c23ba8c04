"""``map.html``: the interactive map (folium). The only module that reprojects for display.

The map sits in one self-contained page that draws offline (:mod:`.page`): a short heading naming
the phase-1 picks, the map, then the words on how to read it and a table of the patches, its text
alternative. The phase-1 picks are numbered (1, 2, 3 in rank order, as in the report and tables)
and drawn with a thick dashed outline over a white halo, which reads in greyscale and to
colour-blind eyes; a pick's number and name are never hidden where labels collide (other names
yield, see ``assets/declutter.js``). The areas of coordinators already in post (phase 0) have a solid
dark green outline over a white halo and a label "In post: <name>", also never hidden; they are
not ranked, and the page never calls them phase 0. The map is oriented by the local authority outline, the district
outlines and names (an area of several), the patch names and a scale bar, and optionally by an
OpenStreetMap background (``basemap``), the one thing the page may then load.

The small areas can be shaded by the need index (in words: more or less need than the area's
average), the national deprivation quintile (England's IMD or Wales's WIMD, named after the run's
index), each indicator in the need index and the need profiles, named by what sets them apart
(one base layer each, with its own legend). The area shapes are written once and shared by every
shading (built in :mod:`.layers`). Indicator values are the disclosure-controlled ones
(:func:`make_result_map`): a withheld council value is hatched and never written to the page. A
search box finds patches, wards, neighbourhoods (MSOAs) and LSOAs by name or code and zooms to them.
A skip link leads to the layer list, and no drawn shape is a tab stop.

Every text value that comes from data passes through :func:`escape_text` before it
reaches the page.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.template import Template
from folium.utilities import JsCode

from ...config import IndicatorConfig
from ...result import RunResult
from ...schema import (
    BAND_STATUS,
    DEPRIVATION_INDICES,
    NEED_INDEX,
    PATCH_NAME,
    PHASE,
    POPULATION,
    RANK,
    WGS84,
    DeprivationIndex,
    deprivation_index,
)
from ..escape import escape_text
from ..report.words import IN_POST, STANDARDISE_WORDS, left_out_sentences, phase_text
from ..tables import area_table, patch_table
from .layers import (
    LAYER_IN_POST,
    LAYER_LABELS,
    LAYER_OUTLINE,
    LAYER_PATCHES,
    LAYER_RECOMMENDED,
    LAYER_TOWNS,
    area_data,
    indicator_specs,
    make_shadings,
    need_words,
    tooltip_rows,
)
from .page import NARROW, OfflineMap, Page, stable_ids
from .places import town_names
from .widgets import (
    DECLUTTER_JS,
    FIT_JS,
    KEYBOARD_JS,
    SEARCH_HTML,
    SKIP_LINK,
    LineStyle,
    about_html,
    areas_and_search_js,
    latlng_bounds,
    legend_html,
    search_index,
    summary_html,
    table_html,
)

PATCH_COLOUR = "#222222"
PICK_COLOUR = "#0050a0"
"""The phase-1 picks' outline: a thick blue dashed line over a white halo, which stays apart from the thin
black patch lines in greyscale and to colour-blind eyes (no need-profile colour is this blue)."""
RECOMMENDED_COLOUR = PICK_COLOUR
PICK_HALO = "#ffffff"
PICK_DASH = "10 7"
PICK_WEIGHT = 5
IN_POST_COLOUR = "#1b7837"
"""The areas of coordinators already in post: a solid dark green line over a white halo, apart from the picks'
dashed blue in greyscale (solid against dashed) and to colour-blind eyes (and labelled "In post: <name>")."""
IN_POST_WEIGHT = 4
OUTLINE_COLOUR = "#000000"
DISTRICT_COLOUR = "#7b3294"  # purple: apart from the black patch lines and the blue picks

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ORIGIN = "https://tile.openstreetmap.org"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
LAYER_BASEMAP = "Background map (OpenStreetMap)"


# CSS classes on the drawn SVG paths, one per layer.
CLASS_AREA = "lacgeo-area"
CLASS_OUTLINE = "lacgeo-outline"
CLASS_DISTRICT = "lacgeo-district"
LAYER_DISTRICTS = "District boundaries"
CLASS_PATCH = "lacgeo-patch"
CLASS_RECOMMENDED = "lacgeo-recommended"
CLASS_HALO = "lacgeo-recommended-halo"
CLASS_LABEL = "lacgeo-label"
CLASS_PICK = "lacgeo-pick"
"""The numbered marker and name of a phase-1 patch (also a :data:`CLASS_LABEL`)."""
CLASS_IN_POST = "lacgeo-in-post"
"""The outline of a coordinator's area in post (phase 0)."""
CLASS_IN_POST_HALO = "lacgeo-in-post-halo"
CLASS_IN_POST_LABEL = "lacgeo-in-post-label"
"""The "In post: <name>" label of a coordinator's area in post (also a :data:`CLASS_LABEL`), always shown."""
CLASS_PLACE = "lacgeo-place"
"""A district's name (an area of several districts)."""
CLASS_TOWN = "lacgeo-town"
"""A town or place name (:func:`.places.town_names`)."""

MAP_ATTRIBUTION = "Contains OS data &copy; Crown copyright and database right; ONS, MHCLG, OHID data (OGL v3.0)"
MAP_ATTRIBUTION_WALES = (
    "Contains OS data &copy; Crown copyright and database right; ONS data, Welsh Government WIMD 2019 (OGL v3.0)"
)


# --- page content ---------------------------------------------------------------------------


def _display(frame: gpd.GeoDataFrame, *, decimals: int = 5) -> gpd.GeoDataFrame:
    """Reproject to WGS84 and round coordinates (5 dp is about 1 m)."""
    out = frame.to_crs(WGS84)
    geoms = shapely.transform(out.geometry.values, lambda xy: np.round(xy, decimals))
    return out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=WGS84))


def _geojson(props: pd.DataFrame, geometry: gpd.GeoSeries) -> dict:
    """A FeatureCollection with positional ids (raw codes never reach the page)."""
    layer = gpd.GeoDataFrame(props.reset_index(drop=True), geometry=geometry.reset_index(drop=True), crs=WGS84)
    return layer.to_geo_dict(na="null", show_bbox=False, drop_id=False)


# --- area layers ----------------------------------------------------------------------------


class _AreaLayer(folium.map.Layer):
    """One shading of the small areas, as a base layer in the layer control.

    The layer starts empty: the page script fills every shading from one shared copy of
    the area shapes (see :func:`.widgets.areas_and_search_js`), so adding a
    shading adds a colour per area to the page, not another copy of the map.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}\n"
        "var {{ this.get_name() }} = L.geoJson(null, "
        f'{{pane: "lacgeo-areas", className: "{CLASS_AREA}"}});\n'
        "{% endmacro %}\n"
    )

    def __init__(self, name: str, *, show: bool):
        super().__init__(name=name, overlay=False, control=True, show=show)
        self._name = "AreaLayer"


# --- the map --------------------------------------------------------------------------------


def _districts(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """The districts of an area of several (a county, an ICB, a list of councils; the areas'
    ``district`` column, see :func:`lacgeo.outputs.tables.area_table`), dissolved and named,
    in WGS84 for the page; None for one district."""
    if "district" not in areas or areas["district"].nunique() < 2:
        return None
    parts = areas.geometry.groupby(areas["district"]).apply(lambda g: g.union_all(method="coverage"))
    return _display(gpd.GeoDataFrame(geometry=parts, crs=areas.crs))


@stable_ids
def make_map(
    areas: gpd.GeoDataFrame,
    patches: gpd.GeoDataFrame,
    *,
    title: str,
    synthetic: bool = False,
    indicators: Sequence[IndicatorConfig] | None = None,
    withheld: Mapping[str, Collection[str]] | None = None,
    deprivation: DeprivationIndex | None = None,
    notes: Sequence[str] = (),
    place: str = "",
    standardise: str = "",
    basemap: bool = False,
) -> folium.Map:
    """The map page: areas shaded by need, national deprivation quintile, each indicator and need
    profile; the LA outline, patch outlines and names, the recommended patches, a legend and a
    place search.

    ``areas`` is one row per small area (EPSG:27700, indexed by code). Each indicator's
    layer shows the column ``value_<name>``: pass values that are already
    disclosure-controlled, as :func:`lacgeo.outputs.tables.area_table` makes them (or call
    :func:`make_result_map`). ``indicators`` chooses and labels those layers (default:
    every ``value_`` column, named as it is); ``withheld`` names, per indicator, the areas
    whose value is withheld for small numbers: they are hatched and say so, and their
    value is never written to the page. A ``need_profile`` column adds the need-profiles
    layer, its profiles under the run's names (:func:`lacgeo.need.profiles.name_profiles`).
    The plain ``result.areas`` gives the need, quintile and profile layers only.
    ``deprivation`` is the national index whose quintile column the areas carry, and names
    that layer ("National WIMD quintile"); by default, the one whose column ``areas`` has
    (England's IMD if none). ``notes`` are plain-text sentences shown under the map, such
    as the indicators a run left out. ``place`` names the area in "more need than the <place>
    average" (default "local authority"); ``standardise`` is the need index's standardisation
    ("zscore", "rank" or "exponential"), explained under the map.

    The phase-1 patches are drawn with a thick dashed outline over a white halo and a numbered
    marker (1, 2, 3 in rank order) that is never hidden; the areas of coordinators already in post
    (``phase`` 0) with a solid dark green outline over a white halo and an "In post: <name>" label,
    in a layer of their own. ``basemap`` adds OpenStreetMap tiles under
    the areas, the one thing the page may then load from the network (its content security policy
    allows tile.openstreetmap.org and nothing else); without it the map is oriented by the
    outlines, the district, town and patch names (towns from the MSOA names, :func:`.places.town_names`)
    and a scale bar.

    Returns the folium map inside a self-contained page: ``.save(path)`` writes a
    ``map.html`` that draws with no network access (unless ``basemap``).
    """
    if standardise and standardise not in STANDARDISE_WORDS:
        raise ValueError(f"make_map: standardise = {standardise!r}; use one of {', '.join(STANDARDISE_WORDS)}")
    place = place or "local authority"
    specs = indicator_specs(areas, indicators)
    areas_d = _display(areas)
    patches_d = _display(patches)
    outline = _display(gpd.GeoDataFrame(geometry=[areas.geometry.union_all()], crs=areas.crs))
    west, south, east, north = areas_d.total_bounds
    index = deprivation or next((i for i in DEPRIVATION_INDICES.values() if i.quintile in areas), deprivation_index())
    shadings = make_shadings(areas_d, specs, withheld or {}, index, place=place)

    districts = _districts(areas)
    n_picks = int((patches_d[PHASE] == 1).sum())
    n_post = int((patches_d[PHASE] == 0).sum())
    post_line = f"Coordinator{'s' if n_post != 1 else ''} already {IN_POST}: area kept as given"
    lines = [
        LineStyle(LAYER_OUTLINE, OUTLINE_COLOUR, 3),
        *([LineStyle(LAYER_DISTRICTS, DISTRICT_COLOUR, 3, dash="8 5")] if districts is not None else []),
        LineStyle("Patch boundary", PATCH_COLOUR, 2),
        *([LineStyle(LAYER_RECOMMENDED, PICK_COLOUR, PICK_WEIGHT, PICK_DASH, PICK_HALO)] if n_picks else []),
        *([LineStyle(post_line, IN_POST_COLOUR, IN_POST_WEIGHT, "", PICK_HALO)] if n_post else []),
    ]
    page = Page(
        title=title,
        summary=summary_html(title, patches, synthetic=synthetic),
        about=about_html(patches, place=place, method_words=STANDARDISE_WORDS.get(standardise, ""), notes=notes),
        legend=legend_html([s.legend for s in shadings], lines, picks=n_picks, in_post=n_post),
        table=table_html(patches),
        search=SEARCH_HTML,
        skip=SKIP_LINK,
        tiles=OSM_ORIGIN if basemap else "",
    )
    fmap = OfflineMap(
        location=[(south + north) / 2, (west + east) / 2],
        tiles=None,
        zoom_start=10,
        control_scale=True,
        zoom_snap=0.25,
    )
    page.add_child(fmap)
    # Panes, bottom to top: area shading, recommended fill, patch outlines (overlay pane), LA outline, labels.
    folium.map.CustomPane("lacgeo-areas", z_index=350, pointer_events=True).add_to(fmap)
    folium.map.CustomPane("lacgeo-recommended", z_index=390, pointer_events=True).add_to(fmap)
    folium.map.CustomPane("lacgeo-outline", z_index=450, pointer_events=False).add_to(fmap)

    if basemap:
        folium.TileLayer(
            tiles=OSM_TILES, attr=OSM_ATTRIBUTION, name=LAYER_BASEMAP, overlay=True, control=True, max_zoom=19
        ).add_to(fmap)

    area_layers = [_AreaLayer(s.name, show=k == 0).add_to(fmap) for k, s in enumerate(shadings)]

    folium.GeoJson(
        _geojson(pd.DataFrame({"name": [escape_text(LAYER_OUTLINE)]}), outline.geometry),
        name=LAYER_OUTLINE,
        style_function=lambda f: {"fill": False, "color": OUTLINE_COLOUR, "weight": 3},
        interactive=False,
        pane="lacgeo-outline",
        class_name=CLASS_OUTLINE,
        attribution=MAP_ATTRIBUTION_WALES if index.nation == "Wales" else MAP_ATTRIBUTION,
    ).add_to(fmap)

    if districts is not None:  # an area of several districts: their boundaries, dashed, under the outline, named
        group = folium.FeatureGroup(name=LAYER_DISTRICTS)
        folium.GeoJson(
            _geojson(pd.DataFrame({"name": districts.index.map(escape_text)}), districts.geometry),
            style_function=lambda f: {"fill": False, "color": DISTRICT_COLOUR, "weight": 3, "dashArray": "8 5"},
            interactive=False,
            pane="lacgeo-outline",
            class_name=CLASS_DISTRICT,
            control=False,
        ).add_to(group)
        for name, point in districts.geometry.representative_point().items():
            _label(f'<span class="name">{escape_text(name)}</span>', point, CLASS_PLACE).add_to(group)
        group.add_to(fmap)

    average = float(areas_d[NEED_INDEX].astype(float).mean())
    towns = town_names(areas)
    if len(towns):  # orientation without a background map: towns and places, named from the MSOAs
        group = folium.FeatureGroup(name=LAYER_TOWNS)
        for name, kind, point in zip(towns["name"], towns["kind"], towns.to_crs(WGS84).geometry, strict=True):
            _label(f'<span class="name">{escape_text(name)}</span>', point, f"{CLASS_TOWN} {kind}").add_to(group)
        group.add_to(fmap)

    patch_props, patch_fields, patch_aliases = _patch_properties(patches_d, average=average, place=place)
    all_patches = folium.GeoJson(
        _geojson(patch_props, patches_d.geometry),
        name=LAYER_PATCHES,
        style_function=lambda f: {"fill": False, "color": PATCH_COLOUR, "weight": 2},
        highlight_function=lambda f: {"weight": 4},
        tooltip=folium.GeoJsonTooltip(fields=patch_fields, aliases=patch_aliases),
        class_name=CLASS_PATCH,
    ).add_to(fmap)
    is_recommended = (patches_d[PHASE] == 1).to_numpy()
    is_post = (patches_d[PHASE] == 0).to_numpy()
    tooltip = dict(fields=patch_fields, aliases=patch_aliases)
    if is_post.any():  # coordinators already in post: a solid green line over a white halo, and a label
        in_post = folium.FeatureGroup(name=LAYER_IN_POST)
        line = {"color": IN_POST_COLOUR, "weight": IN_POST_WEIGHT, "lineJoin": "round"}
        post_outline = _haloed(
            in_post,
            patch_props[is_post],
            patches_d.geometry[is_post],
            line,
            IN_POST_WEIGHT + 4,
            (CLASS_IN_POST_HALO, CLASS_IN_POST),
            tooltip,
        )
        points = patches_d.geometry[is_post].representative_point()
        for pid, point in points.items():
            markup = (
                f'<span class="name" data-rank="{patch_props.at[pid, "rank"]}">'
                f"In post: {patch_props.at[pid, 'name']}</span>"
            )
            _label(markup, point, f"{CLASS_LABEL} {CLASS_IN_POST_LABEL}", on_top=True).add_to(in_post)
    picked = folium.FeatureGroup(name=LAYER_RECOMMENDED)
    # the white halo under the dashed line: the line reads on any shading and in greyscale; an empty layer (no
    # patch could be recommended) has no fields for a tooltip to show
    line = {"color": PICK_COLOUR, "weight": PICK_WEIGHT, "dashArray": PICK_DASH, "lineCap": "butt"}
    recommended = _haloed(
        picked,
        patch_props[is_recommended],
        patches_d.geometry[is_recommended],
        line,
        PICK_WEIGHT + 5,
        (CLASS_HALO, CLASS_RECOMMENDED),
        tooltip if is_recommended.any() else None,
    )
    picked.add_to(fmap)
    if is_post.any():
        in_post.add_to(fmap)

    # Patch names; the picks' numbered markers and names in a group of their own, always shown.
    labels = folium.FeatureGroup(name=LAYER_LABELS)
    numbers = folium.FeatureGroup(name="Phase 1 numbers", control=False)
    points = patches_d.geometry.representative_point()
    pick_number = {pid: n for n, pid in enumerate(patch_props[is_recommended].sort_values("rank").index, start=1)}
    for pid, point in points.items():
        rank, name = patch_props.at[pid, "rank"], patch_props.at[pid, "name"]
        if patches_d.at[pid, PHASE] == 0:  # labelled "In post: <name>" in its own layer
            continue
        if pid in pick_number:
            n = pick_number[pid]
            markup = (
                f'<span class="pin" aria-hidden="true">{n}</span>'
                f'<span class="name" data-rank="{rank}" data-n="{n}" data-side="e">{name}</span>'
            )
            _label(markup, point, f"{CLASS_LABEL} {CLASS_PICK}", on_top=True).add_to(numbers)
        else:
            _label(f'<span class="name" data-rank="{rank}">{name}</span>', point, CLASS_LABEL).add_to(labels)
    labels.add_to(fmap)
    numbers.add_to(fmap)

    # The layer list stays open, except on a phone-sized screen where it would cover the map.
    folium.LayerControl(collapsed=JsCode(f'window.matchMedia("{NARROW}").matches')).add_to(fmap)

    # Fit the LA at once, clear of the layer list and legend where they float over the map (folium's
    # fit_bounds animates the first zoom and knows nothing of them), fill the area shadings, place
    # the labels, and wire up the legend, the search box and the keyboard.
    page.after_script = (
        FIT_JS.replace("__MAP__", fmap.get_name()).replace("__BOUNDS__", str(latlng_bounds(areas_d.geometry)))
        + areas_and_search_js(
            map_name=fmap.get_name(),
            data=area_data(areas_d, patches_d, shadings, index, place=place),
            shadings=tooltip_rows(shadings, index),
            layer_names=[layer.get_name() for layer in area_layers],
            patch_layer_names=[all_patches.get_name(), recommended.get_name()]
            + ([post_outline.get_name()] if is_post.any() else []),
            places=search_index(areas_d, patches_d),
            fill_opacity=0.55 if basemap else 0.75,
        )
        + DECLUTTER_JS.replace("__MAP__", fmap.get_name())
        + KEYBOARD_JS.replace("__MAP__", fmap.get_name())
    )
    return fmap


def _label(markup: str, point: shapely.Point, css: str, *, on_top: bool = False) -> folium.Marker:
    """A permanent label at ``point`` (markup already escaped), not a tab stop nor clickable."""
    return folium.Marker(
        location=[point.y, point.x],
        icon=folium.DivIcon(html=markup, icon_size=(0, 0), class_name=css),
        interactive=False,
        keyboard=False,
        z_index_offset=1000 if on_top else 0,
    )


def _patch_properties(
    patches_d: gpd.GeoDataFrame, *, average: float, place: str
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The patch tooltips' values (escaped), fields and labels; the need index in words against the
    areas' ``average``."""
    patch_props = pd.DataFrame(
        {
            "id": patches_d.index.map(escape_text),
            "name": patches_d[PATCH_NAME].map(escape_text),
            "pop": patches_d[POPULATION].map("{:,}".format),
            "need": patches_d[NEED_INDEX].astype(float).map(lambda v: escape_text(need_words(v, average, place))),
            "rank": patches_d[RANK].astype(int),
            "ranked": [
                f"not ranked (a coordinator is {IN_POST})" if phase == 0 else str(rank)
                for rank, phase in zip(patches_d[RANK].astype(int), patches_d[PHASE].astype(int), strict=True)
            ],
            "phase": patches_d[PHASE].astype(int).map(phase_text),
            "band": patches_d[BAND_STATUS].map(escape_text),
        },
        index=patches_d.index,
    )
    patch_fields = ["id", "name", "pop", "need", "ranked", "phase", "band"]
    patch_aliases = ["Patch", "Name", "Population", "Need index", "Need rank", "Phase", "Population band"]
    if "district" in patches_d:
        share = patches_d["district_share"].astype(float)
        patch_props["district"] = [
            escape_text(d if s >= 1 else f"{d} ({s:.0%} of its people; crosses a district boundary)")
            for d, s in zip(patches_d["district"], share, strict=True)
        ]
        patch_fields.append("district")
        patch_aliases.append("District")
    if "need_profile" in patches_d:
        patch_props["profile"] = patches_d["need_profile"].map(escape_text)
        patch_fields.append("profile")
        patch_aliases.append("Need profile of most residents")
    if "p_top_n" in patches_d:
        n_top = int((patches_d[PHASE] == 1).sum())
        robust = [
            f"in the top {n_top} in {p:.0%} of draws; rank {lo}-{hi}" + (f" ({flag})" if flag else "")
            for p, lo, hi, flag in zip(
                patches_d["p_top_n"],
                patches_d["rank_low"],
                patches_d["rank_high"],
                patches_d.get("robustness", pd.Series("", index=patches_d.index)).fillna(""),
                strict=True,
            )
        ]
        patch_props["robust"] = pd.Series(robust, index=patches_d.index).map(escape_text)
        patch_fields.append("robust")
        patch_aliases.append("When weights and data vary")
    return patch_props, patch_fields, [escape_text(a) for a in patch_aliases]


def result_areas(result: RunResult, table: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """The areas as a run's map draws them: the disclosure-controlled area table
    (:func:`lacgeo.outputs.tables.area_table`, or ``table``) with the need profiles."""
    table = area_table(result) if table is None else table
    extra = [c for c in ("need_profile", "need_profile_id") if c in result.areas and c not in table]
    return table.join(result.areas[extra]) if extra else table


def _haloed(
    group,
    props: pd.DataFrame,
    geometry: gpd.GeoSeries,
    line: dict,
    halo_weight: float,
    classes: tuple[str, str],
    tooltip: dict | None,
) -> folium.GeoJson:
    """Outlines drawn as ``line`` over a white halo (so they read on any shading and in greyscale), with a
    highlight and ``tooltip`` on the line, into ``group``: the phase-1 picks and the areas in post. Returns the line."""
    folium.GeoJson(
        _geojson(props[["id"]], geometry),
        style_function=lambda f: {"fill": False, "color": PICK_HALO, "weight": halo_weight, "opacity": 0.95},
        interactive=False,
        pane="lacgeo-recommended",
        class_name=classes[0],
        control=False,
    ).add_to(group)
    return folium.GeoJson(
        _geojson(props, geometry),
        style_function=lambda f: {"fillColor": line["color"], "fillOpacity": 0.0, **line},
        highlight_function=lambda f: {"fillOpacity": 0.15},
        tooltip=folium.GeoJsonTooltip(**tooltip) if tooltip else None,
        pane="lacgeo-recommended",
        class_name=classes[1],
        control=False,
    ).add_to(group)


def make_result_map(result: RunResult, *, title: str) -> folium.Map:
    """:func:`make_map` for a run, with the run's disclosure control applied.

    Indicator values come from :func:`lacgeo.outputs.tables.area_table`, where a council rate
    built from a small count (and any rate that would let one be recovered) is withheld;
    those areas are hatched and say "withheld (small number)". Layers are labelled from
    the config's indicator labels, the quintile layer from the run's deprivation index, and
    the page says which default indicators the run left out for its nation, and why.
    """
    table = area_table(result)
    areas = result_areas(result, table)
    withheld = {}
    for name in result.sources:
        col = f"value_{name}"
        if col in table and name in result.indicators:
            raw = result.indicators[name].reindex(table.index)
            withheld[name] = table.index[table[col].isna() & raw.notna()]
    return make_map(
        areas,
        patch_table(result),  # disclosure control as in patches.csv: a need index that holds a withheld total
        title=title,
        synthetic=result.synthetic,
        indicators=result.config.need.indicators,
        withheld=withheld,
        deprivation=result.deprivation,
        notes=left_out_sentences(result),
        place=result.area.name if result.area is not None else result.lad_name,
        standardise=result.config.need.standardise,
        basemap=result.config.report.basemap,
    )

"""Stage 7a: the interactive map (folium). The only module that reprojects for display.

``map.html`` is one self-contained page: Leaflet's script and stylesheet are inlined from
the copies vendored in ``lacgeo/vendor/`` (pinned versions, with their licences), there
are no background tiles, and nothing is fetched from the network to draw it. The map is
oriented by the local authority outline and the patch outlines with permanent labels, and
a table of the patches below the map is its text alternative.

Every text value that comes from data passes through :func:`escape_text` before it
reaches the page.
"""

from __future__ import annotations

import base64
import functools
import html
import re
from importlib import resources

import branca.colormap as cm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, Link
from folium.template import Template
from folium.utilities import JsCode

from .datasets import ATTRIBUTION
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

LEAFLET_VERSION = "1.9.4"  # lacgeo/vendor/leaflet/, from the npm registry; see lacgeo/vendor/README.md

QUINTILE_COLOURS = {1: "#b2182b", 2: "#ef8a62", 3: "#fddbc7", 4: "#d1e5f0", 5: "#67a9cf"}
QUINTILE_LABELS = {
    1: "1: most deprived 20% of England",
    2: "2",
    3: "3",
    4: "4",
    5: "5: least deprived 20%",
}
NEED_COLOURS = ["#ffffcc", "#fd8d3c", "#800026"]
PATCH_COLOUR = "#222222"
RECOMMENDED_COLOUR = "#2166ac"
OUTLINE_COLOUR = "#000000"

# Layer names as the layer control shows them (tests look them up by these names).
LAYER_NEED = "Need index"
LAYER_QUINTILE = "National IMD quintile"
LAYER_OUTLINE = "Local authority boundary"
LAYER_PATCHES = "All patches"
LAYER_RECOMMENDED = "Recommended for phase 1"
LAYER_LABELS = "Patch names"

# CSS classes on the drawn SVG paths, one per layer.
CLASS_AREA = "lacgeo-area"
CLASS_OUTLINE = "lacgeo-outline"
CLASS_PATCH = "lacgeo-patch"
CLASS_RECOMMENDED = "lacgeo-recommended"
CLASS_LABEL = "lacgeo-label"

MAP_ATTRIBUTION = "Contains OS data &copy; Crown copyright and database right; ONS, MHCLG, OHID data (OGL v3.0)"

NARROW = "(max-width: 640px)"  # the page's phone layout (PAGE_CSS) starts here
_VIEWPORT = re.compile(r"<meta\s+name=\"viewport\"[^>]*>", re.IGNORECASE)


def escape_text(value: object) -> str:
    """Text from data, safe for HTML and for the map's JavaScript and templates.

    HTML special characters become entities, and so do the characters that start a
    JavaScript template substitution (a backtick, ``${``) or a Jinja tag (``{{``, ``{%``,
    ``{#``): folium compiles its rendered JavaScript as a Jinja template a second time,
    so a brace that reached it raw would be evaluated. Every place that shows the text
    (page, tooltips, labels) reads it as HTML, so the reader sees the original text.
    """
    text = html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("{", "&#123;").replace("}", "&#125;").replace("$", "&#36;")


# --- vendored assets -------------------------------------------------------------------------


def _vendor_bytes(*parts: str) -> bytes:
    return resources.files("lacgeo").joinpath("vendor", *parts).read_bytes()


def _inline_safe(text: str, *, tag: str, source: str) -> str:
    """Refuse vendored text that would end its inline <script>/<style> element early."""
    if re.search(rf"</{tag}|<!--", text, re.IGNORECASE):
        raise ValueError(f"{source} contains '</{tag}' or '<!--' and cannot be inlined in map.html")
    return text


@functools.cache
def _leaflet_assets() -> tuple[str, str]:
    """Leaflet's script and stylesheet, the stylesheet's images made data: URIs."""
    js = _vendor_bytes("leaflet", "leaflet.js").decode("utf-8")
    css = _vendor_bytes("leaflet", "leaflet.css").decode("utf-8")

    def data_uri(match: re.Match) -> str:
        name = match.group(1)
        payload = base64.b64encode(_vendor_bytes("leaflet", "images", name)).decode("ascii")
        return f"url(data:image/png;base64,{payload})"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, css)
    if "url(images/" in css:  # pragma: no cover - a new Leaflet image not vendored yet
        raise ValueError("leaflet.css refers to an image that is not vendored in lacgeo/vendor/leaflet/images/")
    return (
        _inline_safe(js, tag="script", source="vendor/leaflet/leaflet.js"),
        _inline_safe(css, tag="style", source="vendor/leaflet/leaflet.css"),
    )


class _Raw(Element):
    """Markup put in the page exactly as given: never compiled as a Jinja template."""

    def __init__(self, markup: str):
        super().__init__()
        self._markup = markup

    def render(self, **kwargs) -> str:
        return self._markup


PAGE_CSS = """
html, body { width: auto; height: auto; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #111; }
.lacgeo-header { padding: 0.5rem 1rem; }
.lacgeo-header h1 { font-size: 1.25rem; margin: 0.2rem 0; }
.lacgeo-header p { margin: 0.2rem 0; }
.lacgeo-warning { background: #fff3cd; border: 2px solid #8a6500; padding: 0.3rem 0.5rem; font-weight: bold; }
.lacgeo-map-wrap { position: relative; height: 78vh; min-height: 360px; }
.lacgeo-map-wrap .folium-map { position: absolute; inset: 0; width: 100%; height: 100%; background: #f4f4f1; }
.lacgeo-legend { position: absolute; right: 10px; bottom: 28px; z-index: 1000; background: #fff;
  border: 1px solid #888; border-radius: 4px; padding: 0.4rem 0.6rem; font-size: 0.8rem; line-height: 1.35; }
.lacgeo-legend h2 { font-size: 0.85rem; margin: 0.1rem 0 0.2rem; }
.lacgeo-legend ul { list-style: none; margin: 0 0 0.3rem; padding: 0; }
.lacgeo-legend .ramp { width: 11rem; height: 0.7rem; border: 1px solid #888; }
.lacgeo-legend .ends { display: flex; justify-content: space-between; width: 11.2rem; }
.lacgeo-legend .box { display: inline-block; width: 0.9rem; height: 0.7rem; border: 1px solid #888;
  vertical-align: middle; margin-right: 0.3rem; }
.lacgeo-legend .line { display: inline-block; width: 1.5rem; vertical-align: middle; margin-right: 0.3rem; }
.lacgeo-label span { position: absolute; transform: translate(-50%, -50%); display: block; width: max-content;
  max-width: 10rem; text-align: center; font: 600 11px/1.15 system-ui, Arial, sans-serif; color: #111;
  background: rgba(255, 255, 255, 0.85); border-radius: 3px; padding: 0 2px; pointer-events: none; }
.lacgeo-label.rec span { color: #0b3a6e; font-weight: 700; border: 1px solid #2166ac; }
.lacgeo-table { padding: 0.5rem 1rem; }
.lacgeo-table summary { cursor: pointer; font-weight: 600; padding: 0.3rem 0; }
.lacgeo-table table { border-collapse: collapse; margin-top: 0.4rem; }
.lacgeo-table caption { text-align: left; padding: 0.2rem 0; }
.lacgeo-table th, .lacgeo-table td { border: 1px solid #bbb; padding: 0.2rem 0.5rem; text-align: left; }
.lacgeo-table td.num { text-align: right; }
.lacgeo-table tr.rec { background: #e6eef7; }
.lacgeo-credits { padding: 0 1rem 1rem; font-size: 0.8rem; color: #333; }
.lacgeo-scroll { overflow-x: auto; }
.leaflet-tooltip.foliumtooltip { font-size: 0.85rem; }
.foliumtooltip th, .foliumtooltip td { padding: 1px 8px 1px 0; }
.leaflet-container { font-family: inherit; }
@media (max-width: 640px) {
  .lacgeo-header h1 { font-size: 1.05rem; }
  .lacgeo-map-wrap { height: auto; min-height: 0; }
  .lacgeo-map-wrap .folium-map { height: 70vh !important; min-height: 300px; }
  .lacgeo-legend { position: static; display: inline-block; margin: 0.5rem 1rem 0; }
}
"""


# Patch names are permanent labels; where two would overlap, the higher-need patch keeps its
# label and the other is hidden until zooming in makes room.
DECLUTTER_JS = """
(function () {
  function declutter() {
    var spans = Array.prototype.slice.call(document.querySelectorAll(".lacgeo-label span"));
    spans.sort(function (a, b) { return Number(a.dataset.rank) - Number(b.dataset.rank); });
    var placed = [];
    spans.forEach(function (span) {
      span.style.visibility = "";
      var r = span.getBoundingClientRect();
      var clash = placed.some(function (p) {
        return r.left < p.right && r.right > p.left && r.top < p.bottom && r.bottom > p.top;
      });
      if (clash) { span.style.visibility = "hidden"; } else { placed.push(r); }
    });
  }
  __MAP__.on("zoomend moveend overlayadd", declutter);
  declutter();
})();
"""


class _Page(Figure):
    """The whole ``map.html``: an accessible page around the folium map.

    ``lang``, a title, a zoomable viewport, the inlined Leaflet assets, a heading and a
    table of the patches. Rendering refuses any script or stylesheet that would be
    loaded from the network.
    """

    _template = Template(
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>{{ this.page_title }}</title>\n"
        '<link rel="icon" href="data:,">\n'
        "{{ this.header.render(**kwargs) }}\n"
        "<style>{{ this.page_css }}</style>\n"
        "</head>\n"
        "<body>\n"
        '<header class="lacgeo-header">{{ this.intro }}</header>\n'
        "<main>\n"
        '<div class="lacgeo-map-wrap" role="region" aria-label="Map of the patches">\n'
        "{{ this.html.render(**kwargs) }}\n"
        "{{ this.legend }}\n"
        "</div>\n"
        "{{ this.table }}\n"
        "</main>\n"
        '<footer class="lacgeo-credits"><p>{{ this.credits }}</p></footer>\n'
        "<script>\n"
        "{{ this.script.render(**kwargs) }}\n"
        "{{ this.after_script }}\n"
        "</script>\n"
        "</body>\n"
        "</html>\n"
    )

    def __init__(self, *, title: str, intro: str, legend: str, table: str):
        super().__init__()
        self._name = "Page"
        self.header._children.clear()  # Figure's http-equiv charset; the template sets charset itself
        js, css = _leaflet_assets()
        license_note = f"<!-- Leaflet {LEAFLET_VERSION} (BSD-2-Clause), inlined from lacgeo/vendor/leaflet -->"
        self.header.add_child(_Raw(f"{license_note}\n<style>\n{css}\n</style>"), name="leaflet_css")
        self.header.add_child(_Raw(f"<script>\n{js}\n</script>"), name="leaflet_js")
        self.page_title = escape_text(title)
        self.page_css = PAGE_CSS
        self.intro = intro
        self.legend = legend
        self.table = table
        self.credits = escape_text(ATTRIBUTION)
        self.after_script = ""

    def render(self, **kwargs) -> str:
        for child in self._children.values():
            child.render(**kwargs)
        remote = [f"{name} ({child.url})" for name, child in self.header._children.items() if isinstance(child, Link)]
        if remote:
            raise ValueError(f"map.html must draw offline, but would load {', '.join(remote)} from the network")
        page = self._template.render(this=self, kwargs=kwargs)
        # folium's map header disables pinch zoom (user-scalable=no, maximum-scale); keep only ours.
        first = _VIEWPORT.search(page)
        return page[: first.end()] + _VIEWPORT.sub("", page[first.end() :])


class _OfflineMap(folium.Map):
    """A folium map that adds no CDN links: the page inlines what it needs."""

    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []


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


def _intro(title: str, patches: pd.DataFrame, *, synthetic: bool) -> str:
    recommended = patches[patches[PHASE] == 1].sort_values(RANK)
    picks = "; ".join(f"{escape_text(pid)} {escape_text(row[PATCH_NAME])}" for pid, row in recommended.iterrows())
    parts = [
        f"<h1>{escape_text(title)}</h1>",
        f"<p>{len(patches)} patches ranked by need (need rank 1 = highest need). "
        f"Recommended for phase 1 (blue outline): {picks or 'none'}.</p>",
        "<p>Hover over (or tap) an area or a patch for its details; switch layers in the list at the top right. "
        "A table of all patches follows the map.</p>",
    ]
    if synthetic:
        parts.append('<p class="lacgeo-warning">SYNTHETIC service-demand data: not for decisions</p>')
    return "\n".join(parts)


def _legend(vmin: float, vmax: float) -> str:
    ramp = f"linear-gradient(to right, {', '.join(NEED_COLOURS)})"
    quintiles = "".join(
        f'<li><span class="box" style="background:{QUINTILE_COLOURS[q]}"></span>{escape_text(QUINTILE_LABELS[q])}</li>'
        for q in QUINTILE_COLOURS
    )
    lines = (
        f'<li><span class="line" style="border-top:3px solid {OUTLINE_COLOUR}"></span>{escape_text(LAYER_OUTLINE)}</li>'
        f'<li><span class="line" style="border-top:2px solid {PATCH_COLOUR}"></span>Patch boundary</li>'
        f'<li><span class="line" style="border-top:4px solid {RECOMMENDED_COLOUR}"></span>'
        f"{escape_text(LAYER_RECOMMENDED)}</li>"
    )
    return (
        '<div class="lacgeo-legend" role="group" aria-label="Legend">'
        f"<h2>{escape_text(LAYER_NEED)} (higher = more need)</h2>"
        f'<div class="ramp" style="background:{ramp}"></div>'
        f'<div class="ends"><span>{vmin:.2f}</span><span>{vmax:.2f}</span></div>'
        f"<h2>{escape_text(LAYER_QUINTILE)}</h2><ul>{quintiles}</ul>"
        f"<ul>{lines}</ul></div>"
    )


def _table(patches: pd.DataFrame) -> str:
    """The text alternative to the map: every patch, highest need first."""
    rows = []
    for pid, row in patches.sort_values(RANK).iterrows():
        phase = int(row[PHASE])
        rows.append(
            ('<tr class="rec">' if phase == 1 else "<tr>")
            + f"<td>{escape_text(pid)}</td><td>{escape_text(row[PATCH_NAME])}</td>"
            f'<td class="num">{int(row[POPULATION]):,}</td><td class="num">{float(row[NEED_INDEX]):.2f}</td>'
            f'<td class="num">{int(row[RANK])}</td><td class="num">{phase}</td></tr>'
        )
    head = "".join(
        f'<th scope="col">{h}</th>' for h in ("Patch", "Name", "Population", "Need index", "Need rank", "Phase")
    )
    return (
        '<details class="lacgeo-table"><summary>'
        f"Table of the {len(patches)} patches (text alternative to the map)</summary>"
        '<div class="lacgeo-scroll" tabindex="0" role="region" aria-label="Table of patches">'
        '<table class="lacgeo-patches"><caption>Patches, highest need first. Phase 1 = recommended to start.</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div></details>"
    )


# --- the map --------------------------------------------------------------------------------


def make_map(
    areas: gpd.GeoDataFrame,
    patches: gpd.GeoDataFrame,
    *,
    title: str,
    synthetic: bool = False,
) -> folium.Map:
    """Areas by need and IMD quintile, the LA outline, patch outlines and names, the recommended patches.

    Returns the folium map inside a self-contained page: ``.save(path)`` writes a
    ``map.html`` that draws with no network access.
    """
    areas_d = _display(areas)
    patches_d = _display(patches)
    outline = _display(gpd.GeoDataFrame(geometry=[areas.geometry.union_all()], crs=areas.crs))
    west, south, east, north = areas_d.total_bounds

    need = areas_d[NEED_INDEX].astype(float)
    vmin, vmax = float(need.min()), float(need.max())
    scale = cm.LinearColormap(NEED_COLOURS, vmin=vmin, vmax=vmax if vmax > vmin else vmin + 1e-9)

    page = _Page(
        title=title,
        intro=_intro(title, patches, synthetic=synthetic),
        legend=_legend(vmin, vmax),
        table=_table(patches),
    )
    fmap = _OfflineMap(
        location=[(south + north) / 2, (west + east) / 2],
        tiles=None,
        zoom_start=10,
        control_scale=True,
        zoom_snap=0.25,
    )
    page.add_child(fmap)
    # Fit the LA at once (folium's fit_bounds animates the first zoom), then place the labels.
    bounds = [[round(float(south), 5), round(float(west), 5)], [round(float(north), 5), round(float(east), 5)]]
    page.after_script = f"{fmap.get_name()}.fitBounds({bounds}, {{animate: false}});\n" + DECLUTTER_JS.replace(
        "__MAP__", fmap.get_name()
    )
    # Panes, bottom to top: area shading, recommended fill, patch outlines (overlay pane), LA outline, labels.
    folium.map.CustomPane("lacgeo-areas", z_index=350, pointer_events=True).add_to(fmap)
    folium.map.CustomPane("lacgeo-recommended", z_index=390, pointer_events=True).add_to(fmap)
    folium.map.CustomPane("lacgeo-outline", z_index=450, pointer_events=False).add_to(fmap)

    patch_label = patches_d[PATCH_NAME].map(escape_text)
    patch_label = patches_d.index.map(escape_text).to_series(index=patches_d.index) + " " + patch_label
    area_patch = areas_d[PATCH_ID]
    area_props = pd.DataFrame(
        {
            "name": areas_d[AREA_NAME].map(escape_text),
            "code": areas_d.index.map(escape_text),
            "pop": areas_d[POPULATION].map("{:,}".format),
            "need": need.round(2),
            "quintile": areas_d[IMD_QUINTILE].astype("Int64"),
            "patch": area_patch.map(patch_label).fillna(area_patch.map(escape_text)),
            "rank": area_patch.map(patches_d[RANK]).astype("Int64"),
            "phase": area_patch.map(patches_d[PHASE]).astype("Int64"),
        },
        index=areas_d.index,
    )
    area_data = _geojson(area_props, areas_d.geometry)
    area_fields = ["name", "code", "pop", "need", "quintile", "patch", "rank", "phase"]
    area_aliases = [
        "Area",
        "LSOA",
        "Population",
        "Need index",
        "IMD quintile (1 = most deprived)",
        "Patch",
        "Patch need rank",
        "Patch phase",
    ]
    area_aliases = [escape_text(a) for a in area_aliases]
    area_line = {"color": "#777777", "weight": 0.4, "fillOpacity": 0.75}
    folium.GeoJson(
        area_data,
        name=LAYER_NEED,
        overlay=False,
        show=True,
        style_function=lambda f: {"fillColor": scale(f["properties"]["need"])[:7], **area_line},
        tooltip=folium.GeoJsonTooltip(fields=area_fields, aliases=area_aliases),
        pane="lacgeo-areas",
        class_name=CLASS_AREA,
    ).add_to(fmap)
    folium.GeoJson(
        area_data,
        name=LAYER_QUINTILE,
        overlay=False,
        show=False,
        style_function=lambda f: {
            "fillColor": QUINTILE_COLOURS.get(f["properties"]["quintile"], "#cccccc"),
            **area_line,
        },
        tooltip=folium.GeoJsonTooltip(fields=area_fields, aliases=area_aliases),
        pane="lacgeo-areas",
        class_name=CLASS_AREA,
    ).add_to(fmap)

    folium.GeoJson(
        _geojson(pd.DataFrame({"name": [escape_text(LAYER_OUTLINE)]}), outline.geometry),
        name=LAYER_OUTLINE,
        style_function=lambda f: {"fill": False, "color": OUTLINE_COLOUR, "weight": 3},
        interactive=False,
        pane="lacgeo-outline",
        class_name=CLASS_OUTLINE,
        attribution=MAP_ATTRIBUTION,
    ).add_to(fmap)

    patch_props = pd.DataFrame(
        {
            "id": patches_d.index.map(escape_text),
            "name": patches_d[PATCH_NAME].map(escape_text),
            "pop": patches_d[POPULATION].map("{:,}".format),
            "need": patches_d[NEED_INDEX].astype(float).round(2),
            "rank": patches_d[RANK].astype(int),
            "phase": patches_d[PHASE].astype(int),
            "band": patches_d[BAND_STATUS].map(escape_text),
        },
        index=patches_d.index,
    )
    patch_fields = ["id", "name", "pop", "need", "rank", "phase", "band"]
    patch_aliases = ["Patch", "Name", "Population", "Need index", "Need rank", "Phase", "Population band"]
    patch_aliases = [escape_text(a) for a in patch_aliases]
    folium.GeoJson(
        _geojson(patch_props, patches_d.geometry),
        name=LAYER_PATCHES,
        style_function=lambda f: {"fill": False, "color": PATCH_COLOUR, "weight": 2},
        highlight_function=lambda f: {"weight": 4},
        tooltip=folium.GeoJsonTooltip(fields=patch_fields, aliases=patch_aliases),
        class_name=CLASS_PATCH,
    ).add_to(fmap)
    is_recommended = patch_props["phase"] == 1
    folium.GeoJson(
        _geojson(patch_props[is_recommended], patches_d.geometry[is_recommended]),
        name=LAYER_RECOMMENDED,
        style_function=lambda f: {
            "fillColor": RECOMMENDED_COLOUR,
            "fillOpacity": 0.15,
            "color": RECOMMENDED_COLOUR,
            "weight": 4,
        },
        highlight_function=lambda f: {"fillOpacity": 0.3},
        tooltip=folium.GeoJsonTooltip(fields=patch_fields, aliases=patch_aliases),
        pane="lacgeo-recommended",
        class_name=CLASS_RECOMMENDED,
    ).add_to(fmap)

    labels = folium.FeatureGroup(name=LAYER_LABELS)
    points = patches_d.geometry.representative_point()
    for pid, point in points.items():
        css = f"{CLASS_LABEL} rec" if patch_props.at[pid, "phase"] == 1 else CLASS_LABEL
        folium.Marker(
            location=[point.y, point.x],
            icon=folium.DivIcon(
                html=f'<span data-rank="{patch_props.at[pid, "rank"]}">{patch_props.at[pid, "name"]}</span>',
                icon_size=(0, 0),
                class_name=css,
            ),
            interactive=False,
            keyboard=False,
        ).add_to(labels)
    labels.add_to(fmap)

    # The layer list stays open, except on a phone-sized screen where it would cover the map.
    folium.LayerControl(collapsed=JsCode(f'window.matchMedia("{NARROW}").matches')).add_to(fmap)
    return fmap

"""The parts of ``map.html`` around the folium map: safe text, page CSS, the heading and patch
table, the legend, and the script that fills the area shadings and runs the place search.

Everything here writes page markup or inline script. Text from data passes through
:func:`escape_text`; data embedded in the page script passes through :func:`script_json`,
so no name can end the script element or be run as code. The scripts do not use a
template engine and are never compiled as one.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from .schema import AREA_NAME, MSOA_NAME, NEED_INDEX, PATCH_ID, PATCH_NAME, PHASE, POPULATION, RANK, WARD_NAME

WITHHELD_FILL = "url(#lacgeo-withheld)"
"""The fill of an area whose council value is withheld: a grey hatch (see :data:`HATCH_SVG`)."""
NO_DATA_FILL = "#cccccc"
WITHHELD_TEXT = "withheld (small number)"
NO_DATA_TEXT = "no data"
MAX_RESULTS = 12
"""Places listed at once by the search box; typing more narrows the list."""

# Searchable places, in the order results of equal quality are listed.
KIND_PATCH = "Patch"
KIND_WARD = "Ward"
KIND_MSOA = "Neighbourhood (MSOA)"
KIND_AREA = "LSOA"

HATCH_SVG = (
    '<svg class="lacgeo-defs" width="0" height="0" aria-hidden="true" focusable="false"><defs>'
    '<pattern id="lacgeo-withheld" patternUnits="userSpaceOnUse" width="6" height="6" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#d9d9d9"></rect>'
    '<line x1="1" y1="0" x2="1" y2="6" stroke="#5a5a5a" stroke-width="1.5"></line></pattern></defs></svg>'
)
HATCH_CSS_BOX = "background: repeating-linear-gradient(45deg, #5a5a5a 0 1.5px, #d9d9d9 1.5px 5px)"

# --- the page around the map ---------------------------------------------------------------------

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
.lacgeo-legend h2 { font-size: 0.85rem; margin: 0.1rem 0 0.2rem; max-width: 14rem; }
.lacgeo-legend .note { margin: 0 0 0.2rem; max-width: 14rem; }
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


WIDGET_CSS = """
.lacgeo-defs { position: absolute; width: 0; height: 0; overflow: hidden; }
.lacgeo-legend .missing { margin-top: 0.2rem; }
.lacgeo-search { position: absolute; left: 54px; top: 10px; z-index: 1000; width: 17rem; max-width: calc(100% - 70px);
  background: #fff; border: 1px solid #888; border-radius: 4px; padding: 0.35rem 0.5rem; font-size: 0.85rem; }
.lacgeo-search label { display: block; font-weight: 600; margin-bottom: 0.15rem; }
.lacgeo-search input { width: 100%; box-sizing: border-box; font: inherit; padding: 0.25rem 0.35rem;
  border: 1px solid #555; border-radius: 3px; }
.lacgeo-search .status { margin: 0.2rem 0 0; color: #333; }
.lacgeo-search .status:empty { display: none; }
.lacgeo-search ul { list-style: none; margin: 0.2rem 0 0; padding: 0; max-height: 14rem; overflow-y: auto; }
.lacgeo-search ul:empty { display: none; }
.lacgeo-search li button { display: block; width: 100%; text-align: left; font: inherit; color: #111;
  background: #fff; border: 0; border-top: 1px solid #ddd; padding: 0.25rem 0.2rem; cursor: pointer; }
.lacgeo-search li button:hover, .lacgeo-search li button:focus { background: #e6eef7; }
.lacgeo-search li button[aria-current="true"] { font-weight: 700; }
.lacgeo-search .kind { color: #444; font-size: 0.78rem; }
@media (max-width: 640px) {
  .lacgeo-search { position: static; width: auto; max-width: none; margin: 0.5rem 1rem; }
}
"""


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


def script_json(value: object) -> str:
    """``value`` as a JavaScript literal that is safe inside an inline ``<script>``.

    JSON, ASCII only (so U+2028 and U+2029 cannot end a line), with ``<``, ``>`` and
    ``&`` written as ``\\u`` escapes: nothing in it can close the script element or
    open an HTML comment.
    """
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --- the legend -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LegendSection:
    """The legend of one area shading, shown while that shading is the chosen base layer.

    ``title`` and item labels are plain text (escaped here). Either a colour ramp
    (``colours`` from ``low`` to ``high``) or ``items`` of (fill, label) swatches, or both.
    """

    title: str
    colours: tuple[str, ...] = ()
    low: str = ""
    high: str = ""
    note: str = ""
    items: tuple[tuple[str, str], ...] = ()


def _swatch(fill: str) -> str:
    style = HATCH_CSS_BOX if fill == WITHHELD_FILL else f"background:{fill}"
    return f'<span class="box" style="{style}"></span>'


def legend_html(sections: Sequence[LegendSection], lines: Sequence[tuple[str, str]]) -> str:
    """The map legend: one section per area shading (all but the first ``hidden`` until the
    page script shows the chosen one), then the outlines, always shown.

    ``lines`` are (CSS border-top, label) pairs for the outline layers.
    """
    parts = []
    for k, s in enumerate(sections):
        body = f"<h2>{escape_text(s.title)}</h2>"
        if s.note:
            body += f'<p class="note">{escape_text(s.note)}</p>'
        if s.colours:
            ramp = f"linear-gradient(to right, {', '.join(s.colours)})"
            body += (
                f'<div class="ramp" style="background:{ramp}"></div>'
                f'<div class="ends"><span>{escape_text(s.low)}</span><span>{escape_text(s.high)}</span></div>'
            )
        if s.items:
            items = "".join(f"<li>{_swatch(fill)}{escape_text(label)}</li>" for fill, label in s.items)
            body += f'<ul class="{"missing" if s.colours else "swatches"}">{items}</ul>'
        hidden = "" if k == 0 else " hidden"
        parts.append(f'<div class="shading" data-shading="{k}"{hidden}>{body}</div>')
    outlines = "".join(
        f'<li><span class="line" style="border-top:{border}"></span>{escape_text(label)}</li>'
        for border, label in lines
    )
    return (
        f'<div class="lacgeo-legend" role="group" aria-label="Legend">{"".join(parts)}<ul>{outlines}</ul></div>'
        + HATCH_SVG
    )


# --- the place search -----------------------------------------------------------------------

SEARCH_HTML = (
    '<div class="lacgeo-search" role="search" aria-label="Place search">'
    '<label for="lacgeo-search-input">Find a place</label>'
    '<input id="lacgeo-search-input" type="search" autocomplete="off" spellcheck="false" '
    'placeholder="Patch, ward, neighbourhood or LSOA" aria-controls="lacgeo-search-results" '
    'aria-describedby="lacgeo-search-status">'
    '<p id="lacgeo-search-status" class="status" role="status" aria-live="polite"></p>'
    '<ul id="lacgeo-search-results" aria-label="Matching places"></ul>'
    "</div>"
)


def latlng_bounds(geometry: gpd.GeoSeries) -> list[list[float]]:
    west, south, east, north = geometry.total_bounds
    return [[round(float(south), 5), round(float(west), 5)], [round(float(north), 5), round(float(east), 5)]]


def _point(geometry: gpd.GeoSeries) -> list[float]:
    point = geometry.union_all().representative_point()
    return [round(point.y, 5), round(point.x, 5)]


def search_index(areas: gpd.GeoDataFrame, patches: gpd.GeoDataFrame) -> list[dict]:
    """Every searchable place, as embedded in the page (all text through :func:`escape_text`).

    ``areas`` and ``patches`` are in WGS84; ``areas`` is in the order of the map's area
    features. Each entry: ``n`` name, ``c`` code, ``k`` kind, ``d`` a line of detail,
    ``b`` bounds ``[[south, west], [north, east]]``, ``p`` a point inside it, and the map
    feature it opens: ``a`` the area's position, or ``t`` the patch id (as shown); ``l`` the
    label its search result shows.
    """
    entries = []
    for pid, row in patches.sort_values(RANK).iterrows():
        geom = patches.geometry.loc[[pid]]
        entries.append(
            {
                "n": escape_text(row[PATCH_NAME]),
                "c": escape_text(pid),
                "l": escape_text(f"{pid} {row[PATCH_NAME]}"),
                "k": KIND_PATCH,
                "d": escape_text(f"Patch {pid}, need rank {int(row[RANK])}"),
                "b": latlng_bounds(geom),
                "p": _point(geom),
                "a": -1,
                "t": escape_text(pid),
            }
        )
    patch_names = patches[PATCH_NAME]
    for col, kind in ((WARD_NAME, KIND_WARD), (MSOA_NAME, KIND_MSOA)):
        if col not in areas:
            continue
        for name, members in areas.groupby(col, sort=True):
            in_patches = []
            if PATCH_ID in members:
                for pid in pd.unique(members[PATCH_ID]):
                    in_patches.append(f"{pid} {patch_names.get(pid, '')}".strip())
            n = len(members)
            detail = f"{kind}: {n} small area{'s' if n != 1 else ''}"
            if in_patches:
                detail += f"; patch{'es' if len(in_patches) != 1 else ''} " + ", ".join(in_patches)
            entries.append(
                {
                    "n": escape_text(name),
                    "c": "",
                    "l": escape_text(name),
                    "k": kind,
                    "d": escape_text(detail),
                    "b": latlng_bounds(members.geometry),
                    "p": _point(members.geometry),
                    "a": -1,
                    "t": "",
                }
            )
    order = sorted(range(len(areas)), key=lambda i: (str(areas[AREA_NAME].iloc[i]), str(areas.index[i])))
    for i in order:
        code = areas.index[i]
        geom = areas.geometry.iloc[[i]]
        entries.append(
            {
                "n": escape_text(areas[AREA_NAME].iloc[i]),
                "c": escape_text(code),
                "l": escape_text(f"{areas[AREA_NAME].iloc[i]} ({code})"),
                "k": KIND_AREA,
                "d": escape_text(f"LSOA {code}"),
                "b": latlng_bounds(geom),
                "p": _point(geom),
                "a": i,
                "t": "",
            }
        )
    return entries


# The page script that fills the area shadings from one shared copy of the area data,
# switches the legend with the chosen shading, and runs the place search. Placeholders
# (__NAME__) are replaced with script_json() literals or folium variable names.
AREAS_AND_SEARCH_JS = """
(function () {
  var map = __MAP__;
  var data = __DATA__;
  var shadings = __SHADINGS__;
  var layers = [__LAYERS__];
  var patchLayers = [__PATCH_LAYERS__];
  var places = __PLACES__;
  var maxResults = __MAX_RESULTS__;

  function details(p, k) {
    var rows = shadings[k].map(function (row) {
      var value = typeof row[1] === "number" ? p.v[row[1]] : p[row[1]];
      return "<tr><th>" + row[0] + "</th><td>" + (value === null || value === undefined ? "" : value) + "</td></tr>";
    });
    return "<table>" + rows.join("") + "</table>";
  }

  layers.forEach(function (layer, k) {
    layer.options.style = function (f) {
      return {fillColor: f.properties.fill[k], color: "#777777", weight: 0.4, fillOpacity: 0.75};
    };
    layer.addData(data);
    layer.bindTooltip(function (sub) { return details(sub.feature.properties, k); },
                      {sticky: true, className: "foliumtooltip"});
  });

  function shown() {
    for (var k = 0; k < layers.length; k++) {
      if (map.hasLayer(layers[k])) { return k; }
    }
    return 0;
  }

  var sections = Array.prototype.slice.call(document.querySelectorAll(".lacgeo-legend [data-shading]"));
  function showLegend() {
    var k = shown();
    sections.forEach(function (s) { s.hidden = Number(s.getAttribute("data-shading")) !== k; });
  }
  map.on("baselayerchange", showLegend);
  showLegend();

  // --- place search: names arrive escaped; they are shown with textContent, never as markup
  var decoder = document.createElement("textarea");
  function plain(s) { decoder.innerHTML = s; return decoder.value; }
  function fold(s) { return s.normalize("NFD").replace(/[\\u0300-\\u036f]/g, "").toLowerCase(); }
  var kinds = [];
  places.forEach(function (e) {
    e.text = plain(e.n);
    e.label = plain(e.l);
    e.key = fold(e.text + " " + plain(e.c));
    if (kinds.indexOf(e.k) < 0) { kinds.push(e.k); }
  });

  var input = document.getElementById("lacgeo-search-input");
  var list = document.getElementById("lacgeo-search-results");
  var status = document.getElementById("lacgeo-search-status");
  var found = [];

  function search(query) {
    var terms = fold(query).split(/\\s+/).filter(function (t) { return t.length > 0; });
    if (terms.join("").length < 2) { return []; }
    var hits = [];
    places.forEach(function (e) {
      if (!terms.every(function (t) { return e.key.indexOf(t) >= 0; })) { return; }
      var at = e.key.indexOf(terms[0]);
      var quality = at === 0 ? 0 : (/[\\s(,&'-]/.test(e.key.charAt(at - 1)) ? 1 : 2);
      hits.push({e: e, q: quality});
    });
    hits.sort(function (a, b) {
      return a.q - b.q || kinds.indexOf(a.e.k) - kinds.indexOf(b.e.k) || (a.e.text < b.e.text ? -1 : 1);
    });
    return hits.map(function (h) { return h.e; });
  }

  function buttons() { return Array.prototype.slice.call(list.querySelectorAll("button")); }

  function update() {
    found = search(input.value);
    list.textContent = "";
    found.slice(0, maxResults).forEach(function (e) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = e.label;
      var kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = " (" + e.k + ")";
      button.appendChild(kind);
      button.addEventListener("click", function () { choose(e, button); });
      item.appendChild(button);
      list.appendChild(item);
    });
    if (input.value.trim() === "") {
      status.textContent = "";
    } else if (found.length === 0) {
      status.textContent = fold(input.value).trim().length < 2 ? "Type at least 2 letters." : "No place matches.";
    } else if (found.length > maxResults) {
      status.textContent = "Showing " + maxResults + " of " + found.length + " places: type more to narrow the list.";
    } else {
      status.textContent = found.length + (found.length === 1 ? " place matches." : " places match.");
    }
  }

  // a patch's tooltip content (bound to its layer) for the patch, from a patch layer that is shown
  function patchDetails(id) {
    var content = null;
    patchLayers.forEach(function (layer) {
      if (content || !map.hasLayer(layer) || !layer.getTooltip()) { return; }
      layer.eachLayer(function (sub) {
        if (content || !sub.feature || sub.feature.properties.id !== id) { return; }
        var tip = layer.getTooltip().getContent();
        content = typeof tip === "function" ? tip(sub) : tip;
      });
    });
    return content;
  }

  function choose(e, button) {
    map.fitBounds(e.b, {animate: false, maxZoom: 16, padding: [24, 24]});
    var content = null;
    if (e.a >= 0) {
      content = details(data.features[e.a].properties, shown());
    } else if (e.t) {
      content = patchDetails(e.t);
    }
    if (!content) {
      content = "<strong>" + e.n + "</strong><br>" + e.d;
    }
    L.popup({maxWidth: 360, className: "lacgeo-found"}).setLatLng(e.p).setContent(content).openOn(map);
    buttons().forEach(function (b) { b.removeAttribute("aria-current"); });
    if (button) { button.setAttribute("aria-current", "true"); }
    status.textContent = "Showing " + e.label + " (" + e.k + ") on the map.";
  }

  input.addEventListener("input", update);
  input.addEventListener("keydown", function (ev) {
    var all = buttons();
    if (ev.key === "ArrowDown" && all.length) { ev.preventDefault(); all[0].focus(); }
    if (ev.key === "Enter" && found.length) { ev.preventDefault(); choose(found[0], all[0]); }
    if (ev.key === "Escape") { input.value = ""; update(); }
  });
  list.addEventListener("keydown", function (ev) {
    var all = buttons();
    var at = all.indexOf(document.activeElement);
    if (at < 0) { return; }
    if (ev.key === "ArrowDown" && at < all.length - 1) { ev.preventDefault(); all[at + 1].focus(); }
    if (ev.key === "ArrowUp") { ev.preventDefault(); (at > 0 ? all[at - 1] : input).focus(); }
    if (ev.key === "Escape") { ev.preventDefault(); input.focus(); }
  });
})();
"""


def areas_and_search_js(
    *,
    map_name: str,
    data: dict,
    shadings: Sequence[Sequence[tuple[str, str | int]]],
    layer_names: Sequence[str],
    patch_layer_names: Sequence[str],
    places: list[dict],
) -> str:
    """The page script (see :data:`AREAS_AND_SEARCH_JS`) with its data filled in.

    ``shadings`` gives each area layer's tooltip rows: (escaped label, property name or
    index into the feature's ``v`` values).
    """
    values = {
        "__MAP__": map_name,
        "__LAYERS__": ", ".join(layer_names),
        "__PATCH_LAYERS__": ", ".join(patch_layer_names),
        "__SHADINGS__": script_json([[list(row) for row in rows] for rows in shadings]),
        "__PLACES__": script_json(places),
        "__MAX_RESULTS__": str(MAX_RESULTS),
        "__DATA__": script_json(data),
    }
    # one pass over the template only: text from data is never searched for placeholders
    return re.sub(r"__[A-Z_]+__", lambda m: values[m.group(0)], AREAS_AND_SEARCH_JS)


# --- page text ------------------------------------------------------------------------------


def intro_html(title: str, patches: pd.DataFrame, *, synthetic: bool) -> str:
    recommended = patches[patches[PHASE] == 1].sort_values(RANK)
    picks = "; ".join(f"{escape_text(pid)} {escape_text(row[PATCH_NAME])}" for pid, row in recommended.iterrows())
    parts = [
        f"<h1>{escape_text(title)}</h1>",
        f"<p>{len(patches)} patches ranked by need (need rank 1 = highest need). "
        f"Recommended for phase 1 (blue outline): {picks or 'none'}.</p>",
        "<p>Hover over (or tap) an area or a patch for its details; switch layers in the list at the top right, "
        "or find a patch, ward, neighbourhood or small area (LSOA) with the search box. "
        "A table of all patches follows the map.</p>",
    ]
    if synthetic:
        parts.append('<p class="lacgeo-warning">SYNTHETIC service-demand data: not for decisions</p>')
    return "\n".join(parts)


def table_html(patches: pd.DataFrame) -> str:
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

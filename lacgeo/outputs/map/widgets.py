"""The parts of ``map.html`` around the folium map: the page CSS, the heading and patch table, the
legend, and the script that fills the area shadings and runs the place search (the CSS and
scripts are the package files in ``assets/``).

Everything here writes page markup or inline script. Text from data passes through
:func:`~lacgeo.outputs.escape.escape_text`; data embedded in the page script passes through
:func:`~lacgeo.outputs.escape.script_json`,
so no name can end the script element or be run as code. The scripts do not use a
template engine and are never compiled as one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import shapely

from ...schema import AREA_NAME, MSOA_NAME, NEED_INDEX, PATCH_ID, PATCH_NAME, PHASE, POPULATION, RANK, WARD_NAME
from ..assets import asset_text
from ..escape import escape_text, script_json
from ..report.words import IN_POST, bilingual, phase_text

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

PAGE_CSS = asset_text(__package__, "page.css")


# Patch names are permanent labels. The phase-1 picks' numbered markers and names are placed first and
# never hidden (a name moves round its marker to stay clear and on the map); any other label that would
# overlap one already placed, a control, or the map's edge is hidden until zooming in makes room.
DECLUTTER_JS = asset_text(__package__, "declutter.js")

# The first view: the whole area, clear of the tall panels that float over the map (layer list, legend).
FIT_JS = asset_text(__package__, "fit.js")

# The skip link to the layer list, and no tab stop per drawn shape.
KEYBOARD_JS = asset_text(__package__, "keyboard.js")

SKIP_LINK = '<a class="lacgeo-skip" href="#lacgeo-layers">Skip to the map layers</a>'


WIDGET_CSS = asset_text(__package__, "widgets.css")


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
    mark: tuple[float, str] | None = None
    """A point on the ramp (0 to 1 along it) and its label, such as the area's average; with a mark,
    ``low`` and ``high`` are sentences under the ramp, not its end values."""


@dataclass(frozen=True)
class LineStyle:
    """An outline as the map draws it, so the legend shows the same line: colour, width in pixels,
    an SVG dash pattern, and a wider line of ``halo`` colour drawn under it."""

    label: str
    colour: str
    weight: float
    dash: str = ""
    halo: str = ""

    def svg(self) -> str:
        ends = 'x1="3" y1="8" x2="41" y2="8"'
        parts = ['<rect width="44" height="16" fill="#9a9a9a"></rect>'] if self.halo else []
        if self.halo:
            parts.append(f'<line {ends} stroke="{self.halo}" stroke-width="{self.weight + 5:g}"></line>')
        dash = f' stroke-dasharray="{self.dash}"' if self.dash else ""
        parts.append(f'<line {ends} stroke="{self.colour}" stroke-width="{self.weight:g}"{dash}></line>')
        return (
            '<svg class="line" width="44" height="16" viewBox="0 0 44 16" aria-hidden="true" focusable="false">'
            + "".join(parts)
            + "</svg>"
        )


def _swatch(fill: str) -> str:
    style = HATCH_CSS_BOX if fill == WITHHELD_FILL else f"background:{fill}"
    return f'<span class="box" style="{style}"></span>'


def _ramp_html(s: LegendSection) -> str:
    ramp = f"linear-gradient(to right, {', '.join(s.colours)})"
    if s.mark is None:
        return (
            f'<div class="ramp" style="background:{ramp}"></div>'
            f'<div class="ends"><span>{escape_text(s.low)}</span><span>{escape_text(s.high)}</span></div>'
        )
    at, label = s.mark
    pct = f"{100 * at:.1f}%"
    rest = f"{100 - 100 * at:.1f}%"
    side = f"padding-left:calc({pct} - 0.35rem)" if at <= 0.5 else f"padding-right:calc({rest} - 0.35rem)"
    align = "left" if at <= 0.5 else "right"
    text = f"&#9650; {escape_text(label)}" if at <= 0.5 else f"{escape_text(label)} &#9650;"
    return (
        f'<div class="ramp" style="background:{ramp}"><span class="tick" style="left:{pct}"></span></div>'
        f'<div class="avg" style="{side};text-align:{align}">{text}</div>'
        f'<p class="note">{escape_text(s.low)}<br>{escape_text(s.high)}</p>'
    )


def legend_html(
    sections: Sequence[LegendSection], lines: Sequence[LineStyle], *, picks: int = 0, in_post: int = 0
) -> str:
    """The map legend: one section per area shading (all but the first ``hidden`` until the
    page script shows the chosen one), then the outlines as the map draws them, the numbered
    markers of the ``picks`` phase-1 patches and the "In post" label of the ``in_post`` areas of
    coordinators already in post, always shown.
    """
    parts = []
    for k, s in enumerate(sections):
        body = f"<h2>{escape_text(s.title)}</h2>"
        if s.note:
            body += f'<p class="note">{escape_text(s.note)}</p>'
        if s.colours:
            body += _ramp_html(s)
        if s.items:
            items = "".join(f"<li>{_swatch(fill)}{escape_text(label)}</li>" for fill, label in s.items)
            body += f'<ul class="{"missing" if s.colours else "swatches"}">{items}</ul>'
        hidden = "" if k == 0 else " hidden"
        parts.append(f'<div class="shading" data-shading="{k}"{hidden}>{body}</div>')
    outlines = "".join(f"<li>{line.svg()}{escape_text(line.label)}</li>" for line in lines)
    if picks:
        numbers = "".join(f'<span class="pin">{n}</span>' for n in range(1, min(picks, 3) + 1))
        outlines += f'<li><span class="pins">{numbers}</span>Phase 1, numbered in need order</li>'
    if in_post:
        outlines += (
            '<li><span class="lacgeo-post-tag" aria-hidden="true">In post</span>'
            f"Coordinator{'s' if in_post != 1 else ''} already {IN_POST}, named on the map</li>"
        )
    return (
        '<div class="lacgeo-legend" role="group" aria-label="Legend" tabindex="0">'
        f"{''.join(parts)}<ul>{outlines}</ul></div>" + HATCH_SVG
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


def _each(geometry: gpd.GeoSeries) -> tuple[list[list[list[float]]], list[list[float]]]:
    """:func:`latlng_bounds` and :func:`_point` of every geometry on its own, in one pass each
    (shapely's array functions, not a GeoSeries per row)."""
    geoms = geometry.to_numpy()
    bounds = shapely.bounds(geoms).tolist()
    points = shapely.point_on_surface(shapely.union_all(geoms[:, None], axis=1))
    xs, ys = shapely.get_x(points).tolist(), shapely.get_y(points).tolist()
    return (
        [[[round(s, 5), round(w, 5)], [round(n, 5), round(e, 5)]] for w, s, e, n in bounds],
        [[round(y, 5), round(x, 5)] for x, y in zip(xs, ys, strict=True)],
    )


def search_index(areas: gpd.GeoDataFrame, patches: gpd.GeoDataFrame) -> list[dict]:
    """Every searchable place, as embedded in the page (all text through :func:`escape_text`).

    ``areas`` and ``patches`` are in WGS84; ``areas`` is in the order of the map's area
    features. Each entry: ``n`` name, ``c`` code, ``k`` kind, ``d`` a line of detail,
    ``b`` bounds ``[[south, west], [north, east]]``, ``p`` a point inside it, and the map
    feature it opens: ``a`` the area's position, or ``t`` the patch id (as shown); ``l`` the
    label its search result shows. A ward or MSOA with a Welsh name (a ``<col>_cy`` column, such
    as ``msoa_name_cy``) is named in both languages, and found by either.
    """
    entries = []
    ranked = patches.sort_values(RANK)
    for (pid, name, rank, phase), box, point in zip(
        zip(ranked.index, ranked[PATCH_NAME], ranked[RANK], ranked[PHASE].astype(int), strict=True),
        *_each(ranked.geometry),
        strict=True,
    ):
        entries.append(
            {
                "n": escape_text(name),
                "c": escape_text(pid),
                "l": escape_text(f"{pid} {name}"),
                "k": KIND_PATCH,
                "d": escape_text(
                    f"Patch {pid}, coordinator {IN_POST}" if phase == 0 else f"Patch {pid}, need rank {int(rank)}"
                ),
                "b": box,
                "p": point,
                "a": -1,
                "t": escape_text(pid),
            }
        )
    patch_names = patches[PATCH_NAME]
    for col, kind in ((WARD_NAME, KIND_WARD), (MSOA_NAME, KIND_MSOA)):
        if col not in areas:
            continue
        for name, members in areas.groupby(col, sort=True):
            shown = bilingual(name, members[f"{col}_cy"].iat[0] if f"{col}_cy" in members else None)
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
                    "n": escape_text(shown),
                    "c": "",
                    "l": escape_text(shown),
                    "k": kind,
                    "d": escape_text(detail),
                    "b": latlng_bounds(members.geometry),
                    "p": _point(members.geometry),
                    "a": -1,
                    "t": "",
                }
            )
    names = areas[AREA_NAME].astype(str).tolist()
    codes = areas.index.astype(str).tolist()
    boxes, points = _each(areas.geometry)
    for i in sorted(range(len(areas)), key=lambda i: (names[i], codes[i])):
        code, name = areas.index[i], areas[AREA_NAME].iat[i]
        entries.append(
            {
                "n": escape_text(name),
                "c": escape_text(code),
                "l": escape_text(f"{name} ({code})"),
                "k": KIND_AREA,
                "d": escape_text(f"LSOA {code}"),
                "b": boxes[i],
                "p": points[i],
                "a": i,
                "t": "",
            }
        )
    return entries


# The page script that fills the area shadings from one shared copy of the area data,
# switches the legend with the chosen shading, and runs the place search. Placeholders
# (__NAME__) are replaced with script_json() literals or folium variable names.
AREAS_AND_SEARCH_JS = asset_text(__package__, "areas_and_search.js")


def areas_and_search_js(
    *,
    map_name: str,
    data: dict,
    shadings: Sequence[Sequence[tuple[str, str | int]]],
    layer_names: Sequence[str],
    patch_layer_names: Sequence[str],
    places: list[dict],
    fill_opacity: float = 0.75,
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
        "__FILL_OPACITY__": f"{fill_opacity:g}",
    }
    # one pass over the template only: text from data is never searched for placeholders
    return re.sub(r"__[A-Z_]+__", lambda m: values[m.group(0)], AREAS_AND_SEARCH_JS)


# --- page text ------------------------------------------------------------------------------


def summary_html(title: str, patches: pd.DataFrame, *, synthetic: bool) -> str:
    """The heading and the phase-1 picks, numbered as on the map: the words before the map, kept short
    so that on a phone the map starts within the first screen."""
    recommended = patches[patches[PHASE] == 1].sort_values(RANK)
    in_post = patches[patches[PHASE] == 0].sort_values(RANK)
    parts = [f"<h1>{escape_text(title)}</h1>"]
    if synthetic:
        parts.append('<p class="lacgeo-warning">SYNTHETIC service-demand data: not for decisions</p>')
    if len(in_post):
        names = "; ".join(f"{escape_text(pid)} {escape_text(row[PATCH_NAME])}" for pid, row in in_post.iterrows())
        parts.append(
            f'<p class="lacgeo-in-post-head"><span class="lacgeo-post-key" aria-hidden="true"></span>'
            f"Coordinators already {IN_POST} (solid green outline, kept as given): {names}</p>"
        )
    if len(recommended):
        picks = "".join(
            f'<li><span class="pin" aria-hidden="true">{n}</span>{escape_text(pid)} {escape_text(row[PATCH_NAME])}</li>'
            for n, (pid, row) in enumerate(recommended.iterrows(), start=1)
        )
        parts.append(
            '<p class="lacgeo-picks-head">Recommended for phase 1, numbered on the map in need order:</p>'
            f'<ol class="lacgeo-picks">{picks}</ol>'
        )
    else:
        parts.append("<p>No patch could be recommended for phase 1.</p>")
    return "\n".join(parts)


def about_html(patches: pd.DataFrame, *, place: str, method_words: str = "", notes: Sequence[str] = ()) -> str:
    """The words after the map: how to read and use it. Where a control's place differs between a wide
    screen and a phone, both are written and the page's CSS shows the one that is true."""
    n_post = int((patches[PHASE] == 0).sum())
    ranked = len(patches) - n_post
    one = n_post == 1
    post = (
        f" {'The area' if one else f'The {n_post} areas'} of coordinators already {IN_POST} "
        f"{'has' if one else 'have'} a solid dark green outline with a white edge and a label starting "
        f"\u201cIn post\u201d: {'it is' if one else 'they are'} kept as the council gave {'it' if one else 'them'}, "
        f"not ranked, and the new picks never overlap {'it' if one else 'them'}."
        if n_post
        else ""
    )
    parts = [
        "<h2>About this map</h2>",
        f"<p>{ranked} patches ranked by need (need rank 1 = highest need). The phase-1 patches have a "
        "thick dashed blue outline with a white edge and a numbered marker; other patches have thin black "
        f"outlines.{post}</p>",
        '<p class="lacgeo-howto">Hover over (or tap) an area or a patch for its details. '
        "Choose what the map shows with "
        '<span class="lacgeo-wide">the list of layers at the top right of the map</span>'
        '<span class="lacgeo-narrow">the layers button at the top right of the map</span>, '
        "and find a patch, ward, neighbourhood or small area (LSOA) with the search box "
        '<span class="lacgeo-wide">at the top left of the map</span>'
        '<span class="lacgeo-narrow">under the map</span>. '
        'A <a href="#lacgeo-table">table of all patches</a> follows.</p>',
        "<p>The need index mixes the indicators by their weights"
        + (f", each measured as {escape_text(method_words)}" if method_words else "")
        + f". Areas shaded darker have more need than the {escape_text(place)} average, lighter less.</p>",
        *(f"<p>{escape_text(note)}</p>" for note in notes),
    ]
    return "\n".join(parts)


def _need_text(value: float) -> str:
    """A patch's need index as the table prints it; a withheld one (small council counts) says so."""
    return "withheld (small numbers)" if pd.isna(value) else f"{float(value):.2f}"


def table_html(patches: pd.DataFrame) -> str:
    """The text alternative to the map: every patch, highest need first."""
    rows = []
    ordered = patches.assign(_post=patches[PHASE] != 0).sort_values(["_post", RANK], kind="stable")  # in post first
    for pid, row in ordered.iterrows():
        phase = int(row[PHASE])
        rank = "–" if phase == 0 else str(int(row[RANK]))  # in post: not ranked for rollout
        rows.append(
            {1: '<tr class="rec">', 0: '<tr class="post">'}.get(phase, "<tr>")
            + f"<td>{escape_text(pid)}</td><td>{escape_text(row[PATCH_NAME])}</td>"
            f'<td class="num">{int(row[POPULATION]):,}</td><td class="num">{_need_text(row[NEED_INDEX])}</td>'
            f'<td class="num">{rank}</td><td class="num">{phase_text(phase, capital=True)}</td></tr>'
        )
    post = (
        " In post = a coordinator already working there: the area is kept as given and not ranked (listed first)."
        if (patches[PHASE] == 0).any()
        else ""
    )
    head = "".join(
        f'<th scope="col">{h}</th>' for h in ("Patch", "Name", "Population", "Need index", "Need rank", "Phase")
    )
    return (
        '<details class="lacgeo-table" id="lacgeo-table"><summary>'
        f"Table of the {len(patches)} patches (text alternative to the map)</summary>"
        '<div class="lacgeo-scroll" tabindex="0" role="region" aria-label="Table of patches">'
        '<table class="lacgeo-patches"><caption>Patches, highest need first. Phase 1 = recommended to start.'
        f"{post}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div></details>"
    )

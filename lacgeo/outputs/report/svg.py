"""Inline SVG for ``report.html``: maps of the patches and the needs-assessment chart.

Geometry stays in EPSG:27700 and is projected straight into each drawing's viewBox
(y flipped, whole units), simplified to about one unit first. Nothing is fetched or
scripted: plain ``<svg>`` with a title and description for screen readers. Every text
value from data passes through :func:`~lacgeo.outputs.escape.escape_text`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from ...schema import LAD_CODE, PATCH_ID, PATCH_NAME, POPULATION
from ..escape import escape_text as E

if TYPE_CHECKING:
    import geopandas as gpd

HIGHLIGHT = "#2166ac"
DARK = "#0b2a4e"
GREY = "#8c8c8c"
RING = "#b2182b"
IN_POST_FILL = "#00441b"
"""The areas of coordinators already in post (phase 0): a darker green than any phase's, cross-hatched in white,
apart from every phase of the rollout in colour and in grey (no phase is cross-hatched), green as on the map
and in QGIS."""
IN_POST_EDGE = "#111111"
IN_POST_LABEL = "In post"
# viridis: dark to light, distinct in lightness and hue, for the phases
PHASE_RAMP = (
    "#440154",
    "#482878",
    "#3e4989",
    "#31688e",
    "#26828e",
    "#1f9e89",
    "#35b779",
    "#6ece58",
    "#b5de2b",
    "#fde725",
)


class Canvas:
    """Projects EPSG:27700 coordinates into an SVG viewBox (y flipped, whole units)."""

    def __init__(self, bounds: Iterable[float], *, width: float, max_height: float, pad: float = 6):
        minx, miny, maxx, maxy = bounds
        dx, dy = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
        self.scale = min((width - 2 * pad) / dx, (max_height - 2 * pad) / dy)
        self.origin = np.array([minx, maxy])
        self.pad = pad
        self.width, self.height = round(dx * self.scale + 2 * pad), round(dy * self.scale + 2 * pad)

    def xy(self, point) -> tuple[int, int]:
        x, y = np.round((np.array([point.x, point.y]) - self.origin) * [self.scale, -self.scale] + self.pad)
        return int(x), int(y)

    def path(self, geom) -> str:
        parts = []
        for ring in rings(geom):
            pts = (shapely.get_coordinates(ring) - self.origin) * [self.scale, -self.scale] + self.pad
            pts = np.round(pts).astype(int)
            pts = pts[np.r_[True, (np.diff(pts, axis=0) != 0).any(axis=1)]]
            if len(pts) >= 4:
                parts.append("M" + " ".join(f"{x},{y}" for x, y in pts[:-1]) + "Z")
        return "".join(parts)

    def svg(self, body: str, *, title: str, desc: str, svg_id: str) -> str:
        return (
            f'<svg viewBox="0 0 {self.width} {self.height}" width="{self.width}" height="{self.height}" role="img" '
            f'aria-labelledby="{svg_id}-t {svg_id}-d"><title id="{svg_id}-t">{title}</title>'
            f'<desc id="{svg_id}-d">{desc}</desc>{body}</svg>'
        )


def rings(geom) -> Iterable:
    """Every exterior and interior ring of a (multi)polygon or collection; nothing for an empty one."""
    if geom is None or geom.is_empty:
        return
    if geom.geom_type == "Polygon":
        yield geom.exterior
        yield from geom.interiors
    elif hasattr(geom, "geoms"):
        for part in geom.geoms:
            yield from rings(part)


def simplify_coverage(geoms, tolerance: float) -> np.ndarray:
    """Simplify a coverage so neighbours keep matching edges."""
    try:
        return shapely.coverage_simplify(geoms, tolerance)
    except Exception:  # pragma: no cover - not a clean coverage: simplify each on its own
        return shapely.simplify(geoms, tolerance, preserve_topology=True)


def _paths(canvas: Canvas, geoms: Iterable, *, group: str) -> str:
    return f"<g {group}>" + "".join(f'<path d="{canvas.path(g)}"/>' for g in geoms) + "</g>"


HALO = 'stroke="#fff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'


def scale_bar(canvas: Canvas, *, font: float = 13) -> str:
    """A scale bar in the bottom-left corner: a round length (100 m, 1 km, 2 km, 5 km...) about a
    fifth of the drawing's width, on a white ground."""
    target = canvas.width / 5 / canvas.scale  # metres
    mag = 10 ** math.floor(math.log10(target))
    metres = max(s * mag for s in (1, 2, 5) if s * mag <= target)
    length = metres * canvas.scale
    label = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    x, y = canvas.pad + 4, canvas.height - canvas.pad - 6
    return (
        f'<g class="scale"><rect x="{x - 3}" y="{y - font - 8:.0f}" width="{length + 6:.0f}" height="{font + 14:.0f}" '
        f'fill="#fff" fill-opacity="0.85"/><path d="M{x},{y - 5}V{y}H{x + length:.0f}V{y - 5}" fill="none" '
        f'stroke="#111" stroke-width="1.6"/><text x="{x}" y="{y - 8}" font-size="{font}">{label}</text></g>'
    )


def place_labels(canvas: Canvas, places: pd.DataFrame, *, font: float, taken: list | None = None) -> str:
    """Names at points without overlaps: ``places`` has ``x``, ``y`` (EPSG:27700), ``name`` (plain
    text) and ``strong`` (bold), in order of priority. A name sits on its point, or just above or
    below it, slid sideways to stay inside the drawing; one that would still overlap a name already
    placed (or a box in ``taken``) is left out."""
    boxes = list(taken or [])
    out = []
    for _, place in places.iterrows():
        px, py = canvas.xy(shapely.Point(place["x"], place["y"]))
        width = font * len(str(place["name"])) * (0.66 if place["strong"] else 0.58)  # bold is wider
        for dy in (0, -1.1 * font, 1.1 * font):  # at the point, else just above or below it
            # slid sideways to stay inside the drawing
            x = min(max(px, width / 2 + 3), canvas.width - width / 2 - 3)
            y = round(py + dy)
            box = (x - width / 2 - 2, y - font, x + width / 2 + 2, y + 3)
            if box[0] < 1 or box[2] > canvas.width - 1 or box[1] < 1 or box[3] > canvas.height - 1:
                continue
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes):
                break
        else:
            continue
        boxes.append(box)
        weight = ' font-weight="700"' if place["strong"] else ' fill="#333" font-style="italic"'
        out.append(
            f'<text x="{x:.0f}" y="{y}" text-anchor="middle" font-size="{font}"{weight} {HALO}>'
            f"{E(place['name'])}</text>"
        )
    return f'<g class="places">{"".join(out)}</g>' if out else ""


class PatchMaps:
    """The maps of one run's patches; the LA-wide drawing is projected and simplified once for all of them.

    ``patches`` and ``areas`` are the run's GeoDataFrames (EPSG:27700); ``la_name`` is plain text.
    """

    def __init__(self, patches: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, la_name: str):
        self.patches, self.areas, self.la = patches, areas, E(la_name)
        self.canvas = Canvas(areas.total_bounds, width=420, max_height=460)
        self.geoms = pd.Series(simplify_coverage(patches.geometry.values, 1 / self.canvas.scale), patches.index)
        self.outline = areas.geometry.union_all(method="coverage")
        self.points = patches.geometry.representative_point()
        self.places = self._places(areas)
        # district boundaries inside an area of several districts (a county, an ICB, a list of councils)
        self.districts = None
        if LAD_CODE in areas and areas[LAD_CODE].nunique() > 1:
            parts = areas.geometry.groupby(areas[LAD_CODE]).apply(lambda g: g.union_all(method="coverage"))
            self.districts = simplify_coverage(parts.values, 1 / self.canvas.scale)

    @staticmethod
    def _places(areas: gpd.GeoDataFrame) -> pd.DataFrame:
        """Named places for the close-ups: each neighbourhood (MSOA) name at a point inside its
        area, with its population; largest first."""
        if "msoa_name" not in areas:
            return pd.DataFrame({"name": [], "x": [], "y": [], "population": []})
        groups = areas.groupby("msoa_name", sort=True)
        shapes = groups.geometry.apply(lambda g: g.union_all(method="coverage"))
        points = shapely.point_on_surface(shapes.values)
        places = pd.DataFrame(
            {
                "name": shapes.index,
                "x": shapely.get_x(points),
                "y": shapely.get_y(points),
                "population": groups[POPULATION].sum().astype(float).to_numpy(),
            }
        )
        return places.sort_values(["population", "name"], ascending=[False, True], kind="stable").reset_index(drop=True)

    def _district_lines(self, canvas: Canvas) -> str:
        """District boundaries, dashed, for an area of several districts ("" otherwise); the
        area's outline is drawn solid over their outer edges."""
        if self.districts is None:
            return ""
        return _paths(
            canvas, self.districts, group='fill="none" stroke="#111" stroke-width="1.3" stroke-dasharray="5 3"'
        )

    def overview(
        self,
        *,
        highlight: list[str],
        svg_id: str,
        numbers: dict[str, str] | None = None,
        in_post: Iterable[str] = (),
    ) -> str:
        """The LA with every patch outlined in grey, ``highlight`` filled blue, ``numbers`` written on patches,
        and the ``in_post`` areas of coordinators already in post green and cross-hatched."""
        canvas, geoms = self.canvas, self.geoms
        in_post = [pid for pid in in_post if pid not in highlight]
        body = _paths(
            canvas,
            [g for pid, g in geoms.items() if pid not in highlight and pid not in in_post],
            group=f'fill="#f4f4f4" stroke="{GREY}" stroke-width="0.8" fill-rule="evenodd"',
        )
        if in_post:
            body = _cross_hatch(f"{svg_id}-post") + body + _in_post_paths(canvas, geoms[in_post], f"{svg_id}-post")
        body += _paths(
            canvas, geoms[highlight], group=f'fill="{HIGHLIGHT}" stroke="{DARK}" stroke-width="1.4" fill-rule="evenodd"'
        )
        body += self._district_lines(canvas)
        body += f'<path d="{canvas.path(self.outline)}" fill="none" stroke="#111" stroke-width="1.6"/>'
        body += scale_bar(canvas)
        for pid in highlight:  # a ring around (never over) the patch, so a small urban one can be found
            minx, miny, maxx, maxy = self.patches.geometry[pid].bounds
            x, y = canvas.xy(shapely.Point((minx + maxx) / 2, (miny + maxy) / 2))
            r = max(math.hypot(maxx - minx, maxy - miny) / 2 * canvas.scale + 4, 9)
            body += f'<circle class="ring" cx="{x}" cy="{y}" r="{r:.0f}" fill="none" stroke="{RING}" stroke-width="2"/>'
            if numbers and pid in numbers:
                tx = x + r * 0.75 + 3
                body += (
                    f'<text x="{tx:.0f}" y="{y - r * 0.7 + 2:.0f}" font-size="16" font-weight="700" {HALO}>'
                    f"{E(numbers[pid])}</text>"
                )
        names = "; ".join(f"{E(pid)} {E(self.patches.at[pid, PATCH_NAME])}" for pid in highlight)
        districts = "; district boundaries dashed" if self.districts is not None else ""
        post = "; ".join(f"{E(pid)} {E(self.patches.at[pid, PATCH_NAME])}" for pid in in_post)
        post = f"; coordinators already in post in green, cross-hatched: {post}" if post else ""
        desc = (
            f"Outline map of {self.la} with its {len(geoms)} patches in grey{districts}; highlighted in blue: "
            f"{names}{post}."
        )
        return canvas.svg(body, title=f"Map of {self.la}", desc=desc, svg_id=svg_id)

    def closeup(self, pid: str, *, svg_id: str) -> str:
        """The patch, its neighbourhoods (LSOAs) and the patches around it."""
        patches = self.patches
        minx, miny, maxx, maxy = patches.geometry[pid].bounds
        margin = max(0.2 * max(maxx - minx, maxy - miny), 800.0)
        box = (minx - margin, miny - margin, maxx + margin, maxy + margin)
        canvas = Canvas(box, width=420, max_height=420)
        near = patches.geometry[patches.intersects(shapely.box(*box))]
        clipped = pd.Series(simplify_coverage(shapely.clip_by_rect(near.values, *box), 1 / canvas.scale), near.index)
        lsoas = self.areas.geometry[self.areas[PATCH_ID] == pid]
        body = _paths(
            canvas,
            clipped.drop(pid),
            group=f'fill="#f4f4f4" stroke="{GREY}" stroke-width="1.2" fill-rule="evenodd"',
        )
        body += _paths(
            canvas,
            simplify_coverage(lsoas.values, 1 / canvas.scale),
            group=f'fill="#d7e4f2" stroke="{HIGHLIGHT}" stroke-width="0.8" fill-rule="evenodd"',
        )
        body += f'<path d="{canvas.path(clipped[pid])}" fill="none" stroke="{DARK}" stroke-width="3"/>'
        bar = scale_bar(canvas, font=16)
        # the scale bar's corner is kept clear of names
        corner = (0, canvas.height - canvas.pad - 40, canvas.width / 5 + 30, canvas.height)
        places = self.places
        inside = (places["x"].between(box[0], box[2])) & (places["y"].between(box[1], box[3]))
        own = set(self.areas.loc[self.areas[PATCH_ID] == pid, "msoa_name"]) if "msoa_name" in self.areas else set()
        places = places[inside].assign(strong=lambda p: p["name"].isin(own))  # bold: has people in the patch
        places = pd.concat([places[places["strong"]], places[~places["strong"]]])
        labels = place_labels(canvas, places, font=18, taken=[corner])
        body += labels + bar
        n = len(lsoas)
        named = re.findall(r">([^<]*)</text>", labels)
        desc = (
            f"Close-up of patch {E(pid)} {E(patches.at[pid, PATCH_NAME])}: its {n:,} "
            f"neighbourhood{'' if n == 1 else 's'} (LSOAs) in light blue with thin boundaries, the patch boundary in "
            "dark blue, neighbouring patches in grey"
            + (f"; places named: {', '.join(named)}" if named else "")
            + ". A scale bar is in the bottom-left corner."
        )
        return canvas.svg(body, title=f"Close-up of patch {E(pid)}", desc=desc, svg_id=svg_id)

    def phases(self, phase: pd.Series, colours: dict[int, str], *, svg_id: str) -> str:
        """Every patch filled with the colour of its phase (``phase``: by patch id; ``colours``: by phase),
        numbered with it, and even phases hatched: told apart without colour (printed in grey) too. The
        areas of coordinators already in post (phase 0) are green, cross-hatched and marked "In post"."""
        canvas = self.canvas
        phase = phase.reindex(self.geoms.index).astype(int)
        post = phase.index[phase == 0]
        hatch = f"{svg_id}-hatch"
        defs = (
            f'<defs><pattern id="{hatch}" width="5" height="5" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><path d="M0,0V5" stroke="#fff" stroke-width="1.6"/></pattern></defs>'
        )
        body = "".join(
            f'<path d="{canvas.path(g)}" fill="{colours[int(phase[pid])]}"/>' for pid, g in self.geoms.items()
        )
        body = f'<g stroke="#fff" stroke-width="0.8" fill-rule="evenodd">{body}</g>'
        even = [g for pid, g in self.geoms.items() if phase[pid] > 0 and phase[pid] % 2 == 0]
        body += _paths(canvas, even, group=f'class="hatch" fill="url(#{hatch})" fill-rule="evenodd"')
        if len(post):
            defs += _cross_hatch(f"{svg_id}-post")
            body += _in_post_paths(canvas, self.geoms[post], f"{svg_id}-post")
        body += self._district_lines(canvas)
        body += f'<path d="{canvas.path(self.outline)}" fill="none" stroke="#111" stroke-width="1.4"/>'
        order = phase.sort_values(kind="stable")  # in post first: its mark is placed before any number
        numbers = pd.DataFrame(
            {
                "name": [IN_POST_LABEL if p == 0 else str(p) for p in order],
                "x": self.points.x.reindex(order.index),
                "y": self.points.y.reindex(order.index),
                "strong": True,
            }
        )
        body += place_labels(canvas, numbers, font=12) + scale_bar(canvas)
        return canvas.svg(
            defs + body,
            title=f"Rollout phases across {self.la}",
            desc="Patches shaded by phase, from dark purple (phase 1) through blue and green to yellow (the last "
            "phase), even phases hatched, each patch numbered with its phase where there is room"
            + (
                f"; the {len(post)} areas of coordinators already in post in green, cross-hatched, marked In post"
                if len(post)
                else ""
            )
            + ". The tables list them.",
            svg_id=svg_id,
        )


def _cross_hatch(pattern_id: str) -> str:
    """A white cross-hatch on dark green: the areas of coordinators in post, apart from every phase in grey."""
    return (
        f'<defs><pattern id="{pattern_id}" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{IN_POST_FILL}"/>'
        '<path d="M0,0V6M0,0H6" stroke="#fff" stroke-width="1.4"/></pattern></defs>'
    )


def _in_post_paths(canvas: Canvas, geoms: Iterable, pattern_id: str) -> str:
    """The areas of coordinators in post: cross-hatched green with a dark green edge."""
    return _paths(
        canvas,
        geoms,
        group=f'class="in-post" fill="url(#{pattern_id})" stroke="{IN_POST_EDGE}" stroke-width="1.6" '
        'fill-rule="evenodd"',
    )


def phase_colours(n: int) -> list[str]:
    """``n`` colours along the viridis ramp, phase 1 darkest."""
    ramp = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in PHASE_RAMP], dtype=float)
    at = np.linspace(0, len(ramp) - 1, n) if n > 1 else np.zeros(1)
    rgb = [np.interp(at, np.arange(len(ramp)), ramp[:, k]) for k in range(3)]
    return ["#" + "".join(f"{round(c[i]):02x}" for c in rgb) for i in range(n)]


def _ticks(lo: float, hi: float, n: int = 5) -> tuple[np.ndarray, int]:
    """'Nice' axis ticks covering lo..hi, and the decimals to print them with."""
    raw = (hi - lo if hi > lo else max(abs(hi), 1.0)) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)
    ticks = np.arange(math.floor(lo / step) * step, math.ceil(hi / step) * step + step / 2, step)
    text = f"{step:.10f}".rstrip("0")  # as many decimals as the step has: 25 -> 0, 2.5 -> 1, 0.25 -> 2
    return ticks, len(text.split(".")[1])


def quintile_chart(rows: pd.DataFrame, *, label: str, la_name: str, svg_id: str, index: str, unit: str = "") -> str:
    """Bars by local deprivation quintile with 95% CI whiskers and a dashed line for the whole LA.

    ``rows``: one indicator's rows of the needs-assessment table; a withheld value is NaN.
    ``index``: the short name of the deprivation index whose score makes the quintiles ("IMD", "WIMD").
    """
    by_q = rows.set_index("quintile")[["value", "lower", "upper"]].astype(float)
    quintiles = [str(q) for q in range(1, 6)]
    bars = by_q.reindex(quintiles)
    la = by_q["value"].get("All", np.nan)
    finite = [v for v in np.r_[bars.to_numpy().ravel(), la] if not pd.isna(v)]
    lo, hi = (min(0.0, min(finite)), max(finite)) if finite else (0.0, 1.0)
    ticks, decimals = _ticks(lo, hi * 1.05 if hi > 0 else hi)
    w, h, left, right, top, bottom = 560, 320, 70, 110, 36, 58
    y0, y1 = float(ticks[0]), float(ticks[-1])

    def y(v: float) -> float:
        return round(top + (y1 - v) / (y1 - y0) * (h - top - bottom), 1)

    slot = (w - left - right) / 5
    out = ['<g stroke="#d0d0d0">'] + [f'<line x1="{left}" x2="{w - right}" y1="{y(t)}" y2="{y(t)}"/>' for t in ticks]
    out += ['</g><g font-size="12" text-anchor="end">']
    out += [f'<text x="{left - 6}" y="{y(t) + 4}">{t:,.{decimals}f}</text>' for t in ticks] + ["</g>"]
    for i, (q, row) in enumerate(bars.iterrows()):
        cx = left + slot * (i + 0.5)
        if pd.isna(row["value"]):
            out.append(f'<text x="{cx:.1f}" y="{y(y0) - 6}" font-size="11" text-anchor="middle">not shown</text>')
        else:
            base, tip = y(max(y0, 0.0)), y(row["value"])
            out.append(
                f'<rect class="bar" x="{cx - slot * 0.3:.1f}" y="{min(tip, base)}" width="{slot * 0.6:.1f}" '
                f'height="{max(abs(base - tip), 0.5):.1f}" fill="{HIGHLIGHT}"/>'
            )
        if not (pd.isna(row["lower"]) or pd.isna(row["upper"])):
            lo_y, up_y = y(row["lower"]), y(row["upper"])
            out.append(
                f'<g class="ci" stroke="#111" stroke-width="1.5"><line x1="{cx:.1f}" x2="{cx:.1f}" y1="{lo_y}" '
                f'y2="{up_y}"/><line x1="{cx - 8:.1f}" x2="{cx + 8:.1f}" y1="{lo_y}" y2="{lo_y}"/>'
                f'<line x1="{cx - 8:.1f}" x2="{cx + 8:.1f}" y1="{up_y}" y2="{up_y}"/></g>'
            )
        out.append(f'<text x="{cx:.1f}" y="{h - bottom + 16}" font-size="12" text-anchor="middle">{q}</text>')
        if q in ("1", "5"):
            words = "most deprived" if q == "1" else "least deprived"
            out.append(f'<text x="{cx:.1f}" y="{h - bottom + 30}" font-size="11" text-anchor="middle">{words}</text>')
    if not pd.isna(la):
        out.append(
            f'<line x1="{left}" x2="{w - right}" y1="{y(la)}" y2="{y(la)}" stroke="#b2182b" stroke-width="2" '
            f'stroke-dasharray="6 4"/><text x="{w - right + 4}" y="{y(la) + 4}" font-size="11" fill="#8b1020">'
            f"{E(la_name[:16])}</text>"
        )
    out.append(
        f'<path d="M{left},{top}V{y(y0)}H{w - right}" fill="none" stroke="#111"/>'
        f'<text x="{left + (w - left - right) / 2:.0f}" y="{h - 8}" font-size="12" text-anchor="middle">'
        f"Local deprivation quintile (fifths of residents by {E(index)} score)</text>"
        f'<text x="4" y="16" font-size="13" font-weight="600">{E(label[:70])}{E(unit)}</text>'
    )
    desc = (
        f"Bar chart of {E(label)} by local deprivation quintile (1 = most deprived fifth of residents) with 95% "
        f"confidence intervals as whiskers and the value for all of {E(la_name)} as a dashed line. "
        "The table below gives the values."
    )
    canvas = Canvas((0, 0, w, h), width=w, max_height=h, pad=0)
    return canvas.svg("".join(out), title=f"{E(label)} by deprivation quintile", desc=desc, svg_id=svg_id)


__all__ = ["Canvas", "PatchMaps", "phase_colours", "quintile_chart", "rings", "simplify_coverage"]

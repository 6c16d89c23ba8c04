"""QGIS styles for ``lacgeo.gpkg``: a ``layer_styles`` table, so every layer opens styled.

QGIS keeps the styles saved into a GeoPackage in a table ``layer_styles`` (the schema its OGR
provider creates, registered in ``gpkg_contents`` as ``attributes``). When a layer is opened, QGIS
applies the row for that table and geometry column whose ``useAsDefault`` is 1; the other rows
are offered under *Layer Properties > Style > Load Style > From Database*.

What each layer opens as:

- ``areas``: the need choropleth, graduated on ``need_index`` in fifths of the areas, more need
  darker (the map's yellow-to-dark-red ramp), with legend labels in words. A second style shows the
  national deprivation quintile.
- ``patches``: outlines, labelled with the patch code and name. A second style, *lacgeo rollout
  phases*, is categorised on ``phase``: the areas of coordinators already in post (phase 0) dark
  green and cross-hatched with a thick edge, labelled "in post"; phase 1 dark and thick-edged, then
  each phase lighter (hatched, light, outline only), so the phases read apart in greyscale too.
- ``recommended`` (the phase-1 picks): categorised on ``phase`` with the same symbols, so phase 1
  is dark and thick-edged, labelled with code and name; phase-1 labels are never dropped where
  labels collide.
- ``comparators`` (with an evaluation design): the comparison patches' outlines, orange and dotted
  with no fill (a layer beneath shows through), labelled with the comparator and the pick it is
  matched to.

The QML is built with :mod:`xml.etree.ElementTree` (text is escaped) and carries no time or
random identifier, so the same result gives the same styles.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio

from . import qml
from .qml import PATCH_COLOUR

GEOMETRY_COLUMN = "geom"
"""The geometry column GDAL gives a GeoPackage layer: QGIS matches styles on it."""
STYLE_TABLE = "layer_styles"

NEED_COLOURS = ["#ffffcc", "#fecc5c", "#fd8d3c", "#e31a1c", "#800026"]
"""Least to most need: the map's yellow-to-dark-red ramp, lightness falling step by step."""
QUINTILE_COLOURS = {1: "#b2182b", 2: "#ef8a62", 3: "#fddbc7", 4: "#d1e5f0", 5: "#67a9cf"}
"""National deprivation quintile, as on the map (1 = most deprived, red)."""
IN_POST_COLOUR = "#1b7837"
"""Coordinators already in post (phase 0): the map's dark green."""
IN_POST_EDGE = "#00441b"
COMPARATOR_COLOUR = "#b35806"
"""Comparison patches: a dark orange, apart from the blue phases and the green areas in post."""
AREA_EDGE = "#969696"

NEED_WORDS = {
    1: ["All areas"],
    2: ["Higher need: top half of areas", "Lower need: bottom half of areas"],
    3: ["Highest need: top third of areas", "Middle third of areas", "Lowest need: bottom third of areas"],
    4: [
        "Highest need: top quarter of areas",
        "Higher need: second quarter",
        "Lower need: third quarter",
        "Lowest need: bottom quarter of areas",
    ],
    5: [
        "Highest need: top fifth of areas",
        "High need: second fifth",
        "Middle fifth",
        "Low need: fourth fifth",
        "Lowest need: bottom fifth of areas",
    ],
}
"""Legend words by number of classes, highest need first."""


@dataclass(frozen=True)
class LayerStyle:
    """One row of ``layer_styles``: a named QML style for one layer."""

    table: str
    name: str
    qml: str
    default: bool
    description: str


# --- QML building blocks -----------------------------------------------------------------------


# --- the styles --------------------------------------------------------------------------------


def need_classes(values: pd.Series, *, n_classes: int = 5) -> list[tuple[float, float, str]]:
    """(lower, upper, legend label) per class, highest need first: fifths of the areas by ``values``.

    Breaks are the quantiles of the areas' values, rounded to 2 decimals; the outer bounds are
    widened to take in every value. Withheld (missing) values fall in no class.

    >>> need_classes(pd.Series([0.0, 1.0, 2.0, 3.0]), n_classes=2)  # doctest: +NORMALIZE_WHITESPACE
    [(1.5, 3.0, 'Higher need: top half of areas (1.50 to 3.00)'),
     (0.0, 1.5, 'Lower need: bottom half of areas (0.00 to 1.50)')]
    """
    known = np.sort(pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float))
    if not len(known):
        return []
    inner = np.quantile(known, np.linspace(0, 1, n_classes + 1)[1:-1])
    low, high = math.floor(known[0] * 100) / 100, math.ceil(known[-1] * 100) / 100
    edges = [low]
    for edge in (round(float(e), 2) for e in inner):
        if edges[-1] < edge < high:
            edges.append(edge)
    edges.append(high)
    if len(edges) == 2 and low == high:
        return [(low, high, f"{NEED_WORDS[1][0]} ({low:.2f})")]
    words = NEED_WORDS[len(edges) - 1]
    pairs = list(zip(edges[:-1], edges[1:], strict=True))[::-1]
    return [(lo + 0.0, hi + 0.0, f"{w} ({lo:.2f} to {hi:.2f})") for (lo, hi), w in zip(pairs, words, strict=True)]


def areas_need_style(areas: pd.DataFrame, *, need_col: str) -> LayerStyle:
    """The ``areas`` default: a graduated choropleth of the need index, more need darker."""
    classes = need_classes(areas[need_col])
    colours = NEED_COLOURS[::-1][: len(classes)] if len(classes) == 5 else _spread(NEED_COLOURS, len(classes))[::-1]
    root = qml.root(labels=False)
    renderer = qml.renderer(root, "graduatedSymbol", attr=need_col, graduatedMethod="GraduatedColor")
    ranges = ET.SubElement(renderer, "ranges")
    for i, (lower, upper, label) in enumerate(classes):
        ET.SubElement(
            ranges, "range", lower=qml.number(lower), upper=qml.number(upper), label=label, symbol=str(i), render="true"
        )
    symbols = ET.SubElement(renderer, "symbols")
    for i, colour in enumerate(colours):
        qml.symbol(symbols, "symbol", str(i), [qml.fill(colour, edge=AREA_EDGE, edge_width=0.1)])
    qml.symbol(ET.SubElement(renderer, "source-symbol"), "symbol", "0", [qml.fill(NEED_COLOURS[2], edge=AREA_EDGE)])
    ramp = ET.SubElement(renderer, "colorramp", name="[source]", type="gradient")
    ramp_props = {
        "color1": qml.rgba(NEED_COLOURS[0]),
        "color2": qml.rgba(NEED_COLOURS[-1]),
        "discrete": "0",
        "rampType": "gradient",
        "stops": ":".join(f"{(i + 1) / 4:g};{qml.rgba(c)}" for i, c in enumerate(NEED_COLOURS[1:-1])),
    }
    options = ET.SubElement(ramp, "Option", type="Map")
    for key, value in ramp_props.items():
        ET.SubElement(options, "Option", name=key, type="QString", value=value)
    for key, value in ramp_props.items():
        ET.SubElement(ramp, "prop", k=key, v=value)
    method = ET.SubElement(renderer, "classificationMethod", id="Quantile")
    ET.SubElement(method, "symmetricMode", enabled="0", symmetrypoint="0", astride="0")
    ET.SubElement(method, "labelFormat", format="%1 to %2", labelprecision="2", trimtrailingzeroes="0")
    ET.SubElement(ET.SubElement(method, "parameters"), "Option")
    ET.SubElement(method, "extraInformation")
    ET.SubElement(renderer, "rotation")
    ET.SubElement(renderer, "sizescale")
    withheld = int(areas[need_col].isna().sum())
    note = (
        f" {withheld} areas whose need index is withheld (small council counts) are left unfilled." if withheld else ""
    )
    return LayerStyle(
        "areas",
        "lacgeo need index",
        qml.document(root),
        True,
        f"Need index by area, in fifths of the areas: darker = more need.{note}",
    )


def _spread(colours: list[str], n: int) -> list[str]:
    """``n`` of ``colours`` spread from the first to the last."""
    if n <= 1:
        return colours[-1:] if n else []
    return [colours[round(i * (len(colours) - 1) / (n - 1))] for i in range(n)]


def areas_quintile_style(*, quintile_col: str, short: str, nation: str) -> LayerStyle:
    """An ``areas`` alternative: the national deprivation quintile, as on the map."""
    root = qml.root(labels=False)
    renderer = qml.renderer(root, "categorizedSymbol", attr=quintile_col)
    categories = ET.SubElement(renderer, "categories")
    words = {1: f"1: most deprived 20% in {nation}", 5: "5: least deprived 20%"}
    for i, q in enumerate(QUINTILE_COLOURS):
        label = words.get(q, str(q))
        ET.SubElement(categories, "category", value=str(q), type="long", label=label, symbol=str(i), render="true")
    symbols = ET.SubElement(renderer, "symbols")
    for i, colour in enumerate(QUINTILE_COLOURS.values()):
        qml.symbol(symbols, "symbol", str(i), [qml.fill(colour, edge=AREA_EDGE, edge_width=0.1)])
    ET.SubElement(renderer, "rotation")
    ET.SubElement(renderer, "sizescale")
    return LayerStyle(
        "areas",
        f"lacgeo {short} quintile",
        qml.document(root),
        False,
        f"National {short} quintile of each area: 1 (red) = the most deprived fifth of areas in {nation}.",
    )


def patches_outline_style(*, id_col: str, name_col: str, table: str = "patches") -> LayerStyle:
    """The ``patches`` default: outlines, labelled with the patch code and name."""
    root = qml.root(labels=True)
    renderer = qml.renderer(root, "singleSymbol")
    qml.symbol(ET.SubElement(renderer, "symbols"), "symbol", "0", [qml.fill(PATCH_COLOUR, style="no", edge_width=0.6)])
    ET.SubElement(renderer, "rotation")
    ET.SubElement(renderer, "sizescale")
    qml.labels(root, f"concat({qml.quoted(id_col)}, ' ', {qml.quoted(name_col)})", size=8, wrap=22)
    return LayerStyle(
        table,
        "lacgeo patch outlines",
        qml.document(root),
        True,
        "Patch outlines (no fill, so a layer beneath shows through), labelled with patch code and name.",
    )


def _phase_symbol(phase: int) -> list[dict[str, str]]:
    """Phase 1 dark and thick-edged; phase 2 mid-tone and hatched; phase 3 light; later phases outline only.

    Each step is lighter than the one before, so the phases read apart in greyscale too. Phase 0 (the
    areas of coordinators already in post) is green and cross-hatched, like no phase of the rollout.
    """
    if phase == 0:  # in post: not a phase of the rollout, so a look of its own (green, cross-hatched)
        return [
            qml.fill(IN_POST_COLOUR, alpha=110, edge=IN_POST_EDGE, edge_width=1.0),
            qml.fill(IN_POST_EDGE, style="diagonal_x", edge=IN_POST_EDGE, edge_width=0, edge_style="no"),
        ]
    if phase == 1:
        return [qml.fill("#08519c", alpha=120, edge="#000000", edge_width=1.2)]
    if phase == 2:
        return [
            qml.fill("#6baed6", alpha=140, edge="#08306b", edge_width=0.6),
            qml.fill("#08306b", style="f_diagonal", edge="#08306b", edge_width=0, edge_style="no"),
        ]
    if phase == 3:
        return [qml.fill("#c6dbef", alpha=140, edge="#2171b5", edge_width=0.4)]
    return [qml.fill("#ffffff", style="no", edge="#525252", edge_width=0.4, edge_style="dash")]


def phase_words(phase: int, n_patches: int) -> str:
    """The legend label of a phase: ``Phase 1: start here (3 patches)``; phase 0 is the coordinators in post.

    >>> phase_words(1, 3), phase_words(0, 2), phase_words(4, 1)
    ('Phase 1: start here (3 patches)', 'In post: coordinators already working (2 patches)', 'Phase 4 (1 patch)')
    """
    patches = f"{n_patches} patch{'' if n_patches == 1 else 'es'}"
    if phase == 0:
        return f"In post: coordinators already working ({patches})"
    return f"Phase 1: start here ({patches})" if phase == 1 else f"Phase {phase} ({patches})"


def phases_style(
    table: str,
    phases: pd.Series,
    *,
    phase_col: str,
    id_col: str,
    name_col: str,
    name: str,
    default: bool,
    with_names: bool,
) -> LayerStyle:
    """Categorised on the rollout phase (one category per phase in ``phases``), labelled."""
    counts = phases.dropna().astype(int).value_counts()
    present = sorted(set(counts.index) | {1})
    root = qml.root(labels=True)
    renderer = qml.renderer(root, "categorizedSymbol", attr=phase_col)
    categories = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for i, phase in enumerate(present):
        label = phase_words(phase, int(counts.get(phase, 0)))
        # type "long": QGIS 3.28 and later compare the value as the integer it is
        ET.SubElement(categories, "category", value=str(phase), type="long", label=label, symbol=str(i), render="true")
        qml.symbol(symbols, "symbol", str(i), _phase_symbol(phase))
    ET.SubElement(renderer, "rotation")
    ET.SubElement(renderer, "sizescale")
    if with_names:
        expression = f"concat({qml.quoted(id_col)}, ' ', {qml.quoted(name_col)})"
    else:  # phase 0 is said in words: a coordinator's area in post is no phase of the rollout
        expression = (
            f"concat({qml.quoted(id_col)}, CASE WHEN {qml.quoted(phase_col)} = 0 THEN ' (in post)' "
            f"ELSE concat(' (phase ', {qml.quoted(phase_col)}, ')') END)"
        )
    first = f"{qml.quoted(phase_col)} = 1"  # phase-1 labels are never dropped for a collision
    qml.labels(root, expression, size=9 if with_names else 8, bold=with_names, wrap=22, priority=8, always_when=first)
    later = "; later phases step lighter (hatched, light, then outline only)" if max(present) > 1 else ""
    post = "; coordinators already in post green and cross-hatched" if 0 in present else ""
    labelled = "code and name" if with_names else "code and phase"
    return LayerStyle(
        table,
        name,
        qml.document(root),
        default,
        f"Patches by rollout phase: phase 1 dark blue with a thick black edge{later}{post}. Labelled with the "
        f"patch {labelled}.",
    )


def comparators_style(*, id_col: str, name_col: str, pick_col: str = "pick_id") -> LayerStyle:
    """The ``comparators`` default: orange dotted outlines (no fill), labelled with the comparator and its pick."""
    root = qml.root(labels=True)
    renderer = qml.renderer(root, "singleSymbol")
    outline = qml.fill(COMPARATOR_COLOUR, style="no", edge=COMPARATOR_COLOUR, edge_width=0.9, edge_style="dot")
    qml.symbol(ET.SubElement(renderer, "symbols"), "symbol", "0", [outline])
    ET.SubElement(renderer, "rotation")
    ET.SubElement(renderer, "sizescale")
    expression = (
        f"concat({qml.quoted(id_col)}, ' ', {qml.quoted(name_col)}, ' (comparator for ', {qml.quoted(pick_col)}, ')')"
    )
    qml.labels(root, expression, size=8, wrap=22, priority=6)
    return LayerStyle(
        "comparators",
        "lacgeo comparison patches",
        qml.document(root),
        True,
        "Comparison patches for evaluating phase 1: dotted orange outlines (no fill), labelled with the patch "
        "and the phase-1 pick it is matched to (evaluation.csv).",
    )


def gpkg_styles(
    areas: pd.DataFrame,
    patches: pd.DataFrame,
    recommended: pd.DataFrame,
    *,
    need_col: str,
    quintile_col: str,
    short: str,
    nation: str,
    id_col: str,
    name_col: str,
    phase_col: str,
    comparators: pd.DataFrame | None = None,
) -> list[LayerStyle]:
    """Every ``layer_styles`` row of ``lacgeo.gpkg``: one default per layer, and two alternatives;
    with ``comparators`` (the evaluation design's layer) its default too."""
    common = {"phase_col": phase_col, "id_col": id_col, "name_col": name_col}
    extra = [] if comparators is None else [comparators_style(id_col=id_col, name_col=name_col)]
    return [
        areas_need_style(areas, need_col=need_col),
        areas_quintile_style(quintile_col=quintile_col, short=short, nation=nation),
        patches_outline_style(id_col=id_col, name_col=name_col),
        phases_style(
            "patches", patches[phase_col], name="lacgeo rollout phases", default=False, with_names=False, **common
        ),
        phases_style(
            "recommended",
            recommended[phase_col],
            name="lacgeo phase 1 picks",
            default=True,
            with_names=True,
            **common,
        ),
        *extra,
    ]


def write_layer_styles(path: str | Path, styles: list[LayerStyle]) -> None:
    """Add the ``layer_styles`` table to the GeoPackage ``path``, as QGIS's own *Save Style* creates it.

    GDAL creates the table (``id`` primary key, registered in ``gpkg_contents`` as ``attributes``),
    so both QGIS and GDAL list it. ``f_table_catalog`` and ``f_table_schema`` are empty strings and
    ``f_geometry_column`` is ``geom``: QGIS looks a layer's styles up by exactly these. The style
    time is left empty, so the same result writes the same rows.
    """
    frame = pd.DataFrame(
        {
            "f_table_catalog": "",
            "f_table_schema": "",
            "f_table_name": [s.table for s in styles],
            "f_geometry_column": GEOMETRY_COLUMN,
            "styleName": [s.name for s in styles],
            "styleQML": [s.qml for s in styles],
            "styleSLD": "",
            "useAsDefault": [s.default for s in styles],
            "description": [s.description for s in styles],
            "owner": "lacgeo",
            "ui": pd.Series([None] * len(styles), dtype=object),
            "update_time": pd.Series([pd.NaT] * len(styles), dtype="datetime64[ms]"),
        }
    )
    pyogrio.write_dataframe(frame, path, layer=STYLE_TABLE, driver="GPKG", layer_options={"FID": "id"})


__all__ = ["GEOMETRY_COLUMN", "LayerStyle", "comparators_style", "gpkg_styles", "need_classes", "write_layer_styles"]

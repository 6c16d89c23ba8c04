"""The pieces of QGIS's QML style XML that lacgeo's GeoPackage styles are built from (:mod:`.styles`).

Colours as QGIS's ``r,g,b,a``, numbers as QGIS writes them, symbol layers (simple fills and line-pattern
hatching), symbols, renderers, label settings and the QML document itself, built with
:mod:`xml.etree.ElementTree` (so text is escaped), with no time or random identifier in them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

QGIS_VERSION = "3.22.0"
"""The oldest QGIS this QML is written for (the 3.22 long-term release); later versions read it."""
PATCH_COLOUR = "#222222"
LABEL_COLOUR = "#1a1a1a"


def rgba(colour: str, alpha: int = 255) -> str:
    """``#rrggbb`` as QGIS writes a colour: ``r,g,b,a``."""
    colour = colour.lstrip("#")
    r, g, b = (int(colour[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{alpha}"


def number(value: float) -> str:
    """A class bound as text QGIS reads back exactly (no exponent for ordinary values)."""
    return repr(float(value) + 0.0)


def empty_properties(
    parent: ET.Element, tag: str = "data_defined_properties", *, expressions: dict[str, str] | None = None
) -> None:
    """A data-defined property collection: empty, or properties set by QGIS expressions."""
    options = ET.SubElement(ET.SubElement(parent, tag), "Option", type="Map")
    ET.SubElement(options, "Option", name="name", type="QString", value="")
    properties = ET.SubElement(options, "Option", name="properties")
    if expressions:
        properties.set("type", "Map")
        for key, expression in expressions.items():
            prop = ET.SubElement(properties, "Option", name=key, type="Map")
            ET.SubElement(prop, "Option", name="active", type="bool", value="true")
            ET.SubElement(prop, "Option", name="expression", type="QString", value=expression)
            ET.SubElement(prop, "Option", name="type", type="int", value="3")  # an expression-based property
    ET.SubElement(options, "Option", name="type", type="QString", value="collection")


def symbol_layer(parent: ET.Element, cls: str, props: dict[str, str]) -> None:
    """A symbol layer with its properties written both ways QGIS 3 reads them (Option map and prop)."""
    layer = ET.SubElement(parent, "layer", {"class": cls, "enabled": "1", "locked": "0", "pass": "0"})
    options = ET.SubElement(layer, "Option", type="Map")
    for key in sorted(props):
        ET.SubElement(options, "Option", name=key, type="QString", value=props[key])
    for key in sorted(props):
        ET.SubElement(layer, "prop", k=key, v=props[key])
    empty_properties(layer)


def fill(
    colour: str,
    *,
    alpha: int = 255,
    style: str = "solid",
    edge: str = PATCH_COLOUR,
    edge_width: float = 0.26,
    edge_style: str = "solid",
) -> dict[str, str]:
    """A SimpleFill symbol layer's properties (style ``no`` for no fill, or a hatch such as ``f_diagonal``)."""
    return {
        "border_width_map_unit_scale": "3x:0,0,0,0,0,0",
        "color": rgba(colour, alpha),
        "joinstyle": "miter",
        "offset": "0,0",
        "offset_map_unit_scale": "3x:0,0,0,0,0,0",
        "offset_unit": "MM",
        "outline_color": rgba(edge),
        "outline_style": edge_style,
        "outline_width": f"{edge_width:g}",
        "outline_width_unit": "MM",
        "style": style,
    }


def symbol(parent: ET.Element, tag: str, name: str, layers: list[dict[str, str]]) -> None:
    """A fill symbol of SimpleFill layers, bottom first."""
    symbol = ET.SubElement(
        parent, tag, {"alpha": "1", "clip_to_extent": "1", "force_rhr": "0", "name": name, "type": "fill"}
    )
    empty_properties(symbol)
    for props in layers:
        symbol_layer(symbol, "SimpleFill", props)


def root(*, labels: bool) -> ET.Element:
    return ET.Element(
        "qgis",
        {
            "version": QGIS_VERSION,
            "styleCategories": "Symbology|Labeling" if labels else "Symbology",
            "labelsEnabled": "1" if labels else "0",
        },
    )


def renderer(root: ET.Element, kind: str, **attrs: str) -> ET.Element:
    return ET.SubElement(
        root,
        "renderer-v2",
        {"type": kind, "enableorderby": "0", "forceraster": "0", "referencescale": "-1", "symbollevels": "0", **attrs},
    )


def labels(
    root: ET.Element,
    expression: str,
    *,
    size: float = 8,
    bold: bool = False,
    wrap: int = 0,
    priority: int = 5,
    always_when: str | None = None,
) -> None:
    """Labels from a QGIS expression, with a white halo, placed inside each polygon.

    ``priority`` (0-10) decides which label QGIS keeps where two collide; labels for which the
    expression ``always_when`` is true are shown even where they overlap another.
    """
    settings = ET.SubElement(ET.SubElement(root, "labeling", type="simple"), "settings", calloutType="simple")
    style = ET.SubElement(
        settings,
        "text-style",
        {
            "fieldName": expression,
            "isExpression": "1",
            "fontSize": f"{size:g}",
            "fontSizeUnit": "Point",
            "fontWeight": "75" if bold else "50",
            "namedStyle": "Bold" if bold else "Regular",
            "fontItalic": "0",
            "fontUnderline": "0",
            "fontStrikeout": "0",
            "fontKerning": "1",
            "fontLetterSpacing": "0",
            "fontWordSpacing": "0",
            "textColor": rgba(LABEL_COLOUR),
            "textOpacity": "1",
            "textOrientation": "horizontal",
            "multilineHeight": "1",
            "capitalization": "0",
            "allowHtml": "0",
            "blendMode": "0",
            "previewBkgrdColor": "255,255,255,255",
            "useSubstitutions": "0",
        },
    )
    ET.SubElement(
        style,
        "text-buffer",
        {
            "bufferDraw": "1",
            "bufferSize": "0.8",
            "bufferSizeUnits": "MM",
            "bufferColor": "255,255,255,255",
            "bufferOpacity": "0.9",
            "bufferJoinStyle": "128",
            "bufferNoFill": "1",
            "bufferBlendMode": "0",
            "bufferSizeMapUnitScale": "3x:0,0,0,0,0,0",
        },
    )
    ET.SubElement(style, "background", shapeDraw="0")
    ET.SubElement(style, "shadow", shadowDraw="0")
    empty_properties(style, "dd_properties")
    ET.SubElement(style, "substitutions")
    ET.SubElement(
        settings,
        "text-format",
        {
            "wrapChar": "",
            "autoWrapLength": str(wrap),
            "useMaxLineLengthForAutoWrap": "1",
            "multilineAlign": "1",  # centred
            "addDirectionSymbol": "0",
            "formatNumbers": "0",
            "decimals": "3",
            "plussign": "0",
        },
    )
    ET.SubElement(
        settings,
        "placement",
        {
            "placement": "1",  # over the polygon's centroid
            "centroidInside": "1",  # a point inside the polygon, even for a crescent
            "centroidWhole": "1",  # of the whole patch, not of each part
            "fitInPolygonOnly": "0",
            "dist": "0",
            "distUnits": "MM",
            "priority": str(priority),
            "quadOffset": "4",
            "xOffset": "0",
            "yOffset": "0",
            "offsetUnits": "MM",
        },
    )
    ET.SubElement(
        settings,
        "rendering",
        {
            "drawLabels": "1",
            "obstacle": "1",
            "obstacleType": "1",
            "obstacleFactor": "1",
            "displayAll": "0",
            "labelPerPart": "0",
            "mergeLines": "0",
            "minFeatureSize": "0",
            "limitNumLabels": "0",
            "maxNumLabels": "2000",
            "scaleVisibility": "0",
            "upsidedownLabels": "0",
            "fontMinPixelSize": "3",
            "fontMaxPixelSize": "10000",
            "fontLimitPixelSize": "0",
            "zIndex": "0",
        },
    )
    empty_properties(settings, "dd_properties", expressions={"AlwaysShow": always_when} if always_when else None)


def document(root: ET.Element) -> str:
    for tag, text in (("blendMode", "0"), ("featureBlendMode", "0"), ("layerGeometryType", "2")):  # 2 = polygon
        ET.SubElement(root, tag).text = text
    ET.indent(root, space="  ")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode") + "\n"


def quoted(column: str) -> str:
    """A column name as a QGIS expression field reference."""
    return '"' + column.replace('"', '""') + '"'

"""The area shadings of ``map.html``: the need, national deprivation quintile (England's IMD or
Wales's WIMD, named after the run's index), indicator and need-profile colourings of the small
areas, their legends, and the shared area data the page script draws.

Each shading is a :class:`_Shading`: a fill per area, a legend section and, for an indicator,
the value shown in the tooltip. Indicator values are taken as given (already
disclosure-controlled, see :func:`lacgeo.maps.make_result_map`); a withheld value is hatched
and never written out. :func:`area_data` puts every shading's fill on one shared copy of the
area shapes. Text from data passes through :func:`lacgeo.outputs.escape.escape_text`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import branca.colormap as cm
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ...config import IndicatorConfig
from ...schema import (
    AREA_NAME,
    NEED_INDEX,
    PATCH_ID,
    PATCH_NAME,
    PHASE,
    POPULATION,
    RANK,
    DeprivationIndex,
)
from ..escape import escape_text
from ..report.words import IN_POST, phase_text
from .widgets import (
    NO_DATA_FILL,
    NO_DATA_TEXT,
    WITHHELD_FILL,
    WITHHELD_TEXT,
    LegendSection,
)

QUINTILE_COLOURS = {1: "#b2182b", 2: "#ef8a62", 3: "#fddbc7", 4: "#d1e5f0", 5: "#67a9cf"}
NEED_COLOURS = ["#ffffcc", "#fd8d3c", "#800026"]
INDICATOR_COLOURS = ["#f2f0f7", "#9e9ac8", "#3f007d"]  # light to dark = more need (reversed for higher_is_better)
PROFILE_COLOURS = ["#d55e00", "#e69f00", "#f0e442", "#009e73", "#56b4e9", "#cc79a7", "#999999", "#882255"]
"""Need profiles, in profile order (1 = most need): Okabe-Ito colours, safe for colour-blind readers,
without its dark blue (the picks' outline, :data:`lacgeo.outputs.map.build.PICK_COLOUR`) or black (patch lines)."""

# Layer names as the layer control shows them (tests look them up by these names).
LAYER_NEED = "Need index"
LAYER_QUINTILE = "National IMD quintile"
"""The quintile layer of an English run; a Welsh one's is "National WIMD quintile" (:func:`quintile_layer`)."""
LAYER_PROFILES = "Need profiles"
LAYER_OUTLINE = "Local authority boundary"
LAYER_PATCHES = "All patches"
LAYER_RECOMMENDED = "Recommended for phase 1"
LAYER_IN_POST = "Coordinators in post"
"""The areas of coordinators already in post (phase 0): a solid dark green outline, labelled "In post: <name>"."""
LAYER_LABELS = "Patch names"
LAYER_TOWNS = "Town and place names"


def quintile_layer(index: DeprivationIndex) -> str:
    """The quintile layer's name: "National IMD quintile", "National WIMD quintile"."""
    return f"National {index.short} quintile"


def quintile_labels(index: DeprivationIndex) -> dict[int, str]:
    """The quintile legend's labels, naming the index's nation."""
    return {1: f"1: most deprived 20% of {index.nation}", 2: "2", 3: "3", 4: "4", 5: "5: least deprived 20%"}


def area_rows(index: DeprivationIndex) -> list[tuple[str, str]]:
    """An area's tooltip: (label, property). A shading's own value is added after the LSOA code."""
    return [
        ("Area", "name"),
        ("LSOA", "code"),
        ("Population", "pop"),
        ("Need index", "need"),
        (f"{index.short} quintile (1 = most deprived)", "quintile"),
        ("Patch", "patch"),
        ("Patch need rank", "rank"),
        ("Patch phase", "phase"),
    ]


@dataclass(frozen=True)
class _Shading:
    """An area base layer: its name in the layer control, a fill and a tooltip value per area."""

    name: str
    fill: pd.Series
    legend: LegendSection
    value: pd.Series | None = None
    """Shown as an extra tooltip row, labelled by ``label``."""
    label: str = ""
    field: str = ""
    """A tooltip row from the area properties instead of ``value`` (e.g. ``profile``)."""


def format_value(value: float) -> str:
    """An indicator value for people: 3 significant figures or so, thousands separated."""
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _areas(n: int) -> str:
    return f"{n} area" if n == 1 else f"{n} areas"


def _ramp(colours: Sequence[str], low: float, high: float) -> cm.LinearColormap:
    return cm.LinearColormap(list(colours), vmin=low, vmax=high if high > low else low + 1e-9)


def _need_shading(areas: pd.DataFrame, place: str) -> _Shading:
    """The need index, in words: lighter is less need than the area's average, darker more (no index numbers,
    whose scale depends on the standardisation)."""
    need = areas[NEED_INDEX].astype(float)
    vmin, vmax = float(need.min()), float(need.max())
    scale = _ramp(NEED_COLOURS, vmin, vmax)
    fill = need.map(lambda v: WITHHELD_FILL if np.isnan(v) else scale(v)[:7])  # NaN only where withheld
    average = float(need.mean())
    at = (average - vmin) / (vmax - vmin) if vmax > vmin else 0.5
    legend = LegendSection(
        title=LAYER_NEED,
        colours=tuple(NEED_COLOURS),
        low=f"Lighter: less need than the {place} average",
        high=f"Darker: more need than the {place} average",
        mark=(round(at, 3), f"{place} average"),
    )
    return _Shading(LAYER_NEED, fill, legend)


def _quintile_shading(areas: pd.DataFrame, index: DeprivationIndex) -> _Shading:
    fill = areas[index.quintile].map(lambda q: QUINTILE_COLOURS.get(q, NO_DATA_FILL) if pd.notna(q) else NO_DATA_FILL)
    labels = quintile_labels(index)
    items = tuple((QUINTILE_COLOURS[q], labels[q]) for q in QUINTILE_COLOURS)
    name = quintile_layer(index)
    return _Shading(name, fill, LegendSection(title=name, items=items))


def _indicator_shading(values: pd.Series, *, label: str, higher_is_worse: bool, withheld: Collection[str]) -> _Shading:
    """One indicator's shading. ``withheld`` areas show a hatch and no value, whatever ``values`` holds."""
    values = values.astype(float)
    is_withheld = values.index.isin(list(withheld))
    shown = values.where(~is_withheld)
    present = shown.dropna()
    colours = tuple(INDICATOR_COLOURS if higher_is_worse else INDICATOR_COLOURS[::-1])
    fill = pd.Series(NO_DATA_FILL, index=values.index, dtype=object)
    text = pd.Series(NO_DATA_TEXT, index=values.index, dtype=object)
    fill[is_withheld] = WITHHELD_FILL
    text[is_withheld] = WITHHELD_TEXT
    low = high = ""
    if len(present):
        vmin, vmax = float(present.min()), float(present.max())
        scale = _ramp(colours, vmin, vmax)
        fill[present.index] = [scale(v)[:7] for v in present]
        text[present.index] = [format_value(v) for v in present]
        low, high = format_value(vmin), format_value(vmax)
    items = []
    if is_withheld.any():
        items.append((WITHHELD_FILL, f"Withheld (small number): {_areas(int(is_withheld.sum()))}"))
    if (shown.isna() & ~is_withheld).any():
        items.append((NO_DATA_FILL, "No data"))
    legend = LegendSection(
        title=label,
        note="Darker = more need" if higher_is_worse else "Higher is better: darker = lower values = more need",
        colours=colours if len(present) else (),
        low=low,
        high=high,
        items=tuple(items),
    )
    return _Shading(escape_text(label), fill, legend, value=text, label=label)


def _profile_shading(areas: pd.DataFrame, place: str) -> _Shading:
    profile = areas["need_profile"].astype(str)
    order = _profile_order(areas)
    colour = {name: PROFILE_COLOURS[i % len(PROFILE_COLOURS)] for i, name in enumerate(order)}
    counts = profile.value_counts()
    items = tuple((colour[name], f"{name} ({_areas(int(counts[name]))})") for name in order)
    note = f"Groups of areas with a similar mix of need, each compared with the {place} average"
    legend = LegendSection(title=LAYER_PROFILES, note=note, items=items)
    return _Shading(LAYER_PROFILES, profile.map(colour), legend, label="Need profile", field="profile")


def _profile_order(areas: pd.DataFrame) -> list[str]:
    profile = areas["need_profile"].astype(str)
    if "need_profile_id" in areas:
        return list(dict.fromkeys(profile.iloc[np.argsort(areas["need_profile_id"].to_numpy(), kind="stable")]))
    return sorted(profile.unique())


def indicator_specs(areas: pd.DataFrame, indicators: Sequence[IndicatorConfig] | None) -> list[IndicatorConfig]:
    if indicators is None:
        return [IndicatorConfig(name=c.removeprefix("value_")) for c in areas.columns if c.startswith("value_")]
    missing = [i.name for i in indicators if f"value_{i.name}" not in areas]
    if missing:
        raise ValueError(
            f"make_map: no value_ column for indicator(s) {', '.join(missing)}; pass the disclosure-controlled "
            "area table (lacgeo.report.area_table) or use make_result_map(result)"
        )
    return list(indicators)


def make_shadings(
    areas: pd.DataFrame,
    indicators: list[IndicatorConfig],
    withheld: Mapping[str, Collection[str]],
    index: DeprivationIndex,
    *,
    place: str,
) -> list[_Shading]:
    """The area shadings; the quintile one from ``index``'s column; ``place`` names the area whose
    average the need and the profiles are compared with."""
    shadings = [_need_shading(areas, place), _quintile_shading(areas, index)]
    taken = {
        LAYER_NEED,
        quintile_layer(index),
        LAYER_PROFILES,
        LAYER_OUTLINE,
        LAYER_PATCHES,
        LAYER_RECOMMENDED,
        LAYER_IN_POST,
        LAYER_LABELS,
        LAYER_TOWNS,
    }
    for spec in indicators:
        label = spec.label or spec.name
        if label in taken:
            label = f"{label} ({spec.name})"
        taken.add(label)
        shadings.append(
            _indicator_shading(
                areas[f"value_{spec.name}"],
                label=label,
                higher_is_worse=spec.direction == "higher_is_worse",
                withheld=withheld.get(spec.name, ()),
            )
        )
    if "need_profile" in areas:
        shadings.append(_profile_shading(areas, place))
    return shadings


def _py(value: object) -> object:
    """A value JSON can write: numpy scalars unwrapped, missing values as null."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def need_words(value: float, average: float, place: str) -> str:
    """A need index for people: "1.74 (more need than the Solihull average)"."""
    if np.isnan(value):
        return WITHHELD_TEXT
    side = "more" if value > average else "less" if value < average else "the same"
    return f"{value:.2f} ({side} need than the {place} average)"


def area_data(
    areas: gpd.GeoDataFrame,
    patches: pd.DataFrame,
    shadings: list[_Shading],
    index: DeprivationIndex,
    *,
    place: str = "local authority",
) -> dict:
    """The shared area FeatureCollection: positional ids, escaped text, a fill per shading, shading values;
    the quintile from ``index``'s column; the need index in words against the ``place`` average."""
    average = float(areas[NEED_INDEX].astype(float).mean())
    patch_label = (
        patches.index.map(escape_text).to_series(index=patches.index) + " " + patches[PATCH_NAME].map(escape_text)
    )
    area_patch = areas[PATCH_ID] if PATCH_ID in areas else pd.Series(pd.NA, index=areas.index)
    phase = area_patch.map(patches[PHASE])
    # a coordinator's area in post is not ranked for rollout: its rank (after every ranked patch) is not shown
    rank = area_patch.map(patches[RANK]).astype("Int64").astype(object).where(phase != 0, f"not ranked ({IN_POST})")
    props = pd.DataFrame(
        {
            "name": areas[AREA_NAME].map(escape_text),
            "code": areas.index.map(escape_text),
            "pop": areas[POPULATION].map("{:,}".format),
            "need": areas[NEED_INDEX].astype(float).map(lambda v: escape_text(need_words(v, average, place))),
            "quintile": areas[index.quintile].astype("Int64"),
            "patch": area_patch.map(patch_label).fillna(area_patch.map(escape_text)),
            "rank": rank.where(phase.notna(), None),
            "phase": phase.map(lambda p: None if pd.isna(p) else phase_text(p)),
        },
        index=areas.index,
    )
    if "need_profile" in areas:
        props["profile"] = areas["need_profile"].map(escape_text)
    values = [s.value.map(escape_text) for s in shadings if s.value is not None]
    features = []
    for i, (code, geometry) in enumerate(zip(areas.index, areas.geometry, strict=True)):
        properties = {key: _py(value) for key, value in props.loc[code].items()}
        properties["v"] = [v[code] for v in values]
        properties["fill"] = [s.fill[code] for s in shadings]
        features.append(
            {"type": "Feature", "id": i, "properties": properties, "geometry": shapely.geometry.mapping(geometry)}
        )
    return {"type": "FeatureCollection", "features": features}


def tooltip_rows(shadings: list[_Shading], index: DeprivationIndex) -> list[list[tuple[str, str | int]]]:
    base = [(escape_text(label), key) for label, key in area_rows(index)]
    rows, k = [], 0
    for s in shadings:
        own: list[tuple[str, str | int]] = []
        if s.value is not None:
            own = [(escape_text(s.label), k)]
            k += 1
        elif s.field:
            own = [(escape_text(s.label), s.field)]
        rows.append(base[:2] + own + base[2:])
    return rows

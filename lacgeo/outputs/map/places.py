"""Town and place names for ``map.html``, from the neighbourhood (MSOA) names the areas carry.

No settlement data is shipped, but the House of Commons Library's MSOA names are the names people
use: a town of several neighbourhoods names each one after it ("Trowbridge North", "Trowbridge
East"). :func:`town_names` takes the longest run of leading words that two or more MSOA names share
as a town, and an MSOA named by one place (no "&" or ",", such as "Marlborough") as a place. Each is
labelled at a point inside its MSOAs, so the map can be read without a background map.
"""

from __future__ import annotations

from collections import Counter

import geopandas as gpd
import pandas as pd

from ...schema import MSOA_NAME

# A leading word shared by unrelated places ("North Walsham", "North Elmham") names no town.
_GENERIC = {
    "north",
    "south",
    "east",
    "west",
    "central",
    "upper",
    "lower",
    "great",
    "little",
    "old",
    "new",
    "st",
    "st.",
    "saint",
    "the",
    "royal",
    "high",
    "long",
}


def _prefixes(name: str) -> list[str]:
    words = name.split()
    out = []
    for n in range(1, len(words)):
        head = words[:n]
        if any(w in {"&", "and"} or w.endswith(",") for w in head):
            break
        out.append(" ".join(head))
    return out


def town_names(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Towns (several MSOAs share a leading name) and places (an MSOA named by one place), with a
    point inside each, in ``areas``' CRS; columns ``name``, ``kind`` ("town" or "place") and
    ``geometry``. Empty without an ``msoa_name`` column.

    >>> import shapely
    >>> names = ["Trowbridge North", "Trowbridge East", "Marlborough", "Bedwyn, Burbage & Collingbourne"]
    >>> areas = gpd.GeoDataFrame({"msoa_name": names}, geometry=[shapely.box(i, 0, i + 1, 1) for i in range(4)])
    >>> town_names(areas)[["name", "kind"]].to_numpy().tolist()
    [['Marlborough', 'place'], ['Trowbridge', 'town']]
    """
    empty = gpd.GeoDataFrame({"name": [], "kind": []}, geometry=[], crs=areas.crs)
    if MSOA_NAME not in areas or areas.empty:
        return empty
    msoas = areas[MSOA_NAME].dropna().astype(str)
    names = sorted(msoas.unique())
    shared = Counter(p for name in names for p in set(_prefixes(name)))
    town_of = {}
    for name in names:
        towns = [p for p in _prefixes(name) if shared[p] >= 2 and p.lower() not in _GENERIC]
        if towns:
            town_of[name] = (towns[-1], "town")  # the longest shared run of words
        elif "&" not in name and "," not in name and " and " not in name:
            town_of[name] = (name, "place")
    if not town_of:
        return empty
    label = msoas.map(lambda n: town_of.get(n, (None, None))[0])
    kind = msoas.map(lambda n: town_of.get(n, (None, None))[1])
    keep = label.dropna().index
    groups = areas.loc[keep].geometry.groupby(label[keep])
    points = groups.apply(lambda g: g.union_all().representative_point())
    kinds = kind[keep].groupby(label[keep]).first()
    out = pd.DataFrame({"name": points.index, "kind": kinds.reindex(points.index).to_numpy()})
    return gpd.GeoDataFrame(out, geometry=list(points), crs=areas.crs)

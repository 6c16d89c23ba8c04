"""Stage 5a: coordinators already in post, as groups of the run's areas.

A council that starts lacgeo after its first coordinators are in post gives their areas
(``[[recommend.existing]]``): a list of LSOA codes, or a polygon file drawn in GIS. Each
becomes a patch kept exactly as given (phase 0), even outside the population band or in
pieces, which the patch table then flags rather than refuses. New picks never overlap them
and the rest of the area is partitioned around them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from ..config import ExistingConfig
from ..errors import ValidationError
from ..load import read_polygons

MIN_SHARE = 0.5
"""An LSOA belongs to a coordinator's polygon that holds more than this share of its land."""


@dataclass(frozen=True)
class ExistingArea:
    """One coordinator's area in post: its name and the area codes it covers (sorted)."""

    name: str
    area_codes: tuple[str, ...]
    source: str
    """Where it was given: the config, or the polygon file."""


def existing_areas(specs: Sequence[ExistingConfig], areas: gpd.GeoDataFrame) -> list[ExistingArea]:
    """The coordinators' areas in post, as codes of ``areas``, in the order given.

    Raises
    ------
    ValidationError
        Listing every problem at once: codes that are not areas of the run (with the
        vintage to check), polygons that hold no LSOA, and areas claimed twice.

    Examples
    --------
    >>> import lacgeo
    >>> from lacgeo.config import ExistingConfig
    >>> areas = lacgeo.read_areas("E06000017")  # Rutland
    >>> [a.name for a in existing_areas([ExistingConfig(name="Oakham", areas=tuple(areas.index[:3]))], areas)]
    ['Oakham']
    >>> existing_areas([ExistingConfig(name="Elsewhere", areas=("E01000001",))], areas)
    Traceback (most recent call last):
    lacgeo.errors.ValidationError: ...recommend.existing (Elsewhere): 1 code is not an LSOA of the area (E01000001)...
    """
    found: list[ExistingArea] = []
    problems: list[str] = []
    for spec in specs:
        if spec.areas:
            codes = [str(c).strip() for c in spec.areas]
            unknown = [c for c in codes if c not in areas.index]
            if unknown:
                problems.append(
                    f"recommend.existing ({spec.name}): {len(unknown)} code{'s are' if len(unknown) > 1 else ' is'} "
                    f"not an LSOA of the area ({', '.join(unknown[:5])}); check the codes belong to the area and to "
                    "the run's LSOA vintage (area.vintage: LSOA 2021 codes for 2021, LSOA 2011 codes for 2011)"
                )
                continue
            found.append(ExistingArea(spec.name.strip(), tuple(sorted(set(codes))), "config"))
        else:
            found += _from_polygons(spec, areas, problems)
    owner: dict[str, str] = {}
    for area in found:
        for code in area.area_codes:
            if code in owner:
                problems.append(
                    f"recommend.existing: LSOA {code} is in both {owner[code]!r} and {area.name!r}; a coordinator's "
                    "area is kept exactly as a patch, so each LSOA may belong to one only"
                )
            owner[code] = area.name
    if problems:
        raise ValidationError(problems)
    return found


def _from_polygons(spec: ExistingConfig, areas: gpd.GeoDataFrame, problems: list[str]) -> list[ExistingArea]:
    units = read_polygons(spec.path, code_col=spec.name_col, layer=spec.layer)
    pieces = gpd.overlay(
        areas[[areas.geometry.name]].rename_axis("_lsoa").reset_index(),
        units[[units.geometry.name]].rename_axis("_name").reset_index(),
        how="intersection",
        keep_geom_type=True,
    )
    if pieces.empty:  # the file covers somewhere else, or its coordinates are mislabelled
        held = pd.DataFrame({"_name": pd.Series(dtype=object), "_lsoa": pd.Series(dtype=object)})
    else:
        pieces["_share"] = pieces.area.to_numpy() / pieces["_lsoa"].map(areas.geometry.area).to_numpy(dtype=float)
        held = pieces[pieces["_share"] > MIN_SHARE].sort_values(["_name", "_lsoa"])
    by_name = held.groupby("_name", sort=False)["_lsoa"].apply(tuple)
    empty = [str(n) for n in units.index if n not in by_name.index]
    if empty:
        problems.append(
            f"{spec.path}: {len(empty)} area{'s hold' if len(empty) > 1 else ' holds'} more than half of no LSOA of "
            f"the run ({', '.join(empty[:5])}); check it covers this council and is in the right coordinate "
            "reference system, or list its LSOA codes with areas = [...]"
        )
    return [ExistingArea(str(name), tuple(codes), spec.path) for name, codes in by_name.items()]


__all__ = ["ExistingArea", "existing_areas"]

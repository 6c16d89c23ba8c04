"""Stage 2: validators that collect every problem, then raise one error.

Each message says which file and column, how many rows or codes (with the first
few), and how to fix it.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import ValidationError, first_few
from .schema import BNG, POPULATION


def validate_areas(areas: gpd.GeoDataFrame, *, source: str = "areas") -> None:
    """Check the small-area table: codes, population, geometry and CRS."""
    problems: list[str] = []
    if areas.empty:
        raise ValidationError(f"{source}: no areas")
    if areas.index.has_duplicates:
        dup = areas.index[areas.index.duplicated()].unique()
        problems.append(
            f"{source}: {len(dup)} area codes appear more than once ({first_few(dup)}); keep one row per code"
        )
    if areas.crs is None or areas.crs.to_string() != BNG:
        problems.append(
            f"{source}: geometry CRS is {areas.crs}, expected {BNG} (British National Grid); "
            "reproject with to_crs('EPSG:27700')"
        )
    if POPULATION not in areas.columns:
        problems.append(f"{source}: no {POPULATION!r} column")
    else:
        pop = pd.to_numeric(areas[POPULATION], errors="coerce")
        bad = areas.index[pop.isna() | (pop < 0)]
        if len(bad):
            problems.append(
                f"{source}, column {POPULATION!r}: {len(bad)} areas have a missing or negative "
                f"population ({first_few(bad)})"
            )
    geoms = areas.geometry.to_numpy()
    empty = areas.index[shapely.is_empty(geoms) | pd.isna(geoms)]
    if len(empty):
        problems.append(f"{source}: {len(empty)} areas have no geometry ({first_few(empty)})")
    invalid = areas.index[~shapely.is_valid(geoms) & ~pd.isna(geoms)]
    if len(invalid):
        problems.append(
            f"{source}: {len(invalid)} geometries are invalid ({first_few(invalid)}); "
            "repair them with shapely.make_valid"
        )
    if problems:
        raise ValidationError(problems)


def validate_indicators(indicators: pd.DataFrame, *, source: str = "indicators") -> None:
    """Check indicator values are numbers and finite. Missing values are the need stage's to
    handle (its ``missing`` policy), so they are not an error here."""
    problems: list[str] = []
    for col in indicators.columns:
        values = pd.to_numeric(indicators[col], errors="coerce")
        text = indicators.index[values.isna() & indicators[col].notna()]
        if len(text):
            problems.append(f"{source}, column {col!r}: {len(text)} values are not numbers ({first_few(text)})")
        inf = indicators.index[np.isinf(values.fillna(0))]
        if len(inf):
            problems.append(
                f"{source}, column {col!r}: {len(inf)} infinite values ({first_few(inf)}); "
                "a rate with a zero denominator?"
            )
    if problems:
        raise ValidationError(problems)

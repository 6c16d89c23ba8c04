"""Stage 3: bring every indicator onto the analysis geography.

Shipped indicators come from two places:

* Indices of Deprivation columns, already on the analysis LSOAs (IoD2025 on LSOA
  2021, IoD2019 on LSOA 2011).
* Local Health preventable mortality (under-75 SMR, England = 100) on MSOA 2011.
  An SMR is *intensive*: an LSOA 2011 inherits the value of its MSOA. An LSOA 2021
  takes the population-weighted mean over the LSOAs 2011 it was made from (ONS
  exact-fit lookup), which is the inherited value for unchanged and split LSOAs.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from . import datasets
from .errors import ValidationError
from .schema import AREA_CODE, MSOA_CODE, POPULATION

MORTALITY_COLUMN = "Deaths from causes considered preventable, under 75 years, SMR"


def mortality_to_lsoa(codes: pd.Index, *, vintage: str, column: str = MORTALITY_COLUMN) -> pd.Series:
    """A Local Health MSOA 2011 ratio brought to LSOAs of ``vintage``."""
    mort = datasets.read_mortality()[column]
    if vintage == "2011":
        lsoa11 = pd.read_parquet(
            datasets.data_file("lsoa11.parquet"), columns=[MSOA_CODE], filters=[(AREA_CODE, "in", list(codes))]
        )
        values = lsoa11[MSOA_CODE].map(mort).reindex(codes)
    else:
        lookup = datasets.read_lsoa_lookup()
        lookup = lookup[lookup["lsoa21_code"].isin(codes)]
        lsoa11 = pd.read_parquet(
            datasets.data_file("lsoa11.parquet"),
            columns=[MSOA_CODE, POPULATION],
            filters=[(AREA_CODE, "in", list(lookup["lsoa11_code"].unique()))],
        )
        parts = lookup.join(lsoa11, on="lsoa11_code")
        parts["value"] = parts[MSOA_CODE].map(mort)
        parts = parts.dropna(subset=["value"])
        parts["wv"] = parts["value"] * parts[POPULATION]
        sums = parts.groupby("lsoa21_code")[["wv", POPULATION]].sum()
        values = (sums["wv"] / sums[POPULATION]).reindex(codes)
    values.index.name = AREA_CODE
    missing = values.index[values.isna()]
    if len(missing):
        raise ValidationError(
            f"localhealth_msoa11.parquet, column {column!r}: no value for {len(missing)} LSOAs "
            f"({', '.join(missing[:5])}); Local Health suppresses small counts. Drop the indicator "
            "from need.indicators or give it a smaller weight with another source"
        )
    return values.rename("preventable_mortality_smr")


def assign_to_units(
    areas: gpd.GeoDataFrame, units: gpd.GeoDataFrame, *, source: str = "units", min_share: float = 0.5
) -> pd.Series:
    """The unit (e.g. community area) holding the largest part of each area.

    An area less than ``min_share`` covered by any unit is an error naming it, so a
    unit file that misses part of the local authority is never silently accepted.
    """
    pieces = gpd.overlay(
        areas[[areas.geometry.name]].reset_index(),
        units.reset_index().rename(columns={units.index.name: "_unit"}),
        how="intersection",
        keep_geom_type=True,
    )
    pieces["_share"] = pieces.area / pieces[AREA_CODE].map(areas.area)
    pieces = pieces.sort_values([AREA_CODE, "_share", "_unit"], ascending=[True, False, True])
    best = pieces.drop_duplicates(AREA_CODE).set_index(AREA_CODE)
    unit = best["_unit"].reindex(areas.index)
    share = best["_share"].reindex(areas.index).fillna(0.0)
    bad = areas.index[share < min_share]
    if len(bad):
        raise ValidationError(
            f"{source}: {len(bad)} LSOAs are less than {min_share:.0%} inside any unit "
            f"({', '.join(bad[:5])}); the unit file must cover the whole local authority"
        )
    return unit.astype(str).rename("nest_unit")

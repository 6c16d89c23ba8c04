"""Stage 1, with load: bring every indicator onto the analysis geography.

The load stage calls :func:`read_source` for each council file, and the need stage's
:func:`lacgeo.need.read_indicators` calls :func:`msoa_ratio_to_lsoa`.

Shipped indicators come from two places:

* Indices of Deprivation columns, already on the analysis LSOAs (IoD2025 on LSOA
  2021, IoD2019 on LSOA 2011).
* Local Health preventable mortality (under-75 SMR, England = 100) on MSOA 2011.
  An SMR is *intensive*: an LSOA 2011 inherits the value of its MSOA. An LSOA 2021
  takes the population-weighted mean over the LSOAs 2011 it was made from (ONS
  exact-fit lookup), which is the inherited value for unchanged and split LSOAs.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from . import load
from .config import SourceConfig
from .errors import (
    ImplausibleValueWarning,
    OutsideAreaWarning,
    PointsOutsideWarning,
    TotalRowWarning,
    ValidationError,
    first_few,
)
from .schema import AREA_CODE, BNG, MSOA_CODE, POPULATION, WARD_CODE

MORTALITY_COLUMN = "Deaths from causes considered preventable, under 75 years, SMR"


@functools.cache
def _lsoa11_msoas() -> pd.DataFrame:
    """The MSOA and population of every LSOA 2011 (read once: a run reads several Local Health ratios)."""
    return pd.read_parquet(load.data_file("lsoa11.parquet"), columns=[MSOA_CODE, POPULATION])


def msoa_ratio_to_lsoa(codes: pd.Index, *, vintage: str, column: str = MORTALITY_COLUMN) -> pd.Series:
    """A Local Health MSOA 2011 ratio (or percentage) brought to LSOAs of ``vintage``.

    An LSOA 2011 inherits its MSOA's value. An LSOA 2021 takes the population-weighted
    mean over the LSOAs 2011 it was made from; a piece whose MSOA value is suppressed
    is left out of that mean, and an LSOA with no value at all stays missing (the need
    stage's ``need.missing`` policy decides, and names it).
    """
    ratio = load.read_mortality()[column]
    lsoa11 = _lsoa11_msoas()
    if vintage == "2011":
        values = lsoa11[MSOA_CODE].reindex(codes).map(ratio)
    else:
        lookup = load.read_lsoa_lookup()
        lookup = lookup[lookup["lsoa21_code"].isin(codes)]
        parts = lookup.join(lsoa11, on="lsoa11_code")
        parts["value"] = parts[MSOA_CODE].map(ratio)
        parts = parts.dropna(subset=["value"])
        parts["wv"] = parts["value"] * parts[POPULATION]
        sums = parts.groupby("lsoa21_code")[["wv", POPULATION]].sum()
        values = (sums["wv"] / sums[POPULATION]).reindex(codes)
    values.index.name = AREA_CODE
    return values.astype(float)


def mortality_to_lsoa(codes: pd.Index, *, vintage: str, column: str = MORTALITY_COLUMN) -> pd.Series:
    """Preventable mortality (or another Local Health ``column``) on LSOAs, stopping when any
    LSOA has no value (used where no missing-value policy applies, such as the synthetic data)."""
    values = msoa_ratio_to_lsoa(codes, vintage=vintage, column=column)
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
    if pieces.empty:
        raise ValidationError(
            f"{source}: no unit overlaps the local authority at all; the file covers somewhere else, or its "
            "coordinate reference system is wrong (longitude and latitude labelled as EPSG:27700?): check it in GIS"
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


# --- council service-demand sources ------------------------------------------------------

GEOGRAPHY_LABEL = {"lsoa21": "LSOA 2021", "lsoa11": "LSOA 2011", "msoa11": "MSOA 2011", "ward": "ward"}


@dataclass(frozen=True)
class SourceCounts:
    """A service-demand source on the analysis areas.

    ``count`` and ``denominator`` are extensive (whole numbers after apportioning, the
    source total preserved); ``reason`` says why an area's count is missing ("" if not).
    """

    name: str
    count: pd.Series
    denominator: pd.Series
    reason: pd.Series
    synthetic: bool
    proportion: bool = False
    """The denominator counts people at risk and each is counted once (a proportion,
    Wilson intervals); otherwise a rate of events per resident (Byar's/exact)."""


def _national_codes(geography: str) -> pd.DataFrame:
    """Every code of a geography with the LSOAs (of both vintages) it covers."""
    if geography in ("lsoa21", "lsoa11"):
        return pd.read_parquet(
            load.data_file(f"{geography[:4]}{geography[4:]}.parquet"), columns=[POPULATION, "lad_code"]
        )
    if geography == "msoa11":
        return pd.DataFrame(index=pd.Index(_lsoa11_msoas()[MSOA_CODE].unique(), name=MSOA_CODE))
    raise ValueError(geography)


def _mapping(geography: str, areas: pd.DataFrame, vintage: str) -> pd.DataFrame:
    """Rows (source, target, weight) that carry a source unit's count to analysis LSOAs.

    Weights are populations of the targets; targets outside the LA are kept so the
    share belonging to neighbouring authorities is dropped, not piled onto this LA.
    """
    analysis = "lsoa21" if vintage == "2021" else "lsoa11"
    if geography == analysis:
        return pd.DataFrame({"source": areas.index, "target": areas.index, "weight": 1.0})
    if geography in ("msoa11", "ward"):
        col = MSOA_CODE if geography == "msoa11" else WARD_CODE
        return pd.DataFrame(
            {"source": areas[col].to_numpy(), "target": areas.index, "weight": areas[POPULATION].to_numpy(dtype=float)}
        )
    lookup = load.read_lsoa_lookup()
    src_col, dst_col = ("lsoa11_code", "lsoa21_code") if geography == "lsoa11" else ("lsoa21_code", "lsoa11_code")
    rows = lookup[lookup[dst_col].isin(areas.index)]
    rows = lookup[lookup[src_col].isin(rows[src_col])]
    pop = _national_codes(analysis)[POPULATION]
    return pd.DataFrame(
        {
            "source": rows[src_col].to_numpy(),
            "target": rows[dst_col].to_numpy(),
            "weight": rows[dst_col].map(pop).to_numpy(dtype=float),
        }
    )


def apportion(values: pd.Series, mapping: pd.DataFrame) -> pd.Series:
    """Split extensive values (counts) from source units onto targets by weight.

    Each source's value is shared in proportion to its targets' weights and rounded to
    whole numbers with the largest-remainder method, so every source total is kept
    exactly. A missing source value makes its targets missing.
    """
    m = mapping[mapping["source"].isin(values.index)].copy()
    if m.empty:  # no source unit reaches a target: nothing to share
        return pd.Series(dtype=float)
    m["value"] = m["source"].map(values)
    total_w = m.groupby("source")["weight"].transform("sum")
    n_targets = m.groupby("source")["weight"].transform("size")
    share = (m["weight"] / total_w).where(total_w > 0, 1.0 / n_targets)
    exact = m["value"] * share
    base = np.floor(exact)
    short = (m["value"] - base.groupby(m["source"]).transform("sum")).round()
    m = m.assign(_rem=exact - base, _key=m["target"].astype(str))
    order = m.sort_values(["source", "_rem", "_key"], ascending=[True, False, True]).groupby("source").cumcount() + 1
    m["part"] = base + (order.reindex(m.index) <= short).astype(float)
    m.loc[m["value"].isna(), "part"] = np.nan
    return m.groupby("target")["part"].sum(min_count=1)


def _check_codes(codes: pd.Series, src: SourceConfig, geography: str, vintage: str, source: str) -> None:
    """Codes must exist in the declared geography; diagnose a wrong vintage or nation."""
    problems = []
    dup = codes[codes.duplicated()].unique()
    if len(dup):
        problems.append(
            f"{source}, column {src.code_col!r}: {len(dup)} codes appear more than once "
            f"({', '.join(dup[:5])}); keep one row per area"
        )
    if geography in ("lsoa21", "lsoa11", "msoa11"):
        known = _national_codes(geography).index
        unknown = codes[~codes.isin(known)]
        if len(unknown):
            others = [g for g in ("lsoa21", "lsoa11", "msoa11") if g != geography]
            found = {g: unknown.isin(_national_codes(g).index).mean() for g in others}
            best = max(found, key=found.get)
            welsh = unknown.str.fullmatch(r"W0\d{7}").mean()
            not_codes = unknown[~unknown.str.fullmatch(r"[EW]\d{8}")]
            if len(not_codes) == len(unknown):
                tip = (
                    "they are not ONS codes at all: a total, note or blank row? Delete such rows, or fix the "
                    "code column"
                )
            elif welsh > 0.5 and geography == "lsoa21":
                tip = (
                    "these are Welsh codes: lacgeo runs Welsh councils on LSOA 2011 (WIMD 2019), so give them as "
                    'LSOA 2011 codes with geography = "lsoa11"; an English area takes English codes only'
                )
            elif welsh > 0.5:
                tip = "these are Welsh codes, and the area is in England"
            elif found[best] > 0.5:
                tip = (
                    f'the file looks like {GEOGRAPHY_LABEL[best]} codes; set geography = "{best}" in this '
                    "[[sources]] table"
                )
            else:
                prefix = "E02" if geography == "msoa11" else "E01"
                tip = f"check the file holds {GEOGRAPHY_LABEL[geography]} codes ({prefix}...)"
            listed = [f"{c!r} (row {r})" for r, c in unknown.items()]
            problems.append(
                f"{source}, column {src.code_col!r}: {len(unknown)} codes are not "
                f"{GEOGRAPHY_LABEL[geography]} codes ({first_few(listed)}): {tip}"
            )
    if geography == "ward":
        ours, other = ("2021", "2011") if vintage == "2021" else ("2011", "2021")
        unknown = codes[~codes.isin(_ward_codes(ours))]
        if len(unknown):
            if unknown.isin(_ward_codes(other)).mean() > 0.5:
                tip = (
                    f"they look like the ward codes of an earlier or later boundary review ({WARD_VINTAGE[other]}, "
                    f"used with LSOA {other}); the analysis LSOAs ({vintage}) sit in {WARD_VINTAGE[ours]} wards: "
                    f'set area.vintage = "{other}", or key the counts on LSOA codes or on {WARD_VINTAGE[ours]} wards'
                )
            elif unknown.str.startswith("W").mean() > 0.5:
                tip = "these are Welsh codes, and the area is in England"
            else:
                tip = f"check the file holds {WARD_VINTAGE[ours]} ward codes (E05...)"
            problems.append(
                f"{source}, column {src.code_col!r}: {len(unknown)} codes are not {WARD_VINTAGE[ours]} ward codes "
                f"({', '.join(unknown[:5])}): {tip}"
            )
    if problems:
        raise ValidationError(problems)


WARD_VINTAGE = {"2021": "2024", "2011": "2019"}
"""The wards each LSOA vintage is shipped with (ONS best-fit lookups)."""


@functools.cache
def _ward_codes(vintage: str) -> frozenset[str]:
    """Every English ward code the LSOAs of ``vintage`` sit in."""
    table = pd.read_parquet(load.data_file(f"lsoa{vintage[2:]}.parquet"), columns=[WARD_CODE])
    return frozenset(table[WARD_CODE].dropna())


TOTAL_LABELS = frozenset({"total", "totals", "grand total", "all", "all areas", "sum", "overall", "england"})
"""Code cells that mark a summary row rather than an area."""


def _without_total_rows(table: pd.DataFrame, code_col: str, source: str) -> pd.DataFrame:
    """The table less the summary rows at its end ('Total', 'Grand total'...), each named in a warning."""
    label = table[code_col].fillna("").astype(str).str.strip().str.rstrip(":").str.casefold()
    is_total = label.isin(TOTAL_LABELS).to_numpy()
    trailing = is_total & (np.cumsum(~is_total[::-1])[::-1] == 0)  # only the rows after the last area
    if not trailing.any():
        return table
    rows = table.index[trailing]
    warnings.warn(
        f"{source}: row {', '.join(map(str, rows))} ({', '.join(repr(v) for v in table.loc[rows, code_col])}) "
        "is a total row, not an area; it is not counted",
        TotalRowWarning,
        stacklevel=3,
    )
    return table[~trailing]


def read_source(src: SourceConfig, areas: gpd.GeoDataFrame, *, vintage: str) -> SourceCounts:
    """Load one service-demand source and bring its counts onto the analysis LSOAs."""
    source = Path(src.path).name
    if src.kind == "counts":
        cols = [src.code_col, src.value_col] + ([src.denominator_col] if src.denominator_col else [])
        table = _without_total_rows(load.read_table(src.path, columns=cols, sheet=src.sheet), src.code_col, source)
        codes = load.normalise_codes(table[src.code_col], source=source)
        _check_codes(codes, src, src.geography, vintage, source)
        count, why = load.parse_numbers(table[src.value_col], source=source, column=src.value_col)
        _check_counts(count, source=source, column=src.value_col, rows=table.index)
        why = why.where(why.eq(""), why + f" in {source}, row " + table.index.astype(str))  # where to look
        count.index = why.index = pd.Index(codes, name="source")
        denominator = dwhy = None
        if src.denominator_col:
            denominator, dwhy = load.parse_numbers(
                table[src.denominator_col], source=source, column=src.denominator_col
            )
            _check_counts(denominator, source=source, column=src.denominator_col, rows=table.index)
            zero = denominator.index[(denominator == 0).to_numpy()]
            if len(zero):
                raise ValidationError(
                    f"{source}, column {src.denominator_col!r}: {len(zero)} rows have a zero "
                    f"denominator (rows {', '.join(map(str, zero[:5]))}); a rate needs people "
                    "at risk"
                )
            denominator.index = pd.Index(codes, name="source")
        mapping = _mapping(src.geography, areas, vintage)
        outside = count.index[~count.index.isin(mapping["source"])]
        if len(outside):
            warnings.warn(
                f"{source}: {len(outside)} of {len(count)} {GEOGRAPHY_LABEL[src.geography]} codes are "
                f"outside the local authority and are ignored ({first_few(outside)})",
                OutsideAreaWarning,
                stacklevel=2,
            )
        if denominator is not None:
            _check_denominator(count, denominator, dwhy, source=source, column=src.denominator_col, rows=table.index)
        shared = apportion(count, mapping)
        area_count = shared.reindex(areas.index)
        lost = float(shared.drop(areas.index, errors="ignore").sum())
        if lost > 0:
            kept = float(area_count.sum())
            warnings.warn(
                f"{source}: {lost:,.0f} of {kept + lost:,.0f} counts in this local authority's codes belong, by "
                f"population, to parts now in other authorities (boundary changes since the "
                f"{GEOGRAPHY_LABEL[src.geography]} codes) and are left out; key the counts on the analysis LSOAs "
                "to keep them all",
                OutsideAreaWarning,
                stacklevel=2,
            )
        reason = pd.Series("", index=areas.index, dtype=object)
        src_reason = mapping.assign(r=mapping["source"].map(why))
        src_reason = src_reason[src_reason["target"].isin(areas.index) & src_reason["r"].fillna("").ne("")]
        reason.loc[src_reason["target"].to_numpy()] = src_reason["r"].to_numpy()
        absent = area_count.isna() & reason.eq("")
        reason[absent] = f"no row in {source}"
        denom = (
            apportion(denominator, mapping).reindex(areas.index)
            if denominator is not None
            else areas[POPULATION].astype(float)
        )
    elif src.kind == "points":
        points = load.read_points(src.path, x_col=src.x_col, y_col=src.y_col, crs=src.crs, sheet=src.sheet)
        area_count = points_to_areas(points, areas, source=source)
        reason = pd.Series("", index=areas.index, dtype=object)
        denom = areas[POPULATION].astype(float)
    else:
        area_count = postcodes_to_areas(src, areas, vintage=vintage)
        reason = pd.Series("", index=areas.index, dtype=object)
        denom = areas[POPULATION].astype(float)
    synthetic = src.synthetic or "synthetic" in Path(src.path).name.lower()
    per_resident = area_count / denom * 1000.0
    high = per_resident.index[per_resident > 1000.0]
    if not src.denominator_col and len(high):
        warnings.warn(
            f"{source}: {len(high)} areas have more events than residents ({first_few(high)}); check the counts "
            "are for this geography and period",
            ImplausibleValueWarning,
            stacklevel=2,
        )
    return SourceCounts(
        src.name,
        area_count.rename(src.name),
        denom.rename(f"{src.name}_denominator"),
        reason.rename(f"{src.name}_missing"),
        synthetic,
        proportion=bool(src.denominator_col),
    )


def _check_denominator(
    count: pd.Series, denominator: pd.Series, why: pd.Series, *, source: str, column: str, rows: pd.Index
) -> None:
    problems = []
    blank = why.to_numpy() != ""
    if blank.any():
        problems.append(
            f"{source}, column {column!r}: {int(blank.sum())} rows have no denominator "
            f"(rows {first_few(rows[blank])}); a rate needs the people at risk"
        )
    over = count.to_numpy() > denominator.to_numpy()
    if over.any():
        problems.append(
            f"{source}: {int(over.sum())} rows count more people than the denominator {column!r} "
            f"(rows {first_few(rows[over])}); if events repeat per person, drop denominator_col "
            "and lacgeo uses residents"
        )
    if problems:
        raise ValidationError(problems)


MAX_COUNT = 1e9
"""More events than this in one row is not a count (all of England holds 57 million people): a typo or a
spreadsheet overflow, refused rather than carried into rates and Poisson draws."""


def _check_counts(values: pd.Series, *, source: str, column: str, rows: pd.Index) -> None:
    bad = values.notna() & ((values < 0) | (values != np.floor(values)))
    if bad.any():
        where = [f"row {r}: {v:g}" for r, v in zip(rows[bad.to_numpy()], values[bad], strict=True)]
        raise ValidationError(
            f"{source}, column {column!r}: {int(bad.sum())} values are negative or not whole "
            f"numbers ({', '.join(where[:5])}); counts must be 0, 1, 2, ..."
        )
    huge = values.notna() & (values > MAX_COUNT)
    if huge.any():
        where = [f"row {r}: {v:g}" for r, v in zip(rows[huge.to_numpy()], values[huge], strict=True)]
        raise ValidationError(
            f"{source}, column {column!r}: {int(huge.sum())} values are too large to be counts of people or events "
            f"({', '.join(where[:5])}); more than {MAX_COUNT:,.0f} in one row is a typo or an overflow: fix the row"
        )


def points_to_areas(
    points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, source: str, max_outside: float = 0.5
) -> pd.Series:
    """Count point records per area by spatial join (points on a boundary count once).

    If most points fall outside the local authority, the coordinates are almost
    certainly wrong: the error says whether swapping x and y would fix it.
    """
    joined = gpd.sjoin(points, areas[[areas.geometry.name]], how="left", predicate="intersects")
    joined = joined[~joined.index.duplicated(keep="first")]
    outside = joined["index_right"].isna() if "index_right" in joined else joined[AREA_CODE].isna()
    share_out = float(outside.mean())
    if share_out > max_outside:
        swapped = gpd.GeoSeries(gpd.points_from_xy(points.geometry.y, points.geometry.x), crs=points.crs)
        tip = "check the declared crs (EPSG:27700 for easting/northing, EPSG:4326 for lon/lat)"
        raw = points.to_crs("EPSG:4326")
        swap_ll = gpd.GeoSeries(gpd.points_from_xy(raw.geometry.y, raw.geometry.x), crs="EPSG:4326").to_crs(BNG)
        la = areas.union_all()
        if swapped.within(la).mean() > 0.5 or swap_ll.within(la).mean() > 0.5:
            tip = "the x and y columns look swapped (latitude given as x?); exchange x_col and y_col"
        raise ValidationError(
            f"{source}: {share_out:.0%} of {len(points)} points lie outside the local authority; {tip}"
        )
    if outside.any():
        zero = (points.geometry.x.abs() < 1) & (points.geometry.y.abs() < 1) if points.crs == BNG else None
        hint = (
            "; some are at 0,0 (a blank coordinate written as 0?)" if zero is not None and zero[outside].any() else ""
        )
        warnings.warn(
            f"{source}: {int(outside.sum())} of {len(points)} points lie outside the local authority "
            f"and are not counted (rows {first_few(joined.index[outside])}){hint}",
            PointsOutsideWarning,
            stacklevel=2,
        )
    key = "index_right" if "index_right" in joined else AREA_CODE
    counts = joined.loc[~outside, key].value_counts()
    return counts.reindex(areas.index, fill_value=0).astype(float)


def postcodes_to_areas(src: SourceConfig, areas: gpd.GeoDataFrame, *, vintage: str) -> pd.Series:
    """Count records per LSOA through the user's own postcode lookup (never an online service)."""
    source = Path(src.path).name
    records = load.read_table(src.path, columns=[src.postcode_col], sheet=src.sheet)
    lookup = load.read_table(src.lookup, columns=[src.lookup_postcode_col, src.lookup_code_col])

    def norm(s: pd.Series) -> pd.Series:
        return s.fillna("").astype(str).str.replace(r"\s+", "", regex=True).str.upper()

    lookup_name = Path(src.lookup).name
    table = pd.Series(norm(lookup[src.lookup_code_col]).to_numpy(), index=norm(lookup[src.lookup_postcode_col]))
    per_postcode = table.groupby(level=0).nunique()
    conflicting = per_postcode.index[per_postcode > 1]
    if len(conflicting):
        rows = lookup.index[norm(lookup[src.lookup_postcode_col]).isin(conflicting).to_numpy()]
        raise ValidationError(
            f"{lookup_name}, column {src.lookup_postcode_col!r}: {len(conflicting)} postcodes map to more than one "
            f"{src.lookup_code_col} (rows {first_few(rows)}); lacgeo will not pick one: keep one row per postcode "
            "(the ONS postcode directory gives one LSOA per postcode)"
        )
    table = table[~table.index.duplicated(keep="first")]  # repeats of the same postcode and code
    codes = norm(records[src.postcode_col]).map(table)
    unmatched = codes.isna()
    if unmatched.mean() > 0.05:
        raise ValidationError(
            f"{source}, column {src.postcode_col!r}: {int(unmatched.sum())} of {len(codes)} "
            f"postcodes are not in {Path(src.lookup).name} (rows {first_few(codes.index[unmatched])}); "
            "check the lookup covers the area and the postcode column"
        )
    if unmatched.any():
        warnings.warn(
            f"{source}: {int(unmatched.sum())} postcodes are not in the lookup and are not counted",
            PointsOutsideWarning,
            stacklevel=2,
        )
    per_code = codes[~unmatched].value_counts()
    analysis = "lsoa21" if vintage == "2021" else "lsoa11"
    lookup_geo = (
        analysis
        if per_code.index.isin(areas.index).mean() > 0.5 or per_code.empty
        else ("lsoa11" if analysis == "lsoa21" else "lsoa21")
    )
    not_lsoa = per_code.index[~per_code.index.isin(_national_codes(lookup_geo).index)]
    if len(not_lsoa):
        raise ValidationError(
            f"{lookup_name}, column {src.lookup_code_col!r}: {len(not_lsoa)} codes are not English "
            f"{GEOGRAPHY_LABEL[lookup_geo]} codes ({first_few(not_lsoa)}); point lookup_code_col at the LSOA column"
        )
    mapping = _mapping(lookup_geo, areas, vintage)
    away = codes.index[(~unmatched & ~codes.isin(mapping["source"])).to_numpy()]
    if len(away):
        warnings.warn(
            f"{source}: {len(away)} of {len(codes)} records ({len(away) / len(codes):.0%}) have postcodes in LSOAs "
            f"outside the local authority and are not counted (rows {first_few(away)})",
            OutsideAreaWarning,
            stacklevel=2,
        )
    return apportion(per_code.astype(float), mapping).reindex(areas.index).fillna(0.0)

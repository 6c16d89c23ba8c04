"""Paths and loaders for the national data shipped inside the package, ``lacgeo/data/``.

The files are package data, found through :mod:`importlib.resources`, so an installed
wheel carries them and works offline from any folder; ``$LACGEO_DATA`` points lacgeo
at another copy. They are built by ``data/build.py`` from open government data; see
``lacgeo/data/README.md`` for sources, licences and the derivation. Loaders read only the
rows of one local authority (parquet row filters), so a run stays fast.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from importlib import resources
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ..config import DEFAULTS
from ..errors import LacgeoError, UnknownAreaError
from ..schema import AREA_CODE, BNG, LAD_CODE, LAD_NAME, VINTAGES, deprivation_index

ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0: "
    "English Indices of Deprivation 2025 and 2019 (MHCLG); Welsh Index of Multiple Deprivation 2019 (Welsh "
    "Government); ONS Census 2021 and mid-2020 small area population estimates, LSOA/MSOA/ward/LAD/county/ICB "
    "lookups and "
    "boundaries; Local Health (OHID). Contains OS data (c) Crown copyright and database right. Contains "
    "Parliamentary information licensed under the Open Parliament Licence v3.0 (House of Commons Library MSOA Names)."
)

# The licence section of lacgeo/data/README.md, kept here so the report never reads a file to write it.
DATA_SOURCES = (
    "Contains public sector information licensed under the Open Government Licence v3.0 "
    "(nationalarchives.gov.uk/doc/open-government-licence/version/3/).",
    "English Indices of Deprivation 2025 and 2019, Ministry of Housing, Communities and Local Government.",
    "© Crown copyright, Welsh Government, Welsh Index of Multiple Deprivation 2019 (OGL v3.0).",
    "Source: Office for National Statistics licensed under the Open Government Licence v3.0 (boundaries, lookups "
    "including LSOA to sub-ICB location and ICB, and LTLA to UTLA, population estimates). Contains OS data © Crown "
    "copyright and database right 2021.",
    "Local Health, Office for Health Improvement and Disparities (formerly Public Health England), OGL v3.0.",
    "Contains Parliamentary information licensed under the Open Parliament Licence v3.0 (House of Commons Library "
    "MSOA Names). Contains ONS data © Crown copyright (OGL v3.0).",
    "Republished by: martinjc/UK-GeoJSON (CC BY 4.0, “UK-GeoJSON by Martin Chorley”), mysociety/composite_uk_imd "
    "(CC BY 4.0, mySociety), humaniverse/IMD and humaniverse/geographr (data OGL), rcpch/rcpch-census-platform, "
    "anetobradley/energy_flex, psychty/local_estimates_of_mortality, ukparliament/visual.parliament.uk-msoanames.",
)


def data_dir() -> Path:
    """The folder holding the shipped data: ``lacgeo/data`` in the installed package, or ``$LACGEO_DATA``."""
    override = os.environ.get("LACGEO_DATA")
    path = Path(override) if override else Path(str(resources.files("lacgeo").joinpath("data")))
    if not (path / "lads.csv").is_file():
        where = f"LACGEO_DATA = {override}" if override else "the installed package"
        fix = (
            "point LACGEO_DATA at a folder holding lacgeo's shipped data (lacgeo/data in its repository), or unset it"
            if override
            else "reinstall lacgeo (pip install --force-reinstall lacgeo), or rebuild the data with data/build.py"
        )
        raise LacgeoError(f"shipped data not found in {path} ({where}): {fix}")
    return path


def data_file(name: str) -> Path:
    return data_dir() / name


@functools.cache
def read_lads() -> pd.DataFrame:
    """Every English local authority district (2024 codes) with its region and size.

    Returns
    -------
    DataFrame
        Indexed by ``lad_code``: ``lad_name``, ``region_name``, ``n_lsoa21`` and ``population``.

    Examples
    --------
    >>> lads = read_lads()
    >>> len(lads), lads.at["E06000054", "lad_name"]
    (296, 'Wiltshire')
    """
    lads = pd.read_csv(data_file("lads.csv"), dtype={"lad_code": str, "lad_name": str})
    return lads.set_index(LAD_CODE)


def resolve_la(name_or_code: str) -> tuple[str, str]:
    """The code and name of a local authority given by name or code.

    Parameters
    ----------
    name_or_code
        An ONS code (``"E06000054"``) or a name, matched case-insensitively;
        ``"Bristol"`` finds "Bristol, City of".

    Returns
    -------
    tuple of str
        ``(lad_code, lad_name)``.

    Raises
    ------
    UnknownAreaError
        For an unknown name or code, naming the closest matches.

    Examples
    --------
    >>> resolve_la("wiltshire"), resolve_la("Bristol")
    (('E06000054', 'Wiltshire'), ('E06000023', 'Bristol, City of'))
    >>> resolve_la("Wiltshre")
    Traceback (most recent call last):
    lacgeo.errors.UnknownAreaError: unknown local authority 'Wiltshre': did you mean "Wiltshire"?
    """
    lads = read_lads()
    text = " ".join(str(name_or_code).split())
    if not text:
        raise UnknownAreaError(
            "no local authority given; set area.la in the config, or pass --la NAME or CODE (see `lacgeo las`)"
        )
    code = text.upper()
    if code in lads.index:
        return code, str(lads.at[code, LAD_NAME])
    by_name = {n.casefold(): c for c, n in lads[LAD_NAME].items()}
    if text.casefold() in by_name:
        c = by_name[text.casefold()]
        return c, str(lads.at[c, LAD_NAME])
    # "Bristol" for "Bristol, City of", "Herefordshire" for "Herefordshire, County of"
    short = [c for c, n in lads[LAD_NAME].items() if n.split(",")[0].casefold() == text.casefold()]
    if len(short) == 1:
        return short[0], str(lads.at[short[0], LAD_NAME])
    names = list(lads[LAD_NAME])
    close = difflib.get_close_matches(text, names, n=3, cutoff=0.6)
    close += [n for n in names if text.casefold() in n.casefold() and n not in close][: 3 - len(close)]
    if re.fullmatch(r"[WSN]\d{8}", code):
        tip = "this lists districts and unitaries only; find any area, Welsh councils included, with resolve_area"
    elif close:
        tip = "did you mean " + ", ".join(f'"{c}"' for c in close) + "?"
    else:
        tip = "list the valid names and codes with `lacgeo las`"
    raise UnknownAreaError(f"unknown local authority {text!r}: {tip}")


def _check_vintage(vintage: str) -> None:
    if vintage not in VINTAGES:
        raise LacgeoError(f"unknown geography vintage {vintage!r}; use one of {', '.join(VINTAGES)}")


def read_areas(lad_code: str, *, vintage: str = DEFAULTS.area.vintage) -> gpd.GeoDataFrame:
    """The small areas (LSOAs) of one local authority, from the shipped data.

    Only that LA's rows are read from the national GeoParquet (a row filter).

    Parameters
    ----------
    lad_code
        The LA's ONS code (see :func:`resolve_la`).
    vintage
        ``"2021"`` (LSOA 2021) or ``"2011"`` (LSOA 2011).

    Returns
    -------
    GeoDataFrame
        Indexed by ``area_code``, sorted, in EPSG:27700: ``area_name``, MSOA, ward and
        LAD codes and names, ``population`` (Census 2021 usual residents on LSOA 2021, ONS mid-2020
        estimates on LSOA 2011) and the boundary.

    Examples
    --------
    >>> areas = read_areas("E06000017")  # Rutland
    >>> len(areas), areas.crs.to_string(), int(areas["population"].sum())
    (26, 'EPSG:27700', 41053)
    """
    _check_vintage(vintage)
    path = data_file(f"lsoa{vintage[2:]}.parquet")
    areas = gpd.read_parquet(path, filters=[(LAD_CODE, "==", lad_code)])
    if areas.empty:
        raise UnknownAreaError(f"{path.name}: no LSOAs for local authority {lad_code}")
    areas = areas.set_crs(BNG, allow_override=True) if areas.crs is None else areas
    areas.index.name = AREA_CODE
    return areas.sort_index()


def read_deprivation(codes: pd.Index, *, vintage: str = DEFAULTS.area.vintage) -> pd.DataFrame:
    """The national deprivation index's scores, ranks and deciles for the given LSOA codes:
    the English Indices of Deprivation for English LSOAs, the Welsh Index of Multiple
    Deprivation for Welsh ones (never both: they cannot be compared).

    Parameters
    ----------
    codes
        LSOA codes of ``vintage``, all English (E01) or all Welsh (W01).
    vintage
        ``"2021"`` gives IoD2025 on LSOA 2021; ``"2011"`` gives IoD2019 on LSOA 2011, or
        WIMD 2019 for Welsh LSOAs.

    Returns
    -------
    DataFrame
        On ``codes``: ``<domain>_score``, ``<domain>_rank`` and ``<domain>_decile``
        (rank 1 and decile 1 = most deprived in the nation). English domains are
        ``imd``, ``income``, ...; Welsh ones are ``wimd``, ``wimd_income``, ...

    Examples
    --------
    >>> iod = read_deprivation(read_areas("E06000017").index)
    >>> int(iod["imd_decile"].min()) >= 1, "income_score" in iod
    (True, True)
    """
    _check_vintage(vintage)
    index = deprivation_index(nation_of(codes), vintage)
    if len(codes) > 2_000:  # a long "in" filter costs more than reading the whole nation (33,755 rows)
        iod = pd.read_parquet(data_file(index.file))  # the reindex below keeps only ``codes``
    else:
        iod = pd.read_parquet(data_file(index.file), filters=[(AREA_CODE, "in", list(codes))])
    missing = codes.difference(iod.index)
    if len(missing):
        raise LacgeoError(
            f"{index.file}: {len(missing)} LSOA codes have no deprivation data ({', '.join(missing[:5])})"
        )
    if index.key != "imd":  # the domains carry the index's name, so no column reads as the English IMD's
        iod = iod.rename(columns=lambda c: c if c.startswith(index.key) else f"{index.key}_{c}")
    return iod.reindex(codes)


def nation_of(codes: pd.Index) -> str:
    """``"England"`` or ``"Wales"``: the nation every one of ``codes`` lies in.

    >>> nation_of(pd.Index(["W01000001", "W01000002"]))
    'Wales'
    """
    first = set(pd.Index(codes).astype(str).str[:1].unique())
    nations = {"E": "England", "W": "Wales"}
    if len(first) != 1 or not first <= set(nations):
        raise LacgeoError(
            "LSOA codes must all be English (E01...) or all Welsh (W01...): the IMD and WIMD cannot be "
            f"compared; found codes starting {', '.join(sorted(first))}"
        )
    return nations[first.pop()]


def read_shipped_table(file: str, codes: pd.Index, columns: list[str]) -> pd.DataFrame:
    """Columns of a shipped per-LSOA table (such as the Census 2021 counts) for ``codes``.

    A code the table does not hold is an error naming the file, never a silent gap.

    >>> census = read_shipped_table("census2021_lsoa21.parquet", pd.Index(["E01000001"]), ["residents"])
    >>> int(census.loc["E01000001", "residents"])
    1475
    """
    if len(codes) > 2_000:  # a long "in" filter costs more than reading the whole table
        table = pd.read_parquet(data_file(file), columns=columns)
    else:
        table = pd.read_parquet(data_file(file), columns=columns, filters=[(AREA_CODE, "in", list(codes))])
    missing = pd.Index(codes).difference(table.index)
    if len(missing):
        raise LacgeoError(f"{file}: {len(missing)} LSOA codes are not in the shipped table ({', '.join(missing[:5])})")
    return table.reindex(codes)


@functools.cache
def read_mortality() -> pd.DataFrame:
    """Local Health mortality and admission ratios by MSOA 2011 (England = 100)."""
    return pd.read_parquet(data_file("localhealth_msoa11.parquet"))


@functools.cache
def read_lsoa_lookup() -> pd.DataFrame:
    """ONS exact-fit LSOA 2011 -> LSOA 2021 lookup with change codes (U, S, M, X)."""
    return pd.read_csv(data_file("lookup_lsoa11_lsoa21.csv"), dtype=str)

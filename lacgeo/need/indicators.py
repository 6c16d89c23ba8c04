"""Stage 3a: the indicators a need index can use, read onto the analysis areas.

A name is a shipped indicator (one of the catalogue's, :mod:`lacgeo.catalogue`:
deprivation, health outcomes, service demand, vulnerability and context) or a council
source already brought onto the areas by :mod:`lacgeo.harmonise`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

import pandas as pd

from .. import harmonise, load
from ..catalogue import CATALOGUE, CATALOGUE_LIST, MHCLG, OHID
from ..errors import ConfigError
from ..schema import deprivation_index

IOD_DOMAINS = ("imd", "income", "employment", "education", "health", "crime", "housing", "environment")
WIMD_DOMAINS = ("income", "employment", "health", "education", "access", "housing", "environment", "crime")

SHIPPED_INDICATORS: dict[str, str] = {i.name: f"{i.label} ({i.publisher})" for i in CATALOGUE_LIST}
"""Every shipped indicator's name and a label naming its publisher (see :mod:`lacgeo.need.catalogue`)."""
ENGLISH_INDICATORS: dict[str, str] = {n: t for n, t in SHIPPED_INDICATORS.items() if "England" in CATALOGUE[n].nations}
WELSH_INDICATORS: dict[str, str] = {n: t for n, t in SHIPPED_INDICATORS.items() if "Wales" in CATALOGUE[n].nations}

_WHY_NOT_WALES = {
    MHCLG: "the English Indices of Deprivation cover England only; Wales has its own index, WIMD, which "
    "cannot be compared with them (use wimd_score)",
    OHID: "Local Health (OHID) publishes it for England only; no Welsh equivalent is shipped",
}
NOT_IN_WALES: dict[str, str] = {
    i.name: _WHY_NOT_WALES[i.publisher]
    if i.publisher != MHCLG or i.name.endswith("_score")
    else "MHCLG publishes it for England only; no Welsh equivalent is shipped"
    for i in CATALOGUE_LIST
    if "Wales" not in i.nations
}
"""Why each English-only shipped indicator cannot be used for Welsh areas."""


def unavailable(names: Sequence[str], nation: str, vintage: str | None = None) -> dict[str, str]:
    """The shipped indicators of ``names`` that do not exist for areas of ``nation`` (and, when
    given, LSOA ``vintage``), with why.

    >>> unavailable(["imd_score", "wimd_score", "preventable_mortality_smr"], "Wales")["preventable_mortality_smr"]
    'Local Health (OHID) publishes it for England only; no Welsh equivalent is shipped'
    >>> unavailable(["wimd_score"], "England")
    {'wimd_score': 'WIMD covers Wales only; English areas use the IMD (imd_score)'}
    >>> unavailable(["mental_health"], "England", "2011")["mental_health"]
    'it exists for LSOA 2021 only (IoD2025 (data mostly 2021/22 to 2023/24)); use vintage 2021'
    """
    out = {}
    for name in names:
        spec = CATALOGUE.get(name)
        if spec is None:
            continue
        if nation not in spec.nations:
            out[name] = (
                NOT_IN_WALES[name]
                if nation == "Wales"
                else "WIMD covers Wales only; English areas use the IMD (imd_score)"
            )
        elif vintage is not None and vintage not in spec.vintages:
            other = spec.vintages[0]
            out[name] = f"it exists for LSOA {other} only ({spec.period}); use vintage {other}"
    return out


def shipped_files(names: Sequence[str], vintage: str) -> list[str]:
    """The shipped files the catalogue indicators of ``names`` are read from, for the run record."""
    files = []
    for name in names:
        spec = CATALOGUE.get(name)
        if spec is None:
            continue
        files.append(spec.file_for(vintage))
        if spec.route == "msoa_ratio":
            files += ["lookup_lsoa11_lsoa21.csv", "lsoa11.parquet"]
    return list(dict.fromkeys(files))


def share_counts(codes: pd.Index, names: Sequence[str], *, vintage: str) -> dict[str, tuple[pd.Series, pd.Series]]:
    """The Census counts behind each catalogue share of ``names``: numerator and denominator per area,
    so that a patch's share is its summed counts' ratio."""
    out = {}
    for name in names:
        spec = CATALOGUE.get(name)
        if spec is not None and spec.route == "share":
            table = load.read_shipped_table(spec.file_for(vintage), codes, [spec.column, spec.denominator])
            out[name] = (table[spec.column].astype(float), table[spec.denominator].astype(float))
    return out


def _read_shipped(codes: pd.Index, names: Sequence[str], vintage: str, deprivation: pd.DataFrame | None):
    """Catalogue indicators on ``codes``: native columns as published, MSOA ratios inherited,
    shares computed from the Census counts."""
    columns: dict[str, pd.Series] = {}
    by_file: dict[str, list] = {}
    index_file = deprivation_index(load.nation_of(codes), vintage).file
    for name in names:
        spec = CATALOGUE[name]
        if spec.route == "msoa_ratio":
            columns[name] = harmonise.msoa_ratio_to_lsoa(codes, vintage=vintage, column=spec.column).rename(name)
        elif spec.file_for(vintage) == index_file:  # the deprivation index and its domains
            if deprivation is None:
                deprivation = load.read_deprivation(codes, vintage=vintage)
            columns[name] = deprivation[name].astype(float)
        else:
            by_file.setdefault(spec.file_for(vintage), []).append(spec)
    for file, specs in by_file.items():
        wanted = sorted({c for s in specs for c in (s.column, s.denominator) if c})
        table = load.read_shipped_table(file, codes, wanted)
        for spec in specs:
            if spec.route == "share":
                den = table[spec.denominator].astype(float)
                columns[spec.name] = (100.0 * table[spec.column] / den.where(den > 0)).rename(spec.name)
            else:
                columns[spec.name] = table[spec.column].astype(float).rename(spec.name)
    return columns


def read_indicators(
    codes: pd.Index,
    names: Sequence[str],
    *,
    vintage: str,
    deprivation: pd.DataFrame | None = None,
    sources: Mapping[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """Indicator values for ``codes``, one column per name.

    A name is a shipped indicator (``SHIPPED_INDICATORS``) or a key of ``sources``
    (council service demand already brought onto the areas, e.g. rates per 1,000).
    """
    sources = dict(sources or {})
    known = list(SHIPPED_INDICATORS) + list(sources)
    unknown = [n for n in names if n not in known]
    if unknown:
        tips = []
        for n in unknown:
            close = difflib.get_close_matches(n, known, n=1)
            tips.append(f"{n!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ConfigError(
            f"need.indicators: unknown indicator {', '.join(tips)}; use a shipped indicator ("
            + ", ".join(SHIPPED_INDICATORS)
            + ") or the name of a [[sources]] table"
        )
    shipped_names = [n for n in names if n not in sources]
    nation = load.nation_of(codes)
    wrong_vintage = {n: why for n, why in unavailable(shipped_names, nation, vintage).items() if "vintage" in why}
    if wrong_vintage:
        raise ConfigError(
            "need.indicators: "
            + "; ".join(f"{n!r} is not available for vintage {vintage}: {why}" for n, why in wrong_vintage.items())
            + ", or remove it from need.indicators (see `lacgeo indicators --vintage "
            + vintage
            + "`)"
        )
    missing = unavailable(shipped_names, nation)
    if missing:
        raise ConfigError(
            "need.indicators: "
            + "; ".join(f"{name!r} does not exist for these areas: {why}" for name, why in missing.items())
            + "; remove it from need.indicators (see `lacgeo indicators`)"
        )
    shipped = _read_shipped(codes, [n for n in names if n not in sources], vintage, deprivation)
    columns = {name: sources[name].reindex(codes) if name in sources else shipped[name] for name in names}
    return pd.DataFrame(columns, index=codes)

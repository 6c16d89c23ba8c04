"""Rebuild the shipped data, ``lacgeo/data/``, from the national datasets in ``../shared/data``.

This is the only code in lacgeo that reads ``../shared``. The installed package and
its tests use the files this script writes. Run it from the repository root::

    python data/build.py [--shared ../shared/data]

Each step is described in ``lacgeo/data/README.md``. The script checks its own results
(coverage validity, unchanged adjacency, population totals, join completeness) and
stops with an error if any check fails, so a bad rebuild is never committed.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

log = logging.getLogger("lacgeo.data.build")

OUT = Path(__file__).resolve().parents[1] / "lacgeo" / "data"  # package data: it travels in the wheel
BNG = "EPSG:27700"
# Coverage simplification tolerance (metres) per vintage. LSOA 2011 is the 20 m
# generalised layer; LSOA 2021 is already super-generalised (200 m), so it is only
# cleaned, not simplified further.
SIMPLIFY_M = {"2011": 20.0, "2021": 0.0}
GRID_M = 1.0  # coordinates are rounded to a 1 m grid
GAP_M = 5.0  # slivers narrower than this between neighbours are closed by coverage_clean
NATION_PREFIX = {"England": "E", "Wales": "W"}  # first letter of every ONS code in the nation

IOD2025_DOMAINS = {
    "IMD": "imd",
    "Income": "income",
    "Employment": "employment",
    "Education": "education",
    "Health": "health",
    "Crime": "crime",
    "Housing_and_Services": "housing",
    "Environment": "environment",
}
IOD2019_DOMAINS = {
    "Index of Multiple Deprivation (IMD)": "imd",
    "Income": "income",
    "Employment": "employment",
    "Education, Skills and Training": "education",
    "Health Deprivation and Disability": "health",
    "Crime": "crime",
    "Barriers to Housing and Services": "housing",
    "Living Environment": "environment",
}


# Columns of lsoa21.parquet and lsoa11.parquet, in order; the extra ones follow, then the geometry.
AREA_COLUMNS = [
    "area_name",
    "msoa_code",
    "msoa_name",
    "ward_code",
    "ward_name",
    "lad_code",
    "population",
    "population_method",
]
NHS_COLUMNS = ["sicbl_code", "sicbl_name", "icb_code", "icb_name"]
EXTRA_COLUMNS = {
    "2021": ["county_code", "county_name", *NHS_COLUMNS],
    "2011": ["county_code", "county_name", "msoa_name_cy"],
}

# WIMD 2019: source column prefix -> short name, with the domain weights (%) by which the
# Welsh Government combines the domain scores into the index score.
WIMD2019_DOMAINS = {
    "IMD": "wimd",
    "Income": "income",
    "Employment": "employment",
    "Health": "health",
    "Education": "education",
    "Housing": "housing",
    "Access": "access",  # Access to Services
    "Environment": "environment",  # Physical Environment
    "Crime": "crime",  # Community Safety
}
WIMD2019_WEIGHTS = {
    "income": 22,
    "employment": 22,
    "health": 15,
    "education": 14,
    "access": 10,
    "housing": 7,
    "environment": 5,
    "crime": 5,
}

# areas.csv: every area a user can name. Per kind: its code prefixes, the LSOA vintages
# it can be run on (the first is the one its population is summed on), and the count.
AREA_KINDS = {
    "district": (("E06", "E07", "E08", "E09"), ("2021", "2011"), 296),
    "county": (("E10",), ("2021", "2011"), 21),
    "icb": (("E54",), ("2021",), 42),
    "sub-icb": (("E38",), ("2021",), 106),
    "wales": (("W06",), ("2011",), 22),
}
REGISTRY_COLUMNS = [
    "code",
    "name",
    "name_cy",
    "kind",
    "nation",
    "vintages",
    "n_lsoa21",
    "n_lsoa11",
    "population",
    "code_nhs",
]


class BuildError(RuntimeError):
    """A check on the rebuilt data failed."""


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise BuildError(message)
    log.info("check ok: %s", message)


def _adjacency_pairs(frame: gpd.GeoDataFrame) -> set[tuple[str, str]]:
    from libpysal.graph import Graph  # needs scikit-learn, which only a full rebuild needs

    graph = Graph.build_contiguity(frame, rook=False)
    adj = graph.adjacency.reset_index()
    adj = adj[adj["focal"] != adj["neighbor"]]
    return set(zip(adj["focal"], adj["neighbor"], strict=True))


def build_boundaries(shared: Path, vintage: str, *, nation: str = "England") -> gpd.GeoDataFrame:
    """Read, clean and coverage-simplify one LSOA vintage for one nation (EPSG:27700).

    Each nation is cleaned and simplified on its own, so adding Wales leaves every
    English geometry exactly as it was; the two layers are not edge-matched along the
    England-Wales border (no area lacgeo runs on crosses it).
    """
    if vintage == "2011":
        path, code_col, name_col = shared / "boundaries/lsoa11_ew_bgc.gpkg", "LSOA11CD", "LSOA11NM"
    else:
        path, code_col, name_col = shared / "boundaries/lsoa21_ew_bsc.gpkg", "LSOA21CD", "LSOA21NM"
    raw = gpd.read_file(path, engine="pyogrio", columns=[code_col, name_col])
    raw = raw[raw[code_col].str.startswith(NATION_PREFIX[nation])].to_crs(BNG)
    raw = raw.rename(columns={code_col: "area_code", name_col: "area_name"})
    raw = raw.sort_values("area_code").set_index("area_code")
    log.info(
        "LSOA %s: %d areas in %s, %d vertices",
        vintage,
        len(raw),
        nation,
        shapely.get_num_coordinates(raw.geometry.values).sum(),
    )
    label = f"{vintage} {nation}"

    cleaned = shapely.coverage_clean(raw.geometry.values, snapping_distance=1.0, gap_width=GAP_M)
    _check(not shapely.is_empty(cleaned).any(), f"LSOA {label}: coverage_clean kept every area")
    reference = gpd.GeoDataFrame(geometry=cleaned, index=raw.index, crs=BNG)
    before = _adjacency_pairs(reference)

    geoms = cleaned
    tolerance = SIMPLIFY_M[vintage]
    if tolerance > 0:
        geoms = shapely.coverage_simplify(geoms, tolerance)
    geoms = shapely.set_precision(geoms, GRID_M)
    geoms = np.array([g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in geoms], dtype=object)
    out = gpd.GeoDataFrame({"area_name": raw["area_name"]}, geometry=geoms, index=raw.index, crs=BNG)

    _check(bool(shapely.is_valid(out.geometry.values).all()), f"LSOA {label}: every geometry valid")
    _check(
        bool(shapely.coverage_is_valid(out.geometry.values)),
        f"LSOA {label}: simplified layer is a valid coverage (shared edges identical)",
    )
    after = _adjacency_pairs(out)
    _check(
        before == after,
        f"LSOA {label}: queen adjacency unchanged by simplification "
        f"({len(before) // 2} pairs; lost {len(before - after)}, new {len(after - before)})",
    )
    area_change = np.abs(out.area.values - raw.area.values) / raw.area.values
    log.info(
        "LSOA %s: %d vertices after; median area change %.4f%%, max %.2f%%",
        label,
        shapely.get_num_coordinates(out.geometry.values).sum(),
        100 * np.median(area_change),
        100 * area_change.max(),
    )
    return out


def read_upper_tier(shared: Path, lads: pd.DataFrame) -> pd.DataFrame:
    """The upper-tier authority (UTLA 2023) of every LAD in England and Wales, indexed by LAD code.

    A district of a two-tier area belongs to its county council (E10); every unitary,
    metropolitan borough, London borough and Welsh principal area is its own upper tier.
    """
    utla = pd.read_csv(shared / "lookups/ltla23_utla23_ew.csv").set_index("ltla23_code")
    english = utla.index[utla.index.str.startswith("E")]
    _check(
        utla.index.is_unique and set(english) == set(lads["lad_code"]),
        f"LTLA 2023 codes of England equal the {len(lads)} LAD 2024 codes",
    )
    own = utla["utla23_code"] == utla.index
    county = utla["utla23_code"].str.startswith("E10")
    _check(
        bool((own | county).all()) and bool((utla.loc[own, "utla23_name"] == utla.loc[own, "ltla23_name"]).all()),
        "every UTLA 2023 is an E10 county council or the LTLA itself (same code and name)",
    )
    sizes = utla[county].groupby("utla23_code").size()
    _check(
        len(sizes) == 21 and sizes.min() >= 2,
        f"{len(sizes)} county councils (E10) group {sizes.min()} to {sizes.max()} districts each",
    )
    return utla


def read_nhs(shared: Path, lsoa21: pd.Index) -> pd.DataFrame:
    """Sub-ICB location and ICB (2024) of every English LSOA 2021, indexed by LSOA code.

    Columns ``sicbl_code``, ``sicbl_name``, ``icb_code``, ``icb_name`` (ONS E38/E54 codes)
    and ``sicbl_code_nhs``, ``icb_code_nhs`` (NHS ODS codes, for the area registry).
    """
    nhs = pd.read_csv(shared / "lookups/lsoa21_sicbl24_icb24_england.csv").set_index("lsoa21_code")
    nhs = nhs.rename(columns=lambda c: c.replace("sicbl24", "sicbl").replace("icb24", "icb"))
    _check(
        nhs.index.is_unique and set(nhs.index) == set(lsoa21) and not nhs.isna().any().any(),
        f"the sub-ICB lookup has exactly one row for each of the {len(lsoa21)} English LSOAs 2021",
    )
    for level in ("sicbl", "icb"):
        per_code = nhs.groupby(f"{level}_code")[[f"{level}_name", f"{level}_code_nhs"]].nunique()
        unique = nhs.groupby(f"{level}_name")[f"{level}_code"].nunique()
        _check(
            bool((per_code == 1).all().all()) and bool((unique == 1).all()),
            f"{level}: each of the {len(per_code)} codes has one name and one NHS code, and names are unique",
        )
    icbs = nhs.groupby("sicbl_code")["icb_code"].nunique()
    _check(bool((icbs == 1).all()), f"each of the {len(icbs)} sub-ICB locations lies in one ICB")
    return nhs


def welsh_la_names(names: pd.DataFrame, look_wales: pd.DataFrame) -> pd.Series:
    """The Welsh-language name of each Welsh principal area, indexed by LAD code.

    No source here holds ``LAD..NMW``, but ONS names every MSOA after its local
    authority ("Swansea 001"), in Welsh too ("Abertawe 001"): the Welsh MSOA names less
    their number give the authority's Welsh name, e.g. W06000011 "Abertawe".
    """
    msoa = names.loc[names.index.str.startswith("W"), ["msoa11nm", "msoa11nmw"]].copy()
    split_en = msoa["msoa11nm"].str.rsplit(" ", n=1)
    split_cy = msoa["msoa11nmw"].str.rsplit(" ", n=1)
    _check(
        bool((split_en.str[1] == split_cy.str[1]).all()) and bool(split_cy.str[1].str.fullmatch(r"\d{3}").all()),
        f"each of the {len(msoa)} Welsh MSOA names is an authority name and the same 3-digit number in both languages",
    )
    msoa["lad_code"] = look_wales.drop_duplicates("MSOA11CD").set_index("MSOA11CD")["LAD19CD"]
    per_lad = msoa.assign(name_cy=split_cy.str[0]).groupby("lad_code")["name_cy"]
    _check(
        msoa["lad_code"].notna().all() and bool((per_lad.nunique() == 1).all()) and per_lad.first().is_unique,
        f"the MSOAs of each of the {per_lad.ngroups} Welsh principal areas share one Welsh authority name",
    )
    return per_lad.first()


def build_wales11(
    shared: Path, look_wales: pd.DataFrame, names: pd.DataFrame, pop: pd.DataFrame, utla: pd.DataFrame
) -> pd.DataFrame:
    """The attribute table of the Welsh LSOAs 2011, with the columns of the English one.

    The LAD is the principal area (W06) of the ONS LSOA 2011 -> ward 2019 -> LAD 2019
    lookup; Welsh codes did not change between 2017 and 2024 (checked against the LTLA
    2023 lookup and the LAD 2024 boundaries). The county is the principal area itself.
    """
    lad24 = gpd.read_file(shared / "boundaries/lad24_uk_buc.gpkg", engine="pyogrio", ignore_geometry=True)
    lad24 = lad24[lad24["LAD24CD"].str.startswith("W")].set_index("LAD24CD")["LAD24NM"]
    wales_utla = utla[utla.index.str.startswith("W")]
    lad19 = look_wales.groupby("LAD19CD")["LAD19NM"].first()
    _check(
        len(look_wales) == 1909
        and bool((look_wales["LAD19CD"] == look_wales["LAD17CD"]).all())
        and set(lad19.index) == set(wales_utla.index) == set(lad24.index)
        and len(lad19) == 22
        and bool((wales_utla["utla23_code"] == wales_utla.index).all()),
        f"{len(look_wales)} Welsh LSOAs 2011 in {len(lad19)} principal areas whose codes are the same in 2017, 2019, "
        "2023 and 2024, each its own upper tier",
    )
    renamed = {c: n for c, n in lad19.items() if n != wales_utla.at[c, "ltla23_name"] or n != lad24[c]}
    _check(not renamed, f"the Welsh principal areas have the same names in 2019, 2023 and 2024 ({renamed or 'all 22'})")

    areas = pd.DataFrame(index=look_wales.index.sort_values())
    areas.index.name = "area_code"
    areas["area_name"] = look_wales["LSOA11NM"]
    areas["msoa_code"] = look_wales["MSOA11CD"]
    areas["msoa_name"] = look_wales["MSOA11CD"].map(names["msoa11hclnm"])
    areas["ward_code"] = look_wales["WD19CD"]
    areas["ward_name"] = look_wales["WD19NM"]
    areas["lad_code"] = look_wales["LAD19CD"]
    areas["population"] = pop.set_index("LSOA11CD")["total_population"].reindex(areas.index).astype("Int64")
    areas["population_method"] = "mid-2020 SAPE"
    areas["county_code"] = areas["lad_code"]
    areas["county_name"] = areas["lad_code"].map(wales_utla["utla23_name"])
    areas["msoa_name_cy"] = look_wales["MSOA11CD"].map(names["msoa11hclnmw"])
    _check(
        not areas.isna().any().any() and int(areas["population"].min()) > 0,
        "Welsh LSOA 2011 attribute table has no missing values (a Welsh MSOA name for each) and no empty LSOA",
    )
    areas["population"] = areas["population"].astype("int64")
    return areas


def build_wimd2019(shared: Path, welsh11: pd.Index) -> pd.DataFrame:
    """WIMD 2019 for every Welsh LSOA 2011: ``<domain>_score/_rank/_decile``, the index as ``wimd``."""
    wimd = pd.read_csv(shared / "iod2019/wimd2019_lsoa11_wales_ranks_deciles_scores.csv")
    rename = {"lsoa11_code": "area_code"}
    for src, dst in WIMD2019_DOMAINS.items():
        rename |= {f"{src}_{kind}": f"{dst}_{kind}" for kind in ("score", "rank", "decile")}
    columns = [f"{dst}_{kind}" for dst in WIMD2019_DOMAINS.values() for kind in ("score", "rank", "decile")]
    wimd = wimd.rename(columns=rename).set_index("area_code").sort_index()
    _check(
        sorted(wimd.columns) == sorted(columns) and not wimd.isna().any().any(),
        f"WIMD 2019 has a score, rank and decile for the index and its {len(WIMD2019_DOMAINS) - 1} domains, no gaps",
    )
    wimd = wimd[columns]
    n = len(welsh11)
    _check(
        len(wimd) == n and wimd.index.is_unique and set(wimd.index) == set(welsh11),
        f"WIMD 2019 has one row for each of the {n} Welsh LSOAs 2011",
    )
    _check(
        bool((np.sort(wimd["wimd_rank"].to_numpy()) == np.arange(1, n + 1)).all()),
        f"WIMD 2019 index ranks are a permutation of 1..{n}",
    )
    ties = {}
    for dst in WIMD2019_DOMAINS.values():
        rank, score = wimd[f"{dst}_rank"], wimd[f"{dst}_score"]
        by_rank = score.to_numpy()[np.argsort(rank.to_numpy(), kind="stable")]
        _check(
            bool(rank.between(1, n).all()) and bool((np.diff(by_rank) <= 0).all()),
            f"WIMD 2019 {dst}: ranks within 1..{n}, a higher score never ranks less deprived",
        )
        # The deciles come from the republisher (Hmisc::cut2 on rank), not the official
        # file: check that they are exactly bands of 191 ranks (the last one holds 190).
        _check(
            bool((wimd[f"{dst}_decile"] == np.ceil(rank / 191)).all()),
            f"WIMD 2019 {dst}: decile = ceil(rank / 191)",
        )
        ties[dst] = int(rank.duplicated().sum())
    log.info("WIMD 2019 tied ranks (as in the source): %s", ties)
    combined = sum(wimd[f"{dst}_score"] * weight / 100 for dst, weight in WIMD2019_WEIGHTS.items())
    gap = float((combined - wimd["wimd_score"]).abs().max())
    _check(
        sum(WIMD2019_WEIGHTS.values()) == 100 and gap < 1e-6,
        f"WIMD 2019 index score is the weighted sum of the domain scores (largest difference {gap:.1e})",
    )
    return wimd


def build_registry(
    lads: pd.DataFrame,
    areas21: pd.DataFrame,
    areas11: pd.DataFrame,
    nhs: pd.DataFrame,
    name_cy: pd.Series,
) -> pd.DataFrame:
    """One row per area a user can name: English districts and counties, ICBs, sub-ICB locations, Welsh councils.

    ``n_lsoa21``/``n_lsoa11`` count member LSOAs in each vintage the kind can be run on
    (empty otherwise); ``population`` is the mid-2020 population summed over the members
    in the first of those vintages (2021 in England, 2011 in Wales).
    """
    members = {
        # kind: (code column, name column, LSOA 2021 members, LSOA 2011 members)
        "district": ("lad_code", None, areas21, areas11),
        "county": ("county_code", "county_name", areas21, areas11),
        "icb": ("icb_code", "icb_name", areas21, None),
        "sub-icb": ("sicbl_code", "sicbl_name", areas21, None),
        "wales": ("lad_code", "county_name", None, areas11),
    }
    code_nhs = pd.concat([nhs.groupby(f"{level}_code")[f"{level}_code_nhs"].first() for level in ("sicbl", "icb")])
    parts = []
    for kind, (code_col, name_col, on21, on11) in members.items():
        prefixes, vintages, expected = AREA_KINDS[kind]
        tables = {"2021": on21, "2011": on11}
        tables = {v: t[t[code_col].str.startswith(prefixes)] for v, t in tables.items() if v in vintages}
        base = tables[vintages[0]]
        names = lads.set_index("lad_code")["lad_name"] if name_col is None else base.groupby(code_col)[name_col]
        if name_col is not None:
            _check(bool((names.nunique() == 1).all()), f"areas.csv {kind}: one name per code")
            names = names.first()
        part = pd.DataFrame(index=pd.Index(sorted(base[code_col].unique()), name="code"))
        part["name"] = names
        part["name_cy"] = name_cy if kind == "wales" else ""
        part["kind"] = kind
        part["nation"] = "Wales" if kind == "wales" else "England"
        part["vintages"] = ";".join(sorted(vintages))
        for vintage in ("2021", "2011"):
            counts = tables[vintage].groupby(code_col).size() if vintage in tables else pd.Series(dtype="Int64")
            part[f"n_lsoa{vintage[2:]}"] = counts.reindex(part.index).astype("Int64")
        part["population"] = base.groupby(code_col)["population"].sum().astype("Int64")
        part["code_nhs"] = code_nhs.reindex(part.index).fillna("") if kind in ("icb", "sub-icb") else ""
        lsoa_counts = part[[f"n_lsoa{v[2:]}" for v in vintages]]
        _check(
            len(part) == expected
            and not part[["name", "population"]].isna().any().any()
            and bool((lsoa_counts > 0).all().all()),
            f"areas.csv: {len(part)} {kind} areas ({'/'.join(prefixes)}), each named, with LSOAs in "
            f"{' and '.join(sorted(vintages))} and a population",
        )
        parts.append(part)
    registry = pd.concat(parts)
    _check(registry.index.is_unique, f"areas.csv: {len(registry)} areas, no code twice")

    # Nesting: a county is the sum of its districts; an ICB the sum of its sub-ICB locations.
    by_kind = {kind: registry[registry["kind"] == kind] for kind in AREA_KINDS}
    county_of = areas21.groupby("lad_code")["county_code"].first()
    icb_of = nhs.groupby("sicbl_code")["icb_code"].first()
    for whole, part, parent in (("county", "district", county_of), ("icb", "sub-icb", icb_of)):
        cols = ["n_lsoa21", "n_lsoa11", "population"] if whole == "county" else ["n_lsoa21", "population"]
        summed = by_kind[part][cols].groupby(parent.reindex(by_kind[part].index)).sum()
        _check(
            summed.reindex(by_kind[whole].index).equals(by_kind[whole][cols]),
            f"areas.csv: every {whole}'s LSOA counts and population equal the sums over its {part} areas",
        )
    england = int(areas21["population"].sum())
    wales = int(areas11.loc[areas11.index.str.startswith("W"), "population"].sum())
    totals = {kind: int(t["population"].sum()) for kind, t in by_kind.items()}
    _check(
        totals["district"] == totals["icb"] == totals["sub-icb"] == england and totals["wales"] == wales,
        f"areas.csv: districts, ICBs and sub-ICB locations each sum to England's {england:,}; "
        f"Welsh councils to Wales's {wales:,}",
    )
    named_cy = registry["name_cy"] != ""
    has_nhs = registry["code_nhs"] != ""
    _check(
        bool((named_cy == (registry["kind"] == "wales")).all())
        and bool((has_nhs == registry["kind"].isin(["icb", "sub-icb"])).all()),
        "areas.csv: a Welsh name for every Welsh council (only), an NHS code for every ICB and sub-ICB (only)",
    )
    return registry.reset_index()[REGISTRY_COLUMNS]


def build_population21(shared: Path, pop11: pd.Series, lookup: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Derive mid-2020 population for LSOA 2021 from the LSOA 2011 estimates.

    U (unchanged) carries the 2011 value; M (merge) sums; S (split) and X (complex)
    share each 2011 LSOA's population among its 2021 pieces in proportion to the
    IoD2025 income-domain denominator (numerator / rate). Shares are rounded with the
    largest-remainder method per 2011 LSOA, so every 2011 total is kept exactly.
    """
    iod = pd.read_csv(
        shared / "iod2025/iod2025_lsoa21_england_ranks_deciles_scores.csv", usecols=["lsoa21_code", "Income_score"]
    )
    num = pd.read_csv(
        shared / "iod2025/iod2025_lsoa21_england_underlying_indicators.csv.gz",
        usecols=["lsoa21_code", "income_domain_numerator"],
    )
    den = iod.merge(num, on="lsoa21_code", how="left").set_index("lsoa21_code")
    weight = den["income_domain_numerator"] / den["Income_score"]
    lk = lookup[["lsoa11_code", "lsoa21_code", "change_code"]].copy()
    lk["pop11"] = lk["lsoa11_code"].map(pop11)
    _check(not lk["pop11"].isna().any(), "every English LSOA 2011 in the lookup has a mid-2020 population")
    lk["weight"] = lk["lsoa21_code"].map(weight)
    # A piece with no denominator (income numerator suppressed) takes the mean of its siblings.
    sibling_mean = lk.groupby("lsoa11_code")["weight"].transform("mean")
    n_filled = int((lk["weight"].isna() & lk["change_code"].isin(["S", "X"])).sum())
    lk["weight"] = lk["weight"].fillna(sibling_mean).fillna(1.0)
    lk = lk.sort_values(["lsoa11_code", "lsoa21_code"]).reset_index(drop=True)
    share = lk["weight"] / lk.groupby("lsoa11_code")["weight"].transform("sum")
    exact = lk["pop11"] * share
    base = np.floor(exact).astype("int64")
    remainder = exact - base
    short = (lk["pop11"] - base.groupby(lk["lsoa11_code"]).transform("sum")).astype("int64")
    order = remainder.groupby(lk["lsoa11_code"]).rank(method="first", ascending=False)
    lk["pop21_part"] = base + (order <= short).astype("int64")
    pop21 = lk.groupby("lsoa21_code")["pop21_part"].sum().rename("population")
    methods = lk.groupby("lsoa21_code")["change_code"].first().rename("population_method")
    log.info(
        "LSOA 2021 population: %d split pieces had no income denominator and took their siblings' mean weight", n_filled
    )
    return pd.concat([pop21, methods], axis=1), lk


IOD_UNDERLYING = {
    "2021": (
        "iod2025/iod2025_lsoa21_england_underlying_indicators.csv.gz",
        "lsoa21_code",
        {
            "acute_morbidity_indicator": "acute_morbidity",
            "comparative_illness_and_disability_ratio_indicator": "illness_disability_ratio",
            "mental_health_indicator": "mental_health",
            "years_of_potential_life_lost_indicator": "years_of_potential_life_lost",
            "homelessness_indicator_rate_per_1_000_households": "homelessness_rate",
            "patient_to_gp_ratio": "patient_to_gp_ratio",
        },
    ),
    "2011": (
        "iod2019/iod2019_lsoa11_england_underlying_indicators.csv.gz",
        "lsoa11_code",
        {
            "acute_morbidity_indicator": "acute_morbidity",
            "comparative_illness_and_disability_ratio_indicator": "illness_disability_ratio",
            "mood_and_anxiety_disorders_indicator": "mood_anxiety",
            "years_of_potential_life_lost_indicator": "years_of_potential_life_lost",
            "homelessness_indicator_rate_per_1000_households": "homelessness_rate",
        },
    ),
}
"""The IoD underlying indicators shipped (file, code column, source column -> catalogue name)."""


def read_census21(shared: Path) -> pd.DataFrame:
    """Census 2021 counts for every LSOA 2021 of England and Wales, one column per count the
    catalogue's shares use (numerators and their denominators)."""
    c = shared / "census2021"
    key = "lsoa21_code"
    disability = pd.read_csv(c / "ts038_disability_lsoa21_ew.csv").set_index(key)
    hh = pd.read_csv(c / "ts011_household_deprivation_lsoa21_ew.csv").set_index(key)
    tenure = pd.read_csv(c / "ts054_tenure_lsoa21_ew.csv").set_index(key)
    age = pd.read_csv(c / "age6_lsoa21_ew.csv").set_index(key)
    ruc = pd.read_csv(c / "ruc21_lsoa21_ew.csv").set_index(key)
    for name, table in (("TS011", hh), ("TS054", tenure), ("age", age), ("RUC", ruc)):
        _check(
            table.index.equals(disability.index.sort_values()) or set(table.index) == set(disability.index),
            f"Census 2021 {name} covers the same {len(disability)} LSOAs 2021 as TS038",
        )
    _check(set(ruc["ruc"]) == {"Urban", "Rural"}, "every LSOA 2021 is Urban or Rural in the 2021 RUC")
    counts = pd.DataFrame(
        {
            "residents": disability["usual_residents"],
            "disabled": disability["disabled"],
            "households": hh["households"],
            "households_deprived_2plus": hh[["hh_deprived_2_dims", "hh_deprived_3_dims", "hh_deprived_4_dims"]].sum(
                axis=1
            ),
            "households_tenure": tenure["households"],
            "social_rented": tenure[
                ["social_rented_rents_from_council_or_local_authority", "social_rented_other_social_rented"]
            ].sum(axis=1),
            "private_rented": tenure[
                ["private_rented_private_landlord_or_letting_agency", "private_rented_other_private_rented"]
            ].sum(axis=1),
            "residents_age": age["usual_residents"],
            "aged_0_15": age["aged_0_15"],
            "aged_65_plus": age["aged_65_plus"],
        }
    )
    counts["rural_residents"] = counts["residents_age"].where(ruc["ruc"].reindex(counts.index) == "Rural", 0)
    counts.index.name = "area_code"
    counts = counts.sort_index().astype("int64")
    _check(not counts.isna().any().any(), "Census 2021 counts have no missing values")
    england = counts.index.str.startswith("E")
    _check(
        int(counts.loc[england, "residents"].sum()) == 56_490_046,
        "Census 2021 usual residents (TS038) in England sum to 56,490,046",
    )
    return counts


def census_to_lsoa11(counts21: pd.DataFrame, lookup_ew: pd.DataFrame, pop11: pd.Series) -> pd.DataFrame:
    """Census 2021 counts shared out onto LSOAs 2011 through the exact-fit lookup, in
    proportion to mid-2020 population, with every LSOA 2021 total kept exactly."""
    from lacgeo.harmonise import apportion

    mapping = pd.DataFrame(
        {
            "source": lookup_ew["lsoa21_code"].to_numpy(),
            "target": lookup_ew["lsoa11_code"].to_numpy(),
            "weight": lookup_ew["lsoa11_code"].map(pop11).to_numpy(dtype=float),
        }
    )
    out = pd.DataFrame({col: apportion(counts21[col], mapping) for col in counts21.columns})
    out.index.name = "area_code"
    out = out.sort_index().astype("int64")
    _check(out.sum().equals(counts21.sum()), "Census 2021 counts keep their national totals on LSOA 2011")
    return out


def build_indicators(shared: Path, summary: dict) -> None:
    """The catalogue's Census 2021 counts (both vintages) and IoD underlying indicators."""
    lookup_ew = pd.read_csv(shared / "lookups/lsoa11_lsoa21_lad22_ew.csv")
    pop = pd.read_csv(shared / "population/lsoa11_population_mid2020_5yr_bands_ew.csv")
    pop11 = pop.set_index("LSOA11CD")["total_population"]
    counts21 = read_census21(shared)
    _check(set(lookup_ew["lsoa21_code"]) == set(counts21.index), "the lookup covers every Census 2021 LSOA")
    counts11 = census_to_lsoa11(counts21, lookup_ew, pop11)
    _check(set(counts11.index) == set(pop11.index), "Census 2021 counts reach every LSOA 2011 of England and Wales")
    for vintage, counts in (("21", counts21), ("11", counts11)):
        counts.to_parquet(OUT / f"census2021_lsoa{vintage}.parquet", compression="zstd")
        summary[f"census2021_lsoa{vintage}"] = len(counts)
    for vintage, (path, key, columns) in IOD_UNDERLYING.items():
        table = pd.read_csv(shared / path, usecols=[key, *columns]).rename(columns={key: "area_code", **columns})
        table = table.set_index("area_code").sort_index()[list(columns.values())]
        _check(not table.isna().any().any(), f"IoD underlying indicators ({vintage}) have no missing values")
        table.to_parquet(OUT / f"iod_indicators_lsoa{vintage[2:]}.parquet", compression="zstd")
        summary[f"iod_indicators_lsoa{vintage[2:]}"] = len(table)
    build_national_values()


def build_national_values() -> None:
    """Every catalogue indicator's national value per nation and vintage, from the files just written."""
    from lacgeo.catalogue import CATALOGUE_LIST
    from lacgeo.need.benchmark import NATIONAL_FILE, compute_national_value

    values = {}
    for nation, vintage in (("England", "2021"), ("England", "2011"), ("Wales", "2011")):
        values[f"{nation} {vintage}"] = {
            i.name: v for i in CATALOGUE_LIST if (v := compute_national_value(i.name, nation, vintage)) is not None
        }
    (OUT / NATIONAL_FILE).write_text(json.dumps(values, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def build(shared: Path) -> dict:
    shared = shared.resolve()
    summary: dict = {}

    # --- lookups -----------------------------------------------------------------
    look11_ew = pd.read_csv(shared / "lookups/lsoa11_msoa11_ward19_lad19_region_ew.csv").set_index("LSOA11CD")
    look11 = look11_ew[look11_ew["CTRY11CD"] == "E92000001"]
    look11w = look11_ew[look11_ew["CTRY11CD"] == "W92000004"]
    look21 = pd.read_csv(shared / "lookups/lsoa21_ward24_lad24_ew.csv")
    look21 = look21[look21["lsoa21_code"].str.startswith("E")].set_index("lsoa21_code")
    l11_21 = pd.read_csv(shared / "lookups/lsoa11_lsoa21_lad22_ew.csv")
    l11_21 = l11_21[l11_21["lsoa11_code"].str.startswith("E")]
    lads = pd.read_csv(shared / "lookups/lad24_region24_england.csv").rename(
        columns={
            "ltla24_code": "lad_code",
            "ltla24_name": "lad_name",
            "region24_code": "region_code",
            "region24_name": "region_name",
        }
    )
    names = pd.read_csv(shared / "lookups/msoa11_names_hocl_v1.14_ew.csv").set_index("msoa11cd")
    utla = read_upper_tier(shared, lads)
    nhs = read_nhs(shared, look21.index)

    pop = pd.read_csv(shared / "population/lsoa11_population_mid2020_5yr_bands_ew.csv")
    pop11 = pop.set_index("LSOA11CD").loc[look11.index, "total_population"]
    england_total = int(pop11.sum())
    summary["england_population_mid2020"] = england_total
    areas11w = build_wales11(shared, look11w, names, pop, utla)
    summary["wales_population_mid2020"] = int(areas11w["population"].sum())

    # --- LSOA 2021 areas -----------------------------------------------------------
    pop21, parts = build_population21(shared, pop11, l11_21)
    _check(
        int(pop21["population"].sum()) == england_total,
        f"LSOA 2021 population sums to the mid-2020 England total {england_total:,}",
    )
    # Each LSOA 2021 takes its neighbourhood (MSOA 2011 House of Commons Library) name
    # from the 2011 LSOA that gave it the most population.
    parent = (
        l11_21.assign(pop11=l11_21["lsoa11_code"].map(pop11))
        .sort_values(["lsoa21_code", "pop11", "lsoa11_code"], ascending=[True, False, True])
        .drop_duplicates("lsoa21_code")
        .set_index("lsoa21_code")["lsoa11_code"]
    )
    areas21 = pd.DataFrame(index=look21.index.sort_values())
    areas21.index.name = "area_code"
    areas21["area_name"] = look21["lsoa21_name"]
    areas21["msoa_code"] = parent.reindex(areas21.index).map(look11["MSOA11CD"])
    areas21["msoa_name"] = areas21["msoa_code"].map(names["msoa11hclnm"])
    areas21["ward_code"] = look21["ward24_code"]
    areas21["ward_name"] = look21["ward24_name"]
    areas21["lad_code"] = look21["ltla24_code"]
    # Residents: the Census 2021 usual residents (TS038), counted on these very LSOAs. The mid-2020
    # estimates derived above from LSOA 2011 differ by a median 3.8% (8.6% for split LSOAs, whose
    # population had to be shared out by an income-deprivation denominator); they are kept only to
    # give each LSOA 2011 its LAD 2024 and each LSOA 2021 its neighbourhood name.
    residents = read_census21(shared)["residents"]
    _check(residents.reindex(areas21.index).notna().all(), "Census 2021 TS038 covers every English LSOA 2021")
    areas21["population"] = residents.reindex(areas21.index).astype("int64")
    areas21["population_method"] = "Census 2021 usual residents (TS038)"
    summary["england_population_census2021"] = int(areas21["population"].sum())
    areas21["county_code"] = areas21["lad_code"].map(utla["utla23_code"])
    areas21["county_name"] = areas21["lad_code"].map(utla["utla23_name"])
    areas21 = areas21.join(nhs[NHS_COLUMNS])
    _check(not areas21.isna().any().any(), "LSOA 2021 attribute table has no missing values")
    n_kinds = {col: areas21[col].nunique() for col in ("county_code", "sicbl_code", "icb_code")}
    n_e10 = areas21.loc[areas21["county_code"].str.startswith("E10"), "county_code"].nunique()
    _check(
        (n_e10, n_kinds["icb_code"], n_kinds["sicbl_code"]) == (21, 42, 106),
        f"every English LSOA 2021 has one county ({n_e10} E10 county councils, {n_kinds['county_code']} upper-tier "
        f"authorities in all), one sub-ICB location ({n_kinds['sicbl_code']}) and one ICB ({n_kinds['icb_code']})",
    )

    # --- LSOA 2011 areas -----------------------------------------------------------
    # An LSOA 2011 belongs to the LAD 2024 of the 2021 piece holding most of its people
    # (three LSOAs 2011 were split by the 2021-2023 LAD boundary changes).
    lad24_of_11 = parts.assign(lad=parts["lsoa21_code"].map(look21["ltla24_code"])).sort_values(
        ["lsoa11_code", "pop21_part"], ascending=[True, False]
    )
    n_lads = lad24_of_11.groupby("lsoa11_code")["lad"].nunique()
    log.info(
        "LSOA 2011 split across LADs 2024 (assigned to the majority piece): %s", ", ".join(n_lads[n_lads > 1].index)
    )
    areas11 = pd.DataFrame(index=look11.index.sort_values())
    areas11.index.name = "area_code"
    areas11["area_name"] = look11["LSOA11NM"]
    areas11["msoa_code"] = look11["MSOA11CD"]
    areas11["msoa_name"] = look11["MSOA11CD"].map(names["msoa11hclnm"])
    areas11["ward_code"] = look11["WD19CD"]
    areas11["ward_name"] = look11["WD19NM"]
    areas11["lad_code"] = lad24_of_11.groupby("lsoa11_code")["lad"].first().reindex(areas11.index)
    areas11["population"] = pop11.reindex(areas11.index).astype("int64")
    areas11["population_method"] = "mid-2020 SAPE"
    areas11["county_code"] = areas11["lad_code"].map(utla["utla23_code"])
    areas11["county_name"] = areas11["lad_code"].map(utla["utla23_name"])
    _check(not areas11.isna().any().any(), "LSOA 2011 attribute table has no missing values")
    english_cy = names.loc[names.index.str.startswith("E"), "msoa11hclnmw"]
    _check(english_cy.isna().all(), f"none of the {len(english_cy)} English MSOAs has a Welsh-language name")
    areas11["msoa_name_cy"] = None
    areas11 = pd.concat([areas11, areas11w])

    # --- boundaries ----------------------------------------------------------------
    for vintage, areas in (("2021", areas21), ("2011", areas11)):
        nations = ("England", "Wales") if vintage == "2011" else ("England",)
        geo = pd.concat([build_boundaries(shared, vintage, nation=nation) for nation in nations])
        _check(
            set(geo.index) == set(areas.index),
            f"LSOA {vintage}: boundaries and attributes hold the same {len(areas)} codes",
        )
        table = gpd.GeoDataFrame(areas.drop(columns="area_name").join(geo), geometry="geometry", crs=BNG)
        table = table[[*AREA_COLUMNS, *EXTRA_COLUMNS[vintage], "geometry"]]
        # Rows grouped by LA in row groups of 512, so that reading one LA (the
        # ``lad_code`` filter in ``datasets.read_areas``) decompresses one or two
        # groups instead of all of England: 5x faster for LSOA 2011.
        table = table.iloc[np.lexsort((table.index, table["lad_code"]))]
        table.to_parquet(
            OUT / f"lsoa{vintage[2:]}.parquet",
            compression="zstd",
            schema_version="1.0.0",
            write_covering_bbox=False,
            row_group_size=512,
        )
        summary[f"lsoa{vintage[2:]}"] = {"areas": len(table), "population": int(table["population"].sum())}
        for nation in nations:
            rows = table[table.index.str.startswith(NATION_PREFIX[nation])]
            summary[f"lsoa{vintage[2:]}"][nation.lower()] = {
                "areas": len(rows),
                "population": int(rows["population"].sum()),
            }

    # --- LADs ----------------------------------------------------------------------
    lads["n_lsoa21"] = lads["lad_code"].map(areas21.groupby("lad_code").size()).astype("int64")
    lads["n_lsoa11"] = lads["lad_code"].map(areas11.groupby("lad_code").size()).astype("int64")
    lads["population"] = lads["lad_code"].map(areas21.groupby("lad_code")["population"].sum())
    _check(len(lads) == 296 and not lads.isna().any().any(), "296 English LADs, each with LSOAs in both vintages")
    lads.sort_values("lad_code").to_csv(OUT / "lads.csv", index=False)

    # --- every area a user can name ---------------------------------------------------
    name_cy = welsh_la_names(names, look11w)
    registry = build_registry(lads, areas21, areas11, nhs, name_cy)
    in_lads = registry.set_index("code").loc[lads["lad_code"], ["n_lsoa21", "n_lsoa11", "population"]]
    _check(
        in_lads.astype("int64").equals(lads.set_index("lad_code")[["n_lsoa21", "n_lsoa11", "population"]]),
        "areas.csv: the districts are lads.csv's 296 LADs with the same LSOA counts and populations",
    )
    registry.to_csv(OUT / "areas.csv", index=False)
    summary["areas"] = registry["kind"].value_counts().to_dict()

    # --- deprivation ---------------------------------------------------------------
    iod25 = pd.read_csv(shared / "iod2025/iod2025_lsoa21_england_ranks_deciles_scores.csv")
    rename = {"lsoa21_code": "area_code"}
    for src, dst in IOD2025_DOMAINS.items():
        for kind in ("score", "rank", "decile"):
            rename[f"{src}_{kind}"] = f"{dst}_{kind}"
    iod25 = iod25.rename(columns=rename).drop(columns=["IMD_quintile"]).set_index("area_code").sort_index()
    _check(set(iod25.index) == set(areas21.index), "IoD2025 covers every English LSOA 2021")
    iod25.to_parquet(OUT / "iod2025_lsoa21.parquet", compression="zstd")

    iod19 = pd.read_csv(shared / "iod2019/iod2019_lsoa11_england_file7_reconstructed.csv")
    rename = {"LSOA code (2011)": "area_code"}
    keep = ["area_code"]
    for src, dst in IOD2019_DOMAINS.items():
        for kind, label in (
            ("score", f"{src} Score"),
            ("rank", f"{src} Rank (where 1 is most deprived)"),
            ("decile", f"{src} Decile (where 1 is most deprived 10% of LSOAs)"),
        ):
            for cand in (label, label.replace(" Score", " Score (rate)")):
                if cand in iod19.columns:
                    rename[cand] = f"{dst}_{kind}"
                    keep.append(f"{dst}_{kind}")
                    break
    for col in iod19.columns:
        if "exponentially transformed" in col:
            dst = col.split(" Score")[0].lower().replace("living environment", "environment")
            dst = {"barriers": "housing"}.get(dst, dst)
            rename[col] = f"{dst}_exp"
            keep.append(f"{dst}_exp")
    iod19 = iod19.rename(columns=rename)[keep].set_index("area_code").sort_index()
    english11 = areas11.index[areas11.index.str.startswith("E")]
    _check(set(iod19.index) == set(english11), "IoD2019 covers every English LSOA 2011")
    iod19.to_parquet(OUT / "iod2019_lsoa11.parquet", compression="zstd")

    wimd = build_wimd2019(shared, areas11.index[areas11.index.str.startswith("W")])
    wimd.to_parquet(OUT / "wimd2019_lsoa11.parquet", compression="zstd")
    summary["wimd2019_lsoa11"] = len(wimd)

    # --- lookups shipped for vintage conversion --------------------------------------
    conv = l11_21[["lsoa11_code", "lsoa21_code", "change_code"]].sort_values(["lsoa11_code", "lsoa21_code"])
    conv.to_csv(OUT / "lookup_lsoa11_lsoa21.csv", index=False)

    # --- preventable mortality -----------------------------------------------------
    mort = pd.read_csv(shared / "mortality/localhealth_msoa11_mortality_admissions_england.csv")
    mort = mort.rename(columns={"Code": "msoa_code", "Label": "msoa_label"}).set_index("msoa_code").sort_index()
    _check(mort.index.isin(look11["MSOA11CD"]).all(), "every Local Health MSOA code is an English MSOA 2011")
    mort.to_parquet(OUT / "localhealth_msoa11.parquet", compression="zstd")
    summary["localhealth_msoa11"] = len(mort)

    # --- the catalogue's other indicators ----------------------------------------------
    build_indicators(shared, summary)

    summary["files"] = {p.name: p.stat().st_size for p in sorted(OUT.iterdir()) if p.suffix in {".parquet", ".csv"}}
    (OUT / "build_summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument(
        "--only-indicators", action="store_true", help="rebuild only the Census and IoD indicator files"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.only_indicators:
        summary = json.loads((OUT / "build_summary.json").read_text())
        build_indicators(args.shared.resolve(), summary)
        summary["files"] = {p.name: p.stat().st_size for p in sorted(OUT.iterdir()) if p.suffix in {".parquet", ".csv"}}
        (OUT / "build_summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    else:
        summary = build(args.shared)
    log.info(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()

"""Patches and phases by district, for a study area of several districts.

A county council, an ICB or a list of councils allocates coordinators district by
district, so the outputs say which district each patch lies in and how the plan falls
across districts. A patch may cross a district boundary (unless
``patches.nest_within = "lad"``); it is counted in the district that holds most of its
people, and its share there is reported.
"""

from __future__ import annotations

import pandas as pd

from ..schema import LAD_CODE, NEED_INDEX, PATCH_ID, PHASE, POPULATION


def is_multi_district(areas: pd.DataFrame) -> bool:
    """Whether the areas span more than one district (or Welsh principal area)."""
    return LAD_CODE in areas and areas[LAD_CODE].nunique() > 1


def patch_districts(areas: pd.DataFrame, names: pd.Series) -> pd.DataFrame:
    """Each patch's district (the one holding most of its people; ties to the lower code)
    and the share of its people who live there; ``names`` maps district codes to names.

    >>> areas = pd.DataFrame({"patch_id": ["P01", "P01", "P02"], "lad_code": ["A", "B", "B"],
    ...                       "population": [600, 400, 900]})
    >>> patch_districts(areas, pd.Series({"A": "Ayton", "B": "Beeby"}))
             district district_code  district_share
    patch_id
    P01         Ayton             A             0.6
    P02         Beeby             B             1.0
    """
    people = areas.groupby([PATCH_ID, LAD_CODE])[POPULATION].sum().astype(float)
    total = people.groupby(level=0).sum()
    top = people.sort_index().groupby(level=0, group_keys=False).apply(lambda s: s.nlargest(1))
    codes = top.index.get_level_values(1)
    out = pd.DataFrame(
        {
            "district": names.reindex(codes).to_numpy(),
            "district_code": codes,
            "district_share": (top.to_numpy() / total.reindex(top.index.get_level_values(0)).to_numpy()).round(3),
        },
        index=pd.Index(top.index.get_level_values(0), name=PATCH_ID),
    )
    return out


def district_summary(areas: pd.DataFrame, patches: pd.DataFrame, names: pd.Series) -> pd.DataFrame:
    """One row per district: its people, LSOAs, patches and coordinators by phase, and its need.

    ``patches`` needs ``district_code`` (see :func:`patch_districts`) and ``phase``; ``names``
    maps district codes to names. Columns:
    ``district``, ``population``, ``lsoas``, ``patches`` (counted in their main district),
    ``patches_crossing`` (of those, how many reach into another district), ``phase1`` (the
    phase-1 coordinators), ``phase1_population`` (the district's residents inside a phase-1
    patch), ``need_index`` (population-weighted mean over the district's LSOAs; the index is
    standardised over the whole study area, so compare with the ``All`` row). The last row, ``All``, is the whole area.
    """
    pop = areas[POPULATION].astype(float)
    by = areas.groupby(LAD_CODE)
    names = names.reindex(by.size().index)
    phase = areas[PATCH_ID].map(patches[PHASE])
    main = patches.groupby("district_code")
    crossing = patches["district_share"] < 1
    table = pd.DataFrame(
        {
            "district": names,
            "population": by[POPULATION].sum().astype(int),
            "lsoas": by.size(),
            "patches": main.size().reindex(names.index, fill_value=0),
            "patches_crossing": crossing.groupby(patches["district_code"]).sum().reindex(names.index, fill_value=0),
            "phase1": (patches[PHASE] == 1).groupby(patches["district_code"]).sum().reindex(names.index, fill_value=0),
            "phase1_population": pop.where(phase == 1, 0.0).groupby(areas[LAD_CODE]).sum().round().astype(int),
            "need_index": (areas[NEED_INDEX] * pop).groupby(areas[LAD_CODE]).sum() / pop.groupby(areas[LAD_CODE]).sum(),
        }
    )
    table.index.name = "district_code"
    table = table.sort_values("district")
    total = {
        "district": "All",
        "population": int(table["population"].sum()),
        "lsoas": int(table["lsoas"].sum()),
        "patches": len(patches),
        "patches_crossing": int(crossing.sum()),
        "phase1": int((patches[PHASE] == 1).sum()),
        "phase1_population": int(table["phase1_population"].sum()),
        "need_index": float((areas[NEED_INDEX] * pop).sum() / pop.sum()),
    }
    table.loc["All"] = total
    table["need_index"] = table["need_index"].astype(float).round(3)
    return table


__all__ = ["district_summary", "is_multi_district", "patch_districts"]

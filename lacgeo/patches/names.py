"""Names a resident recognises for each patch, from MSOA (neighbourhood) and ward names."""

from __future__ import annotations

import pandas as pd

from ..schema import MSOA_NAME, POPULATION, WARD_NAME


def _listed(table: pd.DataFrame, col: str) -> tuple[list, list[list], list[list]]:
    grouped = table.groupby("pid", sort=True)
    return list(grouped.groups), list(grouped[col].agg(list)), list(grouped["pop"].agg(list))


def name_patches(areas: pd.DataFrame, patch_id: pd.Series, *, msoa_col: str = MSOA_NAME) -> pd.Series:
    """One unique name per patch.

    A patch is named after the neighbourhood (House of Commons Library MSOA name)
    holding most of its people, joined with the second when that one holds at least a
    quarter ("Trowbridge West & Adcroft"). Patches that would share a name add their
    main ward, then a number. ``msoa_col = "msoa_name_cy"`` gives Welsh-language names.
    """
    frame = pd.DataFrame({"pid": patch_id, "msoa": areas[msoa_col], "ward": areas[WARD_NAME], "pop": areas[POPULATION]})
    names: dict[object, str] = {}
    by_msoa = frame.groupby(["pid", "msoa"], sort=True)["pop"].sum().reset_index()
    by_msoa = by_msoa.sort_values(["pid", "pop", "msoa"], ascending=[True, False, True])
    by_ward = frame.groupby(["pid", "ward"], sort=True)["pop"].sum().reset_index()
    by_ward = by_ward.sort_values(["pid", "pop", "ward"], ascending=[True, False, True])
    wards = dict(zip(*by_ward.drop_duplicates("pid")[["pid", "ward"]].to_numpy().T, strict=True))
    for pid, msoas, pops in zip(*_listed(by_msoa, "msoa"), strict=True):
        name = msoas[0]
        if len(msoas) > 1 and pops[1] >= 0.25 * sum(pops):
            # Welsh names join their parts with " a " ("and"): keep "&" off them, as off names holding one
            joiner = " / " if msoa_col != MSOA_NAME or "&" in msoas[0] + msoas[1] else " & "
            name = f"{msoas[0]}{joiner}{msoas[1]}"
        names[pid] = name
    result = pd.Series(names)
    dupes = result[result.duplicated(keep=False)].index
    for pid in dupes:
        result[pid] = f"{names[pid]} ({wards[pid]})"
    still = result[result.duplicated(keep=False)]
    for name, pids in still.groupby(still).groups.items():
        for number, pid in enumerate(sorted(pids), start=1):
            result[pid] = f"{name} {number}"
    return result

"""Names a resident recognises for each patch, from MSOA (neighbourhood) and ward names."""

from __future__ import annotations

import pandas as pd

from ..schema import MSOA_NAME, POPULATION, WARD_NAME


def name_patches(areas: pd.DataFrame, patch_id: pd.Series) -> pd.Series:
    """One unique name per patch.

    A patch is named after the neighbourhood (House of Commons Library MSOA name)
    holding most of its people, joined with the second when that one holds at least a
    quarter ("Trowbridge West & Adcroft"). Patches that would share a name add their
    main ward, then a number.
    """
    frame = pd.DataFrame(
        {"pid": patch_id, "msoa": areas[MSOA_NAME], "ward": areas[WARD_NAME], "pop": areas[POPULATION]}
    )
    names: dict[object, str] = {}
    wards: dict[object, str] = {}
    for pid, grp in frame.groupby("pid", sort=True):
        by_msoa = grp.groupby("msoa")["pop"].sum().reset_index().sort_values(["pop", "msoa"], ascending=[False, True])
        top = list(by_msoa["msoa"])
        share = by_msoa["pop"] / max(by_msoa["pop"].sum(), 1)
        name = top[0]
        if len(top) > 1 and share.iloc[1] >= 0.25:
            joiner = " / " if "&" in top[0] + top[1] else " & "
            name = f"{top[0]}{joiner}{top[1]}"
        names[pid] = name
        by_ward = grp.groupby("ward")["pop"].sum().reset_index().sort_values(["pop", "ward"], ascending=[False, True])
        wards[pid] = str(by_ward["ward"].iloc[0])
    result = pd.Series(names)
    dupes = result[result.duplicated(keep=False)].index
    for pid in dupes:
        result[pid] = f"{names[pid]} ({wards[pid]})"
    still = result[result.duplicated(keep=False)]
    for name, pids in still.groupby(still).groups.items():
        for number, pid in enumerate(sorted(pids), start=1):
            result[pid] = f"{name} {number}"
    return result

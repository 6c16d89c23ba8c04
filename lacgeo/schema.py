"""Names shared by every stage: columns, index names, CRSs, vintages.

One concept has one name everywhere; import it from here rather than retyping it.
"""

from __future__ import annotations

from typing import Literal

BNG = "EPSG:27700"  # all geometry work
WGS84 = "EPSG:4326"  # display only (maps.py)

Vintage = Literal["2021", "2011"]
VINTAGES: tuple[str, ...] = ("2021", "2011")
IOD_RELEASE = {"2021": "IoD2025", "2011": "IoD2019"}

# index names
AREA_CODE = "area_code"
PATCH_ID = "patch_id"

# area columns
AREA_NAME = "area_name"
MSOA_CODE = "msoa_code"
MSOA_NAME = "msoa_name"
WARD_CODE = "ward_code"
WARD_NAME = "ward_name"
LAD_CODE = "lad_code"
LAD_NAME = "lad_name"
POPULATION = "population"
NEED_INDEX = "need_index"
IMD_SCORE = "imd_score"
IMD_RANK = "imd_rank"
IMD_DECILE = "imd_decile"
IMD_QUINTILE = "imd_quintile"  # national, 1 = most deprived 20% of England
LOCAL_QUINTILE = "local_imd_quintile"  # population-weighted within the LA, 1 = most deprived

# patch columns
PATCH_NAME = "patch_name"
RANK = "rank"
N_AREAS = "n_areas"
PHASE = "phase"
BAND_STATUS = "band_status"  # IN_BAND or the reason it cannot be
IN_BAND = "in band"
EXCESS_NEED = "excess_need"  # sum of population x (need - LA mean need)

NEST_LEVELS: dict[str, str] = {"ward": WARD_CODE, "msoa": MSOA_CODE, "lad": LAD_CODE}

# Each variable is extensive (summed when areas merge) or intensive (population-weighted).
EXTENSIVE = frozenset({POPULATION, EXCESS_NEED})
INTENSIVE = frozenset({NEED_INDEX, IMD_SCORE})

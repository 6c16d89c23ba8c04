"""Names shared by every stage: columns, index names, CRSs, vintages.

One concept has one name everywhere; import it from here rather than retyping it.
"""

from __future__ import annotations

from dataclasses import dataclass
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
MSOA_NAME_CY = "msoa_name_cy"  # Welsh-language MSOA name (Welsh areas)
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
PATCH_NAME_CY = "patch_name_cy"  # Welsh-language patch name (Welsh areas)
RANK = "rank"
N_AREAS = "n_areas"
PHASE = "phase"
BAND_STATUS = "band_status"  # IN_BAND or the reason it cannot be
IN_BAND = "in band"
EXCESS_NEED = "excess_need"  # sum of population x (need - LA mean need)

NEST_LEVELS: dict[str, str] = {"ward": WARD_CODE, "msoa": MSOA_CODE, "lad": LAD_CODE}
NEST_CHOICES = ("none", "ward", "msoa", "lad")
"""``patches.nest_within``'s named levels; anything else is a polygon file."""

# Each variable is extensive (summed when areas merge) or intensive (population-weighted).
EXTENSIVE = frozenset({POPULATION, EXCESS_NEED})
INTENSIVE = frozenset({NEED_INDEX, IMD_SCORE})


@dataclass(frozen=True)
class DeprivationIndex:
    """The national index of multiple deprivation an area is measured with.

    England's IMD and Wales's WIMD are built differently and ranked within their own
    nation, so they are never compared: a run uses one, and its columns and labels carry
    that index's own name (``imd_score`` or ``wimd_score``, "IMD" or "WIMD").

    >>> index = deprivation_index("Wales", "2011")
    >>> index.score, index.quintile, index.local_quintile, index.short
    ('wimd_score', 'wimd_quintile', 'local_wimd_quintile', 'WIMD')
    """

    key: str
    """Column prefix: ``imd`` or ``wimd``."""
    short: str
    """"IMD" or "WIMD"."""
    release: str
    """The release: ``IoD2025``, ``IoD2019`` or ``WIMD2019``."""
    title: str
    """The index's full name, for prose and attribution."""
    nation: str
    """The nation its ranks, deciles and quintiles are within."""
    file: str
    """The shipped file holding it."""

    @property
    def score(self) -> str:
        return f"{self.key}_score"

    @property
    def rank(self) -> str:
        return f"{self.key}_rank"

    @property
    def decile(self) -> str:
        return f"{self.key}_decile"

    @property
    def quintile(self) -> str:
        return f"{self.key}_quintile"

    @property
    def local_quintile(self) -> str:
        return f"local_{self.key}_quintile"

    def share(self, q: int) -> str:
        """The patch column: share of residents in national quintile ``q``."""
        return f"share_{self.key}_q{q}"


DEPRIVATION_INDICES: dict[tuple[str, str], DeprivationIndex] = {
    ("England", "2021"): DeprivationIndex(
        "imd", "IMD", "IoD2025", "English Indices of Deprivation 2025", "England", "iod2025_lsoa21.parquet"
    ),
    ("England", "2011"): DeprivationIndex(
        "imd", "IMD", "IoD2019", "English Indices of Deprivation 2019", "England", "iod2019_lsoa11.parquet"
    ),
    ("Wales", "2011"): DeprivationIndex(
        "wimd", "WIMD", "WIMD2019", "Welsh Index of Multiple Deprivation 2019", "Wales", "wimd2019_lsoa11.parquet"
    ),
}


def deprivation_index(nation: str = "England", vintage: str = "2021") -> DeprivationIndex:
    """The deprivation index for areas of ``nation`` on LSOA ``vintage`` (England by default)."""
    try:
        return DEPRIVATION_INDICES[(nation, vintage)]
    except KeyError:
        have = ", ".join(f"{n} {v}" for n, v in DEPRIVATION_INDICES)
        raise ValueError(f"no deprivation index is shipped for {nation} on LSOA {vintage} (shipped: {have})") from None

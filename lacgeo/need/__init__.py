"""Stage 3, need: indicators onto the areas, the need index, profiles and the needs assessment.

It runs after load and validate, and before the graph.

:mod:`lacgeo.catalogue` describes every shipped indicator (theme, unit, polarity, period,
publisher, how it reaches an LSOA); :mod:`.indicators` reads each indicator onto the areas; :mod:`.index` standardises
and weights them into the need index (with each indicator's contribution) and adds
deprivation quintiles; :mod:`.profiles` groups areas by the shape of their need;
:mod:`.benchmark` sets each patch beside its area and nation, with significance where an
interval can be computed; :mod:`.assessment` gives each indicator by local deprivation quintile with 95%
confidence intervals, computed in :mod:`.rates`.
"""

from ..catalogue import CATALOGUE, THEMES, Indicator, catalogue_table
from .assessment import needs_assessment
from .benchmark import compare_patches, national_value, profile_names
from .index import (
    check_indicators,
    compute_need_index,
    deprivation_columns,
    excess_need,
    local_quintile,
    national_quintile,
    standardise,
)
from .indicators import SHIPPED_INDICATORS, read_indicators, share_counts, shipped_files, unavailable
from .presets import PRESETS, preset_indicators, resolve_need
from .profiles import in_sentence, need_profiles

__all__ = [
    "CATALOGUE",
    "PRESETS",
    "SHIPPED_INDICATORS",
    "THEMES",
    "Indicator",
    "catalogue_table",
    "check_indicators",
    "compare_patches",
    "compute_need_index",
    "deprivation_columns",
    "excess_need",
    "in_sentence",
    "local_quintile",
    "national_quintile",
    "national_value",
    "need_profiles",
    "needs_assessment",
    "preset_indicators",
    "profile_names",
    "read_indicators",
    "resolve_need",
    "share_counts",
    "shipped_files",
    "standardise",
    "unavailable",
]

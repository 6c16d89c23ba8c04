"""Stage 1, load: the shipped national data (:mod:`.shipped`) and the user's own files (:mod:`.files`).

Readers only: files become frames indexed by area code, and nothing is analysed here.
"""

from .files import normalise_codes, parse_numbers, read_points, read_polygons, read_table
from .places import (
    KINDS,
    Place,
    StudyArea,
    list_places,
    read_places,
    read_study_area,
    resolve_area,
    resolve_place,
)
from .shipped import (
    ATTRIBUTION,
    DATA_SOURCES,
    data_dir,
    data_file,
    nation_of,
    read_areas,
    read_deprivation,
    read_lads,
    read_lsoa_lookup,
    read_mortality,
    read_shipped_table,
    resolve_la,
)

__all__ = [
    "KINDS",
    "Place",
    "StudyArea",
    "list_places",
    "read_places",
    "read_study_area",
    "resolve_area",
    "resolve_place",
    "ATTRIBUTION",
    "DATA_SOURCES",
    "data_dir",
    "data_file",
    "nation_of",
    "normalise_codes",
    "parse_numbers",
    "read_areas",
    "read_deprivation",
    "read_shipped_table",
    "read_lads",
    "read_lsoa_lookup",
    "read_mortality",
    "read_points",
    "read_polygons",
    "read_table",
    "resolve_la",
]

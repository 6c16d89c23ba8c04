"""``map.html``: the interactive, self-contained map of a run.

:func:`make_result_map` draws a run with its disclosure control applied;
:func:`make_map` draws any areas and patches. The page around the map is
:mod:`.page`, the area shadings :mod:`.layers`, the legend, search and patch table
:mod:`.widgets`; the page's CSS and scripts are the files in ``assets/`` (``declutter.js`` keeps
the phase-1 picks' numbered names and the "In post" names in view, ``fit.js`` the first view, ``keyboard.js`` the skip
link). The layer names and the CSS classes of the drawn shapes are public, for pages that embed a map.
"""

from .build import (
    CLASS_AREA,
    CLASS_HALO,
    CLASS_IN_POST,
    CLASS_IN_POST_HALO,
    CLASS_IN_POST_LABEL,
    CLASS_LABEL,
    CLASS_OUTLINE,
    CLASS_PATCH,
    CLASS_PICK,
    CLASS_PLACE,
    CLASS_RECOMMENDED,
    CLASS_TOWN,
    IN_POST_COLOUR,
    LAYER_BASEMAP,
    OSM_ORIGIN,
    PICK_COLOUR,
    make_map,
    make_result_map,
    result_areas,
)
from .layers import (
    LAYER_IN_POST,
    LAYER_LABELS,
    LAYER_NEED,
    LAYER_OUTLINE,
    LAYER_PATCHES,
    LAYER_PROFILES,
    LAYER_QUINTILE,
    LAYER_RECOMMENDED,
    LAYER_TOWNS,
    PROFILE_COLOURS,
    QUINTILE_COLOURS,
    format_value,
    quintile_layer,
)
from .places import town_names

__all__ = [
    "CLASS_AREA",
    "CLASS_HALO",
    "CLASS_IN_POST",
    "CLASS_IN_POST_HALO",
    "CLASS_IN_POST_LABEL",
    "CLASS_LABEL",
    "CLASS_OUTLINE",
    "CLASS_PATCH",
    "CLASS_PICK",
    "CLASS_PLACE",
    "CLASS_RECOMMENDED",
    "CLASS_TOWN",
    "IN_POST_COLOUR",
    "LAYER_BASEMAP",
    "OSM_ORIGIN",
    "PICK_COLOUR",
    "LAYER_IN_POST",
    "LAYER_LABELS",
    "LAYER_NEED",
    "LAYER_OUTLINE",
    "LAYER_PATCHES",
    "LAYER_PROFILES",
    "LAYER_QUINTILE",
    "LAYER_RECOMMENDED",
    "LAYER_TOWNS",
    "PROFILE_COLOURS",
    "QUINTILE_COLOURS",
    "format_value",
    "make_map",
    "make_result_map",
    "quintile_layer",
    "result_areas",
    "town_names",
]

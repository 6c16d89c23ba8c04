"""lacgeo: where should Local Area Coordination start?

Recommends contiguous patches of about 10,000 people, ranked by need, for any
English local authority, from open data shipped with the package. The pipeline's
stages are sub-packages, in the order :func:`run` calls them: :mod:`lacgeo.load`,
:mod:`lacgeo.validate`, :mod:`lacgeo.harmonise`, :mod:`lacgeo.need`,
:mod:`lacgeo.patches` (the graph), :mod:`lacgeo.select` (phase-1 picks),
:mod:`lacgeo.patches` (the partition around them), :mod:`lacgeo.rank` and
:mod:`lacgeo.outputs`.

>>> import lacgeo
>>> result = lacgeo.run(lacgeo.make_config(la="Wiltshire"))  # doctest: +SKIP
>>> result.recommended[["patch_name", "population", "need_index"]]  # doctest: +SKIP
>>> print(result.summary())  # doctest: +SKIP
"""

from ._version import __version__
from .config import Config, load_config, make_config, override
from .errors import (
    ConfigError,
    JoinError,
    LacgeoError,
    LacgeoWarning,
    OutputError,
    PatchingError,
    UnknownAreaError,
    ValidationError,
)
from .load import read_areas, read_deprivation, read_lads, resolve_la
from .need import compute_need_index, local_quintile, national_quintile, standardise
from .outputs import write_outputs
from .patches import build_area_graph, build_patches, check_patches
from .pipeline import check_manifest, run
from .rank import assign_phases, rank_patches, rank_robustness, rollout_plan, summarise_patches
from .result import RunResult
from .select import select_patches
from .starter import starter_config

__all__ = [
    "Config",
    "ConfigError",
    "JoinError",
    "LacgeoError",
    "LacgeoWarning",
    "OutputError",
    "PatchingError",
    "RunResult",
    "UnknownAreaError",
    "ValidationError",
    "__version__",
    "assign_phases",
    "build_area_graph",
    "build_patches",
    "check_manifest",
    "check_patches",
    "compute_need_index",
    "load_config",
    "local_quintile",
    "make_config",
    "national_quintile",
    "override",
    "rank_patches",
    "rank_robustness",
    "read_areas",
    "read_deprivation",
    "read_lads",
    "resolve_la",
    "rollout_plan",
    "run",
    "select_patches",
    "standardise",
    "starter_config",
    "summarise_patches",
    "write_outputs",
]

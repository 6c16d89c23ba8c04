"""lacgeo: where should Local Area Coordination start?

Recommends contiguous patches of about 10,000 people, ranked by need, for any
English local authority, from open data shipped with the package.

>>> import lacgeo
>>> result = lacgeo.run(lacgeo.make_config(la="Wiltshire"))  # doctest: +SKIP
>>> result.recommended[["patch_name", "population", "need_index"]]  # doctest: +SKIP
"""

__version__ = "0.1.0"

from .config import Config, load_config, make_config, starter_config  # noqa: E402
from .datasets import read_areas, read_deprivation, read_lads, resolve_la  # noqa: E402
from .errors import (  # noqa: E402
    ConfigError,
    JoinError,
    LacgeoError,
    OutputError,
    PatchingError,
    UnknownAreaError,
    ValidationError,
)
from .need import compute_need_index, local_quintile, national_quintile, standardise  # noqa: E402
from .patches import build_area_graph, build_patches, check_patches  # noqa: E402
from .pipeline import RunResult, run  # noqa: E402
from .rank import assign_phases, rank_patches, summarise_patches  # noqa: E402
from .report import write_outputs  # noqa: E402
from .robustness import rank_robustness  # noqa: E402
from .select import select_patches  # noqa: E402

__all__ = [
    "Config",
    "ConfigError",
    "JoinError",
    "LacgeoError",
    "OutputError",
    "PatchingError",
    "RunResult",
    "UnknownAreaError",
    "ValidationError",
    "assign_phases",
    "build_area_graph",
    "build_patches",
    "check_patches",
    "compute_need_index",
    "load_config",
    "local_quintile",
    "make_config",
    "national_quintile",
    "rank_patches",
    "read_areas",
    "read_deprivation",
    "read_lads",
    "resolve_la",
    "rank_robustness",
    "run",
    "select_patches",
    "standardise",
    "starter_config",
    "summarise_patches",
    "write_outputs",
]

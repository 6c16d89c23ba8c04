"""The config's checks of values together: ranges, finite numbers, settings that cannot
work with each other, and the [[sources]] tables' required keys. :func:`lacgeo.config.load_config`
runs them after the types are checked, and reports every problem at once."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .catalogue import CATALOGUE
from .schema import NEST_CHOICES, VINTAGES

MAX_DRAWS = 100_000
"""Most robustness draws a run may ask for (each holds a ranking of every patch)."""
MAX_STARTS = 1_000
"""Most search rounds a run may ask for."""
MAX_PHASES = 50
"""Most phases a run may search beyond the partition."""


def check_values(config: Any, problems: list[str]) -> None:
    """Append to ``problems`` what is wrong with a :class:`lacgeo.config.Config`'s values together."""
    p = config.patches
    if p.target_population <= 0:
        problems.append(f"patches.target_population must be positive, found {p.target_population}")
    if not 0 < p.band < 1:
        problems.append(f"patches.band must be between 0 and 1 (0.2 means +/-20%), found {p.band}")
    if p.n_starts < 1:
        problems.append(f"patches.n_starts must be at least 1, found {p.n_starts}")
    if p.nest_within not in NEST_CHOICES:
        if not Path(p.nest_within).is_file():
            problems.append(
                f"patches.nest_within = {p.nest_within!r} is neither one of {', '.join(NEST_CHOICES)} "
                "nor an existing polygon file (a relative path is read from the config's folder)"
            )
        elif not p.nest_code_col:
            problems.append(
                "patches.nest_code_col is required when patches.nest_within is a polygon file: "
                "name the column that identifies each unit"
            )
    if p.need_weight < 0:
        problems.append(f"patches.need_weight must be 0 or more, found {p.need_weight}")
    if not 0 <= p.land_weight <= 1:
        problems.append(f"patches.land_weight must be between 0 and 1, found {p.land_weight}")
    if config.disclosure.small_count_max < 0:
        problems.append(f"disclosure.small_count_max must be 0 or more, found {config.disclosure.small_count_max}")
    r = config.recommend
    if r.min_distance_km < 0:
        problems.append(f"recommend.min_distance_km must be 0 or more, found {r.min_distance_km}")
    if r.spread == "nest" and config.patches.nest_within == "none":
        problems.append('recommend.spread = "nest" needs patches.nest_within to name the units')
    if r.cost_per_coordinator < 1 or r.budget < 0:
        problems.append(
            "recommend.cost_per_coordinator must be at least 1 (GBP a year) and recommend.budget 0 or more, found "
            f"{r.cost_per_coordinator} and {r.budget}"
        )
    if r.robustness_draws < 0 or r.weight_concentration <= 0 or not 0 <= r.min_probability <= 1:
        problems.append(
            "recommend.robustness_draws must be 0 or more, weight_concentration positive and "
            "min_probability between 0 and 1"
        )
    if (r.lock_in or r.lock_out) and (r.method != "select" or config.patches.nest_within != "none"):
        why = 'recommend.method = "rank"' if r.method != "select" else "patches.nest_within (nested patches are ranked)"
        problems.append(
            f"recommend.lock_in and lock_out are honoured only by the phase-1 search, which {why} turns off; "
            'use recommend.method = "select" without nesting, or remove the locks'
        )
    if r.near_km < 0 or not 1 <= r.search_phases <= MAX_PHASES:
        problems.append(
            f"recommend.near_km must be 0 or more and recommend.search_phases 1 to {MAX_PHASES}, found "
            f"{r.near_km} and {r.search_phases}"
        )
    if (r.existing or r.near_km) and (r.method != "select" or config.patches.nest_within != "none"):
        problems.append(
            "recommend.existing and near_km are honoured only by the phase search, which "
            + ('recommend.method = "rank"' if r.method != "select" else "patches.nest_within")
            + ' turns off; use recommend.method = "select" without nesting'
        )
    check_existing(r.existing, problems)
    if config.area.units == "ward" and (p.nest_within != "none" or r.spread == "nest"):
        problems.append(
            'area.units = "ward" builds patches from whole wards, which patches.nest_within (or spread = "nest") '
            "would cut differently; use one of the two"
        )
    if not 0 <= r.comparators <= 10:
        problems.append(f"recommend.comparators must be 0 to 10 per pick, found {r.comparators}")
    if r.robustness_draws > MAX_DRAWS:
        problems.append(f"recommend.robustness_draws must be at most {MAX_DRAWS:,}, found {r.robustness_draws:,}")
    if p.n_starts > MAX_STARTS:
        problems.append(f"patches.n_starts must be at most {MAX_STARTS:,}, found {p.n_starts:,}")
    if config.need.n_profiles < 1:
        problems.append(f"need.n_profiles must be at least 1, found {config.need.n_profiles}")
    if not 0 <= config.seed < 2**32:
        problems.append(f"seed must be a whole number from 0 to {2**32 - 1:,}, found {config.seed}")
    shadowed = sorted({src.name for src in config.sources} & set(CATALOGUE))
    if shadowed:
        problems.append(
            f"sources: {', '.join(map(repr, shadowed))} is the name of a shipped indicator; give the source "
            "another name so the two cannot be confused"
        )
    b = config.budget
    if b.total < 0 or b.one_off < 0 or b.cost_per_coordinator < 0 or b.management_per_year < 0 or b.other_per_year < 0:
        problems.append("[budget] amounts must be 0 or more")
    if not 1 <= b.period_months <= 240 or not 0 <= b.setup_months <= 120:
        problems.append(
            f"budget.period_months must be 1 to 240 and budget.setup_months 0 to 120, found {b.period_months} "
            f"and {b.setup_months}"
        )
    if b.total > 0 and config.recommend.budget > 0:
        problems.append("give the budget once: [budget] total (with its period) or recommend.budget (yearly), not both")
    if b.cost_per_coordinator and b.cost_per_coordinator < 1:
        problems.append(f"budget.cost_per_coordinator must be at least 1 (GBP a year), found {b.cost_per_coordinator}")
    if config.recommend.n < 1 or config.recommend.phase_size < 1:
        problems.append(
            "recommend.n and recommend.phase_size must be at least 1, found "
            f"{config.recommend.n} and {config.recommend.phase_size}"
        )
    indicators = config.need.indicators
    if not indicators and config.need.preset == "custom":
        problems.append('need.preset = "custom" needs [[need.indicators]] tables; add them, or choose "lac" or "imd"')
    weights = [i.weight for i in indicators]
    if any(w < 0 for w in weights):
        bad = ", ".join(f"{i.name}={i.weight}" for i in indicators if i.weight < 0)
        problems.append(
            f"need.indicators weights must not be negative ({bad}); "
            'use direction = "higher_is_better" to reverse an indicator'
        )
    elif indicators and sum(weights) == 0:
        problems.append("need.indicators weights are all zero; give at least one a positive weight")
    check_sources(config.sources, problems)
    names = [i.name for i in indicators]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        problems.append(f"need.indicators lists {', '.join(dupes)} more than once")
    if config.area.vintage not in VINTAGES:  # pragma: no cover - Literal check catches it first
        problems.append(f"area.vintage must be one of {VINTAGES}")


def check_existing(existing: Sequence[Any], problems: list[str]) -> None:
    """Append to ``problems`` what is wrong with the ``[[recommend.existing]]`` tables (``ExistingConfig``)."""
    names: list[str] = []
    for k, e in enumerate(existing):
        key = f"recommend.existing[{k}]" + (f" ({e.name})" if e.name else "")
        if bool(e.areas) == bool(e.path):
            problems.append(f"{key}: give either areas (LSOA codes) or path (a polygon file), not both or neither")
        elif e.areas and not e.name.strip():
            problems.append(f"{key}: name is required with areas; it labels the area in every output")
        elif e.path and not e.name_col:
            problems.append(f"{key}: name_col is required with path: name the column that names each area")
        elif e.path and not Path(e.path).is_file():
            problems.append(f"{key}: path = {e.path!r} is not a file (a relative path is read from the config folder)")
        if e.areas and e.name.strip() in names:
            problems.append(f"{key}: the name {e.name!r} is used by another existing area")
        names.append(e.name.strip())


_SOURCE_NEEDS = {
    "counts": ("code_col", "value_col"),
    "points": ("x_col", "y_col", "crs"),
    "postcodes": ("postcode_col", "lookup"),
}


def check_sources(sources: Sequence[Any], problems: list[str]) -> None:
    """Append to ``problems`` what is wrong with the ``[[sources]]`` tables (``SourceConfig``)."""
    seen: set[str] = set()
    for k, src in enumerate(sources):
        key = f"sources[{k}] ({src.name})"
        if not src.name.isidentifier():
            problems.append(f"{key}: name must be a simple identifier such as asc_referrals")
        if src.name in seen:
            problems.append(f"{key}: the name {src.name!r} is used by another source")
        seen.add(src.name)
        for needed in _SOURCE_NEEDS[src.kind]:
            if not getattr(src, needed):
                problems.append(f"{key}: kind = {src.kind!r} needs {needed}")
        for attr in ("path", "lookup"):
            value = getattr(src, attr)
            if value and not Path(value).is_file():
                problems.append(
                    f"{key}: {attr} = {value!r} is not a file (a relative path is read from the config's folder)"
                )


__all__ = ["MAX_DRAWS", "MAX_PHASES", "MAX_STARTS", "check_existing", "check_sources", "check_values"]

"""The commented starter config ``lacgeo init`` writes: every key, each value the default.

The values come from :data:`lacgeo.config.DEFAULTS` when the text is written, so the
starter config cannot drift from the defaults; the text is checked like a config file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from .config import DEFAULTS, Config, load_config_text

STARTER_TEMPLATE = """# lacgeo configuration: where should Local Area Coordination start?
# Run it with:  lacgeo run {filename}
# Every key is optional except area.la; the values below are the defaults.

seed = {seed}  # every random choice in the run comes from this seed

[area]
la = {la}  # a council, county council, ICB or sub-ICB location by name or code, or a list (see `lacgeo las`)
name = {area_name}  # the name every output uses; "" = the area's own name (set it for a list)
vintage = {vintage}  # "2021": LSOA 2021 + IoD2025;  "2011": LSOA 2011 + IoD2019

[need]
standardise = {standardise}  # "zscore", "rank" or "exponential" (the IoD transform)
missing = {missing}  # an area with no value: "error", "la_mean" or "reweight" (both warn)
n_profiles = {n_profiles}  # need profiles: up to this many groups of areas with similar need
preset = {preset}  # "lac": deprivation, health, service demand, vulnerability; "imd": IMD x2 + mortality x1

# Your own need index instead of the preset: one [[need.indicators]] table per indicator.
# `lacgeo indicators` lists the shipped ones (deprivation, health outcomes, service demand,
# vulnerability, context) with their units, periods and sources; or use the name of one
# of your [[sources]] below. The preset, spelt out for this area (uncomment to edit):
{indicators}# Your own service-demand data (kept private: point records never reach any output).
# Counts per area code (CSV or XLSX; geography lsoa21, lsoa11, msoa11 or ward):
# [[sources]]
# name = "asc_referrals"
# label = "Adult social care referrals"
# kind = "counts"
# path = "asc_referrals_2025.xlsx"
# code_col = "LSOA code"
# value_col = "Referrals"
# geography = "lsoa21"
#
# Point records with coordinates (crs "EPSG:27700" for easting/northing, "EPSG:4326" for lon/lat):
# [[sources]]
# name = "safeguarding"
# kind = "points"
# path = "safeguarding_concerns.csv"
# x_col = "easting"
# y_col = "northing"
# crs = "EPSG:27700"
#
# Records with postcodes, matched with your own postcode -> LSOA lookup (never online):
# [[sources]]
# name = "evictions"
# kind = "postcodes"
# path = "evictions.csv"
# postcode_col = "postcode"
# lookup = "postcode_to_lsoa21.csv"
# lookup_postcode_col = "pcds"
# lookup_code_col = "lsoa21cd"

[patches]
target_population = {target_population}  # people per Local Area Coordinator
band = {band}  # patches hold target x (1 +/- band) people
nest_within = {nest_within}  # boundaries patches must not cross: "none", "ward", "msoa", "lad",
                             # or a polygon file such as community areas (then set nest_code_col)
nest_code_col = {nest_code_col}  # with a polygon file: the column naming each unit
nest_layer = {nest_layer}  # with a GeoPackage of several layers: the layer to use
islands = {islands}  # detached areas: "link_nearest" (warns), "separate" or "error"
n_starts = {n_starts}  # search rounds: one grown partition, then regrowth kicks; the best is kept
need_weight = {need_weight}  # 0 ignores need when shaping patches; higher groups similar need
land_weight = {land_weight}  # compactness by people (0) or land (1): land keeps rural patches round

[recommend]
n = {n}  # coordinators in phase 1
method = {method}  # "select": best n patches beyond one partition; "rank": top n partition cells
spread = {spread}  # at most one pick per "ward", "msoa" or "nest" unit (patches.nest_within)
min_distance_km = {min_distance_km}  # least distance between picks (0 = no rule)
lock_in = {lock_in}  # LSOA codes that must be in phase 1, e.g. ["E01031841"]
lock_out = {lock_out}  # LSOA codes that must not be in a searched phase
phase_size = {phase_size}  # coordinators in each later phase
search_phases = {search_phases}  # phases searched like phase 1 (more if the budget funds them); later ones packed
comparators = {comparators}  # comparison patches per phase-1 pick, for a later evaluation (0 = none)
near_km = {near_km}  # keep the team close: picks within this distance of one already placed (0 = off)
cost_per_coordinator = {cost_per_coordinator}  # GBP a year with on-costs (assumption; councils report ~45-55k)
budget = {budget}  # GBP a year (or use the [budget] table below for a sum over months; 0 = off)
robustness_draws = {robustness_draws}  # Monte Carlo draws over weights and council-count uncertainty (0 = skip)
weight_concentration = {weight_concentration}  # how far weights wander in those draws (higher = less)
min_probability = {min_probability}  # flag a phase-1 patch in the top n in fewer draws than this

[budget]  # "with this money, how many coordinators, for how long, which patches?" (total = 0: not asked)
total = {budget_total}  # GBP for the whole period, e.g. 355880
period_months = {budget_period_months}  # months the coordinators are funded for
setup_months = {budget_setup_months}  # months of set-up before they start (yearly lines run, coordinators not)
one_off = {budget_one_off}  # one-off costs inside the total: an evaluation, IT
cost_per_coordinator = {budget_cost_per_coordinator}  # GBP a year with on-costs; 0 = recommend.cost_per_coordinator
management_per_year = {budget_management_per_year}  # a manager, or a share of one
other_per_year = {budget_other_per_year}  # travel, network membership, venues
includes_existing = {budget_includes_existing}  # the total also pays the coordinators in post, first

[disclosure]
small_count_max = {small_count_max}  # council counts of 1 to this are withheld from every output

[report]
prepared_by = {prepared_by}  # the report cover's "prepared by" line, e.g. "Public Health Intelligence"
basemap = {basemap}  # true: OpenStreetMap tiles under map.html (viewers then need internet)

# Coordinators already in post: each area is kept exactly as a patch (phase 0, "in post"), new picks
# avoid it and the rest is partitioned around it. One table per coordinator, at the end of the file
# (a [[recommend.existing]] table ends the [recommend] keys above it). Give its LSOA codes (areas.csv
# of a run lists them) ...
# [[recommend.existing]]
# name = "Learning site 1"
# areas = ["E01000001", "E01000002"]
# ... or a polygon file drawn in GIS, one feature per coordinator's area:
# [[recommend.existing]]
# path = "coordinators.gpkg"
# name_col = "name"
"""


def _toml(value: Any) -> str:
    """A default value as TOML: text quoted, lists bracketed, floats with their point."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


COMMENT_COLUMN = 29
"""Where the starter config's comments start, when the value leaves room."""


def _aligned(line: str) -> str:
    code, sep, comment = line.partition("  #")
    if not sep or not code.strip() or code.startswith("#"):
        return line
    code = code.rstrip()
    return code + " " * max(2, COMMENT_COLUMN - len(code)) + "# " + comment.lstrip()


WELSH_INDICATORS_NOTE = """# A Welsh area runs on LSOA 2011 with the Welsh Index of Multiple Deprivation 2019,
# ranked within Wales (never compared with England's IMD): the WIMD score takes the IMD
# score's place, with the WIMD domains and the Census 2021 shares (`lacgeo indicators --la NAME`).
"""


def starter_config(
    la: str | Sequence[str],
    *,
    name: str = "",
    filename: str = "lacgeo.toml",
    defaults: Config = DEFAULTS,
    left_out: dict[str, str] | None = None,
) -> str:
    """The commented starter config ``lacgeo init`` writes, every value the default.

    ``defaults`` are the area's own defaults: :data:`DEFAULTS`, or for a Welsh area those
    of :func:`lacgeo.pipeline.for_nation`, with ``left_out`` the default indicators that do
    not exist there (each named in a comment with why).

    >>> text = starter_config("Derby")
    >>> 'la = "Derby"' in text, load_config_text(text).patches == DEFAULTS.patches
    (True, True)
    """
    values = {"seed": _toml(defaults.seed)}
    for key, value in dataclasses.asdict(defaults.budget).items():  # its keys repeat recommend's, so prefixed
        values[f"budget_{key}"] = _toml(value)
    for section in ("area", "need", "patches", "recommend", "disclosure", "report"):  # area.la is the given one
        for key, value in dataclasses.asdict(getattr(defaults, section)).items():
            if key not in ("la", "name", "indicators") and not (
                isinstance(value, tuple) and value and isinstance(value[0], dict)
            ):
                values[key] = _toml(value)  # every key is unique across the sections
    indicators = ""
    if defaults.need.indicators and defaults.need.indicators[0].name.startswith("wimd"):
        indicators += WELSH_INDICATORS_NOTE
        indicators += "".join(
            f"# Left out of the preset: {name}, because {why}.\n" for name, why in (left_out or {}).items()
        )
    for spec in defaults.need.indicators:
        indicators += (
            f"# [[need.indicators]]\n# name = {_toml(spec.name)}\n# label = {_toml(spec.label)}\n"
            f"# weight = {_toml(spec.weight)}\n# direction = {_toml(spec.direction)}  # or the other way round\n#\n"
        )
    area = {"la": _toml(la if isinstance(la, str) else tuple(la)), "area_name": _toml(name)}
    text = STARTER_TEMPLATE.format(filename=filename, indicators=indicators + "\n", **area, **values)
    text = "\n".join(_aligned(line) for line in text.split("\n"))
    load_config_text(text, source="starter config")  # the template must stay valid
    return text


__all__ = ["starter_config"]

"""The run configuration: a typed, frozen tree read from one TOML file.

``load_config(path)`` reads and checks a file; ``make_config(la=...)`` builds the
defaults in code; ``override`` changes the options a user most often sets for one run.
:data:`DEFAULTS` is the only home of every default: the stage functions and the
starter config ``lacgeo init`` writes (:mod:`lacgeo.starter`) take theirs from it.
Every problem in a file is reported at once, with the key, what was found and, for a
misspelt key, the closest valid one.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from .catalogue import CATALOGUE
from .config_checks import check_values
from .errors import ConfigError
from .schema import NEST_CHOICES

Direction = Literal["", "higher_is_worse", "higher_is_better"]
Standardise = Literal["zscore", "rank", "exponential"]
IslandPolicy = Literal["link_nearest", "separate", "error"]
SourceKind = Literal["counts", "points", "postcodes"]
SourceGeography = Literal["lsoa21", "lsoa11", "msoa11", "ward"]
MissingPolicy = Literal["error", "la_mean", "reweight"]


@dataclass(frozen=True)
class SourceConfig:
    """A council's own service-demand file, turned into a rate per 1,000 residents.

    ``kind = "counts"``: one row per area code (``geography``), a count column and,
    optionally, a denominator column. ``kind = "points"``: one row per record with
    coordinates (``x_col``, ``y_col`` in ``crs``). ``kind = "postcodes"``: one row per
    record with a postcode, matched to LSOAs through the user's ``lookup`` file.
    """

    name: str
    """The indicator name to use in [[need.indicators]]."""
    path: str
    kind: SourceKind = "counts"
    label: str = ""
    sheet: str = ""
    """XLSX only: the sheet to read (default: the first)."""
    # counts
    code_col: str = ""
    value_col: str = ""
    geography: SourceGeography = "lsoa21"
    denominator_col: str = ""
    # points
    x_col: str = ""
    y_col: str = ""
    crs: str = ""
    # postcodes
    postcode_col: str = ""
    lookup: str = ""
    lookup_postcode_col: str = "postcode"
    lookup_code_col: str = "lsoa_code"
    synthetic: bool = False
    """Made-up data: every output built from it is marked SYNTHETIC."""


@dataclass(frozen=True)
class IndicatorConfig:
    """One indicator in the need index."""

    name: str
    """A shipped indicator (see ``lacgeo indicators``) or a [[sources]] name."""
    weight: float = 1.0
    direction: Direction = ""
    """Empty: the shipped indicator's polarity from the catalogue, or "higher_is_worse" for a source."""
    label: str = ""
    """Empty: the shipped indicator's label from the catalogue, or the name for a source."""

    def __post_init__(self) -> None:
        spec = CATALOGUE.get(self.name)
        if not self.direction:
            if spec is not None and spec.polarity == "context":
                raise ConfigError(
                    f"need.indicators: {self.name!r} ({spec.label}) describes an area rather than measuring need; "
                    'to use it in the need index, say which way is worse: direction = "higher_is_worse" '
                    'or "higher_is_better"'
                )
            polarity = spec.polarity if spec is not None else "higher_is_worse"
            object.__setattr__(self, "direction", polarity)
        if not self.label and spec is not None:
            object.__setattr__(self, "label", spec.label)


@dataclass(frozen=True)
class AreaConfig:
    la: str | tuple[str, ...] = ""
    """The area: a name or code ("Wiltshire", "E06000054", "Nottinghamshire", an ICB or
    sub-ICB location, a Welsh council), or a list of them run as one (see `lacgeo las`)."""
    name: str = ""
    """The area's display name in every output; by default its own name, or a list's names joined."""
    vintage: Literal["2021", "2011"] = "2021"
    """Small-area geography: LSOA 2021 with IoD2025, or LSOA 2011 with IoD2019."""
    units: Literal["lsoa", "ward"] = "lsoa"
    """What patches are built from: LSOAs, or whole electoral wards where a ward fits the band
    (a ward above it is cut into LSOA-based patches inside it; wards below it join neighbours)."""


@dataclass(frozen=True)
class NeedConfig:
    standardise: Standardise = "zscore"
    missing: MissingPolicy = "error"
    """An area with no value: stop ("error"), use the LA mean ("la_mean", warned), or leave the
    indicator out of that area's index and share its weight among the others ("reweight", warned)."""
    preset: Literal["lac", "imd", "custom"] = "lac"
    """The need index in one word (see ``lacgeo.need.presets``): "lac" weights deprivation, health
    outcomes, service demand and vulnerability; "imd" is IMD score x2 + preventable mortality x1.
    Listing [[need.indicators]] replaces the preset ("custom")."""
    indicators: tuple[IndicatorConfig, ...] = ()
    """Empty: the preset's indicators, spelt out for the area's nation and vintage when a run starts."""
    n_profiles: int = 5
    """Need profiles: groups of areas with a similar shape of need (at most this many)."""


@dataclass(frozen=True)
class PatchConfig:
    target_population: int = 10_000
    band: float = 0.2
    """Patches should hold target_population x (1 +/- band) people."""
    nest_within: str = "none"
    """Boundary patches must not cross: "none", "ward", "msoa", "lad", or a polygon file
    (GeoPackage, GeoJSON, Shapefile...) such as community areas."""
    nest_code_col: str = ""
    """With a polygon file: the column naming each unit."""
    nest_layer: str = ""
    """With a polygon file of several layers (a GeoPackage): the layer to use."""
    islands: IslandPolicy = "link_nearest"
    """Detached areas: link to the nearest area (with a warning), keep separate, or stop."""
    n_starts: int = 4
    """Search rounds: the first grows a partition from seed areas, each later one regrows a random
    patch and its neighbours from the best so far (iterated local search); the best is kept."""
    need_weight: float = 5.0
    """How strongly patches keep areas of similar need together (0 = ignore need)."""
    land_weight: float = 0.5
    """Share of compactness measured on land rather than people (0 = people only, 1 = land
    only): with land counted, patches of large rural areas stay round too."""


@dataclass(frozen=True)
class ExistingConfig:
    """A coordinator already in post and the area they cover, kept exactly as a patch.

    Either ``areas`` (the LSOA codes of the area, with a ``name``) or ``path`` (a polygon file
    with one feature per coordinator, named by ``name_col``): an LSOA belongs to the polygon
    holding more than half of it.
    """

    name: str = ""
    """The area's name in every output (with ``areas``)."""
    areas: tuple[str, ...] = ()
    """The LSOA codes of the coordinator's area (the run's vintage)."""
    path: str = ""
    """A polygon file (GeoPackage, GeoJSON, Shapefile...) of coordinators' areas."""
    name_col: str = ""
    """With ``path``: the column naming each coordinator's area."""
    layer: str = ""
    """With ``path``: the layer of a file with several (a GeoPackage)."""


@dataclass(frozen=True)
class RecommendConfig:
    n: int = 3
    """Patches recommended for phase 1."""
    method: Literal["select", "rank"] = "select"
    """ "select": search patches beyond one partition for the n that capture the most need,
    then partition the rest around them; "rank": the top n cells of the partition."""
    spread: Literal["none", "ward", "msoa", "nest"] = "none"
    """At most one pick per ward, MSOA, or unit of patches.nest_within ("nest")."""
    min_distance_km: float = 0.0
    """Least distance between the centres of picks (0 = no rule)."""
    lock_in: tuple[str, ...] = ()
    """LSOA codes that must be in phase 1 (agreed in community conversations)."""
    lock_out: tuple[str, ...] = ()
    """LSOA codes that must not be in a searched phase (they go to the last phases)."""
    existing: tuple[ExistingConfig, ...] = ()
    """Coordinators already in post ([[recommend.existing]] tables): their areas are kept exactly
    as patches (phase 0), picks never overlap them and the rest is partitioned around them."""
    phase_size: int = 6
    """Patches per later phase."""
    search_phases: int = 1
    """Phases searched beyond the partition, each under the same rules as phase 1 and given the
    phases before it; more when the budget funds coordinators beyond them. Later phases are
    packed, best first, from the partition's patches under the same rules while they can be
    kept. A searched phase 2 holds 13-19% more need than a packed one, for 0.3-1 s more."""
    comparators: int = 2
    """Comparison patches matched to each phase-1 pick for a later evaluation (evaluation.csv; 0 = none)."""
    near_km: float = 0.0
    """Keep the team close: every pick lies within this distance of a coordinator already placed
    (in post or an earlier phase), for shared management and peer support (0 = no rule)."""
    cost_per_coordinator: float = 50_000.0
    """Yearly cost of one coordinator with on-costs and a share of management (GBP). An
    assumption: published council figures are roughly 45,000-55,000."""
    budget: float = 0.0
    """A yearly budget (GBP): the same as [budget] total with period_months = 12; 0 = not set."""
    robustness_draws: int = 1000
    """Monte Carlo draws over weights and council-count uncertainty (0 = skip)."""
    weight_concentration: float = 50.0
    """Dirichlet concentration around the configured weights (higher = weights move less)."""
    min_probability: float = 0.5
    """A phase-1 patch in the top n in fewer draws than this is flagged as not robust."""


@dataclass(frozen=True)
class BudgetConfig:
    """A budget as a council writes it: a total over a period, with set-up time and other costs.

    The coordinators it buys = (total - one_off - yearly lines over set-up and funded months)
    / (cost per coordinator over the funded months), rounded down.
    """

    total: float = 0.0
    """The whole sum (GBP) for the period; 0 = no budget question."""
    period_months: int = 12
    """Months the coordinators are funded for (the programme's delivery period)."""
    setup_months: int = 0
    """Months of set-up before coordinators start (recruitment, a project officer): the yearly lines
    run, the coordinators do not."""
    one_off: float = 0.0
    """One-off costs inside the total (GBP): an evaluation, IT, launch."""
    cost_per_coordinator: float = 0.0
    """Yearly cost of one coordinator with on-costs (GBP); 0 = recommend.cost_per_coordinator."""
    management_per_year: float = 0.0
    """Yearly management (a manager, a share of one) over set-up and delivery (GBP)."""
    other_per_year: float = 0.0
    """Other yearly lines over set-up and delivery: travel, network membership, venues (GBP)."""
    includes_existing: bool = True
    """The total also pays the coordinators already in post ([[recommend.existing]]), first."""


@dataclass(frozen=True)
class DisclosureConfig:
    small_count_max: int = 7
    """Council counts from 1 to this are withheld from every output (0 turns it off)."""


@dataclass(frozen=True)
class ReportConfig:
    prepared_by: str = ""
    """The "prepared by" line on the report's cover and the workbook's About sheet (a team or author)."""
    basemap: bool = False
    """Draw OpenStreetMap tiles under map.html. Off by default: the map then needs no internet, and
    orientation comes from labelled towns, boundaries and a scale. On, the viewer's browser fetches
    tiles from tile.openstreetmap.org."""


@dataclass(frozen=True)
class Config:
    area: AreaConfig = field(default_factory=AreaConfig)
    sources: tuple[SourceConfig, ...] = ()
    need: NeedConfig = field(default_factory=NeedConfig)
    patches: PatchConfig = field(default_factory=PatchConfig)
    recommend: RecommendConfig = field(default_factory=RecommendConfig)
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    disclosure: DisclosureConfig = field(default_factory=DisclosureConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    seed: int = 42
    """Every random choice in a run comes from this seed."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


DEFAULTS = Config()
"""Every default, in one place: stage functions take their keyword defaults from here."""


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if origin is tuple:
        return "list"
    return getattr(tp, "__name__", str(tp))


def _convert(value: Any, tp: Any, key: str, problems: list[str]) -> Any:
    origin = get_origin(tp)
    if origin is Literal:
        allowed = get_args(tp)
        if value not in allowed:
            hint = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
            tip = f"; did you mean {hint[0]!r}?" if hint else ""
            problems.append(f"{key} = {value!r} is not one of {', '.join(map(repr, allowed))}{tip}")
        return value
    if origin is tuple:
        (item_tp, _) = get_args(tp)
        if not isinstance(value, list | tuple):
            problems.append(f"{key} must be a list (an array of tables in TOML), found {type(value).__name__}")
            return ()
        return tuple(_convert(v, item_tp, f"{key}[{i}]", problems) for i, v in enumerate(value))
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            problems.append(f"[{key}] must be a table, found {type(value).__name__} {value!r}")
            return None  # the config is rejected; this placeholder is never used
        return _build(tp, value, key, problems)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{key} must be a number, found {type(value).__name__} {value!r}")
            return 0.0
        if not math.isfinite(value):
            problems.append(f"{key} must be a finite number, found {value!r}")
            return 0.0
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{key} must be a whole number, found {type(value).__name__} {value!r}")
            return 0
        return value
    if tp is bool:
        if not isinstance(value, bool):
            problems.append(f"{key} must be true or false, found {type(value).__name__} {value!r}")
            return False
        return value
    if tp == str | tuple[str, ...]:  # area.la: a name, or a list of names
        if isinstance(value, str):
            return value
        if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
            return tuple(value)
        problems.append(f"{key} must be a name or code, or a list of them, found {type(value).__name__} {value!r}")
        return ""
    if tp is str and not isinstance(value, str):
        problems.append(f"{key} must be text, found {type(value).__name__} {value!r}")
        return str(value)
    return value


def _build(cls: Any, table: dict[str, Any], prefix: str, problems: list[str]) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
            tip = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(fields)}"
            problems.append(f"unknown key {full!r}{tip}")
            continue
        kwargs[key] = _convert(value, hints[key], full, problems)
    missing = [
        n
        for n, f in fields.items()
        if n not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    for name in missing:
        problems.append(f"{prefix + '.' if prefix else ''}{name} is required ({_type_name(hints[name])})")
        kwargs[name] = ""
    try:
        return cls(**kwargs)
    except ConfigError as exc:  # a check of the values together, such as an indicator's direction
        problems.append(str(exc))
        return None  # the config is rejected; this placeholder is never used


def _resolve_paths(data: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """Make relative file paths in a parsed config relative to ``base_dir``."""

    def fix(value: Any) -> Any:
        if isinstance(value, str) and value and not Path(value).is_absolute():
            return str((base_dir / value).resolve())
        return value

    data = dict(data)
    patches = data.get("patches")
    if isinstance(patches, dict) and patches.get("nest_within") not in (None, *NEST_CHOICES):
        data["patches"] = {**patches, "nest_within": fix(patches["nest_within"])}
    recommend = data.get("recommend")
    if isinstance(recommend, dict) and isinstance(recommend.get("existing"), list):
        data["recommend"] = {
            **recommend,
            "existing": [
                {**e, "path": fix(e["path"])} if isinstance(e, dict) and "path" in e else e
                for e in recommend["existing"]
            ],
        }
    sources = data.get("sources")
    if isinstance(sources, list):
        data["sources"] = [
            {**src, **{k: fix(src[k]) for k in ("path", "lookup") if k in src}} if isinstance(src, dict) else src
            for src in sources
        ]
    return data


def config_from_dict(data: dict[str, Any], *, source: str = "config", base_dir: Path | None = None) -> Config:
    """Build a :class:`Config` from a parsed TOML table, reporting every problem at once.

    Relative file paths in the config are resolved against ``base_dir`` (the config
    file's folder) when given.
    """
    problems: list[str] = []
    if base_dir is not None:
        data = _resolve_paths(data, base_dir)
    config = _build(Config, data, "", problems)
    if not problems:
        check_values(config, problems)
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))
    return config


def load_config(path: str | Path) -> Config:
    """Read and check a TOML config file (``lacgeo init`` writes a commented one).

    Every problem is reported at once, in one :class:`ConfigError` (a ``ValueError``)
    naming the key, what was found and, for a misspelt key, the closest valid one.
    Relative file paths in the config are read from the config file's folder.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "lacgeo.toml"
    >>> _ = path.write_text('[area]\\nla = "Derby"\\n[patches]\\ntarget_populaton = 9000\\n')
    >>> load_config(path)
    Traceback (most recent call last):
    lacgeo.errors.ConfigError: ...lacgeo.toml: unknown key 'patches.target_populaton'; did you mean 'target_population'?
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # Notepad saves UTF-8 with a byte-order mark
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found; create one with `lacgeo init --la NAME`") from None
    except IsADirectoryError:
        raise ConfigError(
            f"{path}: is a folder, not a config file; give the path of the TOML file (`lacgeo init` writes one)"
        ) from None
    except PermissionError:
        raise ConfigError(f"{path}: the config file cannot be read (permission denied)") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: config is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return load_config_text(text, source=str(path), base_dir=path.parent)


def make_config(
    *, la: str | Sequence[str], name: str = "", vintage: str | None = None, seed: int | None = None
) -> Config:
    """The default configuration for one area (:data:`DEFAULTS` with ``area.la`` set): a place,
    or a list of places run as one with the display name ``name``.

    >>> make_config(la="Derby", vintage="2011").area
    AreaConfig(la='Derby', name='', vintage='2011', units='lsoa')
    >>> make_config(la=["Cumberland", "Westmorland and Furness"], name="Cumbria").area.la
    ('Cumberland', 'Westmorland and Furness')
    """
    area = {"la": la if isinstance(la, str) else list(la), "name": name}
    return override(config_from_dict({"area": area}, source="defaults"), vintage=vintage, seed=seed)


def override(
    config: Config,
    *,
    la: str | None = None,
    vintage: str | None = None,
    seed: int | None = None,
    budget: float | None = None,
    name: str | None = None,
    prepared_by: str | None = None,
    basemap: bool | None = None,
    budget_months: int | None = None,
    units: str | None = None,
    existing: str | None = None,
    existing_name_col: str | None = None,
) -> Config:
    """``config`` with the options a user most often changes for one run; ``None`` keeps a value.

    The CLI's ``--la``, ``--name``, ``--vintage``, ``--seed``, ``--budget`` (the budget's
    total) and ``--budget-months`` (its period), ``--prepared-by``, ``--basemap``, ``--units`` and
    ``--existing`` (a polygon file of the areas in post, named by ``--existing-name-col``) go
    through here, and the result is checked like a config file.

    >>> config = override(make_config(la="Wiltshire"), la="Derby", budget=250_000)
    >>> config.area.la, config.budget.total, config.budget.period_months, config.seed
    ('Derby', 250000.0, 12, 42)
    """
    sections: dict[str, Any] = {}
    area = {k: v for k, v in {"la": la, "name": name, "vintage": vintage, "units": units}.items() if v is not None}
    if area:
        sections["area"] = area
    if seed is not None:
        sections["seed"] = seed
    if budget is not None or budget_months is not None:
        sections["budget"] = {"total": budget if budget is not None else config.budget.total or config.recommend.budget}
        if budget_months is not None:
            sections["budget"]["period_months"] = budget_months
        sections["recommend"] = {"budget": 0.0}
    if existing is not None or existing_name_col is not None:
        if existing is None:
            raise ConfigError("--existing-name-col needs --existing FILE, the polygon file of the areas in post")
        # read from the working folder, and recorded so in run.json so a re-run from elsewhere finds it
        in_post = {"path": str(Path(existing).resolve()), "name_col": existing_name_col or "name"}
        sections["recommend"] = {**sections.get("recommend", {}), "existing": [in_post]}
    report = {k: v for k, v in {"prepared_by": prepared_by, "basemap": basemap}.items() if v is not None}
    if report:
        sections["report"] = report
    return replace(config, **sections) if sections else config


def replace(config: Config, **sections: Any) -> Config:
    """Return a copy of ``config`` with some fields of its sections replaced.

    ``replace(config, area={"la": "Derby"}, seed=7)`` changes only those values, and
    checks the result like a config file.
    """
    data = config.to_dict()
    for key, value in sections.items():
        if isinstance(value, dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return config_from_dict(data, source="config")


def load_config_text(text: str, *, source: str = "config", base_dir: Path | None = None) -> Config:
    """Check a config given as TOML text (see :func:`load_config`)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})") from None
    return config_from_dict(data, source=source, base_dir=base_dir)


__all__ = [
    "DEFAULTS",
    "AreaConfig",
    "BudgetConfig",
    "ExistingConfig",
    "Config",
    "IndicatorConfig",
    "NeedConfig",
    "PatchConfig",
    "RecommendConfig",
    "config_from_dict",
    "load_config",
    "load_config_text",
    "make_config",
    "override",
    "replace",
]

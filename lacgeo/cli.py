"""The ``lacgeo`` command: argparse, exit codes and printing over :mod:`lacgeo.pipeline` and :mod:`lacgeo.config`.

Exit codes: 0 success; 1 data or other lacgeo error; 2 bad config or usage (unknown
LA included); 3 invalid input data (or a warning under --strict); 4 patching failed;
5 output could not be written; 6 --check-manifest found a difference; 130 interrupted.
Errors print as one line; real bugs keep their traceback.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import warnings
from pathlib import Path

from . import batch, catalogue, load, need, outputs, pipeline
from ._version import __version__
from .compare import compare_runs, write_comparison
from .config import DEFAULTS, Config, load_config, make_config, override
from .errors import ConfigError, LacgeoError
from .select.existing import existing_areas
from .starter import starter_config

log = logging.getLogger("lacgeo")


def _cmd_run(args: argparse.Namespace) -> int:
    if args.check_manifest:
        differences = pipeline.check_manifest(args.check_manifest)
        if differences:
            sys.stdout.write(f"{args.check_manifest}: the re-run differs:\n")
            for d in differences:
                sys.stdout.write(f"  - {d}\n")
            return 6
        sys.stdout.write(f"{args.check_manifest}: inputs unchanged and the re-run's tables are byte-identical\n")
        return 0
    if args.config is None and args.la is None:
        raise ConfigError("give a config file (lacgeo run CONFIG) or a local authority (lacgeo run --la NAME)")
    config = load_config(args.config) if args.config is not None else make_config(la=args.la)
    config = override(
        config,
        la=args.la,
        vintage=args.vintage,
        seed=args.seed,
        budget=args.budget,
        name=args.name,
        prepared_by=args.prepared_by,
        budget_months=args.budget_months,
        basemap=args.basemap or None,
        units=args.units,
        existing=args.existing,
        existing_name_col=args.existing_name_col,
    )
    _require_la(config, args.config)
    area = load.resolve_area(config.area.la, name=config.area.name)
    out = Path(args.out) if args.out else outputs.default_output_folder(area.name)
    result = pipeline.run(config, out=out, overwrite=args.overwrite, strict=args.strict)
    withheld = outputs.tables.withheld_need(result).patches  # as every output withholds it
    sys.stdout.write(result.summary(withheld=withheld) + f"\nOutputs: {out}\n")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    comparison = compare_runs(args.old, args.new)
    if args.csv:
        write_comparison(comparison, args.csv, overwrite=args.overwrite)
    sys.stdout.write(f"Comparing {args.old} (old) with {args.new} (new)\n")
    sys.stdout.write("\n".join(comparison.lines()) + "\n")
    if args.csv:
        sys.stdout.write(f"Patch by patch: {args.csv}\n")
    return 0


def _require_la(config: Config, path: str | None) -> None:
    la = config.area.la
    if not (la.strip() if isinstance(la, str) else la):
        raise ConfigError(f'{path}: area.la is not set; add it to the file ([area] la = "Wiltshire") or pass --la NAME')


def _cmd_validate(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    _require_la(config, args.config)
    area = load.resolve_area(config.area.la, name=config.area.name)
    config, _ = pipeline.for_nation(config, area)
    if config.recommend.existing:  # codes and polygons are checked against the area's LSOAs, as a run would
        existing_areas(config.recommend.existing, load.read_study_area(area, vintage=config.area.vintage))
    sys.stdout.write(f"{args.config}: valid ({area.describe()}, LSOA {config.area.vintage})\n")
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    area = load.resolve_area(args.la)
    path = Path(args.path)
    if path.is_dir():
        raise ConfigError(f"{path} is a folder; give --path the config file to write, e.g. {path / 'lacgeo.toml'}")
    if path.exists() and not args.overwrite:
        raise ConfigError(f"{path} already exists; pass --overwrite or choose another path with --path")
    if not path.parent.is_dir():
        raise ConfigError(f"{path}: the folder {path.parent} does not exist; create it or choose another --path")
    la = area.places[0].name if len(area.places) == 1 else [p.name for p in area.places]
    name = "" if len(area.places) == 1 else area.name
    defaults, left_out = pipeline.for_nation(DEFAULTS, area)  # a Welsh area: LSOA 2011 and WIMD
    text = starter_config(la, name=name, filename=str(path), defaults=defaults, left_out=left_out)
    path.write_text(text, encoding="utf-8")
    sys.stdout.write(f"wrote {path}; edit it, then run: lacgeo run {path}\n")
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    places = batch.batch_places(kind=args.kind, la=args.la or ())
    config = load_config(args.config) if args.config is not None else None
    if config is not None:
        config = override(config, vintage=args.vintage, seed=args.seed)
    elif args.vintage or args.seed is not None:
        config = override(make_config(la=places[0].code), vintage=args.vintage, seed=args.seed)
    out = Path(args.out) if args.out else Path("lacgeo-output") / f"batch-{args.kind or 'list'}"
    progress = False if args.quiet else None
    result = batch.run_batch(
        places, out, config=config, workers=args.workers, overwrite=args.overwrite, progress=progress
    )
    sys.stdout.write(result.summary() + "\n")
    return 1 if result.failures else 0


def _cmd_las(args: argparse.Namespace) -> int:
    places = load.list_places(args.kind)
    if args.region:
        lads = load.read_lads()
        region = lads.index[lads["region_name"].str.casefold() == args.region.casefold()]
        if not len(region):
            names = ", ".join(sorted(lads["region_name"].unique()))
            raise ConfigError(f"--region {args.region!r} is not an English region; use one of {names}")
        if args.kind not in (None, "district"):
            raise ConfigError(
                "--region lists English districts and unitaries only; leave out --kind, or use --kind district"
            )
        places = places[places.index.isin(region)]
    for code, row in places.iterrows():
        size = row["n_lsoa21"] or row["n_lsoa11"]
        vintage = "LSOA 2021" if row["n_lsoa21"] else "LSOA 2011"
        sys.stdout.write(
            f"{code}\t{row['name']}\t{load.KINDS[row['kind']]}\t{size} LSOAs ({vintage})\t{int(row['population']):,}\n"
        )
    return 0


def _cmd_indicators(args: argparse.Namespace) -> int:
    nation = None
    if args.la:
        nation = load.resolve_area(args.la).nation
    table = need.catalogue_table(vintage=args.vintage, nation=nation)
    if args.csv:
        table.to_csv(sys.stdout, index=False, lineterminator="\n")
        return 0
    for theme, rows in table.groupby("theme", sort=False):
        sys.stdout.write(f"\n{theme.upper()}\n")
        for row in rows.itertuples():
            polarity = {"higher_is_worse": "higher = more need", "higher_is_better": "higher = less need"}
            sys.stdout.write(
                f"  {row.name}\n    {row.label}; {row.unit}; {polarity.get(row.polarity, 'context only')}\n"
                f"    {row.publisher}, {row.period}; {row.geography} ({row.route}); "
                f"LSOA {row.vintages}; {row.nations}\n"
            )
            if row.note:
                sys.stdout.write(f"    Note: {row.note}\n")
    sys.stdout.write(f"\n{len(table)} indicators. Licence: every one is {catalogue.OGL}.\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lacgeo", description="Where should Local Area Coordination start?")
    parser.add_argument("--version", action="version", version=f"lacgeo {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="only print errors")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", parents=[common], help="run the analysis and write an output folder")
    p.add_argument("config", nargs="?", help="TOML config (see `lacgeo init`)")
    p.add_argument("--la", help="area name or code, or names separated by commas, run as one (overrides the config)")
    p.add_argument("--name", help="the area's name in every output (for a list; overrides the config)")
    p.add_argument("--out", help="output folder (default lacgeo-output/<la>)")
    p.add_argument("--vintage", choices=["2021", "2011"], help="LSOA vintage (overrides the config)")
    p.add_argument("--seed", type=int, help="random seed (overrides the config)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    p.add_argument("--strict", action="store_true", help="treat every warning as an error")
    p.add_argument(
        "--budget", type=float, help="a budget in GBP (a year, or over --budget-months): how many coordinators, which"
    )
    p.add_argument("--budget-months", type=int, help="the months --budget funds coordinators for (default 12)")
    p.add_argument("--prepared-by", help='the report\'s "prepared by" line (overrides the config)')
    p.add_argument("--units", choices=["lsoa", "ward"], help="build patches from LSOAs or whole wards (area.units)")
    p.add_argument(
        "--existing",
        metavar="FILE",
        help="polygon file of coordinators' areas in post, kept as patches (replaces recommend.existing)",
    )
    p.add_argument("--existing-name-col", help="with --existing: the column naming each area (default: name)")
    p.add_argument(
        "--basemap", action="store_true", help="draw OpenStreetMap tiles under the map (needs internet to view)"
    )
    p.add_argument("--check-manifest", metavar="RUN_JSON", help="re-run a recorded run and confirm identical tables")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("batch", parents=[common], help="run many areas, one output folder each, and an index page")
    p.add_argument("config", nargs="?", help="TOML config for every area (its area.la is ignored)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--kind", choices=list(load.KINDS), help="every area of this kind (see `lacgeo las`)")
    which.add_argument("--la", help="names or codes separated by commas, each run on its own")
    p.add_argument("--out", help="batch folder (default lacgeo-output/batch-<kind>)")
    p.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    p.add_argument("--vintage", choices=["2021", "2011"], help="LSOA vintage (overrides the config)")
    p.add_argument("--seed", type=int, help="random seed (overrides the config)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing batch folder's areas")
    p.set_defaults(func=_cmd_batch)

    p = sub.add_parser("compare", parents=[common], help="what changed between two run folders, and why")
    p.add_argument("old", help="the earlier run folder")
    p.add_argument("new", help="the later run folder")
    p.add_argument("--csv", help="also write the patch-by-patch comparison to this CSV file")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --csv file")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("indicators", parents=[common], help="the shipped indicators: theme, unit, source, period")
    p.add_argument("--vintage", choices=["2021", "2011"], help="only indicators that exist for this LSOA vintage")
    p.add_argument("--la", help="only indicators that exist for this area's nation (England or Wales)")
    p.add_argument("--csv", action="store_true", help="print the catalogue as CSV")
    p.set_defaults(func=_cmd_indicators)

    p = sub.add_parser("validate", parents=[common], help="check a config file without running it")
    p.add_argument("config")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("init", parents=[common], help="write a commented starter config")
    p.add_argument("--la", required=True, help="area name or code, or names separated by commas")
    p.add_argument("--path", default="lacgeo.toml", help="where to write it (default lacgeo.toml)")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=_cmd_init)

    p = sub.add_parser("las", parents=[common], help="list every area lacgeo can run on, with its kind")
    p.add_argument("--kind", choices=list(load.KINDS), help="only this kind of area")
    p.add_argument("--region", help="only English districts and unitaries of this region, e.g. 'South West'")
    p.set_defaults(func=_cmd_las)
    return parser


def console() -> None:
    """The ``lacgeo`` command: :func:`main` on ``sys.argv``, then exit.

    The objects alive after the imports, and after the run, are frozen out of the garbage
    collector (:func:`gc.freeze`): the run's collections and the one at exit then skip them,
    which saves about 0.25 s of a 3 s run. Only the command does this; :func:`main` called
    from Python (tests, notebooks) leaves the collector alone.
    """
    gc.freeze()
    code = main()
    gc.freeze()
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO, format="lacgeo: %(message)s", stream=sys.stderr
    )
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    warnings.simplefilter("default")
    try:
        return args.func(args)
    except LacgeoError as exc:
        sys.stderr.write(f"lacgeo: error: {exc}\n")
        return exc.exit_code
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("lacgeo: interrupted; no output was written\n")
        return 130


if __name__ == "__main__":  # pragma: no cover - `python -m lacgeo.cli` is the command
    console()

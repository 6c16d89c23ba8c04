"""``run_batch``: many areas in one go, one output folder each, and an index page linking them.

The same code path as one run (:func:`lacgeo.pipeline.run`) for each area, in a pool of
worker processes (the standard library's :mod:`concurrent.futures`), so a national batch
uses every core of one machine. Every area gets the same configuration with its own
``area.la``; each folder is written atomically, exactly as ``lacgeo run`` writes it, so
its tables are byte-identical to a single run's. An area that fails is reported with its
one-line error and does not stop the others. ``index.html`` and ``batch.csv`` list every
area, its patches and phase-1 picks, or its error.
"""

from __future__ import annotations

import csv
import logging
import os
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from . import load, pipeline
from .config import Config, make_config
from .errors import ConfigError, LacgeoError, OutputError
from .load.places import split_names
from .outputs import default_output_folder, output_lock
from .outputs.escape import escape_text

INDEX_FILE = "index.html"
TABLE_FILE = "batch.csv"


@dataclass(frozen=True)
class BatchItem:
    """What one area of a batch produced: its folder and headline numbers, or its error."""

    code: str
    name: str
    kind: str
    folder: str
    """The area's output folder, relative to the batch folder."""
    ok: bool
    seconds: float
    lsoas: int = 0
    patches: int = 0
    in_band: int = 0
    phase1: str = ""
    """Phase-1 patches, best first: 'P01 Name; P02 Name'."""
    error: str = ""


@dataclass
class BatchResult:
    """Every area of a batch, in the order given, and the wall time."""

    out: Path
    items: list[BatchItem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failures(self) -> list[BatchItem]:
        return [item for item in self.items if not item.ok]

    def summary(self) -> str:
        """What ``lacgeo batch`` prints: counts, the wall time and every failure."""
        ok = [item for item in self.items if item.ok]
        patches = sum(item.patches for item in ok)
        lines = [
            f"{len(ok)} of {len(self.items)} areas run in {self.seconds:.0f} s: {patches:,} patches, "
            f"{sum(item.in_band for item in ok):,} in band",
        ]
        lines += [f"failed: {item.name} ({item.code}): {item.error}" for item in self.failures]
        lines.append(f"Index: {self.out / INDEX_FILE}")
        return "\n".join(lines)


def batch_places(*, kind: str | None = None, la: str | Sequence[str] = ()) -> list[load.Place]:
    """The places a batch runs: every place of ``kind`` (see ``lacgeo las``), or each of ``la``
    (names or codes, or one text of names separated by commas), each run on its own.

    >>> [p.code for p in batch_places(la="Rutland, Isles of Scilly")]
    ['E06000017', 'E06000053']
    >>> len(batch_places(kind="county"))
    21
    """
    if kind:
        return [load.resolve_place(code) for code in load.list_places(kind).index]
    names = split_names(la) if isinstance(la, str) else list(la)
    if not names:
        raise ConfigError("a batch needs areas: give a kind (--kind county) or a list (--la 'Derby,Leicester')")
    return [load.resolve_place(name) for name in names]


def _run_one(config: Config, code: str, folder: Path, overwrite: bool) -> tuple[bool, float, dict]:
    """One area end to end in a worker: (ok, seconds, numbers or {"error": one line})."""
    logging.getLogger("lacgeo").setLevel(logging.ERROR)  # the batch reports; each run.json keeps its warnings
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            one = replace(config, area=replace(config.area, la=code, name=""))
            result = pipeline.run(one, out=folder, overwrite=overwrite)
    except LacgeoError as exc:
        return False, time.perf_counter() - start, {"error": str(exc).splitlines()[0]}
    except Exception as exc:  # noqa: BLE001 - a bug in one area must not stop the others; it is reported
        error = f"internal error, please report it: {type(exc).__name__}: {exc}"
        return False, time.perf_counter() - start, {"error": error}
    patches = result.patches
    return (
        True,
        time.perf_counter() - start,
        {
            "lsoas": len(result.areas),
            "patches": len(patches),
            "in_band": int((patches["band_status"] == "in band").sum()),
            "phase1": "; ".join(f"{pid} {name}" for pid, name in result.recommended["patch_name"].items()),
        },
    )


def run_batch(
    places: Sequence[load.Place],
    out: str | Path,
    *,
    config: Config | None = None,
    workers: int | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
) -> BatchResult:
    """Run every place with ``config`` (defaults if None), each into its own folder under ``out``.

    Parameters
    ----------
    places
        The places (:func:`batch_places`).
    out
        The batch folder: one folder per area (named as ``lacgeo run`` names it), then
        ``index.html`` and ``batch.csv``. An existing, non-empty folder needs ``overwrite``;
        this is checked before any area runs.
    workers
        Worker processes (default: one per core). ``1`` runs in this process.
    progress
        A progress bar on standard error; by default only when it is a terminal.

    Returns
    -------
    BatchResult
        Every area in the order given, with its numbers or its one-line error.
    """

    if not places:
        raise ConfigError("a batch needs at least one area")
    if config is not None and config.recommend.existing:
        raise ConfigError(
            "recommend.existing names one council's coordinators in post, so a batch of many cannot use them; "
            "remove the [[recommend.existing]] tables from the batch config, or run that council with lacgeo run"
        )
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise OutputError(f"{out} already exists and is not empty; pass --overwrite or choose another --out")
    with output_lock(out):  # a second batch given the same folder stops here
        out.mkdir(parents=True, exist_ok=True)
        return _run_batch(places, out, config=config, workers=workers, overwrite=overwrite, progress=progress)


def _run_batch(
    places: Sequence[load.Place],
    out: Path,
    *,
    config: Config | None,
    workers: int | None,
    overwrite: bool,
    progress: bool | None,
) -> BatchResult:
    """:func:`run_batch` once the batch folder is locked."""
    from tqdm import tqdm

    config = config or make_config(la=places[0].code)
    codes = [p.code for p in places]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise ConfigError(f"a batch names one area twice ({', '.join(twice)}); list each area once")
    slugs = [default_output_folder(p.name).name for p in places]
    folders = [
        out / (s if slugs.count(s) == 1 else f"{s}-{p.code.lower()}") for s, p in zip(slugs, places, strict=True)
    ]
    workers = max(1, workers or os.cpu_count() or 1)
    start = time.perf_counter()
    done: dict[int, tuple[bool, float, dict]] = {}
    # biggest first, so no worker is left with a county at the end
    size = load.read_places()[["n_lsoa21", "n_lsoa11"]].max(axis=1)
    order = sorted(range(len(places)), key=lambda i: (-int(size[places[i].code]), i))
    # tqdm's disable=None shows the bar only on a terminal
    bar = tqdm(total=len(places), unit="area", disable={True: False, False: True, None: None}[progress])
    if workers == 1:
        for i in order:
            done[i] = _run_one(config, places[i].code, folders[i], overwrite)
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_run_one, config, places[i].code, folders[i], overwrite): i for i in order}
            for future in as_completed(futures):
                done[futures[future]] = future.result()
                bar.update()
    bar.close()
    items = [
        BatchItem(p.code, p.name, p.kind, folders[i].name, ok, round(seconds, 2), **numbers)
        for i, p in enumerate(places)
        for ok, seconds, numbers in [done[i]]
    ]
    result = BatchResult(out, items, time.perf_counter() - start)
    _write_table(result)
    _write_index(result, config)
    return result


def _write_table(result: BatchResult) -> None:
    """``batch.csv``: one row per area (no times: the same inputs give the same file)."""
    names = [f for f in BatchItem.__dataclass_fields__ if f != "seconds"]
    with open(result.out / TABLE_FILE, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=names, lineterminator="\n")
        writer.writeheader()
        for item in result.items:
            writer.writerow({k: v for k, v in asdict(item).items() if k != "seconds"})


def _write_index(result: BatchResult, config: Config) -> None:
    """``index.html``: every area with links to its report and map, or its error."""
    rows = []
    for item in result.items:
        name = escape_text(item.name)
        if item.ok:
            link = escape_text(item.folder)
            rows.append(
                f'<tr><th scope="row">{name}</th><td>{escape_text(item.code)}</td><td>{item.patches}</td>'
                f"<td>{item.in_band}</td><td>{escape_text(item.phase1)}</td>"
                f'<td><a href="{link}/report.html">report</a> · <a href="{link}/map.html">map</a></td></tr>'
            )
        else:
            rows.append(
                f'<tr class="failed"><th scope="row">{name}</th><td>{escape_text(item.code)}</td>'
                f'<td colspan="4">failed: {escape_text(item.error)}</td></tr>'
            )
    synthetic = any(s.synthetic for s in config.sources)
    banner = '<p class="synthetic">SYNTHETIC: these runs use made-up service-demand data.</p>' if synthetic else ""
    ok = len(result.items) - len(result.failures)
    target, band = config.patches.target_population, config.patches.band
    lo, hi = target * (1 - band), target * (1 + band)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>lacgeo batch: {ok} of {len(result.items)} areas</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5rem;color:#1b1b1b}}table{{border-collapse:collapse}}
th,td{{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;vertical-align:top}}thead th{{background:#eee}}
tr.failed td{{color:#a00}}.synthetic{{background:#fde0dc;padding:.5rem;font-weight:bold}}</style></head>
<body><main><h1>Local Area Coordination patches: {ok} of {len(result.items)} areas</h1>{banner}
<p>Each area was run on its own with the same settings (seed {config.seed}); open its report or map.
Patches in band hold {lo:,.0f}-{hi:,.0f} people.</p>
<table><thead><tr><th scope="col">Area</th><th scope="col">Code</th><th scope="col">Patches</th>
<th scope="col">In band</th><th scope="col">Phase 1</th><th scope="col">Open</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
<p><small>{escape_text(load.ATTRIBUTION)}</small></p></main></body></html>
"""
    (result.out / INDEX_FILE).write_text(page, encoding="utf-8")


__all__ = ["BatchItem", "BatchResult", "batch_places", "run_batch"]

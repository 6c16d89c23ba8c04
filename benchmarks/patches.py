"""Benchmark lacgeo's patch builder against spopt and pygeoda max-p regionalisation.

What it measures
----------------
1. Head to head, on a few local authorities (default Wiltshire E06000054, Solihull
   E08000029, Derby E06000015), the partitioning step of three tools on the same
   LSOAs, population and need (IMD score):

   * lacgeo   ``lacgeo.patches.partition_areas(graph, population, need, centroids, area=land,
     seed=seed)``, the partitioning step ``build_patches`` runs (target 10,000 people, band
     +/-20%, labels and out-of-band reasons out), at the default ``n_starts`` and again at
     ``n_starts=1``; centroids and land areas, like every tool's contiguity structure, are
     computed before the timer.
     ``build_patches`` (partition, feasibility check and names) is timed end to end in the
     batch below;
   * lacgeo interpreted  the same default call with ``LACGEO_INTERPRETED=1``: the same
     search source run as Python, as a machine without a C compiler runs it; timed on its
     own (``--repeats`` runs, each with the next seed), and its row says whether it drew
     exactly the compiled search's patches;
   * spopt    ``spopt.region.MaxPHeuristic(gdf, w, ["imd_score"], "population", 10000,
     top_n=2).solve()`` (numpy's global RNG seeded first), run in a spawned child
     process so it can be stopped after ``--spopt-timeout`` seconds; only ``solve()``
     is timed, inside the child;
   * pygeoda  ``pygeoda.maxp_greedy(w, imd_score, population, 10000, random_seed=seed)``.

   Contiguity structures (lacgeo's area graph, libpysal queen weights, pygeoda queen
   weights) are built before and outside the timers; their build times are recorded
   separately. The max-p tools only get a *minimum* of 10,000 people per region; they
   have no upper bound, which is part of what the band metric shows.

   Metrics per tool and LA: seconds (median of ``--repeats`` runs; lacgeo and pygeoda,
   which run in this process, take turns, one run each per round, until each has a
   quarter of a second timed, each run with the next seed, see ``_interleave``;
   quality is that of ``--seed``), number of patches, patch population min / median / max,
   share of patches inside 8,000-12,000, share of patches that are contiguous on the
   queen graph (plus lacgeo's declared island bridges, the same graph for every tool),
   the between-patch share of need variance
   ``1 - WSS / TSS`` (population-weighted; higher = patches more homogeneous in need),
   the mean Polsby-Popper compactness ``4 pi A / P^2`` of the dissolved patches, and
   lacgeo's speed ratio (tool seconds / lacgeo seconds).

2. lacgeo alone on every English local authority (``read_lads()``), timed end to end
   per LA: reading areas and deprivation, building the graph and building the patches.
   Reported: total seconds, total patches, share in band, share contiguous, the worst
   LA time and every LA whose result carries flagged patches.

How to run
----------
    python benchmarks/patches.py                          # all of it, LSOA 2011
    python benchmarks/patches.py --vintage 2021 --skip-batch
    python benchmarks/patches.py --las E06000054 --repeats 3 --out /tmp/patches.json

It prints markdown tables and writes JSON (default ``benchmarks/results/patches.json``)
with the machine (platform, CPU count, Python) and package versions. Results are
deterministic given ``--seed``; only the timings vary between runs.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from lacgeo import load
from lacgeo.config import PatchConfig
from lacgeo.errors import IslandWarning
from lacgeo.patches import AreaGraph, build_area_graph, build_patches, partition_areas

TARGET = 10_000
BAND = 0.2
LOW, HIGH = TARGET * (1 - BAND), TARGET * (1 + BAND)
NEED = "imd_score"
POPULATION = "population"
DEFAULT_LAS = ("E06000054", "E08000029", "E06000015")  # Wiltshire, Solihull, Derby
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "patches.json"
PACKAGES = ("lacgeo", "spopt", "pygeoda", "libpysal", "geopandas", "shapely", "numpy", "pandas", "scipy", "Cython")
TOOLS = ("lacgeo", "lacgeo n_starts=1", "lacgeo interpreted", "spopt", "pygeoda")
DEFAULT_STARTS = PatchConfig().n_starts


# --------------------------------------------------------------------------- data


def load_la(code: str, vintage: str) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """LSOAs of one LA (EPSG:27700, indexed by code) with the IMD score as ``imd_score``."""
    areas = load.read_areas(code, vintage=vintage)
    need = load.read_deprivation(areas.index, vintage=vintage)[NEED].astype(float)
    return areas.assign(**{NEED: need}), need


def lacgeo_graph(areas: gpd.GeoDataFrame) -> AreaGraph:
    """lacgeo's queen graph, islands linked to their nearest area (the warning is expected)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IslandWarning)
        return build_area_graph(areas, islands="link_nearest")


def centroid_xy(areas: gpd.GeoDataFrame) -> np.ndarray:
    """(n, 2) point inside each area, as ``build_patches`` places it."""
    return shapely.get_coordinates(areas.geometry.representative_point().to_numpy())


def geoda_weights(areas: gpd.GeoDataFrame):
    """pygeoda's queen weights of ``areas`` (GeoDa builds its own contiguity)."""
    import pygeoda

    return pygeoda.queen_weights(pygeoda.open(areas[[POPULATION, NEED, "geometry"]].reset_index(drop=True)))


# --------------------------------------------------------------------------- metrics


def contiguous_patches(labels: np.ndarray, graph: AreaGraph) -> np.ndarray:
    """For each patch label (sorted), whether its areas form one connected piece of ``graph``."""
    same = labels[graph.edges[:, 0]] == labels[graph.edges[:, 1]]
    piece = AreaGraph(graph.codes, graph.edges[same], frozenset()).components()
    pieces_per_patch = pd.Series(piece).groupby(labels).nunique()
    return (pieces_per_patch == 1).to_numpy()


def between_share(labels: np.ndarray, pop: np.ndarray, need: np.ndarray) -> float:
    """``1 - WSS / TSS`` of need, population-weighted: the share of need variance between patches."""
    total = pop.sum()
    mean = (pop * need).sum() / total
    tss = (pop * (need - mean) ** 2).sum()
    frame = pd.DataFrame({"p": pop, "pn": pop * need, "l": labels})
    sums = frame.groupby("l")[["p", "pn"]].sum()
    patch_mean = (sums["pn"] / sums["p"].where(sums["p"] > 0)).fillna(0.0)
    wss = (pop * (need - patch_mean.reindex(labels).to_numpy()) ** 2).sum()
    return float(1.0 - wss / tss) if tss > 0 else float("nan")


def polsby_popper(areas: gpd.GeoDataFrame, labels: np.ndarray) -> float:
    """Mean ``4 pi A / P^2`` of the patches' dissolved polygons."""
    patches = gpd.GeoDataFrame({"patch": labels}, geometry=areas.geometry.to_numpy(), crs=areas.crs).dissolve("patch")
    pp = 4 * math.pi * patches.area / patches.length**2
    return float(pp.mean())


@dataclass
class Quality:
    n_patches: int
    pop_min: float
    pop_median: float
    pop_max: float
    share_in_band: float
    share_contiguous: float
    between_share: float | None = None
    polsby_popper: float | None = None
    unassigned_areas: int = 0


def patch_quality(
    labels: np.ndarray, areas: gpd.GeoDataFrame, graph: AreaGraph, *, shape_metrics: bool = True
) -> Quality:
    """Band, contiguity and (optionally) homogeneity and compactness of one partition."""
    pop = areas[POPULATION].to_numpy(dtype=float)
    patch_pop = pd.Series(pop).groupby(labels).sum()
    inside = ((patch_pop >= LOW) & (patch_pop <= HIGH)).to_numpy()
    contiguous = contiguous_patches(labels, graph)
    quality = Quality(
        n_patches=len(patch_pop),
        pop_min=float(patch_pop.min()),
        pop_median=float(patch_pop.median()),
        pop_max=float(patch_pop.max()),
        share_in_band=float(inside.mean()),
        share_contiguous=float(contiguous.mean()),
    )
    if shape_metrics:
        quality.between_share = between_share(labels, pop, areas[NEED].to_numpy(dtype=float))
        quality.polsby_popper = polsby_popper(areas, labels)
    return quality


def with_unassigned_as_singletons(labels: np.ndarray) -> tuple[np.ndarray, int]:
    """Max-p tools label regions 1..p and leave unassigned areas at 0; make each its own patch."""
    labels = np.asarray(labels, dtype=np.int64).copy()
    unassigned = np.flatnonzero(labels <= 0)
    labels[unassigned] = labels.max() + 1 + np.arange(len(unassigned))
    return labels, len(unassigned)


# --------------------------------------------------------------------------- tools


@dataclass
class ToolRun:
    tool: str
    status: str  # "ok", "timed out", "failed", "not installed"
    seconds: float | None = None
    all_seconds: list[float] = field(default_factory=list)
    deterministic: bool | None = None
    setup_seconds: float | None = None  # building the contiguity structure, not timed above
    quality: Quality | None = None
    speed_ratio: float | None = None  # tool seconds / lacgeo seconds (default n_starts)
    speed_ratio_fast: float | None = None  # tool seconds / lacgeo seconds with n_starts = 1
    note: str = ""


MIN_TIMED = 0.25  # in-process tools run until this many seconds are timed (timeit-style)
MAX_RUNS = 500


def _interleave(fns: dict, seed: int, repeats: int) -> dict[str, tuple[np.ndarray, list[float], bool]]:
    """Time the in-process tools turn about. Round ``r`` runs every ``fns[name](seed + r)
    -> (labels, seconds)`` once, the order rotating each round; rounds go on until every
    tool has run ``repeats`` times and has ``MIN_TIMED`` seconds timed (at most
    ``MAX_RUNS`` rounds). Returns, per tool, the labels of ``seed``, every time, and
    whether ``seed`` run again gives the same labels.

    The tools take turns because this shared 2-core machine drifts: the same call's
    median moved by a quarter from one minute to the next, so tools timed one after the
    other were compared across different machine states. The seed changes from run to
    run because a millisecond call repeated with the same inputs ran up to twice as fast
    (the CPU learns its branches), which a real run of one LA never gets."""
    names = list(fns)
    firsts: dict[str, np.ndarray] = {}
    times: dict[str, list[float]] = {name: [] for name in names}
    r = 0
    while r < repeats or (min(sum(t) for t in times.values()) < MIN_TIMED and r < MAX_RUNS):
        turn = r % len(names)
        for name in names[turn:] + names[:turn]:
            labels, seconds = fns[name](seed + r)
            times[name].append(seconds)
            firsts.setdefault(name, labels)
        r += 1
    return {name: (firsts[name], times[name], bool(np.array_equal(firsts[name], fns[name](seed)[0]))) for name in names}


def run_lacgeo(areas, need, graph, xy, seed: int, n_starts: int) -> tuple[np.ndarray, float]:
    """lacgeo's partitioning step: graph, population, need and centroids in, patch labels
    (and flags) out, as ``build_patches`` calls it."""
    pop = areas[POPULATION].to_numpy(dtype=float)
    values = need.to_numpy(dtype=float)
    land = areas.geometry.area.to_numpy()
    start = time.perf_counter()
    labels, _ = partition_areas(
        graph, pop, values, xy, area=land, target=TARGET, band=BAND, n_starts=n_starts, seed=seed
    )
    seconds = time.perf_counter() - start
    return labels, seconds


def run_interpreted(areas, need, graph, xy, seed: int, repeats: int, compiled: np.ndarray, setup: float) -> ToolRun:
    """lacgeo's default search run as Python (``LACGEO_INTERPRETED=1``: what a machine that
    installed lacgeo without a C compiler runs), ``repeats`` times from ``seed`` on; its
    note says whether seed ``seed`` drew the compiled search's patches."""
    previous = os.environ.get("LACGEO_INTERPRETED")
    os.environ["LACGEO_INTERPRETED"] = "1"
    try:
        runs = [run_lacgeo(areas, need, graph, xy, seed + r, DEFAULT_STARTS) for r in range(max(repeats, 1))]
        again = run_lacgeo(areas, need, graph, xy, seed, DEFAULT_STARTS)[0]
    finally:
        if previous is None:
            del os.environ["LACGEO_INTERPRETED"]
        else:
            os.environ["LACGEO_INTERPRETED"] = previous
    labels = runs[0][0]
    times = [seconds for _, seconds in runs]
    same = bool(np.array_equal(labels, again))
    run = ToolRun(
        "lacgeo interpreted", "ok", statistics.median(times), times, same, setup, patch_quality(labels, areas, graph)
    )
    run.note = "labels identical to the compiled search" if np.array_equal(labels, compiled) else "labels DIFFER"
    return run


def _spopt_child(conn, gdf, w, seeds: list[int]) -> None:
    """In a spawned process: solve MaxPHeuristic once per seed, sending each result back."""
    warnings.simplefilter("ignore")
    from spopt.region import MaxPHeuristic

    conn.send("ready")
    for seed in seeds:
        np.random.seed(seed)
        model = MaxPHeuristic(gdf, w, attrs_name=[NEED], threshold_name=POPULATION, threshold=TARGET, top_n=2)
        start = time.perf_counter()
        model.solve()
        seconds = time.perf_counter() - start
        conn.send((np.asarray(model.labels_), seconds))
    conn.close()


def spopt_weights(areas: gpd.GeoDataFrame):
    """libpysal queen weights of ``areas``, as spopt takes them."""
    import libpysal

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return libpysal.weights.Queen.from_dataframe(areas, use_index=False)


def run_spopt(
    areas: gpd.GeoDataFrame, w, seeds: list[int], timeout: float
) -> tuple[str, list[np.ndarray], list[float]]:
    """MaxPHeuristic in one child process, once per seed; each solve may take at most
    ``timeout`` seconds. Returns the status, the labels and the seconds of each solve."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    gdf = areas[[POPULATION, NEED, "geometry"]].reset_index(drop=True)
    proc = ctx.Process(target=_spopt_child, args=(child, gdf, w, list(seeds)), daemon=True)
    proc.start()
    child.close()
    results = []
    status = "ok"
    try:
        if not parent.poll(300) or parent.recv() != "ready":
            status = "failed"
        for _ in range(len(seeds) if status == "ok" else 0):
            if not parent.poll(timeout):
                status = "timed out"
                break
            results.append(parent.recv())
    except EOFError:
        status = "failed"
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join()
        parent.close()
    return status, [r[0] for r in results], [r[1] for r in results]


def run_pygeoda(gda_w, areas: gpd.GeoDataFrame, seed: int) -> tuple[np.ndarray, float]:
    import pygeoda

    data = areas[[NEED]].reset_index(drop=True)
    bound = areas[POPULATION].astype(float).reset_index(drop=True)
    start = time.perf_counter()
    result = pygeoda.maxp_greedy(gda_w, data, bound, TARGET, random_seed=seed, cpu_threads=os.cpu_count() or 1)
    seconds = time.perf_counter() - start
    return np.asarray(result["Clusters"], dtype=np.int64), seconds


def installed(package: str) -> bool:
    try:
        metadata.version(package)
    except metadata.PackageNotFoundError:
        return False
    return True


def compare_la(code: str, vintage: str, seed: int, repeats: int, spopt_timeout: float) -> dict:
    """All three tools on one LA; returns a JSON-ready dict."""
    areas, need = load_la(code, vintage)
    name = str(load.read_lads().at[code, "lad_name"])
    start = time.perf_counter()
    graph = lacgeo_graph(areas)
    graph_seconds = time.perf_counter() - start
    runs: list[ToolRun] = []

    xy = centroid_xy(areas)
    in_process = {
        "lacgeo": lambda s: run_lacgeo(areas, need, graph, xy, s, DEFAULT_STARTS),
        "lacgeo n_starts=1": lambda s: run_lacgeo(areas, need, graph, xy, s, 1),
    }
    geoda_setup = None
    if installed("pygeoda"):
        start = time.perf_counter()
        gda_w = geoda_weights(areas)
        geoda_setup = time.perf_counter() - start
        in_process["pygeoda"] = lambda s: run_pygeoda(gda_w, areas, s)
    timed = _interleave(in_process, seed, repeats)
    for tool in ("lacgeo", "lacgeo n_starts=1"):
        labels, times, same = timed[tool]
        runs.append(
            ToolRun(
                tool, "ok", statistics.median(times), times, same, graph_seconds, patch_quality(labels, areas, graph)
            )
        )

    runs.append(run_interpreted(areas, need, graph, xy, seed, repeats, timed["lacgeo"][0], graph_seconds))

    if installed("spopt"):
        start = time.perf_counter()
        w = spopt_weights(areas)
        setup = time.perf_counter() - start
        status, solved, times = run_spopt(areas, w, [seed] * repeats, spopt_timeout)
        same = all(np.array_equal(solved[0], other) for other in solved[1:]) if status == "ok" else None
        run = ToolRun("spopt", status, statistics.median(times) if status == "ok" else None, times, same, setup)
        if status == "timed out":
            run.note = f"no solution within {spopt_timeout:g} s"
        if status == "ok":
            labels, unassigned = with_unassigned_as_singletons(solved[0])
            run.quality = patch_quality(labels, areas, graph)
            run.quality.unassigned_areas = unassigned
        runs.append(run)
    else:
        runs.append(ToolRun("spopt", "not installed"))

    if "pygeoda" in timed:
        labels, times, same = timed["pygeoda"]
        labels, unassigned = with_unassigned_as_singletons(labels)
        run = ToolRun(
            "pygeoda", "ok", statistics.median(times), times, same, geoda_setup, patch_quality(labels, areas, graph)
        )
        run.quality.unassigned_areas = unassigned
        run.note = f"cpu_threads={os.cpu_count()}"
        runs.append(run)
    else:
        runs.append(ToolRun("pygeoda", "not installed"))

    base, fast = runs[0].seconds, runs[1].seconds
    for run in runs:
        if run.seconds is not None and base:
            run.speed_ratio = run.seconds / base
            run.speed_ratio_fast = run.seconds / fast
    return {
        "lad_code": code,
        "lad_name": name,
        "n_areas": len(areas),
        "population": float(areas[POPULATION].sum()),
        "island_bridges": len(graph.bridges),
        "runs": [asdict(r) for r in runs],
    }


# --------------------------------------------------------------------------- batch


def batch_la(code: str, vintage: str, seed: int) -> dict:
    """lacgeo end to end on one LA, timed from reading the data to the checked patches."""
    start = time.perf_counter()
    areas, need = load_la(code, vintage)
    graph = lacgeo_graph(areas)
    result = build_patches(areas, need, graph=graph, seed=seed)
    seconds = time.perf_counter() - start
    labels = pd.factorize(result.patch_id, sort=True)[0]
    quality = patch_quality(labels, areas, graph, shape_metrics=False)
    n = quality.n_patches
    return {
        "lad_code": code,
        "seconds": seconds,
        "n_areas": len(areas),
        "n_patches": n,
        "n_in_band": round(quality.share_in_band * n),
        "n_contiguous": round(quality.share_contiguous * n),
        "island_bridges": len(graph.bridges),
        "flags": dict(result.flags),
    }


def run_batch(vintage: str, seed: int) -> dict:
    """lacgeo on every English LA; a failure is recorded for its LA, not raised."""
    lads = load.read_lads()
    rows, failures = [], {}
    wall = time.perf_counter()
    for code in lads.index:
        try:
            row = batch_la(code, vintage, seed)
        except Exception as exc:  # noqa: BLE001 - a benchmark reports every failure
            failures[code] = f"{type(exc).__name__}: {exc}"
            continue
        row["lad_name"] = str(lads.at[code, "lad_name"])
        rows.append(row)
    wall = time.perf_counter() - wall
    n_patches = sum(r["n_patches"] for r in rows)
    worst = max(rows, key=lambda r: r["seconds"]) if rows else None
    return {
        "n_las": len(lads),
        "n_ok": len(rows),
        "failures": failures,
        "wall_seconds": wall,
        "total_seconds": sum(r["seconds"] for r in rows),
        "total_patches": n_patches,
        "share_in_band": sum(r["n_in_band"] for r in rows) / n_patches if n_patches else None,
        "share_contiguous": sum(r["n_contiguous"] for r in rows) / n_patches if n_patches else None,
        "median_la_seconds": statistics.median(r["seconds"] for r in rows) if rows else None,
        "worst": {k: worst[k] for k in ("lad_code", "lad_name", "seconds", "n_areas")} if worst else None,
        "flagged": {r["lad_code"]: {"lad_name": r["lad_name"], "flags": r["flags"]} for r in rows if r["flags"]},
        "per_la": rows,
    }


# --------------------------------------------------------------------------- report


def _num(value, fmt: str) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, fmt)


def comparison_table(results: list[dict]) -> str:
    head = (
        "| LA | tool | seconds | vs lacgeo | vs lacgeo n_starts=1 | patches | pop min / median / max | in band "
        "| contiguous | need between-share | Polsby-Popper |"
    )
    lines = [head, "|---" * (head.count("|") - 1) + "|"]
    for la in results:
        for run in la["runs"]:
            q = run["quality"] or {}
            seconds = _num(run["seconds"], ".4f") if run["status"] == "ok" else run["status"]
            pops = f"{q['pop_min']:,.0f} / {q['pop_median']:,.0f} / {q['pop_max']:,.0f}" if q else "-"
            tool = run["tool"] + (f" ({run['note']})" if run["tool"] == "lacgeo interpreted" else "")
            lines.append(
                f"| {la['lad_name']} ({la['n_areas']} LSOAs) | {tool} | {seconds} "
                f"| {_num(run['speed_ratio'], '.1f') + 'x' if run['speed_ratio'] else '-'} "
                f"| {_num(run['speed_ratio_fast'], '.1f') + 'x' if run['speed_ratio_fast'] else '-'} "
                f"| {q.get('n_patches', '-')} | {pops} "
                f"| {_num(q.get('share_in_band'), '.0%')} | {_num(q.get('share_contiguous'), '.0%')} "
                f"| {_num(q.get('between_share'), '.3f')} | {_num(q.get('polsby_popper'), '.3f')} |"
            )
    return "\n".join(lines)


def batch_table(batch: dict) -> str:
    worst = batch["worst"] or {}
    rows = [
        ("local authorities run", f"{batch['n_ok']} of {batch['n_las']}"),
        ("total seconds (sum per LA, end to end)", f"{batch['total_seconds']:.1f}"),
        ("wall seconds (whole loop)", f"{batch['wall_seconds']:.1f}"),
        ("median seconds per LA", _num(batch["median_la_seconds"], ".2f")),
        (
            "worst LA",
            f"{worst.get('lad_name')} ({worst.get('lad_code')}, {worst.get('n_areas')} LSOAs): "
            f"{_num(worst.get('seconds'), '.2f')} s"
            if worst
            else "-",
        ),
        ("total patches", f"{batch['total_patches']:,}"),
        ("patches in band (8,000-12,000)", _num(batch["share_in_band"], ".2%")),
        ("patches contiguous", _num(batch["share_contiguous"], ".2%")),
        ("LAs with flagged patches", str(len(batch["flagged"]))),
        ("LAs that failed", str(len(batch["failures"]))),
    ]
    lines = ["| batch (lacgeo, every English LA) | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    for code, item in batch["flagged"].items():
        for pid, reason in item["flags"].items():
            lines.append(f"| flagged: {item['lad_name']} ({code}) {pid} | {reason} |")
    for code, error in batch["failures"].items():
        lines.append(f"| failed: {code} | {error} |")
    return "\n".join(lines)


def machine_info() -> dict:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "packages": {p: (metadata.version(p) if installed(p) else None) for p in PACKAGES},
    }


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--las",
        default=",".join(DEFAULT_LAS),
        help="comma-separated LA codes for the head-to-head (default: %(default)s)",
    )
    parser.add_argument(
        "--vintage",
        choices=("2011", "2021"),
        default="2011",
        help="LSOA vintage (default: %(default)s, to compare with published LSOA 2011 runs)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for every tool (default: %(default)s)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="timed runs per tool and LA; the median is reported (default: %(default)s)",
    )
    parser.add_argument(
        "--spopt-timeout",
        type=float,
        default=120.0,
        help="seconds one spopt solve may take before it is stopped (default: %(default)s)",
    )
    parser.add_argument("--skip-batch", action="store_true", help="skip lacgeo on every English LA")
    parser.add_argument("--skip-compare", action="store_true", help="skip the head-to-head")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    codes = [c.strip().upper() for c in args.las.split(",") if c.strip()]
    report: dict = {
        "settings": {
            "vintage": args.vintage,
            "seed": args.seed,
            "repeats": args.repeats,
            "target": TARGET,
            "band": [LOW, HIGH],
            "need": NEED,
            "spopt_timeout": args.spopt_timeout,
        },
        "machine": machine_info(),
    }
    print(
        f"# Patch benchmark (LSOA {args.vintage}, seed {args.seed}, {os.cpu_count()} CPUs, "
        f"Python {report['machine']['python']})\n"
    )
    for tool in ("spopt", "pygeoda"):
        if not installed(tool):
            print(f"note: {tool} is not installed; it is skipped\n")

    if not args.skip_compare:
        results = [compare_la(code, args.vintage, args.seed, args.repeats, args.spopt_timeout) for code in codes]
        report["comparison"] = results
        print("## Head to head (partitioning step only; contiguity structures built beforehand)\n")
        print(comparison_table(results))
        print(
            "\n'vs lacgeo' = tool seconds / lacgeo seconds. 'need between-share' = 1 - within/total "
            "population-weighted sum of squares of IMD score (higher = more homogeneous patches).\n"
        )

    if not args.skip_batch:
        batch = run_batch(args.vintage, args.seed)
        report["batch"] = batch
        print("## lacgeo on every English local authority\n")
        print(batch_table(batch))
        print()

    report["total_seconds"] = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=float) + "\n")
    print(f"benchmark took {report['total_seconds']:.1f} s; results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark lacgeo's phase-1 selection against an exact CP-SAT model.

What it measures
----------------
For a few local authorities (default Solihull E08000029, Derby E06000015, Thurrock
E06000034, Middlesbrough E06000002), need = IMD score, N = 3 picks of 8,000-12,000
people, the objective is the *excess need* captured: the sum over the picked areas of
population x (IMD score - the LA's population-weighted mean IMD score).

* lacgeo     ``lacgeo.select.select_patches(areas, need, graph, n=3, seed=seed)``, timed
             (median of ``--repeats`` runs; the graph is built outside the timer).
* partition  the top 3 in-band patches of ``lacgeo.patches.build_patches(areas, need,
             graph=graph)`` ranked by excess need: what picking whole cells of one
             partition gives.
* CP-SAT     the exact model (OR-Tools CP-SAT, ``--time-limit`` seconds in all,
             ``num_workers=2``): boolean ``x[i, k]`` (area i in pick k), each area in at
             most one pick, each pick's population in the band, and contiguity by a
             single-commodity flow per pick: a root (the pick's lowest-numbered area,
             ``r[i, k]``) sends flow along arcs between the pick's own areas, and every
             other area of the pick must receive one unit net. Picks are ordered by root to
             break symmetry. Excess need is scaled by 100 and rounded to integers; the
             reported value is recomputed exactly from the solver's areas, and the bound is
             the solver's bound / 100 plus the largest possible rounding error.

             lacgeo also requires that the picks strand no *pocket*: a piece of the
             remaining areas whose population no number of in-band patches can make (under
             8,000, or 12,000-16,000). Without that rule the solver's best answers do strand
             pockets (low-need holes inside a ring of needy areas), so the model gets it too:
             up front, a cut for every connected set of up to 3 areas holding under 8,000
             people (``sum(y[boundary]) - sum(y[set]) <= |boundary| - 1``, y = area picked),
             and lazily, the same cut for every pocket found in any solution the solver
             reports; it is re-solved (short rounds, hinted with its own best rule-abiding
             solution) until its best strands nothing or the time is up. The cuts remove
             exactly the selections that strand those pieces, so every round's bound stays
             a valid upper bound for lacgeo's problem.
* CP-SAT without the pocket rule (``--plain-time-limit`` seconds; reference only): the
             same model without the cuts, to show what the rule costs.

Reported per LA: lacgeo's captured need and seconds; the partition's top 3; CP-SAT's best
rule-abiding value, its proven upper bound and status; lacgeo's share of CP-SAT's best and
of the bound; the no-pocket-rule reference. Target: lacgeo >= 98% of CP-SAT's best on every
LA, under 1 s per LA.

How to run
----------
    python benchmarks/selection.py                    # 120 s + 30 s per LA for CP-SAT (~10 min)
    python benchmarks/selection.py --quick            # 20 s + 10 s per LA
    python benchmarks/selection.py --vintage 2011 --time-limit 60 --las E06000015

It prints a markdown table and writes JSON (default ``benchmarks/results/selection.json``)
with the machine (platform, CPU count, Python) and package versions.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from lacgeo import load
from lacgeo.errors import IslandWarning
from lacgeo.patches import AreaGraph, build_area_graph, build_patches
from lacgeo.select import select_patches

TARGET = 10_000
BAND = 0.2
LOW, HIGH = TARGET * (1 - BAND), TARGET * (1 + BAND)
N_PICKS = 3
NEED = "imd_score"
POPULATION = "population"
SCALE = 100  # excess need -> integers for CP-SAT
DEFAULT_LAS = ("E08000029", "E06000015", "E06000034", "E06000002")
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "selection.json"
PACKAGES = ("lacgeo", "ortools", "numpy", "pandas", "scipy", "geopandas", "shapely", "libpysal")


# --------------------------------------------------------------------------- data


def load_la(code: str, vintage: str) -> tuple:
    """Any area lacgeo can run on (a council, a county council, an ICB), as the pipeline reads it."""
    areas = load.read_study_area(load.resolve_area(code), vintage=vintage)
    need = load.read_deprivation(areas.index, vintage=vintage)[NEED].astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IslandWarning)
        graph = build_area_graph(areas, islands="link_nearest")
    return areas, need, graph


def excess_need(areas, need) -> np.ndarray:
    pop = areas[POPULATION].to_numpy(dtype=float)
    mean = float((pop * need.to_numpy()).sum() / pop.sum())
    return pop * (need.to_numpy() - mean)


def pockets(picked: np.ndarray, pop: np.ndarray, graph: AreaGraph) -> list[tuple[list[int], list[int]]]:
    """Pieces of the remaining areas, touching a pick, whose population no set of in-band patches makes.

    Returns ``(piece, boundary)`` pairs: the piece's areas and the picked areas around it.
    """
    keep = ~picked
    rest = graph.components(keep)  # pieces through edges between two unpicked areas
    nbrs = graph.neighbours()
    out = []
    for c in np.unique(rest[keep]):
        members = np.flatnonzero((rest == c) & keep)
        boundary = sorted({int(u) for i in members for u in nbrs[i] if picked[u]})
        if not boundary:
            continue  # an untouched part of the LA
        people = pop[members].sum()
        k = math.ceil(people / HIGH - 1e-9)
        if people > 0 and k * LOW > people + 1e-9:
            out.append((members.tolist(), boundary))
    return out


def strands_pocket(picked: np.ndarray, pop: np.ndarray, graph: AreaGraph) -> bool:
    return bool(pockets(picked, pop, graph))


# --------------------------------------------------------------------------- tools


def run_lacgeo(areas, need, graph, seed: int, repeats: int) -> dict:
    times, first = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        selection = select_patches(areas, need, graph, n=N_PICKS, seed=seed)
        times.append(time.perf_counter() - start)
        if first is None:
            first = selection
        elif first != selection:
            raise RuntimeError("select_patches gave different picks for the same seed")
    picked = areas.index.isin([c for p in first.picks for c in p.area_codes])
    return {
        "value": first.total_excess_need,
        "seconds": statistics.median(times),
        "all_seconds": times,
        "picks": [
            {"areas": list(p.area_codes), "population": p.population, "excess_need": p.excess_need} for p in first.picks
        ],
        "warnings": list(first.warnings),
        "n_candidates": first.n_candidates,
        "strands_pocket": strands_pocket(picked, areas[POPULATION].to_numpy(dtype=float), graph),
    }


def run_partition(areas, need, graph, seed: int) -> dict:
    start = time.perf_counter()
    result = build_patches(areas, need, graph=graph, seed=seed)
    seconds = time.perf_counter() - start
    value = pd.Series(excess_need(areas, need), index=areas.index)
    pop = areas[POPULATION].astype(float)
    by_patch = pd.DataFrame({"value": value.groupby(result.patch_id).sum(), "pop": pop.groupby(result.patch_id).sum()})
    by_patch["in_band"] = by_patch["pop"].between(LOW, HIGH) & ~by_patch.index.isin(list(result.flags))
    top = by_patch[by_patch["in_band"]].sort_values("value", ascending=False).head(N_PICKS)
    return {
        "value": float(top["value"].sum()),
        "seconds": seconds,
        "patches": {str(k): float(v) for k, v in top["value"].items()},
        "n_patches": len(by_patch),
    }


def small_connected_sets(nbrs: list[list[int]], pop: np.ndarray, max_size: int) -> list[tuple[int, ...]]:
    """Every connected set of at most ``max_size`` areas holding fewer than ``LOW`` people."""
    found: set[tuple[int, ...]] = set()
    frontier = [frozenset([i]) for i in range(len(nbrs)) if pop[i] < LOW]
    found.update(tuple(s) for s in frontier)
    for _ in range(max_size - 1):
        grown = set()
        for s in frontier:
            for i in s:
                for u in nbrs[i]:
                    if u not in s:
                        t = s | {u}
                        if pop[list(t)].sum() < LOW:
                            grown.add(t)
        frontier = [t for t in grown if tuple(sorted(t)) not in found]
        found.update(tuple(sorted(t)) for t in frontier)
    return sorted(found)


def run_cpsat(
    areas,
    need,
    graph: AreaGraph,
    time_limit: float,
    workers: int,
    seed: int,
    *,
    pocket_rule: bool = True,
    upfront: int = 3,
    hint: list[list[str]] | None = None,
) -> dict:
    """The exact model (see the module docstring), with the pocket rule as lazy cuts if ``pocket_rule``.

    Lazy cuts: every solution the solver reports is checked; each stranded pocket C with
    picked boundary B gives the cut ``sum(y[B]) - sum(y[C]) <= |B| - 1`` (y = area picked),
    which removes exactly the selections leaving C cut off. The model is solved again
    (hinted with the best rule-abiding solution so far) until its best solution strands
    nothing, within one total time budget. Every round's bound is a valid upper bound.
    """
    from ortools.sat.python import cp_model

    pop = areas[POPULATION].to_numpy(dtype=float)
    pop_int = np.round(pop).astype(int).tolist()
    value = excess_need(areas, need)
    value_int = np.round(value * SCALE).astype(int).tolist()
    n = graph.n
    nbrs = graph.neighbours()
    arcs = [(i, j) for i in range(n) for j in nbrs[i]]
    # at most this many areas fit in one pick
    size = int(np.searchsorted(np.cumsum(np.sort(pop)), HIGH, side="right"))
    size = max(1, min(size, n))

    model = cp_model.CpModel()
    x = [[model.new_bool_var(f"x{i}_{k}") for k in range(N_PICKS)] for i in range(n)]
    r = [[model.new_bool_var(f"r{i}_{k}") for k in range(N_PICKS)] for i in range(n)]
    flow = {(i, j, k): model.new_int_var(0, size - 1, f"f{i}_{j}_{k}") for (i, j) in arcs for k in range(N_PICKS)}
    for i in range(n):
        model.add_at_most_one(x[i])
    for k in range(N_PICKS):
        model.add_linear_constraint(sum(pop_int[i] * x[i][k] for i in range(n)), math.ceil(LOW), math.floor(HIGH))
        model.add_exactly_one(r[i][k] for i in range(n))
        prefix = 0
        for i in range(n):
            model.add_implication(r[i][k], x[i][k])
            prefix = prefix + r[i][k]
            # the root is the lowest-numbered area of the pick
            model.add(x[i][k] <= prefix)
        for i, j in arcs:
            f = flow[i, j, k]
            model.add(f == 0).only_enforce_if(~x[i][k])
            model.add(f == 0).only_enforce_if(~x[j][k])
        for i in range(n):
            inflow = sum(flow[j, i, k] for j in nbrs[i])
            outflow = sum(flow[i, j, k] for j in nbrs[i])
            # every non-root area of the pick receives one unit net; the root may send up to size - 1
            model.add(inflow - outflow >= x[i][k] - size * r[i][k])
            model.add(inflow == 0).only_enforce_if(r[i][k])
    for k in range(N_PICKS - 1):
        model.add(sum(i * r[i][k] for i in range(n)) + 1 <= sum(i * r[i][k + 1] for i in range(n)))
    model.maximize(sum(value_int[i] * x[i][k] for i in range(n) for k in range(N_PICKS)))
    y = [sum(x[i]) for i in range(n)]
    n_variables, n_constraints = len(model.proto.variables), len(model.proto.constraints)

    cuts: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()

    def add_cut(piece, boundary) -> bool:
        key = (tuple(sorted(piece)), tuple(sorted(boundary)))
        if key in cuts:
            return False
        cuts.add(key)
        model.add(sum(y[i] for i in boundary) - sum(y[i] for i in piece) <= len(boundary) - 1)
        return True

    if pocket_rule:
        # upfront: every connected set of up to `upfront` areas holding fewer than LOW people
        for piece in small_connected_sets(nbrs, pop, upfront):
            boundary = {u for i in piece for u in nbrs[i]} - set(piece)
            if boundary:
                add_cut(piece, boundary)
    n_upfront = len(cuts)

    class Recorder(cp_model.CpSolverSolutionCallback):
        def __init__(self):
            super().__init__()
            self.solutions: list[list[list[int]]] = []

        def on_solution_callback(self) -> None:
            self.solutions.append([[i for i in range(n) if self.boolean_value(x[i][k])] for k in range(N_PICKS)])

    # the worst rounding error of any feasible objective: at most `size` areas per pick, 0.5 each
    slack = N_PICKS * size * 0.5 / SCALE
    best: tuple[float, list[list[int]]] | None = None
    if hint is not None:  # (not used by the benchmark) start from a given selection, e.g. to find best-known values
        where = {c: i for i, c in enumerate(areas.index)}
        sol = sorted(([where[c] for c in members] for members in hint), key=min)
        picked = np.zeros(n, dtype=bool)
        for members in sol:
            picked[members] = True
        best = (float(value[picked].sum()), sol)
        for k, members in enumerate(sol):
            for i in range(n):
                model.add_hint(x[i][k], i in set(members))
    bound, rounds, status_name, proven = math.inf, [], "UNKNOWN", False
    start = time.perf_counter()
    while True:
        remaining = time_limit - (time.perf_counter() - start)
        if remaining < 0.5:
            break
        solver = cp_model.CpSolver()
        # short rounds while cuts are still being found, so they accumulate; the last round gets the rest
        solver.parameters.max_time_in_seconds = (
            remaining if not pocket_rule else min(remaining, max(10.0, time_limit / 4))
        )
        solver.parameters.num_workers = int(workers)
        solver.parameters.random_seed = int(seed)
        recorder = Recorder()
        status = solver.solve(model, recorder)
        status_name = solver.status_name(status)
        if status == cp_model.INFEASIBLE:
            bound = min(bound, -math.inf if best is None else best[0])
            proven = True
            rounds.append({"status": status_name, "seconds": solver.wall_time, "new_cuts": 0})
            break
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            bound = min(bound, solver.best_objective_bound / SCALE + slack)
        new_cuts = 0
        last_clean = False
        for sol in recorder.solutions:
            picked = np.zeros(n, dtype=bool)
            for members in sol:
                picked[members] = True
            found = pockets(picked, pop, graph) if pocket_rule else []
            last_clean = not found
            if not found:
                v = float(value[picked].sum())
                if best is None or v > best[0]:
                    best = (v, sol)
            for piece, boundary in found:
                new_cuts += add_cut(piece, boundary)
        rounds.append(
            {
                "status": status_name,
                "seconds": solver.wall_time,
                "solutions": len(recorder.solutions),
                "new_cuts": new_cuts,
            }
        )
        if status == cp_model.OPTIMAL and last_clean:
            proven = True
            break
        if not pocket_rule:
            break
        # otherwise go on (new cuts, or the round ran out of time) while time is left
        model.clear_hints()
        if best is not None:
            for k, members in enumerate(best[1]):
                chosen = set(members)
                for i in range(n):
                    model.add_hint(x[i][k], i in chosen)
    seconds = time.perf_counter() - start
    out = {
        "status": "OPTIMAL" if proven and best is not None else ("FEASIBLE" if best else status_name),
        "pocket_rule": pocket_rule,
        "seconds": seconds,
        "time_limit": time_limit,
        "num_workers": workers,
        "n_variables": n_variables,
        "n_constraints": n_constraints,
        "rounds": rounds,
        "n_cuts": len(cuts),
        "n_upfront_cuts": n_upfront,
        "bound": bound,
        "value": None,
    }
    if best is not None:
        value_best, sol = best
        out["value"] = value_best
        out["picks"] = [
            {
                "areas": sorted(str(areas.index[i]) for i in members),
                "population": float(pop[members].sum()),
                "excess_need": float(value[members].sum()),
            }
            for members in sol
        ]
    return out


# --------------------------------------------------------------------------- report


def versions() -> dict:
    out = {}
    for package in PACKAGES:
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = None
    return out


def machine() -> dict:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"platform": platform.platform(), "python": sys.version.split()[0], "cpu": cpu, "cpu_count": os.cpu_count()}


def share(a, b) -> float | None:
    return None if a is None or not b else a / b


def markdown(rows: list[dict]) -> str:
    head = (
        "| LA | areas | lacgeo need | lacgeo s | partition top-3 | CP-SAT best | CP-SAT bound | CP-SAT status "
        "| lacgeo / best | lacgeo / bound | without the pocket rule: CP-SAT best / bound |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]

    def num(v):
        return "-" if v is None or not math.isfinite(v) else f"{v:,.0f}"

    def pct(v):
        return "-" if v is None else f"{100 * v:.1f}%"

    for row in rows:
        cp, plain = row["cpsat"], row.get("cpsat_plain")
        rounds = len(cp["rounds"])
        extra = (
            "-"
            if plain is None
            else (f"{num(plain['value'])} / {num(plain['bound'])} ({plain['status']}, {plain['seconds']:.0f} s)")
        )
        lines.append(
            f"| {row['lad_name']} ({row['lad_code']}) | {row['n_areas']} | {num(row['lacgeo']['value'])} "
            f"| {row['lacgeo']['seconds']:.3f} | {num(row['partition']['value'])} | {num(cp['value'])} "
            f"| {num(cp['bound'])} | {cp['status']} ({cp['seconds']:.0f} s, {rounds} round{'s' * (rounds > 1)}, "
            f"{cp['n_cuts']} cuts) | {pct(row['share_of_best'])} | {pct(row['share_of_bound'])} | {extra} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--las", nargs="+", default=list(DEFAULT_LAS), help="LA codes")
    parser.add_argument("--vintage", default="2021", choices=("2021", "2011"))
    parser.add_argument("--time-limit", type=float, default=120.0, help="CP-SAT seconds per LA (default 120)")
    parser.add_argument(
        "--plain-time-limit",
        type=float,
        default=30.0,
        help="seconds for the reference CP-SAT run without the pocket rule (0 skips it; default 30)",
    )
    parser.add_argument("--quick", action="store_true", help="CP-SAT limits 20 s (with the pocket rule) and 10 s")
    parser.add_argument("--workers", type=int, default=2, help="CP-SAT num_workers (default 2)")
    parser.add_argument("--repeats", type=int, default=5, help="lacgeo timing repeats (default 5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    time_limit = 20.0 if args.quick else args.time_limit
    plain_limit = min(10.0, args.plain_time_limit) if args.quick else args.plain_time_limit

    rows = []
    for code in args.las:
        areas, need, graph = load_la(code, args.vintage)
        name = str(load.resolve_place(code).name)
        print(f"{name} ({code}): {len(areas)} areas ...", file=sys.stderr, flush=True)
        lac = run_lacgeo(areas, need, graph, args.seed, args.repeats)
        part = run_partition(areas, need, graph, args.seed)
        cp = run_cpsat(areas, need, graph, time_limit, args.workers, args.seed)
        plain = (
            run_cpsat(areas, need, graph, plain_limit, args.workers, args.seed, pocket_rule=False)
            if plain_limit > 0
            else None
        )
        rows.append(
            {
                "lad_code": code,
                "lad_name": name,
                "n_areas": len(areas),
                "population": float(areas[POPULATION].sum()),
                "island_bridges": len(graph.bridges),
                "lacgeo": lac,
                "partition": part,
                "cpsat": cp,
                "cpsat_plain": plain,
                "share_of_best": share(lac["value"], cp["value"]),
                "share_of_bound": share(lac["value"], cp["bound"]),
            }
        )
        print(
            f"  lacgeo {lac['value']:,.0f} in {lac['seconds']:.3f} s; CP-SAT {cp['status']} "
            f"{'-' if cp['value'] is None else format(round(cp['value']), ',')} (bound {cp['bound']:,.0f})",
            file=sys.stderr,
            flush=True,
        )

    table = markdown(rows)
    print(table)
    result = {
        "benchmark": "phase-1 selection: lacgeo.select_patches vs exact CP-SAT",
        "settings": {
            "vintage": args.vintage,
            "n_picks": N_PICKS,
            "target": TARGET,
            "band": BAND,
            "need": NEED,
            "cpsat_time_limit": time_limit,
            "cpsat_plain_time_limit": plain_limit,
            "cpsat_workers": args.workers,
            "seed": args.seed,
            "repeats": args.repeats,
        },
        "machine": machine(),
        "versions": versions(),
        "las": rows,
        "table": table,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

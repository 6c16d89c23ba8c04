"""How much lacgeo's patch quality depends on the seed, against GeoDa over the same seeds.

``benchmarks/patches.py`` compares the tools at one seed. This script reruns lacgeo's
partitioning step (``partition_areas`` at the default ``n_starts``) and pygeoda
``maxp_greedy`` with seeds ``0 .. --seeds - 1`` on the same LAs and reports, per tool and
LA, the mean, minimum and maximum need between-share and Polsby-Popper compactness
(the metrics of ``patches.py``) and the share of patches in the band. With ``--spopt``,
spopt ``MaxPHeuristic`` too, over the same seeds (numpy's global RNG seeded with each, in
one child process; up to 19 s a run, so several minutes); otherwise its seed-0 figures
are in ``benchmarks/results/patches*.json``.

    python benchmarks/patch_seeds.py                       # LSOA 2011, seeds 0-9
    python benchmarks/patch_seeds.py --vintage 2021 --out benchmarks/results/patch_seeds_2021.json
    python benchmarks/patch_seeds.py --spopt               # spopt over the seeds as well
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from patches import (  # noqa: E402  (the sibling benchmark script)
    DEFAULT_LAS,
    DEFAULT_STARTS,
    centroid_xy,
    geoda_weights,
    installed,
    lacgeo_graph,
    load_la,
    patch_quality,
    run_lacgeo,
    run_pygeoda,
    run_spopt,
    spopt_weights,
    with_unassigned_as_singletons,
)

from lacgeo import load  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "patch_seeds.json"


def summarise(values: list[float]) -> dict:
    return {"mean": float(np.mean(values)), "min": float(np.min(values)), "max": float(np.max(values))}


def seeds_for_la(code: str, vintage: str, seeds: int, *, spopt: bool = False, spopt_timeout: float = 120.0) -> dict:
    areas, need = load_la(code, vintage)
    graph = lacgeo_graph(areas)
    xy = centroid_xy(areas)
    runs = {"lacgeo": []}
    for seed in range(seeds):
        labels, _ = run_lacgeo(areas, need, graph, xy, seed, DEFAULT_STARTS)
        runs["lacgeo"].append(patch_quality(labels, areas, graph))
    if installed("pygeoda"):
        gda_w = geoda_weights(areas)
        runs["pygeoda"] = []
        for seed in range(seeds):
            labels, _ = run_pygeoda(gda_w, areas, seed)
            labels, _ = with_unassigned_as_singletons(labels)
            runs["pygeoda"].append(patch_quality(labels, areas, graph))
    if spopt and installed("spopt"):
        status, solved, _ = run_spopt(areas, spopt_weights(areas), list(range(seeds)), spopt_timeout)
        if status != "ok":
            raise RuntimeError(f"spopt {status} on {code} (timeout {spopt_timeout:g} s a run)")
        runs["spopt"] = [patch_quality(with_unassigned_as_singletons(labels)[0], areas, graph) for labels in solved]
    name = str(load.read_lads().at[code, "lad_name"])
    return {
        "lad_code": code,
        "lad_name": name,
        "tools": {
            tool: {
                "between_share": summarise([q.between_share for q in qs]),
                "polsby_popper": summarise([q.polsby_popper for q in qs]),
                "share_in_band": summarise([q.share_in_band for q in qs]),
            }
            for tool, qs in runs.items()
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--las", default=",".join(DEFAULT_LAS), help="comma-separated LA codes")
    parser.add_argument("--vintage", choices=("2011", "2021"), default="2011")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0 .. N-1 (default: %(default)s)")
    parser.add_argument("--spopt", action="store_true", help="run spopt MaxPHeuristic over the seeds too (slow)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output (default: %(default)s)")
    args = parser.parse_args(argv)
    results = [seeds_for_la(code, args.vintage, args.seeds, spopt=args.spopt) for code in args.las.split(",")]
    print(
        f"# Patch quality over seeds 0-{args.seeds - 1} (LSOA {args.vintage}, lacgeo n_starts={DEFAULT_STARTS}, "
        f"{os.cpu_count()} CPUs)\n"
    )
    print("| LA | tool | need between-share mean (min-max) | Polsby-Popper mean (min-max) | in band (min) |")
    print("|---|---|---|---|---|")
    for la in results:
        for tool, m in la["tools"].items():
            b, p, band = m["between_share"], m["polsby_popper"], m["share_in_band"]
            print(
                f"| {la['lad_name']} | {tool} | {b['mean']:.3f} ({b['min']:.3f}-{b['max']:.3f}) | "
                f"{p['mean']:.3f} ({p['min']:.3f}-{p['max']:.3f}) | {band['min']:.0%} |"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"vintage": args.vintage, "seeds": args.seeds, "n_starts": DEFAULT_STARTS, "results": results}, indent=2
        )
        + "\n"
    )
    print(f"\nresults written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

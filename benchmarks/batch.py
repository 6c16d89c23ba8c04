"""The national batch from the command line: every district and unitary with full outputs.

What it measures
----------------
``lacgeo batch --kind district`` (all 296 English districts and unitaries, default config,
every output written, plus ``index.html``) as a user runs it, from a fresh process,
with one worker per core and then with one worker, in the same run on the same machine:
wall seconds (imports included), areas run, failures, patches and patches in band. The
target is under 5 minutes wall on a 2-core machine.

How to run
----------
    python benchmarks/batch.py                  # both, about 10 min on 2 cores
    python benchmarks/batch.py --workers 2      # one worker count only
    python benchmarks/batch.py --kind county

It prints a markdown table and writes JSON (default ``benchmarks/results/batch.json``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "batch.json"


def run_cli(kind: str, workers: int) -> dict:
    """``lacgeo batch`` in a fresh process, into a temporary folder; its numbers from ``batch.csv``."""
    with tempfile.TemporaryDirectory(prefix="lacgeo-batch-") as tmp:
        out = Path(tmp) / "b"
        cmd = [sys.executable, "-m", "lacgeo.cli", "batch", "--kind", kind, "--out", str(out), "-q"]
        start = time.perf_counter()
        done = subprocess.run([*cmd, "--workers", str(workers)], capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        with open(out / "batch.csv", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    ok = [r for r in rows if r["ok"] == "True"]
    return {
        "workers": workers,
        "wall_seconds": round(wall, 1),
        "exit_code": done.returncode,
        "areas": len(rows),
        "failures": [f"{r['name']} ({r['code']}): {r['error']}" for r in rows if r["ok"] != "True"],
        "patches": sum(int(r["patches"]) for r in ok),
        "in_band": sum(int(r["in_band"]) for r in ok),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", default="district", help="kind of area (default: %(default)s)")
    parser.add_argument("--workers", type=int, nargs="*", help="worker counts (default: one per core, then 1)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output (default: %(default)s)")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    counts = args.workers or sorted({cores, 1}, reverse=True)
    runs = [run_cli(args.kind, w) for w in counts]
    lines = [
        f"# lacgeo batch --kind {args.kind} ({cores} CPUs, Python {sys.version.split()[0]})",
        "",
        "| workers | wall seconds | areas | failures | patches | in band |",
        "|---|---|---|---|---|---|",
    ]
    for r in runs:
        share = r["in_band"] / r["patches"] if r["patches"] else 0.0
        lines.append(
            f"| {r['workers']} | {r['wall_seconds']:.0f} | {r['areas']} | {len(r['failures'])} "
            f"| {r['patches']:,} | {share:.2%} |"
        )
    print("\n".join(lines))
    results = {"machine": {"platform": platform.platform(), "cpu_count": cores}, "kind": args.kind, "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""One area from a fresh command line, as a user waits for it, against the floor of ``import geopandas``.

What it measures
----------------
CPU seconds (user + system, of the child process) of ``lacgeo run --la <area> --out <tmp>``
(every output written) and of ``python -c "import geopandas"``, run in turn ``--repeats``
times on the same machine, and the ratio of their medians. CPU rather than wall time, so a
busy second core does not blur the comparison. Per-stage seconds of the analysis come from
the last run's ``run.json``.

How to run
----------
    python benchmarks/end_to_end.py                         # Wiltshire, Birmingham, Kent; about 1 min
    python benchmarks/end_to_end.py --las Wiltshire --repeats 8

It prints a markdown table and writes JSON (default ``benchmarks/results/end_to_end.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "end_to_end.json"


def cpu_seconds(cmd: list[str]) -> float:
    """User + system CPU seconds of one child process running ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--las", nargs="+", default=["Wiltshire", "Birmingham", "Kent"])
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output (default: %(default)s)")
    args = parser.parse_args(argv)
    floor: list[float] = []
    runs: dict[str, list[float]] = {la: [] for la in args.las}
    stages: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="lacgeo-e2e-") as tmp:
        for r in range(args.repeats):
            floor.append(cpu_seconds([sys.executable, "-c", "import geopandas"]))
            for la in args.las:
                out = Path(tmp) / f"{la}-{r}"
                runs[la].append(
                    cpu_seconds([sys.executable, "-m", "lacgeo.cli", "run", "--la", la, "--out", str(out), "-q"])
                )
                stages[la] = json.loads((out / "run.json").read_text(encoding="utf-8"))["timings_seconds"]
    base = statistics.median(floor)
    lines = [
        f"# One area from a fresh CLI, CPU seconds ({os.cpu_count()} CPUs, Python {sys.version.split()[0]})",
        "",
        f"`import geopandas`: {base:.2f} s (median of {args.repeats})",
        "",
        "| area | CPU seconds (median) | runs | vs import geopandas |",
        "|---|---|---|---|",
    ]
    for la, times in runs.items():
        lines.append(
            f"| {la} | {statistics.median(times):.2f} | {', '.join(f'{t:.2f}' for t in times)} "
            f"| {statistics.median(times) / base:.1f}x |"
        )
    print("\n".join(lines))
    results = {
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count()},
        "import_geopandas": floor,
        "runs": runs,
        "stages_last_run": stages,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""One area from a fresh command line, as a user waits for it, against the floor of ``import geopandas``.

What it measures
----------------
CPU seconds (user + system, of the child process) of ``lacgeo run --la <area> --out <tmp>``
(every output written) and of ``python -c "import geopandas"``, run in turn ``--repeats``
times on the same machine, and the ratio of their medians. CPU rather than wall time, so a
busy second core does not blur the comparison. Per-stage seconds of the analysis come from
the last run's ``run.json``. Then London's 33 boroughs as one area (4,994 LSOAs): wall and
CPU seconds, peak memory and patches in band.

How to run
----------
    python benchmarks/end_to_end.py                         # Wiltshire, Birmingham, Kent, London; about 1 min
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


def london() -> dict:
    """All 33 London boroughs as one area (4,994 LSOAs) from the CLI: wall and CPU seconds, peak
    memory (its own process, so no other run's peak counts) and patches in band."""
    import csv
    import time

    from lacgeo.load import read_places

    codes = ",".join(c for c in read_places().index if c.startswith("E09"))
    with tempfile.TemporaryDirectory(prefix="lacgeo-london-") as tmp:
        out = Path(tmp) / "london"
        cmd = [sys.executable, "-m", "lacgeo.cli", "run", "--la", codes, "--name", "London", "--out", str(out), "-q"]
        probe = (
            "import resource, subprocess, sys, json; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
            "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "print(json.dumps([u.ru_utime + u.ru_stime, u.ru_maxrss]))"
        )
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", probe, *cmd], check=True, capture_output=True, text=True)
        wall = time.perf_counter() - start
        cpu, rss_kb = json.loads(done.stdout)
        with open(out / "patches.csv", encoding="utf-8") as handle:
            status = [row["band_status"] for row in csv.DictReader(handle)]
        return {
            "lsoas": sum(1 for _ in open(out / "areas.csv", encoding="utf-8")) - 1,
            "patches": len(status),
            "in_band_share": sum(s == "in band" for s in status) / len(status),
            "wall_seconds": round(wall, 1),
            "cpu_seconds": round(cpu, 1),
            "peak_rss_mb": round(rss_kb / 1024),
            "map_mb": round((out / "map.html").stat().st_size / 1e6, 1),
            "stages": json.loads((out / "run.json").read_text(encoding="utf-8"))["timings_seconds"],
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--las", nargs="+", default=["Wiltshire", "Birmingham", "Kent"])
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output (default: %(default)s)")
    parser.add_argument("--skip-london", action="store_true", help="skip London as one area (about 15 s)")
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
    big = None if args.skip_london else london()
    if big:
        lines += [
            "",
            f"London as one area: {big['lsoas']:,} LSOAs, {big['patches']} patches, "
            f"{big['in_band_share']:.2%} in band, {big['wall_seconds']} s wall, {big['cpu_seconds']} s CPU, "
            f"peak {big['peak_rss_mb']} MB, map.html {big['map_mb']} MB",
        ]
    print("\n".join(lines))
    results = {
        "london": big,
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

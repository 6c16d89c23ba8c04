"""London's 33 boroughs as one area from a fresh command line: peak memory, CPU, wall and patches in band.

What it measures
----------------
``lacgeo run --la <the 33 codes> --name London --out <tmp> -q`` (4,994 LSOAs, default config, every
output written), the codes taken from ``lacgeo las --region London``. Each round runs the plain
CLI of this version ("after") and, when ``--before-python`` exists, of an older commit ("before",
without ``--name``, which it lacks), taking turns. Peak memory is the child's own ``ru_maxrss``
from ``os.wait4`` (so no other run's peak counts); CPU is its user + system seconds. In-band share
is read from the run's ``patches.csv`` (``band_status``). Then one run of each through
``benchmarks/stage_driver.py`` gives CPU per stage.

How to run
----------
    .venv/bin/python benchmarks/london.py                    # 3 rounds, about 2 min on 2 cores
    .venv/bin/python benchmarks/london.py --repeats 1 --before-python ''

It prints a markdown table and writes ``benchmarks/results/london.json`` and ``london.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import write_results  # benchmarks/, the script's own folder
from stages import OUTPUTS, RESULTS, ROWS, STAGES, git, instrumented, lacgeo_file, machine, run_child

BAND = (8000, 12000)


def london_codes(python: str) -> list[str]:
    done = subprocess.run(
        [python, "-m", "lacgeo.cli", "las", "--region", "London"], capture_output=True, text=True, check=True
    )
    return [line.split("\t")[0] for line in done.stdout.splitlines() if line.startswith("E09")]


def facts(out: Path) -> dict:
    with open(out / "patches.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    status = [row["band_status"] for row in rows]
    population = [int(float(row["population"])) for row in rows]
    with open(out / "areas.csv", encoding="utf-8") as handle:
        lsoas = sum(1 for _ in handle) - 1
    return {
        "lsoas": lsoas,
        "patches": len(rows),
        "in_band": sum(s == "in band" for s in status),
        "in_band_share": sum(s == "in band" for s in status) / len(rows),
        "population_in_8000_12000": sum(BAND[0] <= p <= BAND[1] for p in population) / len(rows),
        "band_status_other": sorted({s for s in status if s != "in band"}),
        "map_mb": round((out / "map.html").stat().st_size / 1e6, 2),
        "outputs_mb": round(sum(p.stat().st_size for p in out.iterdir()) / 1e6, 2),
        "population_source": json.loads((out / "run.json").read_text(encoding="utf-8"))
        .get("data_vintages", {})
        .get("population"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--after-python", default=sys.executable)
    parser.add_argument("--after-src", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--before-python", default="/tmp/venv-before/bin/python", help="'' to skip")
    parser.add_argument("--before-src", type=Path, default=Path("/tmp/lacgeo-before"))
    parser.add_argument("--note", default="", help="a paragraph for the markdown")
    parser.add_argument("--out", type=Path, default=RESULTS / "london.json")
    args = parser.parse_args(argv)
    info = machine()
    print(f"machine: {info['cpu_model']}, {info['cores']} cores, Python {info['python']} ({info['note']})")
    versions = {"after": args.after_python}
    if args.before_python and Path(args.before_python).exists():
        versions["before"] = args.before_python
    codes = ",".join(london_codes(args.after_python))
    names = {"after": ["--name", "London"], "before": []}
    runs: dict[str, list[dict]] = {v: [] for v in versions}
    stages: dict[str, dict] = {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lacgeo-london-") as tmp:
        for r in range(args.repeats):
            order = sorted(versions, reverse=r % 2 == 1)  # after, before; then before, after
            for which in order:
                out = Path(tmp) / f"{which}-{r}"
                cmd = [
                    versions[which],
                    "-m",
                    "lacgeo.cli",
                    "run",
                    "--la",
                    codes,
                    *names[which],
                    "--out",
                    str(out),
                    "-q",
                ]
                runs[which].append({**run_child(cmd, cwd=tmp), **facts(out)})
                print(f"round {r} {which}: {runs[which][-1]['cpu']:.1f} s CPU, {runs[which][-1]['max_rss_mb']:.0f} MB")
        for which in versions:
            out = Path(tmp) / f"{which}-stages"
            stages[which] = instrumented(versions[which], codes, out, names[which])
    elapsed = time.perf_counter() - start

    def med(which: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[which])

    commits = {"after": git("rev-parse", "HEAD", cwd=args.after_src)}
    if "before" in versions:
        commits["before"] = git("rev-parse", "HEAD", cwd=args.before_src)
    lines = [
        "# London's 33 boroughs as one area, from a fresh command line",
        "",
        f"Machine: {info['cpu_model']}, {info['cores']} cores, Python {info['python']}; shared with other "
        f"engineers' work while it ran. Commits: "
        + ", ".join(f"{w} `{c[:7]}`" for w, c in commits.items())
        + f". {args.repeats} rounds, versions taking turns; medians (peak memory: "
        "the largest of the rounds too).",
        "",
        *([args.note, ""] if args.note else []),
        "| version | LSOAs | patches | in band | CPU s | wall s | peak RSS MB (med / max) | map MB | population |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for which in versions:
        last = runs[which][-1]
        lines.append(
            f"| {which} | {last['lsoas']:,} | {last['patches']} | {last['in_band']} ({last['in_band_share']:.2%}) "
            f"| {med(which, 'cpu'):.1f} | {med(which, 'wall'):.1f} | {med(which, 'max_rss_mb'):.0f} / "
            f"{max(r['max_rss_mb'] for r in runs[which]):.0f} | {last['map_mb']} | {last['population_source']} |"
        )
    lines += ["", "CPU seconds per stage (one instrumented run each):", ""]
    header = " | ".join(versions)
    lines += [f"| stage | {header} |", "|---|" + "---|" * len(versions)]
    for row in ROWS:
        cells = [f"{stages[w]['labels'][row]:.2f}" if row in stages[w]["labels"] else "—" for w in versions]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    for name, group in (("analysis stages", STAGES), ("outputs", OUTPUTS)):
        lines.append(
            f"| **{name}** | "
            + " | ".join(f"{sum(stages[w]['labels'].get(s, 0.0) for s in group):.2f}" for w in versions)
            + " |"
        )
    lines.append("| **whole process** | " + " | ".join(f"{stages[w]['cpu']:.2f}" for w in versions) + " |")
    lines.append("| peak RSS MB | " + " | ".join(f"{stages[w]['max_rss_mb']:.0f}" for w in versions) + " |")
    print("\n".join(lines))
    results = {
        "machine": info,
        "versions": versions,
        "commits": commits,
        "lacgeo": {w: lacgeo_file(p) for w, p in versions.items()},
        "note": args.note,
        "codes": codes.split(","),
        "elapsed_seconds": round(elapsed, 1),
        "runs": runs,
        "stages": stages,
    }
    write_results(args.out, results, lines, elapsed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

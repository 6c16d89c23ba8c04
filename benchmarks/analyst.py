"""lacgeo against the script an analyst would write by hand (``benchmarks/analyst_script.py``), from fresh processes.

What it measures
----------------
For Wiltshire (E06000054) and Birmingham (E08000025): ``lacgeo run --la <code> --out <tmp> -q``
(default config, every output written) and the analyst's script with GeoDa's ``maxp_greedy`` and
with spopt's ``MaxPHeuristic`` (``--method spopt``), each in a fresh process, taking turns (the
order rotates by round), ``--repeats`` rounds, plus ``python -c "import geopandas"`` once a round
as the floor. The analyst's script runs in its own venv (geopandas, folium, pygeoda, spopt; no
lacgeo). Per run: CPU seconds (user + system of the children, ``resource.getrusage(RUSAGE_CHILDREN)``
before and after), wall seconds, peak memory (``os.wait4``), the files written and their size, the
regions and the share of them holding 8,000-12,000 people (from ``patches.csv`` or ``regions.csv``).
The max-p tools only enforce a floor of 10,000; lacgeo a band of 8,000-12,000.

How to run
----------
    python -m venv /tmp/venv-analyst && /tmp/venv-analyst/bin/pip install geopandas folium pygeoda spopt
    .venv/bin/python benchmarks/analyst.py                 # 3 rounds, about 1.5 min on 2 cores
    .venv/bin/python benchmarks/analyst.py --repeats 5 --lacgeo-python /tmp/venv-after/bin/python

It prints a markdown table and writes ``benchmarks/results/analyst.json`` and ``analyst.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import write_results  # benchmarks/, the script's own folder
from stages import RESULTS, git, lacgeo_file, machine

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "analyst_script.py"
AREAS = {"E06000054": "Wiltshire", "E08000025": "Birmingham"}
TOOLS = ("lacgeo", "analyst pygeoda", "analyst spopt")
BAND = (8000, 12000)


def run_child(cmd: list[str], cwd: str, timeout: float) -> dict:
    """CPU as the ``RUSAGE_CHILDREN`` delta around the run (and the child's own, from ``os.wait4``, as a
    check), wall seconds and the child's peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, cwd=cwd)
        while True:  # poll, so a run can be stopped after ``timeout`` seconds
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout:
                proc.kill()
                os.wait4(proc.pid, 0)
                proc.returncode = -9
                return {"status": f"timed out after {timeout:g} s"}
            time.sleep(0.02)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            err.seek(0)
            return {"status": f"exit {proc.returncode}: {err.read().decode()[-1500:]}"}
    return {
        "status": "ok",
        "cpu": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 4),
        "cpu_wait4": round(usage.ru_utime + usage.ru_stime, 4),
        "wall": round(wall, 4),
        "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def regions(out: Path, tool: str) -> dict:
    """Files written, and the regions' populations from the run's own table."""
    files = {p.name: p.stat().st_size for p in sorted(out.iterdir())}
    table = out / ("patches.csv" if tool == "lacgeo" else "regions.csv")
    with open(table, encoding="utf-8") as handle:
        population = [int(float(row["population"])) for row in csv.DictReader(handle)]
    return {
        "files": files,
        "regions": len(population),
        "population_min_median_max": [min(population), statistics.median(population), max(population)],
        "in_band": sum(BAND[0] <= p <= BAND[1] for p in population),
        "in_band_share": sum(BAND[0] <= p <= BAND[1] for p in population) / len(population),
    }


def command(tool: str, code: str, out: Path, args: argparse.Namespace) -> list[str]:
    if tool == "lacgeo":
        return [args.lacgeo_python, "-m", "lacgeo.cli", "run", "--la", code, "--out", str(out), "-q"]
    method = tool.split()[-1]
    return [args.analyst_python, str(SCRIPT), code, "--out", str(out), "--method", method, "--data", str(args.data)]


def render(results: dict) -> list[str]:
    """The markdown of a results dict (as written to the JSON)."""
    info, runs = results["machine"], results["runs"]
    lines = [
        "# lacgeo against an analyst's hand-written max-p script, from fresh processes",
        "",
        f"Machine: {info['cpu_model']}, {info['cores']} cores, Python {info['python']}; shared with other "
        f"engineers' work while it ran. lacgeo `{results['lacgeo_commit'][:7]}` from `{results['lacgeo']['file']}`; "
        f"the analyst's venv: {', '.join(results['analyst']['packages'])}. {results['repeats']} rounds, tools "
        f"taking turns; medians. `import geopandas` alone: {statistics.median(results['import_geopandas']):.2f} s CPU.",
        "",
        *([results["note"], ""] if results.get("note") else []),
        "| area | tool | CPU s | wall s | vs lacgeo CPU | peak RSS MB | files written | MB written | regions "
        "| population min / median / max | in 8,000-12,000 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for code, by_tool in runs.items():
        ok = {t: [x for x in by_tool[t] if x["status"] == "ok"] for t in TOOLS}
        lacgeo_cpu = statistics.median(x["cpu"] for x in ok["lacgeo"]) if ok["lacgeo"] else float("nan")
        for tool in TOOLS:
            if not ok[tool]:
                lines.append(f"| {AREAS.get(code, code)} | {tool} | {by_tool[tool][-1]['status']} ||||||||||")
                continue
            cpu = statistics.median(x["cpu"] for x in ok[tool])
            wall = statistics.median(x["wall"] for x in ok[tool])
            rss = statistics.median(x["max_rss_mb"] for x in ok[tool])
            last = ok[tool][-1]
            low, mid, high = last["population_min_median_max"]
            lines.append(
                f"| {AREAS.get(code, code)} | {tool} | {cpu:.2f} | {wall:.2f} | {cpu / lacgeo_cpu:.2f}× | {rss:.0f} "
                f"| {len(last['files'])} ({', '.join(last['files'])}) | {sum(last['files'].values()) / 1e6:.1f} "
                f"| {last['regions']} | {low:,} / {mid:,.0f} / {high:,} "
                f"| {last['in_band']} ({last['in_band_share']:.0%}) |"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--las", nargs="+", default=list(AREAS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lacgeo-python", default=sys.executable)
    parser.add_argument("--lacgeo-src", type=Path, default=HERE.parent, help="the source it was installed from")
    parser.add_argument("--analyst-python", default="/tmp/venv-analyst/bin/python")
    parser.add_argument("--data", type=Path, default=HERE.parent / "lacgeo" / "data", help="lacgeo's shipped data")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a run is stopped")
    parser.add_argument("--note", default="", help="a paragraph for the markdown")
    parser.add_argument("--render", action="store_true", help="only write the markdown again from --out's JSON")
    parser.add_argument("--out", type=Path, default=RESULTS / "analyst.json")
    args = parser.parse_args(argv)
    if args.render:
        results = json.loads(args.out.read_text(encoding="utf-8"))
        if args.note:
            results["note"] = args.note
            args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
        args.out.with_suffix(".md").write_text("\n".join(render(results)) + "\n", encoding="utf-8")
        return 0
    info = machine()
    print(f"machine: {info['cpu_model']}, {info['cores']} cores, Python {info['python']} ({info['note']})")
    packages = subprocess.run(
        [args.analyst_python, "-m", "pip", "freeze"], capture_output=True, text=True, check=False
    ).stdout.split()
    wanted = ("pygeoda", "spopt", "libpysal", "geopandas", "folium", "numpy", "pandas")
    analyst_versions = [p for p in packages if p.split("==")[0].lower() in wanted]
    runs: dict[str, dict[str, list[dict]]] = {code: {tool: [] for tool in TOOLS} for code in args.las}
    floor: list[float] = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lacgeo-analyst-") as tmp:
        for r in range(args.repeats):
            floor.append(run_child([args.lacgeo_python, "-c", "import geopandas"], tmp, args.timeout)["cpu"])
            for code in args.las:
                order = TOOLS[r % 3 :] + TOOLS[: r % 3]
                for tool in order:
                    out = Path(tmp) / f"{code}-{tool.replace(' ', '-')}-{r}"
                    run = run_child(command(tool, code, out, args), tmp, args.timeout)
                    if run["status"] == "ok":
                        run.update(regions(out, tool))
                    runs[code][tool].append(run)
                    print(f"round {r} {code} {tool}: {run.get('cpu', run['status'])}", flush=True)
    elapsed = time.perf_counter() - start
    results = {
        "machine": info,
        "lacgeo": {"python": args.lacgeo_python, "file": lacgeo_file(args.lacgeo_python)},
        "lacgeo_commit": git("rev-parse", "HEAD", cwd=args.lacgeo_src),
        "analyst": {"python": args.analyst_python, "packages": analyst_versions, "script": str(SCRIPT.name)},
        "repeats": args.repeats,
        "elapsed_seconds": round(elapsed, 1),
        "note": args.note,
        "import_geopandas": floor,
        "runs": runs,
    }
    lines = render(results)
    print("\n".join(lines))
    write_results(args.out, results, lines, elapsed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

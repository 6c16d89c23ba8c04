"""Per-stage CPU of one area from a fresh command line, an older commit ("before") and this one ("after") in turn.

What it measures
----------------
For each area (default Wiltshire E06000054, Birmingham E08000025, Kent E10000016), ``lacgeo run --la
<code> --out <tmp> -q`` (default config, every output written) in a fresh process, once with the
"before" venv (an older commit installed into its own venv) and once with this repository's venv,
taking turns (which goes first alternates by round), ``--repeats`` rounds. Each round also runs
``python -c "import geopandas"`` once (the floor) and, unless ``--no-plain``, the plain CLI
(``python -m lacgeo.cli``) of both versions, to show what the instrumentation costs.

The instrumented runs go through ``benchmarks/stage_driver.py``, which charges every CPU second of
the process to one label: interpreter start-up, ``import lacgeo.cli``, the pipeline's stages (load,
validate, need, graph, select, patches, rank, robustness, compare, geometry), modules imported later
("imports during run"), the outputs (tables, gpkg, map, report, workbook, run.json), and the rest.
"exit" is the process's CPU (from ``os.wait4``) after the driver's last timer: interpreter shutdown.
Medians are per label over the rounds; the totals are medians of the whole process's CPU, so a
column of medians need not add up to the median total. CPU is user + system seconds of the child
process (all its threads); ``RUSAGE_CHILDREN`` deltas are recorded beside it as a check.

How to run
----------
    git worktree add --detach /tmp/lacgeo-before aa8dc93       # the commit before the issue's work
    .venv/bin/python -m venv /tmp/venv-before
    .venv/bin/pip freeze --exclude-editable > /tmp/constraints.txt   # the same numpy, pandas, ...
    /tmp/venv-before/bin/pip install -c /tmp/constraints.txt /tmp/lacgeo-before
    .venv/bin/python benchmarks/stages.py                     # 5 rounds, about 4 min on 2 cores
    .venv/bin/python benchmarks/stages.py --repeats 3 --las E06000054

The committed results ran "after" from a clean worktree of HEAD installed the same way
(``--after-python /tmp/venv-after/bin/python --after-src /tmp/lacgeo-after``), because the
repository's editable .venv runs whatever is in the working tree.

It prints a markdown table and writes ``benchmarks/results/stages.json`` and ``stages.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import write_results  # benchmarks/, the script's own folder

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DRIVER = HERE / "stage_driver.py"
RESULTS = HERE / "results"
AREAS = {"E06000054": "Wiltshire", "E08000025": "Birmingham", "E10000016": "Kent (county council)"}
STAGES = (
    "load",
    "validate",
    "need",
    "graph",
    "select",
    "patches",
    "rank",
    "robustness",
    "compare",
    "evaluation",
    "geometry",
)
OUTPUTS = ("tables", "gpkg", "map", "report", "workbook", "run.json", "outputs other")
ROWS = (
    "interpreter start-up",
    "imports (lacgeo.cli)",
    *STAGES,
    "imports during run",
    *OUTPUTS,
    "cli other",
    "driver",
    "exit",
)


def machine() -> dict:
    """CPU model, cores, Python, load average: printed and stored with every result."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "load_average": os.getloadavg(),
        "note": "shared machine: other engineers' processes (tests, builds) may have run on the other core",
    }


def run_child(cmd: list[str], *, cwd: str | Path | None = None) -> dict:
    """Run ``cmd`` to completion; its own CPU (user + sys), peak RSS and wall time from ``os.wait4``,
    and the ``RUSAGE_CHILDREN`` delta as a cross-check. Raises if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd[:6])} ... exited {proc.returncode}: {err.read().decode()[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "cpu": round(usage.ru_utime + usage.ru_stime, 4),
        "user": round(usage.ru_utime, 4),
        "sys": round(usage.ru_stime, 4),
        "cpu_children_delta": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 4),
        "wall": round(wall, 4),
        "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def folder_facts(out: Path) -> dict:
    """What a run wrote: files and sizes, patches and how many are in band, population source."""
    files = {p.name: p.stat().st_size for p in sorted(out.iterdir())}
    with open(out / "patches.csv", encoding="utf-8") as handle:
        status = [row["band_status"] for row in csv.DictReader(handle)]
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    need = manifest["config"].get("need", {})
    return {
        "files": files,
        "patches": len(status),
        "in_band": sum(s == "in band" for s in status),
        "population_source": manifest.get("data_vintages", {}).get("population"),
        "need_indicators": [i["name"] for i in need.get("indicators", [])],
        "need_preset": need.get("preset"),
        "lacgeo_version": manifest.get("lacgeo_version"),
        "run_json_timings_wall": manifest.get("timings_seconds"),
    }


def instrumented(python: str, code: str, out: Path, extra: list[str] | None = None) -> dict:
    """One run through the stage driver: per-label CPU, plus the whole process's CPU and peak RSS."""
    record = out.with_suffix(".stages.json")
    cmd = [python, str(DRIVER), str(record), "run", "--la", code, "--out", str(out), "-q", *(extra or [])]
    proc = run_child(cmd, cwd=out.parent)  # not the repo: the older venv must import its own lacgeo
    stages = json.loads(record.read_text(encoding="utf-8"))
    cpu = dict(stages["cpu"])
    cpu["exit"] = round(max(proc["cpu"] - stages["cpu_at_end"], 0.0), 4)
    return {**proc, "labels": cpu, "driver": stages, **folder_facts(out)}


def plain(python: str, code: str, out: Path) -> dict:
    """One run of the plain CLI, as a user types it."""
    return run_child([python, "-m", "lacgeo.cli", "run", "--la", code, "--out", str(out), "-q"], cwd=out.parent)


def git(*args: str, cwd: Path = REPO) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False).stdout.strip()


def lacgeo_file(python: str) -> str:
    """Where ``python`` imports lacgeo from (an editable install reads the working tree)."""
    done = subprocess.run(
        [python, "-c", "import lacgeo; print(lacgeo.__file__)"], capture_output=True, text=True, check=True, cwd="/"
    )
    return done.stdout.strip()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def group_median(runs: list[dict], labels: tuple[str, ...]) -> float:
    """The median over runs of the CPU of ``labels`` added up within each run."""
    return median([sum(r["labels"].get(label, 0.0) for label in labels) for r in runs])


def ratios(runs: list[dict], floor: list[float]) -> list[float]:
    """Each run's CPU over the same round's ``import geopandas``."""
    return [r["cpu"] / f for r, f in zip(runs, floor, strict=False)]


def listed(values: list[float]) -> str:
    return ", ".join(f"{x:.2f}" for x in values)


def wrote(which: str, run: dict) -> str:
    return (
        f"{which} wrote {len(run['files'])} files ({sum(run['files'].values()) / 1e6:.1f} MB), {run['patches']} "
        f"patches ({run['in_band']} in band), need index {', '.join(run['need_indicators'])}; "
        f"population: {run['population_source']}."
    )


def table(code: str, data: dict, floor: list[float]) -> list[str]:
    """The markdown rows of one area: per-label medians, before and after, and the totals."""
    before, after = data["before"], data["after"]
    lines = [
        f"### {AREAS.get(code, code)} ({code})",
        "",
        "| stage | before CPU s | after CPU s | after − before | after / before |",
        "|---|---|---|---|---|",
    ]
    rows = [(row, (row,)) for row in ROWS] + [
        ("**analysis stages (load … geometry)**", STAGES),
        ("**all imports**", ("imports (lacgeo.cli)", "imports during run")),
        ("**outputs**", OUTPUTS),
    ]
    for name, labels in rows:
        b, a = group_median(before, labels), group_median(after, labels)
        missing = name == "compare" and not any("compare" in r["labels"] for r in before)
        ratio = f"{a / b:.2f}" if b > 0.0005 else "—"
        lines.append(f"| {name} | {'— (no stage)' if missing else f'{b:.3f}'} | {a:.3f} | {a - b:+.3f} | {ratio} |")
    b, a = median([r["cpu"] for r in before]), median([r["cpu"] for r in after])
    rb, ra = ratios(before, floor), ratios(after, floor)
    lines += [
        f"| **whole process (instrumented)** | {b:.3f} | {a:.3f} | {a - b:+.3f} | {a / b:.2f} |",
        f"| **vs `import geopandas`** (median of the rounds' ratios) | {median(rb):.2f}× | {median(ra):.2f}× | | |",
        f"| the rounds' ratios | {listed(rb)} | {listed(ra)} | | |",
    ]
    if data.get("before_plain"):
        pb, pa = data["before_plain"], data["after_plain"]
        b, a = median([r["cpu"] for r in pb]), median([r["cpu"] for r in pa])
        rb, ra = ratios(pb, floor), ratios(pa, floor)
        lines += [
            f"| plain CLI, whole process | {b:.3f} | {a:.3f} | {a - b:+.3f} | {a / b:.2f} |",
            f"| plain CLI vs `import geopandas` | {median(rb):.2f}× | {median(ra):.2f}× | | |",
            f"| the rounds' ratios (plain) | {listed(rb)} | {listed(ra)} | | |",
        ]
    return [*lines, "", wrote("Before", before[-1]), wrote("After", after[-1]), ""]


def render(results: dict) -> list[str]:
    """The markdown of a results dict (as written to the JSON)."""
    info, versions, floor, load = (
        results["machine"],
        results["versions"],
        results["import_geopandas"],
        results["load_average_by_round"],
    )
    dirty = results["working_tree_dirty"]
    lines = [
        "# Per-stage CPU seconds, before and after, one fresh process per run",
        "",
        f"Machine: {info['cpu_model']}, {info['cores']} cores, Python {info['python']}; shared with other "
        "engineers' work while it ran. Before: "
        f"`{versions['before']['commit'][:7]}`, after: `{versions['after']['commit'][:7]}`"
        + (f" (its source had uncommitted changes in lacgeo/ in {len(dirty)} rounds)" if dirty else "")
        + f"; lacgeo imported from `{versions['before']['lacgeo']}` and `{versions['after']['lacgeo']}`"
        + f". {results['repeats']} rounds, before and after taking turns; medians. "
        f"`import geopandas` alone: median {median(floor):.3f} s ({', '.join(f'{x:.3f}' for x in floor)}). "
        f"1-minute load average at the start of each round: {', '.join(f'{x[0]:.1f}' for x in load)}.",
        "",
    ]
    if results.get("note"):
        lines += [results["note"], ""]
    for code, data in results["areas"].items():
        lines += table(code, data, floor)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--las", nargs="+", default=list(AREAS), help="area codes (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--before-python", default="/tmp/venv-before/bin/python")
    parser.add_argument("--before-src", type=Path, default=Path("/tmp/lacgeo-before"), help="its git worktree")
    parser.add_argument("--after-python", default=sys.executable)
    parser.add_argument("--after-src", type=Path, default=REPO, help="the source it was installed from")
    parser.add_argument("--no-plain", action="store_true", help="skip the uninstrumented CLI runs")
    parser.add_argument("--note", default="", help="a paragraph for the markdown (why this before commit)")
    parser.add_argument("--render", action="store_true", help="only write the markdown again from --out's JSON")
    parser.add_argument("--out", type=Path, default=RESULTS / "stages.json")
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
    versions = {
        "before": {"python": args.before_python, "commit": git("rev-parse", "HEAD", cwd=args.before_src)},
        "after": {"python": args.after_python, "commit": git("rev-parse", "HEAD", cwd=args.after_src)},
    }
    for version in versions.values():
        version["lacgeo"] = lacgeo_file(version["python"])
    floor: list[float] = []
    data: dict[str, dict] = {
        code: {"before": [], "after": [], "before_plain": [], "after_plain": []} for code in args.las
    }
    dirty: list[str] = []
    load: list[tuple[float, float, float]] = []  # the machine is shared: each round's load average
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lacgeo-stages-") as tmp:
        for r in range(args.repeats):
            load.append(os.getloadavg())
            floor.append(run_child([args.after_python, "-c", "import geopandas"], cwd=tmp)["cpu"])
            status = git("status", "--porcelain", "--", "lacgeo", cwd=args.after_src)
            if status:
                dirty.append(f"round {r}: {status}")
            order = ("before", "after") if r % 2 == 0 else ("after", "before")
            for code in args.las:
                for which in order:
                    python = versions[which]["python"]
                    out = Path(tmp) / f"{which}-{code}-{r}"
                    data[code][which].append(instrumented(python, code, out))
                    print(f"round {r} {code} {which}: {data[code][which][-1]['cpu']:.2f} s CPU", flush=True)
                if not args.no_plain:
                    for which in order:
                        out = Path(tmp) / f"{which}-plain-{code}-{r}"
                        data[code][f"{which}_plain"].append(plain(versions[which]["python"], code, out))
    elapsed = time.perf_counter() - start
    results = {
        "machine": info,
        "versions": versions,
        "repeats": args.repeats,
        "elapsed_seconds": round(elapsed, 1),
        "working_tree_dirty": dirty,
        "load_average_by_round": load,
        "note": args.note,
        "import_geopandas": floor,
        "areas": data,
    }
    lines = render(results)
    print("\n".join(lines))
    write_results(args.out, results, lines, elapsed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

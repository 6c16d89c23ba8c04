"""Every area of every kind, end to end with all outputs: failures, time, flags and map size.

What it measures
----------------
For each area lacgeo can run on (``lacgeo las``: English districts and unitaries, county
councils, ICBs, sub-ICB locations, Welsh principal areas; ``--kinds`` picks some), one
``lacgeo.run`` at the default config, with every output written to a temporary folder,
in this process (imports paid once, as in a batch). Per area: wall seconds, LSOAs,
patches, patches in band, flagged patches with their reasons, and the size of
``map.html``. A failure is any exception; its message is recorded and the batch goes on.

Then the named areas once each (Nottinghamshire, Kent, Cumbria as two councils, Swansea,
Neath Port Talbot, the largest ICB, the Isles of Scilly): patches, flags, time, map size.

Then, side by side in one run, the scale targets: Wiltshire, Kent (the largest county)
and the largest ICB, each run ``--repeats`` times in turn (interleaved), reporting the
median wall time, its ratio to Wiltshire's, the map's size and how long a hover takes to
show a patch's tooltip in headless Chromium (median over 20 patches; Playwright and
Debian's ``chromium`` needed, else "-").

How to run
----------
    python benchmarks/areas.py                                  # every kind (long: see the README)
    python benchmarks/areas.py --kinds county,icb --skip-scale
    python benchmarks/areas.py --kinds none                     # the scale targets and named areas only

It prints markdown tables and writes JSON (default ``benchmarks/results/areas.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import lacgeo
from lacgeo.load import KINDS, read_places

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "areas.json"
LOW, HIGH = 8_000, 12_000


def run_area(code: str | tuple[str, ...], folder: Path, *, keep: bool = False, name: str = "") -> dict:
    """One area (a code, or a list of places run as one called ``name``) end to end with
    outputs (removed afterwards unless ``keep``); a JSON-ready record."""
    start = time.perf_counter()
    out = folder / (code if isinstance(code, str) else "-".join(code))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = lacgeo.run(lacgeo.make_config(la=code, name=name), out=out, overwrite=True)
    except Exception as exc:  # noqa: BLE001 - the batch records every failure and goes on
        return {"code": code, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
    seconds = time.perf_counter() - start
    pop = result.patches["population"]
    flagged = result.patches[result.patches["band_status"] != "in band"]
    record = {
        "code": code if isinstance(code, str) else ",".join(code),
        "ok": True,
        "seconds": round(seconds, 3),
        "lsoas": len(result.areas),
        "patches": len(result.patches),
        "in_band": int(pop.between(LOW, HIGH).sum()),
        "flags": {pid: str(reason) for pid, reason in flagged["band_status"].items()},
        "map_bytes": (out / "map.html").stat().st_size,
    }
    if keep:
        record["out"] = str(out)
        return record
    for path in sorted(out.iterdir()):  # keep the disk small over hundreds of runs
        path.unlink()
    out.rmdir()
    return record


def hover_ms(map_html: Path, samples: int = 20) -> float | None:
    """Median milliseconds from moving the mouse onto a patch to its tooltip showing, in
    Debian's headless Chromium (None if Playwright or Chromium is missing)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path("/usr/bin/chromium").exists():
        return None
    times = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(map_html.resolve().as_uri())
        page.wait_for_selector("path.lacgeo-patch", state="attached")
        boxes = [b for b in (p.bounding_box() for p in page.locator("path.lacgeo-patch").all()[:200]) if b]
        boxes = [b for b in boxes if b["width"] > 8 and b["height"] > 8][:samples]
        for box in boxes:
            page.mouse.move(1, 1)
            page.wait_for_timeout(50)
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            start = time.perf_counter()
            page.mouse.move(x, y)
            try:
                page.wait_for_selector(".leaflet-tooltip", state="visible", timeout=2000)
            except Exception:  # noqa: BLE001 - the centre of an odd-shaped patch may miss it
                continue
            times.append((time.perf_counter() - start) * 1000)
        browser.close()
    return round(statistics.median(times), 1) if times else None


def unproved(reason: str) -> bool:
    """Whether a flag only says the search found no in-band split, rather than proving none exists."""
    return "was found" in reason


def run_batch(kinds: list[str]) -> dict:
    places = read_places()
    codes = [c for c in places.index if places.at[c, "kind"] in kinds]
    records = []
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lacgeo-areas-") as tmp:
        for i, code in enumerate(codes, 1):
            record = run_area(code, Path(tmp))
            record.update(name=places.at[code, "name"], kind=places.at[code, "kind"])
            records.append(record)
            status = f"{record['seconds']:.1f} s" if record["ok"] else record["error"]
            print(f"[{i}/{len(codes)}] {code} {record['name']}: {status}", file=sys.stderr)
    ok = [r for r in records if r["ok"]]
    patches = sum(r["patches"] for r in ok)
    return {
        "kinds": kinds,
        "areas": len(records),
        "failures": [{"code": r["code"], "name": r["name"], "error": r["error"]} for r in records if not r["ok"]],
        "wall_seconds": round(time.perf_counter() - wall, 1),
        "patches": patches,
        "in_band_share": sum(r["in_band"] for r in ok) / patches if patches else None,
        "flags": {r["code"]: {"name": r["name"], "flags": r["flags"]} for r in ok if r["flags"]},
        "flags_not_proved": sum(unproved(reason) for r in ok for reason in r["flags"].values()),
        "slowest": sorted(ok, key=lambda r: -r["seconds"])[:10],
        "largest_map": max(ok, key=lambda r: r["map_bytes"]) if ok else None,
        "records": records,
    }


def scale_targets(repeats: int) -> dict:
    """Wiltshire, Kent and the largest ICB end to end, interleaved ``repeats`` times."""
    places = read_places()
    icbs = places[places["kind"] == "icb"]
    largest_icb = str(icbs["population"].astype(int).idxmax())
    targets = {"Wiltshire": "E06000054", "Kent": "E10000016", "largest ICB": largest_icb}
    times: dict[str, list[float]] = {name: [] for name in targets}
    sizes: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="lacgeo-scale-") as tmp:
        for r in range(repeats):
            names = list(targets)[r % 3 :] + list(targets)[: r % 3]
            for name in names:
                record = run_area(targets[name], Path(tmp), keep=r == repeats - 1)
                if not record["ok"]:
                    raise RuntimeError(f"{name}: {record['error']}")
                times[name].append(record["seconds"])
                sizes[name] = record
        hovers = {name: hover_ms(Path(sizes[name]["out"]) / "map.html") for name in targets}
    base = statistics.median(times["Wiltshire"])
    return {
        name: {
            "code": targets[name],
            "name": places.at[targets[name], "name"],
            "median_seconds": round(statistics.median(t), 2),
            "ratio_to_wiltshire": round(statistics.median(t) / base, 2),
            "lsoas": sizes[name]["lsoas"],
            "patches": sizes[name]["patches"],
            "in_band": sizes[name]["in_band"],
            "map_mb": round(sizes[name]["map_bytes"] / 1e6, 2),
            "hover_ms": hovers[name],
            "times": t,
        }
        for name, t in times.items()
    }


def batch_table(batch: dict) -> str:
    lines = ["| batch | value |", "|---|---|"]
    lines += [
        f"| areas run | {batch['areas'] - len(batch['failures'])} of {batch['areas']} ({', '.join(batch['kinds'])}) |",
        f"| failures | {len(batch['failures'])} |",
        f"| wall seconds | {batch['wall_seconds']:.0f} |",
        f"| patches | {batch['patches']:,} |",
        f"| patches in band | {batch['in_band_share']:.2%} |" if batch["in_band_share"] is not None else "",
        f"| areas with flagged patches | {len(batch['flags'])} |",
        f"| flags that prove nothing (a search gave up) | {batch['flags_not_proved']} |",
    ]
    if batch["largest_map"]:
        m = batch["largest_map"]
        lines.append(f"| largest map.html | {m['name']} ({m['code']}): {m['map_bytes'] / 1e6:.1f} MB |")
    for r in batch["slowest"][:5]:
        lines.append(f"| slow: {r['name']} ({r['kind']}, {r['lsoas']} LSOAs) | {r['seconds']:.1f} s |")
    for code, item in batch["flags"].items():
        for pid, reason in item["flags"].items():
            lines.append(f"| flagged: {item['name']} ({code}) {pid} | {reason} |")
    for f in batch["failures"]:
        lines.append(f"| failed: {f['name']} ({f['code']}) | {f['error']} |")
    return "\n".join(line for line in lines if line)


NAMED = {
    "Nottinghamshire": "E10000024",
    "Kent": "E10000016",
    "Cumbria (Cumberland and Westmorland and Furness)": ("E06000063", "E06000064"),
    "Swansea": "W06000011",
    "Neath Port Talbot": "W06000012",
    "largest ICB": "",
    "Isles of Scilly": "E06000053",
}
"""The areas the closing table names: county councils, two councils run as one, Welsh councils,
the largest ICB (by population, filled in at run time) and the smallest English authority."""


def named_areas() -> dict:
    """Each of :data:`NAMED` end to end once, with outputs: patches, flags, seconds and map size."""
    places = read_places()
    icbs = places[places["kind"] == "icb"]
    named = NAMED | {"largest ICB": str(icbs["population"].astype(int).idxmax())}
    records = {}
    with tempfile.TemporaryDirectory(prefix="lacgeo-named-") as tmp:
        for label, code in named.items():
            name = "Cumbria" if isinstance(code, tuple) else ""
            record = run_area(code, Path(tmp), name=name)
            if not record["ok"]:
                raise RuntimeError(f"{label}: {record['error']}")
            records[label] = record | {"name": name or places.at[code, "name"]}
    return records


def named_table(named: dict) -> str:
    lines = [
        "| area | LSOAs | patches | in band | flags (reason) | seconds | map.html |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, r in named.items():
        flags = "; ".join(f"{pid}: {reason}" for pid, reason in r["flags"].items()) or "0"
        lines.append(
            f"| {label} ({r['code']}) | {r['lsoas']:,} | {r['patches']} | {r['in_band']} | {flags} "
            f"| {r['seconds']:.1f} | {r['map_bytes'] / 1e6:.1f} MB |"
        )
    return "\n".join(lines)


def scale_table(scale: dict) -> str:
    lines = [
        "| area | LSOAs | patches | in band | median seconds | vs Wiltshire | map.html | hover to tooltip |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, s in scale.items():
        lines.append(
            f"| {s['name']} ({label}) | {s['lsoas']:,} | {s['patches']} | {s['in_band']} | {s['median_seconds']:.1f} "
            f"| {s['ratio_to_wiltshire']:.1f}x | {s['map_mb']:.1f} MB "
            f"| {'-' if s['hover_ms'] is None else format(s['hover_ms'], '.0f') + ' ms'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated kinds, or 'none' (default: all)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each scale target (default: %(default)s)")
    parser.add_argument("--skip-scale", action="store_true", help="skip Wiltshire vs Kent vs the largest ICB")
    parser.add_argument("--skip-named", action="store_true", help="skip the named areas (counties, Wales, Scilly)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output (default: %(default)s)")
    args = parser.parse_args(argv)
    kinds = [] if args.kinds == "none" else [k.strip() for k in args.kinds.split(",")]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        parser.error(f"unknown kinds {unknown}; use {', '.join(KINDS)}")
    results: dict = {
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(), "python": sys.version.split()[0]}
    }
    print(f"# Areas benchmark ({os.cpu_count()} CPUs, Python {results['machine']['python']})\n")
    if not args.skip_scale:
        results["scale"] = scale_targets(args.repeats)
        print(scale_table(results["scale"]) + "\n")
    if not args.skip_named:
        results["named"] = named_areas()
        print(named_table(results["named"]) + "\n")
    if kinds:
        results["batch"] = run_batch(kinds)
        print(batch_table(results["batch"]) + "\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

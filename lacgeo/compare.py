"""``lacgeo compare OLD NEW``: what changed between two run folders, and why.

Patches of two runs are different partitions, so each new patch is matched to the
old patch that held most of its residents (LSOA codes are carried across vintages
with the ONS exact-fit lookup, so an IoD2019/LSOA 2011 run compares with an
IoD2025/LSOA 2021 run). The report lists changed settings, data and inputs, picks
that entered or left phase 1, rank moves, and the indicator changes behind them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import load
from .errors import OutputError


@dataclass
class Comparison:
    """The differences between two runs; ``lines()`` renders them for people."""

    settings: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    entered: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    moves: pd.DataFrame | None = None
    explanations: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = []
        if self.settings:
            out += ["Settings and data that changed:"] + [f"  - {s}" for s in self.settings]
        if self.inputs:
            out += ["Input files that changed:"] + [f"  - {s}" for s in self.inputs]
        out.append("Phase 1 entered: " + ("; ".join(self.entered) or "none"))
        out.append("Phase 1 left: " + ("; ".join(self.left) or "none"))
        if self.moves is not None and len(self.moves):
            out.append("Largest rank moves (matched by residents shared):")
            for _, m in self.moves.head(10).iterrows():
                out.append(
                    f"  - {m['new_patch']} {m['new_name']}: rank {m['old_rank']} -> {m['new_rank']} "
                    f"(was {m['old_patch']}, {m['shared']:.0%} of residents shared)"
                )
        if self.explanations:
            out += ["Indicator changes behind the phase-1 changes:"] + [f"  - {e}" for e in self.explanations]
        return out


def _read_run(folder: Path) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    try:
        manifest = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        areas = pd.read_csv(folder / "areas.csv", dtype={"area_code": str, "patch_id": str})
        patches = pd.read_csv(
            folder / "patches.csv", dtype={"patch_id": str}, keep_default_na=False, na_values=[""]
        ).set_index("patch_id")
    except FileNotFoundError as exc:
        raise OutputError(f"{folder}: not a lacgeo run folder ({Path(exc.filename).name} is missing)") from None
    except (json.JSONDecodeError, ValueError) as exc:
        raise OutputError(f"{folder}: cannot read the run ({exc})") from None
    return manifest, areas, patches


def _flatten(value: object, prefix: str = "") -> dict[str, object]:
    if isinstance(value, list) and all(isinstance(v, dict) and "name" in v for v in value):
        parts = []
        for v in value:
            extra = f" x{v['weight']:g}" if "weight" in v else f" ({Path(str(v.get('path', ''))).name})"
            parts.append(f"{v['name']}{extra}")
        return {prefix: ", ".join(parts) or "none"}
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for k, v in value.items():
            out |= _flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    return {prefix: value}


def _to_new_codes(old_areas: pd.DataFrame, old_vintage: str, new_vintage: str) -> pd.DataFrame:
    """Old area -> patch rows re-expressed on the new run's LSOA codes."""
    if old_vintage == new_vintage:
        return old_areas[["area_code", "patch_id"]]
    lookup = load.read_lsoa_lookup()
    src, dst = ("lsoa11_code", "lsoa21_code") if old_vintage == "2011" else ("lsoa21_code", "lsoa11_code")
    mapped = old_areas.merge(lookup[[src, dst]], left_on="area_code", right_on=src)
    return mapped[[dst, "patch_id"]].rename(columns={dst: "area_code"}).drop_duplicates("area_code")


def compare_runs(old: str | Path, new: str | Path) -> Comparison:
    """Compare two run folders written by ``lacgeo run``."""
    old, new = Path(old), Path(new)
    old_m, old_areas, old_patches = _read_run(old)
    new_m, new_areas, new_patches = _read_run(new)
    old_la, new_la = old_m.get("local_authority", {}), new_m.get("local_authority", {})
    if old_la.get("code") and new_la.get("code") and old_la["code"] != new_la["code"]:
        raise OutputError(
            f"{old} is a run for {old_la.get('name')} ({old_la['code']}) and {new} for {new_la.get('name')} "
            f"({new_la['code']}): compare matches patches by the residents they share, so compare two runs of "
            "the same area"
        )
    result = Comparison()

    a, b = _flatten(old_m.get("config", {})), _flatten(new_m.get("config", {}))
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            result.settings.append(f"{key}: {a.get(key, '(not recorded)')} -> {b.get(key, '(not recorded)')}")
    for key in sorted(set(old_m.get("data_vintages", {})) | set(new_m.get("data_vintages", {}))):
        x = old_m.get("data_vintages", {}).get(key, "(not recorded)")
        y = new_m.get("data_vintages", {}).get(key, "(not recorded)")
        if x != y:
            result.settings.append(f"data {key}: {x} -> {y}")
    old_in = {Path(i["path"]).name: i["sha256"] for i in old_m.get("inputs", [])}
    new_in = {Path(i["path"]).name: i["sha256"] for i in new_m.get("inputs", [])}
    for name in sorted(set(old_in) | set(new_in)):
        if name not in old_in:
            result.inputs.append(f"{name}: new in this run")
        elif name not in new_in:
            result.inputs.append(f"{name}: no longer used")
        elif old_in[name] != new_in[name]:
            result.inputs.append(f"{name}: contents changed")

    old_vintage = str(old_m.get("config", {}).get("area", {}).get("vintage", "2021"))
    new_vintage = str(new_m.get("config", {}).get("area", {}).get("vintage", "2021"))
    old_on_new = _to_new_codes(old_areas, old_vintage, new_vintage)
    joined = new_areas[["area_code", "patch_id", "population"]].merge(
        old_on_new, on="area_code", how="left", suffixes=("", "_old")
    )
    if joined["patch_id_old"].isna().all():
        raise OutputError(
            f"{old} and {new} share no small area: compare matches patches by the residents they share, "
            "so compare two runs of the same area"
        )
    shared = joined.groupby(["patch_id", "patch_id_old"])["population"].sum().reset_index()
    shared["share"] = shared["population"] / shared["patch_id"].map(new_areas.groupby("patch_id")["population"].sum())
    best = shared.sort_values(["patch_id", "share", "patch_id_old"], ascending=[True, False, True])
    best = best.drop_duplicates("patch_id").set_index("patch_id")

    moves = pd.DataFrame(
        {
            "new_patch": new_patches.index,
            "new_name": new_patches["patch_name"],
            "new_rank": new_patches["rank"],
            "old_patch": best["patch_id_old"].reindex(new_patches.index),
            "shared": best["share"].reindex(new_patches.index).fillna(0.0),
        }
    )
    moves["old_rank"] = moves["old_patch"].map(old_patches["rank"])
    moves = moves.dropna(subset=["old_rank"]).astype({"old_rank": "int64"})
    moves["move"] = moves["old_rank"] - moves["new_rank"]
    result.moves = moves.reindex(moves["move"].abs().sort_values(ascending=False, kind="stable").index)

    new_p1 = new_patches.index[new_patches["phase"] == 1]
    old_p1 = old_patches.index[old_patches["phase"] == 1]
    matched_old_p1 = set(moves.loc[moves["new_patch"].isin(new_p1), "old_patch"])
    for pid in new_p1:
        origin = moves.loc[moves["new_patch"] == pid, "old_patch"]
        if origin.empty or origin.iloc[0] not in set(old_p1):
            result.entered.append(f"{pid} {new_patches.at[pid, 'patch_name']}")
    for pid in old_p1:
        if pid not in matched_old_p1:
            result.left.append(f"{pid} {old_patches.at[pid, 'patch_name']} (old run)")

    values_old = {c for c in old_patches.columns if c.startswith("value_")}
    values_new = {c for c in new_patches.columns if c.startswith("value_")}
    for col in sorted(values_new - values_old):
        result.explanations.append(f"indicator {col[6:]} is new in this run")
    for col in sorted(values_old - values_new):
        result.explanations.append(f"indicator {col[6:]} was dropped")
    for pid in new_p1:
        row = moves[moves["new_patch"] == pid]
        if row.empty:
            continue
        opid = row["old_patch"].iloc[0]
        parts = []
        for col in sorted(values_old & values_new):
            x, y = old_patches.at[opid, col], new_patches.at[pid, col]
            if pd.notna(x) and pd.notna(y) and x != 0 and abs(y - x) / abs(x) >= 0.05:
                parts.append(f"{col[6:]} {x:.1f} -> {y:.1f}")
        x, y = old_patches.at[opid, "need_index"], new_patches.at[pid, "need_index"]
        parts.append(f"need index {x:.2f} -> {y:.2f}")
        result.explanations.append(f"{pid} {new_patches.at[pid, 'patch_name']} (was {opid}): " + "; ".join(parts))
    return result

"""``lacgeo compare OLD NEW``: what changed between two run folders, and why.

Patches of two runs are different partitions, so each new patch is matched to the
old patch that held most of its residents (LSOA codes are carried across vintages
with the ONS exact-fit lookup, so an IoD2019/LSOA 2011 run compares with an
IoD2025/LSOA 2021 run). The report lists changed settings, data and inputs, picks
that entered or left phase 1, rank moves, and the indicator changes behind them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import load
from .errors import OutputError
from .need.indicators import SHIPPED_INDICATORS
from .outputs.tables import write_csv


@dataclass
class Comparison:
    """The differences between two runs; ``lines()`` renders them for people.

    ``table`` has one row per patch of either run: the new patch, the old patch that held
    most of its residents, both ranks and phases, the shares of residents they have in
    common, and a ``status`` (``entered``, ``left``, ``changed``, ``kept``, or empty
    outside phase 1). ``lacgeo compare --csv`` writes it.
    """

    settings: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    entered: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    moves: pd.DataFrame | None = None
    explanations: list[str] = field(default_factory=list)
    table: pd.DataFrame | None = None

    def lines(self) -> list[str]:
        out = []
        if self.settings:
            out += ["Settings and data that changed:"] + [f"  - {s}" for s in self.settings]
        if self.inputs:
            out += ["Input files that changed:"] + [f"  - {s}" for s in self.inputs]
        out.append("Phase 1 entered: " + ("; ".join(self.entered) or "none"))
        out.append("Phase 1 left: " + ("; ".join(self.left) or "none"))
        if self.changed:
            out += ["Phase 1 changed shape:"] + [f"  - {c}" for c in self.changed]
        else:
            out.append("Phase 1 changed shape: none")
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


def _check_hashes(folder: Path, manifest: dict) -> None:
    """The tables compare reads must be those the run wrote: checked against run.json's checksums."""
    recorded = manifest.get("outputs") or {}
    for name in ("areas.csv", "patches.csv"):
        if name not in recorded:
            continue
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        if digest != recorded[name]:
            raise OutputError(
                f"{folder / name}: does not match the checksum run.json recorded for it (edited, truncated or "
                "copied from another run); compare reads only the tables a run wrote: re-run, or restore the file"
            )


def _read_run(folder: Path) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    try:
        manifest = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        _check_hashes(folder, manifest)
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
    result.table = _match_table(joined, new_patches, old_patches)
    matched = result.table.dropna(subset=["new_patch", "old_rank"])
    result.moves = pd.DataFrame(
        {
            "new_patch": matched["new_patch"],
            "new_name": matched["new_name"],
            "new_rank": matched["new_rank"].astype("int64"),
            "old_patch": matched["old_patch"],
            "shared": matched["share_of_new_from_old"],
            "old_rank": matched["old_rank"].astype("int64"),
        }
    )
    result.moves["move"] = result.moves["old_rank"] - result.moves["new_rank"]
    order = result.moves["move"].abs().sort_values(ascending=False, kind="stable").index
    result.moves = result.moves.reindex(order).reset_index(drop=True)

    for row in result.table.itertuples():
        if row.status == "entered":
            result.entered.append(f"{row.new_patch} {row.new_name}")
        elif row.status == "left":
            result.left.append(f"{row.old_patch} {row.old_name} (old run)")
        elif row.status == "changed":
            result.changed.append(
                f"{row.new_patch} {row.new_name} (was {row.old_patch} {row.old_name}): it keeps "
                f"{row.share_of_old_kept:.0%} of the old pick's residents, and {1 - row.share_of_new_from_old:.0%} "
                "of its residents are new to it"
            )
    result.explanations = _explanations(result.table, old_m, new_m, old_patches, new_patches)
    return result


SAME = 1 - 1e-9
"""Shares of residents at or above this are "all": a pick whose shares are both all kept its shape."""


def _match_table(joined: pd.DataFrame, new_patches: pd.DataFrame, old_patches: pd.DataFrame) -> pd.DataFrame:
    """One row per new patch, matched to the old patch holding most of its residents, plus a
    row for each old phase-1 patch that no new phase-1 patch came from."""
    common = joined.dropna(subset=["patch_id_old"])
    inter = common.groupby(["patch_id", "patch_id_old"])["population"].sum().reset_index()
    inter["share_of_new_from_old"] = inter["population"] / inter["patch_id"].map(
        joined.groupby("patch_id")["population"].sum()
    )
    # the old patch measured on the new run's areas and residents, so both shares use one population
    inter["share_of_old_kept"] = inter["population"] / inter["patch_id_old"].map(
        common.groupby("patch_id_old")["population"].sum()
    )
    best = inter.sort_values(
        ["patch_id", "share_of_new_from_old", "patch_id_old"], ascending=[True, False, True], kind="stable"
    ).drop_duplicates("patch_id")
    best = best.set_index("patch_id").reindex(new_patches.index)
    table = pd.DataFrame(
        {
            "new_patch": new_patches.index,
            "new_name": new_patches["patch_name"].to_numpy(),
            "new_rank": new_patches["rank"].to_numpy(),
            "new_phase": new_patches["phase"].to_numpy(),
            "old_patch": best["patch_id_old"].to_numpy(),
            "share_of_new_from_old": best["share_of_new_from_old"].fillna(0.0).to_numpy(),
            "share_of_old_kept": best["share_of_old_kept"].fillna(0.0).to_numpy(),
        }
    )
    old_p1 = set(old_patches.index[old_patches["phase"] == 1])
    from_old_p1 = table["old_patch"].isin(old_p1)
    same = (table["share_of_new_from_old"] >= SAME) & (table["share_of_old_kept"] >= SAME)
    new_p1 = table["new_phase"] == 1
    table["status"] = ""
    table.loc[new_p1 & ~from_old_p1, "status"] = "entered"
    table.loc[new_p1 & from_old_p1 & same, "status"] = "kept"
    table.loc[new_p1 & from_old_p1 & ~same, "status"] = "changed"
    gone = sorted(old_p1 - set(table.loc[new_p1, "old_patch"]))
    left = pd.DataFrame({"old_patch": gone, "status": "left"})
    table = pd.concat([table, left], ignore_index=True) if gone else table
    table["old_name"] = table["old_patch"].map(old_patches["patch_name"])
    table["old_rank"] = table["old_patch"].map(old_patches["rank"]).astype("Int64")
    table["old_phase"] = table["old_patch"].map(old_patches["phase"]).astype("Int64")
    table = table.astype({"new_rank": "Int64", "new_phase": "Int64"})
    columns = ["new_patch", "new_name", "new_rank", "new_phase", "old_patch", "old_name", "old_rank", "old_phase"]
    return table[[*columns, "share_of_new_from_old", "share_of_old_kept", "status"]]


def _labels(manifest: dict) -> dict[str, str]:
    """Indicator name -> the label the run's config gave it (or the shipped label)."""
    labels = dict(SHIPPED_INDICATORS)
    for spec in manifest.get("config", {}).get("need", {}).get("indicators", []):
        if isinstance(spec, dict) and spec.get("name") and spec.get("label"):
            labels[spec["name"]] = spec["label"]
    return labels


def _explanations(
    table: pd.DataFrame, old_m: dict, new_m: dict, old_patches: pd.DataFrame, new_patches: pd.DataFrame
) -> list[str]:
    """Indicators added or dropped, and for each new phase-1 patch the indicators that moved by 5% or more."""
    labels = _labels(old_m) | _labels(new_m)
    values_old = {c for c in old_patches.columns if c.startswith("value_")}
    values_new = {c for c in new_patches.columns if c.startswith("value_")}
    out = [f"indicator {labels.get(c[6:], c[6:])} is new in this run" for c in sorted(values_new - values_old)]
    out += [f"indicator {labels.get(c[6:], c[6:])} was dropped" for c in sorted(values_old - values_new)]
    for row in table[(table["new_phase"] == 1) & table["old_patch"].notna()].itertuples():
        pid, opid = row.new_patch, row.old_patch
        parts = []
        for col in sorted(values_old & values_new):
            x, y = old_patches.at[opid, col], new_patches.at[pid, col]
            if pd.notna(x) and pd.notna(y) and x != 0 and abs(y - x) / abs(x) >= 0.05:
                parts.append(f"{labels.get(col[6:], col[6:])} {x:.1f} -> {y:.1f}")
        x, y = old_patches.at[opid, "need_index"], new_patches.at[pid, "need_index"]
        parts.append(f"need index {_need(x)} -> {_need(y)}")
        out.append(f"{pid} {row.new_name} (was {opid}): " + "; ".join(parts))
    return out


def _need(value: float) -> str:
    return "withheld" if pd.isna(value) else f"{value:.2f}"


def write_comparison(comparison: Comparison, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``comparison.table`` as a CSV (formula-safe, fixed number format), all or nothing."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a folder; give --csv the file to write, e.g. {path / 'changes.csv'}")
    if path.exists() and not overwrite:
        raise OutputError(f"{path} already exists; pass --overwrite to replace it, or choose another --csv file")
    if not path.parent.is_dir():
        raise OutputError(f"{path}: the folder {path.parent} does not exist; create it or choose another --csv file")
    partial = path.with_name(f".{path.name}.partial")
    try:
        write_csv(comparison.table, partial, index=False)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path

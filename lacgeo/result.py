"""``RunResult``: everything a run produced, before it is written to disk.

:func:`lacgeo.run` makes one; the writers in :mod:`lacgeo.outputs` read it. It knows
how to summarise itself (:meth:`RunResult.summary`, the text the CLI prints) and,
through the writer the pipeline hands it, how to write its output folder
(:meth:`RunResult.write`), so a notebook gets both without the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .config import Config
from .errors import OutputError
from .harmonise import SourceCounts
from .load.places import StudyArea
from .rank import BudgetAnswer, Evaluation, budget_answer, given_budget
from .schema import NEED_INDEX, PATCH_NAME, PHASE, POPULATION, RANK, DeprivationIndex, deprivation_index

SYNTHETIC_BANNER = "SYNTHETIC: this run uses made-up service-demand data; its outputs are for trying lacgeo out."

Writer = Callable[..., Path]
"""``writer(result, out, *, overwrite)``: writes the output folder and returns its path."""


@dataclass
class RunResult:
    """Everything a run produced, before it is written to disk.

    ``areas`` (one row per LSOA) and ``patches`` (one row per patch) are
    GeoDataFrames in EPSG:27700 indexed by code.
    """

    config: Config
    lad_code: str
    lad_name: str
    areas: gpd.GeoDataFrame
    patches: gpd.GeoDataFrame
    indicators: pd.DataFrame
    inputs: list[str]
    """Every file the run read: shipped data first, then the user's files."""
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    rollout: pd.DataFrame | None = None
    """One row per phase: patches, population, need and yearly cost."""
    needs_assessment: pd.DataFrame | None = None
    """Each indicator by local deprivation quintile with 95% confidence intervals."""
    comparisons: pd.DataFrame | None = None
    """Each patch against the area and the nation on the catalogue indicators, significance
    marked where an interval can be computed (:func:`lacgeo.need.compare_patches`)."""
    districts: pd.DataFrame | None = None
    """For an area of several districts: people, patches, phase-1 coordinators and need by district."""
    evaluation: Evaluation | None = None
    """Comparison patches matched to the phase-1 picks, with balance (:func:`lacgeo.rank.match_comparators`)."""
    baseline: pd.DataFrame | None = None
    """Every indicator's baseline value, interval and period for the picks and their comparators."""
    area: StudyArea | None = None
    """What the run covers: its places (kind and code) and display name."""
    sources: dict[str, SourceCounts] = field(default_factory=dict)
    """Council service-demand sources on the areas (counts are never written per area)."""
    left_out: dict[str, str] = field(default_factory=dict)
    """Indicators of the default need index that do not exist for this area's nation, with why
    (for a Welsh area, Local Health's mortality ratio); none is filled in."""
    writer: Writer | None = field(default=None, repr=False, compare=False)
    """What :meth:`write` calls; :func:`lacgeo.run` sets :func:`lacgeo.outputs.write_outputs`."""

    @property
    def synthetic(self) -> bool:
        """Whether any input is made-up (SYNTHETIC) data; every output then says so."""
        return any(s.synthetic for s in self.sources.values())

    @property
    def deprivation(self) -> DeprivationIndex:
        """The national deprivation index of the run's areas: England's IMD or Wales's WIMD."""
        return deprivation_index(self.area.nation if self.area else "England", self.config.area.vintage)

    @property
    def recommended(self) -> gpd.GeoDataFrame:
        """Phase-1 patches, best first."""
        return self.patches[self.patches[PHASE] == 1].sort_values(RANK)

    @property
    def budget(self) -> BudgetAnswer | None:
        """What the configured budget buys (``[budget]``, or a yearly ``recommend.budget``); None if none is set."""
        given = given_budget(self.config)
        if given is None:
            return None
        return budget_answer(self.patches, given, cost_per_coordinator=self.config.recommend.cost_per_coordinator)

    @property
    def affordable(self) -> pd.DataFrame:
        """The patches the budget pays a coordinator for (empty if no budget is set)."""
        answer = self.budget
        return self.patches.iloc[:0] if answer is None else answer.patches

    def summary(self, *, withheld: Collection[str] = ()) -> str:
        """The phase-1 picks in a few lines of text: what ``lacgeo run`` prints.

        One line for the area, one per pick (population, need index, robustness and
        any flag), one with the patches by district for an area of several, and, when
        a budget is set, what it pays for. ``withheld``: patches whose need index the outputs
        withhold (:func:`lacgeo.outputs.tables.withheld_need`), as ``lacgeo run`` prints them.
        """
        patches, r = self.patches, self.config.recommend
        lines = [SYNTHETIC_BANNER] if self.synthetic else []
        lines.append(
            f"{self.lad_name}: {len(self.areas)} LSOAs, {len(patches)} patches "
            f"(population {patches[POPULATION].min():,}-{patches[POPULATION].max():,})"
        )
        in_post = patches[patches[PHASE] == 0]
        if len(in_post):
            lines.append(
                f"In post: {len(in_post)} coordinator{'s' if len(in_post) > 1 else ''} ("
                + "; ".join(f"{pid} {row[PATCH_NAME]}, {row[POPULATION]:,} people" for pid, row in in_post.iterrows())
                + "), kept as patches"
            )
        lines.append("Phase 1:" if len(self.recommended) else "Phase 1: no patch could be recommended")
        for pid, row in self.recommended.iterrows():
            robust = f", in the top {r.n} in {row['p_top_n']:.0%} of draws" if "p_top_n" in row else ""
            need = "withheld (small council counts)" if pid in withheld else f"{row[NEED_INDEX]:.2f}"
            lines.append(
                f"  {row[RANK]}. {pid} {row[PATCH_NAME]} - {row[POPULATION]:,} people, need index {need}{robust}"
            )
            if row.get("robustness"):
                lines.append(f"     ! {row['robustness']}")
        if self.districts is not None:
            each = self.districts.drop(index="All")
            lines.append(
                "By district: "
                + "; ".join(f"{d.district} {d.patches} patches, {d.phase1} in phase 1" for d in each.itertuples())
            )
        if self.deprivation.key != "imd":
            lines.append(
                f"Deprivation: {self.deprivation.title}, ranked within {self.deprivation.nation}, "
                f"on LSOA {self.config.area.vintage}"
            )
        for name, why in self.left_out.items():
            lines.append(f"Left out of the need index: {name} ({why})")
        if self.budget is not None:
            lines.append(self.budget.sentence())
        if self.evaluation is not None:
            pairs = self.evaluation.pairs
            lines.append(
                "Comparison patches for evaluating phase 1: "
                + "; ".join(
                    f"{pid}: {', '.join(g['comparator_id'])}" for pid, g in pairs.groupby("pick_id", sort=False)
                )
            )
        return "\n".join(lines)

    def write(self, out: str | Path, *, overwrite: bool = False) -> Path:
        """Write the output folder atomically (see :func:`lacgeo.outputs.write_outputs`)."""
        if self.writer is None:
            raise OutputError("this result has no writer; write it with lacgeo.write_outputs(result, out)")
        return self.writer(self, out, overwrite=overwrite)


__all__ = ["RunResult"]

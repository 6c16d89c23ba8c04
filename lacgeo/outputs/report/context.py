"""What the sections of ``report.html`` share: the run's disclosure-controlled tables and values
computed once per report, and the HTML table every section uses."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ...result import RunResult
from ...schema import NEED_INDEX, PATCH_ID, PATCH_NAME, PHASE, POPULATION, RANK
from ..escape import escape_text as E
from ..tables import assessment_table, patch_table, protections, withheld_need
from .svg import PatchMaps
from .words import about, indicator_label, national_reference, national_value, num, pct, weighted_mean


class ReportContext:
    """What the sections share, computed once per report."""

    def __init__(self, result: RunResult):
        self.result = result
        self.la = E(result.lad_name)
        self.patches = patch_table(result)  # disclosure control as in patches.csv
        self.assessment = assessment_table(result) if result.needs_assessment is not None else None
        self.index = result.deprivation  # England's IMD or Wales's WIMD: every label and column comes from it
        self.nation = E(self.index.nation)
        self.national = national_reference(self.index.nation, result.config.area.vintage)
        self.n = len(self.patches)
        self.recommended = list(self.patches.index[self.patches[PHASE] == 1])
        self.in_post = list(self.patches.index[self.patches[PHASE] == 0])
        """The areas of coordinators already in post (phase 0), in rank order: kept as given, not ranked."""
        self.n_ranked = self.n - len(self.in_post)
        areas, pop = result.areas, result.areas[POPULATION].astype(float)
        withheld = withheld_need(result)
        # the area's population-weighted need index holds its council total: withheld with it
        self.la_need = np.nan if withheld.whole_area else weighted_mean(areas[NEED_INDEX], pop)
        by_q = pop.groupby(areas[self.index.quintile]).sum()
        self.la_shares = {q: float(by_q.get(q, 0.0) / pop.sum()) for q in range(1, 6)}
        weighted = areas.filter(like="contrib_").mul(pop, axis=0)
        self.contrib = weighted.groupby(areas[PATCH_ID]).sum().div(pop.groupby(areas[PATCH_ID]).sum(), axis=0)
        self.la_contrib = weighted.sum() / pop.sum()
        for name, protection in protections(result).items():  # a council source's part holds its totals
            col = f"contrib_{name}"
            if col in self.contrib:
                self.contrib.loc[self.contrib.index.intersection(protection.totals["patch"]), col] = np.nan
                if len(protection.totals["all"]):
                    self.la_contrib[col] = np.nan
        self.values = self._indicator_values()
        self.figures = {pid: self._figures(row) for pid, row in self.patches.iterrows()}
        self.la_need_text = num(self.la_need, 2)
        self.maps = PatchMaps(result.patches, areas, la_name=result.lad_name)
        self._ids = 0

    def _indicator_values(self) -> pd.DataFrame:
        """Per indicator: label, LA value (the needs assessment's 'All' row) and national value."""
        res = self.result
        rows = []
        for spec in res.config.need.indicators:
            if self.assessment is not None:
                hit = self.assessment[
                    (self.assessment["indicator"] == spec.name) & (self.assessment["quintile"] == "All")
                ]
                la = float(hit["value"].iloc[0]) if len(hit) and not pd.isna(hit["value"].iloc[0]) else np.nan
            else:
                la = (
                    np.nan
                    if spec.name in res.sources
                    else weighted_mean(res.indicators[spec.name], res.areas[POPULATION])
                )
            nat = (
                np.nan
                if spec.name in res.sources
                else national_value(self.index.nation, res.config.area.vintage, spec.name)
            )
            rows.append({"name": spec.name, "label": indicator_label(res, spec.name), "la": la, "nation": nat})
        return pd.DataFrame(rows).set_index("name")

    @staticmethod
    def _figures(row: pd.Series) -> dict[str, str]:
        """A patch's headline figures formatted once, so the summary, its section and the rollout
        plan print the same digits."""
        top = row.get("p_top_n", np.nan)
        return {
            "population": f"{int(row[POPULATION]):,}",
            "about": about(row[POPULATION]),
            "need": num(row[NEED_INDEX], 2),
            "rank": str(int(row[RANK])),
            "top_n": pct(top),
        }

    def need_gap(self, pid: str) -> float:
        """The patch's need index above the LA average, from the two figures as printed (so that
        '1.98 is 1.99 above the average of -0.01' adds up on the page)."""
        if pd.isna(self.patches.at[pid, NEED_INDEX]) or pd.isna(self.la_need):  # withheld: small council counts
            return float("nan")
        return round(float(self.figures[pid]["need"].replace(",", "")) - float(self.la_need_text.replace(",", "")), 2)

    def svg_id(self, stem: str) -> str:
        self._ids += 1
        return f"{stem}-{self._ids}"

    def drivers(self, pid: str) -> pd.Series:
        """Each indicator's contribution to the patch's need index above the LA average, largest first."""
        diff = (self.contrib.loc[pid] - self.la_contrib).rename(lambda c: c.removeprefix("contrib_"))
        return diff.sort_values(ascending=False, kind="stable", na_position="last")

    def band(self) -> tuple[int, int]:
        p = self.result.config.patches
        return round(p.target_population * (1 - p.band)), round(p.target_population * (1 + p.band))

    def name(self, pid: str) -> str:
        return f"{E(pid)} {E(self.patches.at[pid, PATCH_NAME])}"


SPLIT_ROWS = 8
"""A printed table longer than this may split between pages (its header row repeats); a shorter one
moves whole to the next page."""


def html_table(
    headers: list[str], rows: list[list[str]], *, caption: str, numeric: Iterable[int] = (), css_class: str = ""
) -> str:
    """An HTML table; cells are HTML already (escaped by the caller), the first column heads each row.

    Each data cell carries its column's heading as ``data-label``, which the phone layout shows
    when it stacks a row's cells (a table never makes the page scroll sideways)."""
    numeric = set(numeric)

    def cls(i: int) -> str:
        return ' class="num"' if i in numeric else ""

    labels = [re.sub(r"<[^>]*>", "", h).replace('"', "&quot;") for h in headers]
    head = "".join(f'<th scope="col"{cls(i)}>{h}</th>' for i, h in enumerate(headers))
    body = "".join(
        f'<tr><th scope="row">{row[0]}</th>'
        + "".join(f'<td{cls(i)} data-label="{labels[i]}">{c}</td>' for i, c in enumerate(row[1:], 1))
        + "</tr>"
        for row in rows
    )
    css_class = " ".join(c for c in (css_class, "split" if len(rows) > SPLIT_ROWS else "") if c)
    table_class = f' class="{css_class}"' if css_class else ""
    return (
        f"<table{table_class}><caption>{caption}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )

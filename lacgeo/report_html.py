"""Stage 7c: ``report.html``, a printable report for councillors.

One self-contained page: inline CSS, maps and charts as inline SVG drawn by
:mod:`lacgeo.svg` (no script, no fonts, no images, nothing fetched from the network). It says what is
recommended and why: one section per phase-1 patch (maps, a paragraph to read aloud,
a profile against the local authority and England, what drives its need), the
needs-assessment chart of each indicator by local deprivation quintile, the rollout
plan, the method, caveats and data attribution.
The stylesheet, number formatting and plain-English text live in :mod:`lacgeo.report_text`.

Every text value that comes from data or config passes through
:func:`lacgeo.maps.escape_text`. Council data follows the CSVs' disclosure control:
patch values come from :func:`lacgeo.report.patch_table` and the needs assessment
from :func:`lacgeo.report.assessment_table`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import __version__, datasets
from . import report as _report  # used lazily: lacgeo.report imports this module
from .maps import escape_text as E
from .rank import IN_BAND
from .report_text import (
    CSS,
    DATA_SOURCES,
    FIFTHS,
    _caveats_section,
    _label,
    _lower,
    _method_section,
    _money,
    _n,
    _num,
    _pct,
    _signed,
    _value,
    _wmean,
    england_reference,
    read_aloud,
)
from .schema import (
    BAND_STATUS,
    IMD_QUINTILE,
    N_AREAS,
    NEED_INDEX,
    PATCH_ID,
    PATCH_NAME,
    PHASE,
    POPULATION,
    RANK,
)
from .svg import PatchMaps, phase_colours, quintile_chart

if TYPE_CHECKING:
    from .pipeline import RunResult


def rollout_table(result: RunResult) -> pd.DataFrame:
    """One row per phase: the run's rollout plan (``result.rollout``, as in rollout.csv) when it has one,
    otherwise phase, patches (highest need first), population and population-weighted mean need index."""
    plan = getattr(result, "rollout", None)
    if plan is not None:
        return plan.reset_index(drop=True)
    rows = []
    for phase, group in result.patches.sort_values(RANK).groupby(PHASE, sort=True):
        rows.append(
            {
                PHASE: int(phase),
                "n_patches": len(group),
                "patch_ids": ", ".join(map(str, group.index)),
                "patch_names": "; ".join(map(str, group[PATCH_NAME])),
                POPULATION: int(group[POPULATION].sum()),
                NEED_INDEX: _wmean(group[NEED_INDEX], group[POPULATION]),
            }
        )
    return pd.DataFrame(rows)


# --- sections -----------------------------------------------------------------------------


def _table(headers: list[str], rows: list[list[str]], *, caption: str, numeric: Iterable[int] = ()) -> str:
    """An HTML table; cells are HTML already (escaped by the caller), the first column heads each row."""
    numeric = set(numeric)

    def cls(i: int) -> str:
        return ' class="num"' if i in numeric else ""

    head = "".join(f'<th scope="col"{cls(i)}>{h}</th>' for i, h in enumerate(headers))
    body = "".join(
        f'<tr><th scope="row">{row[0]}</th>'
        + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(row[1:], 1))
        + "</tr>"
        for row in rows
    )
    return f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class _Report:
    """What the sections share, computed once per report."""

    def __init__(self, result: RunResult):
        self.result = result
        self.la = E(result.lad_name)
        self.patches = _report.patch_table(result)  # disclosure control as in patches.csv
        self.assessment = _report.assessment_table(result) if result.needs_assessment is not None else None
        self.england = england_reference(result.config.area.vintage)
        self.n = len(self.patches)
        self.recommended = list(self.patches.index[self.patches[PHASE] == 1])
        areas, pop = result.areas, result.areas[POPULATION].astype(float)
        self.la_need = _wmean(areas[NEED_INDEX], pop)
        by_q = pop.groupby(areas[IMD_QUINTILE]).sum()
        self.la_shares = {q: float(by_q.get(q, 0.0) / pop.sum()) for q in range(1, 6)}
        weighted = areas.filter(like="contrib_").mul(pop, axis=0)
        self.contrib = weighted.groupby(areas[PATCH_ID]).sum().div(pop.groupby(areas[PATCH_ID]).sum(), axis=0)
        self.la_contrib = weighted.sum() / pop.sum()
        self.values = self._indicator_values()
        self.maps = PatchMaps(result.patches, areas, la_name=result.lad_name)
        self._ids = 0

    def _indicator_values(self) -> pd.DataFrame:
        """Per indicator: label, LA value (the needs assessment's 'All' row) and England value."""
        res, england = self.result, self.england["means"]
        rows = []
        for spec in res.config.need.indicators:
            if self.assessment is not None:
                hit = self.assessment[
                    (self.assessment["indicator"] == spec.name) & (self.assessment["quintile"] == "All")
                ]
                la = float(hit["value"].iloc[0]) if len(hit) and not pd.isna(hit["value"].iloc[0]) else np.nan
            else:
                la = np.nan if spec.name in res.sources else _wmean(res.indicators[spec.name], res.areas[POPULATION])
            eng = np.nan if spec.name in res.sources else england.get(spec.name, np.nan)
            rows.append({"name": spec.name, "label": _label(res, spec.name), "la": la, "eng": eng})
        return pd.DataFrame(rows).set_index("name")

    def svg_id(self, stem: str) -> str:
        self._ids += 1
        return f"{stem}-{self._ids}"

    def drivers(self, pid: str) -> pd.Series:
        """Each indicator's contribution to the patch's need index above the LA average, largest first."""
        diff = (self.contrib.loc[pid] - self.la_contrib).rename(lambda c: c.removeprefix("contrib_"))
        return diff.sort_values(ascending=False, kind="stable")

    def band(self) -> tuple[int, int]:
        p = self.result.config.patches
        return round(p.target_population * (1 - p.band)), round(p.target_population * (1 + p.band))

    def name(self, pid: str) -> str:
        return f"{E(pid)} {E(self.patches.at[pid, PATCH_NAME])}"


def _summary(r: _Report) -> str:
    res, cfg = r.result, r.result.config
    lo, hi = r.band()
    picks = "; ".join(
        f"{r.name(pid)} ({int(r.patches.at[pid, POPULATION]):,} people, need index "
        f"{_num(r.patches.at[pid, NEED_INDEX], 2)})"
        for pid in r.recommended
    )
    weights = ", ".join(f"{E(_lower(_label(res, s.name)))} (weight {s.weight:g})" for s in cfg.need.indicators)
    later = int(r.patches[PHASE].max()) - 1
    text = (
        f"lacgeo divided {r.la} ({int(res.areas[POPULATION].sum()):,} residents in "
        f"{_n(len(res.areas), 'neighbourhood')}) into {_n(r.n, 'contiguous patch', 'contiguous patches')} of about "
        f"{cfg.patches.target_population:,} people ({lo:,} to {hi:,}), one for each Local Area Coordinator. It "
        f"recommends starting in the {_n(len(r.recommended), 'patch', 'patches')} with the highest need: "
        f"{picks or 'none'}. Need combines {weights}, and is relative to {r.la}: 0 is about the {r.la} average."
        + (
            f" The other patches follow in {_n(later, 'further phase')} of up to {cfg.recommend.phase_size}, so the "
            "plan covers the whole authority."
            if later
            else ""
        )
    )
    robust = "p_top_n" in r.patches
    rows = [
        [
            str(int(r.patches.at[pid, RANK])),
            f'<a href="#patch-{E(pid)}">{r.name(pid)}</a>',
            f"{int(r.patches.at[pid, POPULATION]):,}",
            _num(r.patches.at[pid, NEED_INDEX], 2),
            E(r.patches.at[pid, "need_profile"]),
        ]
        + ([_pct(r.patches.at[pid, "p_top_n"])] if robust else [])
        for pid in r.recommended
    ]
    headers = ["Need rank", "Patch", "Population", "Need index", "Need profile of most residents"]
    if robust:
        headers.append(f"In the top {cfg.recommend.n} when weights vary")
    table = _table(headers, rows, caption="Recommended for phase 1", numeric=[0, 2, 3, 5])
    numbers = {pid: str(int(r.patches.at[pid, RANK])) for pid in r.recommended}
    svg = r.maps.overview(highlight=r.recommended, svg_id=r.svg_id("overview"), numbers=numbers)
    return (
        f'<section id="summary"><h2>Summary</h2><p class="lead">{text}</p>{table}<figure class="wide">{svg}'
        f"<figcaption>The phase-1 patches (blue, ringed in red and numbered by need rank) among all "
        f"{_n(r.n, 'patch', 'patches')} of {r.la}."
        "</figcaption></figure></section>"
    )


def _profile(r: _Report, pid: str) -> str:
    row, res, eng = r.patches.loc[pid], r.result, r.england
    rows = [
        ["Population", f"{int(row[POPULATION]):,}", f"{int(res.areas[POPULATION].sum()):,}", f"{eng['population']:,}"],
        ["Neighbourhoods (LSOAs)", str(int(row[N_AREAS])), str(len(res.areas)), "–"],
        [
            "Need index",
            f"{_num(row[NEED_INDEX], 2)} (rank {int(row[RANK])} of {r.n})",
            _num(r.la_need, 2),
            "– (relative within the LA)",
        ],
        ["Need profile", f"{E(row['need_profile'])} ({_pct(row['need_profile_share'])} of residents)", "–", "–"],
    ]
    rows += [
        [
            f"Residents in England's {FIFTHS[q]} fifth of neighbourhoods (IMD quintile {q})",
            _pct(row[f"share_imd_q{q}"]),
            _pct(r.la_shares[q]),
            _pct(eng["quintile_shares"][q]),
        ]
        for q in range(1, 6)
    ]
    for name, ind in r.values.iterrows():
        council = name in res.sources
        v = row.get(f"value_{name}", np.nan)
        rows.append(
            [
                E(ind["label"]),
                "not shown (small numbers)" if council and pd.isna(v) else _value(name, v),
                _value(name, ind["la"]),
                "no England value (council data)" if council else _value(name, ind["eng"]),
            ]
        )
    return _table(
        ["Measure", "This patch", r.la, "England"], rows, caption=f"Profile of {r.name(pid)}", numeric=[1, 2, 3]
    )


def _drivers(r: _Report, pid: str) -> str:
    res, drivers = r.result, r.drivers(pid)
    total = float(r.patches.at[pid, NEED_INDEX] - r.la_need)
    words = [
        f"{E(_lower(_label(res, n)))} {'raises' if d > 0 else 'lowers'} it by {abs(d):.2f}"
        for n, d in drivers.items()
        if abs(d) > 0.05
    ]
    text = f"Its need index is {abs(total):.2f} {'above' if total >= 0 else 'below'} the {r.la} average: " + (
        "; ".join(words) + "." if words else "no single indicator stands out."
    )
    rows = [
        [
            E(_label(res, n)),
            _signed(r.contrib.at[pid, f"contrib_{n}"]),
            _signed(r.la_contrib[f"contrib_{n}"]),
            _signed(d),
        ]
        for n, d in drivers.items()
    ]
    table = _table(
        ["Indicator", "Contribution in this patch", f"{r.la} average", "Difference"],
        rows,
        caption="Each indicator's weighted contribution to the need index, largest difference first",
        numeric=[1, 2, 3],
    )
    return f"<p>{text}</p>{table}"


def _places(r: _Report, pid: str) -> str:
    areas = r.result.areas[r.result.areas[PATCH_ID] == pid]
    items = []
    for col, what in (("msoa_name", "Neighbourhood names (MSOA)"), ("ward_name", "Wards")):
        if col in areas:
            by = areas.groupby(col)[POPULATION].sum().sort_values(ascending=False, kind="stable")
            items.append(f"<li>{what}: " + ", ".join(f"{E(n)} ({int(p):,} people)" for n, p in by.items()) + "</li>")
    return f"<ul>{''.join(items)}</ul>"


def _robustness(r: _Report, pid: str) -> str:
    """How often the patch stays in the top n when weights (and council counts) vary, if the run measured it."""
    row, rec = r.patches.loc[pid], r.result.config.recommend
    if "p_top_n" not in row or pd.isna(row["p_top_n"]):
        return ""
    varied = "indicator weights" + (" and council counts" if r.result.sources else "")
    draws = getattr(rec, "robustness_draws", 0)
    text = (
        f"When the {varied} are varied at random ({draws:,} draws), {E(row[PATCH_NAME])} stays in the top "
        f"{rec.n} in {_pct(row['p_top_n'])} of draws, and its need rank is between {int(row['rank_low'])} and "
        f"{int(row['rank_high'])} in 95% of them."
    )
    flag = row.get("robustness", "")
    if isinstance(flag, str) and flag:
        text += f" <strong>Caution: {E(flag)}.</strong>"
    return f"<h3>How sure is this?</h3><p>{text}</p>"


def _patch_section(r: _Report, pid: str) -> str:
    row = r.patches.loc[pid]
    name = E(row[PATCH_NAME])
    band = (
        "" if row[BAND_STATUS] == IN_BAND else f'<p class="note">Outside the population band: {E(row[BAND_STATUS])}</p>'
    )
    return (
        f'<section class="patch" id="patch-{E(pid)}"><h2>{int(row[RANK])}. {r.name(pid)}</h2>'
        f'<p class="lead">{read_aloud(r, pid)}</p>{band}<figure class="maps">'
        + r.maps.overview(highlight=[pid], svg_id=r.svg_id("where"))
        + r.maps.closeup(pid, svg_id=r.svg_id("closeup"))
        + f"<figcaption>Left: where {name} lies in {r.la} (blue). Right: close-up with its neighbourhoods (LSOAs) "
        f"and the neighbouring patches (grey).</figcaption></figure>"
        f"<h3>Profile against {r.la} and England</h3>{_profile(r, pid)}"
        f"<h3>Where it is</h3>{_places(r, pid)}<h3>What drives its need</h3>{_drivers(r, pid)}"
        f"{_robustness(r, pid)}</section>"
    )


def _needs_section(r: _Report) -> str:
    head = '<section class="break" id="needs"><h2>Needs assessment</h2>'
    if r.assessment is None or r.assessment.empty:
        return head + "<p>Not available for this run.</p></section>"
    intro = (
        f"<p>Each indicator for five fifths of {r.la}'s residents, from those in the most deprived neighbourhoods "
        f"(quintile 1) to the least deprived (quintile 5), by IMD score within {r.la}. Whiskers are 95% confidence "
        "intervals: where two do not overlap, the difference is unlikely to be chance. The dashed line is the "
        f"value for all of {r.la}. Values from 1 to {r.result.config.disclosure.small_count_max} council events "
        "are not shown.</p>"
    )
    figures = []
    for name, rows in r.assessment.groupby("indicator", sort=False):
        label = str(rows["label"].iloc[0])
        unit = ", per 1,000 residents" if str(rows["method"].iloc[0]).startswith("rate per 1,000") else ""
        svg = quintile_chart(rows, label=label, la_name=r.result.lad_name, svg_id=r.svg_id("chart"), unit=unit)
        quintile = {"1": "1 (most deprived)", "5": "5 (least deprived)", "All": f"All of {r.la}"}
        table_rows = [
            [
                quintile.get(row["quintile"], E(row["quintile"])),
                "not shown" if pd.isna(row["value"]) else _num(row["value"], 2),
                "–" if pd.isna(row["lower"]) else f"{_num(row['lower'], 2)} to {_num(row['upper'], 2)}",
                str(int(row["n_areas"])),
                f"{int(row['population']):,}",
            ]
            for _, row in rows.iterrows()
        ]
        table = _table(
            ["Quintile", "Value", "95% confidence interval", "Neighbourhoods", "Population"],
            table_rows,
            caption=f"{E(label)} by local deprivation quintile ({E(rows['method'].iloc[0])})",
            numeric=[1, 3, 4],
        )
        figures.append(
            f'<figure class="chart" id="chart-{E(name)}">{svg}<figcaption>{E(label)} by local deprivation quintile, '
            f"with 95% confidence intervals. The table gives the same values.</figcaption>{table}</figure>"
        )
    return head + intro + "".join(figures) + "</section>"


def _rollout_section(r: _Report) -> str:
    plan = rollout_table(r.result).set_index(PHASE)
    costed = "annual_cost" in plan
    rows = []
    for phase, row in plan.iterrows():
        cells = [str(phase), str(int(row["n_patches"])), f"{int(row[POPULATION]):,}", _num(row[NEED_INDEX], 2)]
        if costed:
            cells += [
                _money(row["annual_cost"]),
                str(int(row["coordinators_to_date"])),
                _money(row["annual_cost_to_date"]),
                _pct(row["population_share_to_date"]),
            ]
        rows.append(cells + ["; ".join(r.name(p) for p in str(row["patch_ids"]).split(", "))])
    headers = ["Phase", "Patches", "Population", "Mean need index"]
    if costed:
        headers += ["Yearly cost", "Coordinators to date", "Yearly cost to date", "Residents covered to date"]
    table = _table(
        headers + ["Patches, highest need first"],
        rows,
        caption="Rollout plan (mean need index weighted by population)",
        numeric=range(len(headers)),
    )
    rec = r.result.config.recommend
    cost = getattr(rec, "cost_per_coordinator", None)
    notes = []
    if costed and cost:
        notes.append(
            f"Costs assume {_money(cost)} a year per coordinator, including on-costs and a share of management "
            "(a setting of the run)."
        )
    budget = getattr(rec, "budget", 0) or 0
    if budget > 0 and cost:
        affordable = r.result.affordable
        notes.append(
            f"A yearly budget of {_money(budget)} pays for {_n(len(affordable), 'coordinator')}: "
            + ("; ".join(r.name(p) for p in affordable.index) or "none")
            + "."
        )
    notes_html = "".join(f"<p>{n}</p>" for n in notes)
    colours = dict(zip(plan.index, phase_colours(len(plan)), strict=True))
    svg = r.maps.phases(r.result.patches[PHASE], colours, svg_id=r.svg_id("phases"))
    legend = "".join(
        f'<li><span class="swatch" style="background:{c}"></span> Phase {p}</li>' for p, c in colours.items()
    )
    return (
        f'<section class="break" id="rollout"><h2>Rollout plan</h2><p>Phase 1 is the '
        f"{_n(len(r.recommended), 'patch', 'patches')} with the highest need; each later phase adds up to "
        f"{r.result.config.recommend.phase_size} more, in order of need, until all {_n(r.n, 'patch', 'patches')} of "
        f'{r.la} are covered.</p>{table}{notes_html}<figure class="wide">{svg}'
        f'<figcaption>Patches by phase.</figcaption><ul class="legend note">{legend}</ul></figure></section>'
    )


def _sources_section(r: _Report) -> str:
    shipped = "".join(f"<li>{E(s)}</li>" for s in DATA_SOURCES)
    council = "".join(
        f"<li>{E(s.label or s.name)}: file {E(s.path.replace(chr(92), '/').rsplit('/', 1)[-1])}"
        f"{' (SYNTHETIC: made up for the example)' if s.synthetic else ''}</li>"
        for s in r.result.config.sources
    )
    return (
        f'<section id="sources"><h2>Data sources and attribution</h2><p>{E(datasets.ATTRIBUTION)}</p>'
        f"<ul>{shipped}</ul>" + (f"<h3>Council data</h3><ul>{council}</ul>" if council else "") + "</section>"
    )


def render_report(result: RunResult) -> str:
    """The whole ``report.html``: self-contained, printable, and it makes no network request."""
    r = _Report(result)
    title = f"Where to start Local Area Coordination in {r.la}" + (" (SYNTHETIC data)" if result.synthetic else "")
    banner = (
        '<p class="synthetic">SYNTHETIC: this report is built from made-up service-demand data. It is for trying '
        "lacgeo out and must not be used for decisions.</p>"
        if result.synthetic
        else ""
    )
    contents = (
        [("summary", "Summary")]
        + [(f"patch-{E(p)}", r.name(p)) for p in r.recommended]
        + [("needs", "Needs assessment"), ("rollout", "Rollout plan"), ("method", "Method")]
        + [("caveats", "Assumptions and caveats"), ("sources", "Data sources and attribution")]
    )
    toc = "".join(f'<li><a href="#{a}">{t}</a></li>' for a, t in contents)
    body = (
        f"<header>{banner}<h1>{title}</h1><p>A recommendation from lacgeo, using open data"
        f"{' and council service-demand data' if result.sources else ''}.</p></header>"
        f'<nav aria-label="Contents"><h2>Contents</h2><ol>{toc}</ol></nav><main>'
        + _summary(r)
        + "".join(_patch_section(r, pid) for pid in r.recommended)
        + _needs_section(r)
        + _rollout_section(r)
        + _method_section(r)
        + _caveats_section(r)
        + _sources_section(r)
        + f'</main><footer><p class="note">{"SYNTHETIC data. " if result.synthetic else ""}'
        f"lacgeo {E(__version__)}</p></footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


__all__ = ["england_reference", "read_aloud", "render_report", "rollout_table"]

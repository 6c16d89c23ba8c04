"""Stage 7c: ``report.html``, a printable report for councillors.

One self-contained page: inline CSS, maps and charts as inline SVG drawn by
:mod:`lacgeo.svg` (no script, no fonts, no images, nothing fetched from the network). It says what is
recommended and why: one section per phase-1 patch (maps, a paragraph to read aloud,
a profile against the local authority and England, what drives its need), the
needs-assessment chart of each indicator by local deprivation quintile, the rollout
plan, the method, caveats and data attribution.

Every text value that comes from data or config passes through
:func:`lacgeo.maps.escape_text`. Council data follows the CSVs' disclosure control:
patch values come from :func:`lacgeo.report.patch_table` and the needs assessment
from :func:`lacgeo.report.assessment_table`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import __version__, datasets
from . import report as _report  # used lazily: lacgeo.report imports this module
from .maps import escape_text as E
from .need import SHIPPED_INDICATORS
from .rank import IN_BAND
from .schema import (
    BAND_STATUS,
    IMD_DECILE,
    IMD_QUINTILE,
    IOD_RELEASE,
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

SMR = "preventable_mortality_smr"
FIFTHS = {1: "most deprived", 2: "second most deprived", 3: "middle", 4: "second least deprived", 5: "least deprived"}
STANDARDISE_WORDS = {
    "zscore": "standard deviations from the local authority mean (z-scores)",
    "rank": "ranks within the local authority scaled from 0 to 1",
    "exponential": "the exponential transform of the rank used by the Indices of Deprivation (0 to 100)",
}
# The licence section of data/README.md, kept here so the report never reads a file to write it.
DATA_SOURCES = (
    "Contains public sector information licensed under the Open Government Licence v3.0 "
    "(nationalarchives.gov.uk/doc/open-government-licence/version/3/).",
    "English Indices of Deprivation 2025 and 2019, Ministry of Housing, Communities and Local Government.",
    "Source: Office for National Statistics licensed under the Open Government Licence v3.0 (boundaries, lookups, "
    "population estimates). Contains OS data © Crown copyright and database right 2021.",
    "Local Health, Office for Health Improvement and Disparities (formerly Public Health England), OGL v3.0.",
    "MSOA Names © House of Commons Library, OGL v3.0. Contains ONS data © Crown copyright.",
    "Republished by: martinjc/UK-GeoJSON (CC BY 4.0, “UK-GeoJSON by Martin Chorley”), mysociety/composite_uk_imd "
    "(CC BY 4.0, mySociety), humaniverse/IMD and humaniverse/geographr (data OGL), rcpch/rcpch-census-platform, "
    "anetobradley/energy_flex, psychty/local_estimates_of_mortality, ukparliament/visual.parliament.uk-msoanames.",
)

CSS = """
:root { color: #111; background: #fff; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; line-height: 1.45;
  max-width: 60rem; margin: 0 auto; padding: 0 1rem 2rem; }
h1 { font-size: 1.6rem; margin: 1rem 0 0.5rem; }
h2 { font-size: 1.3rem; margin: 1.6rem 0 0.5rem; border-bottom: 2px solid #2166ac; padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin: 1.1rem 0 0.4rem; }
.synthetic { background: #fff3cd; border: 3px solid #8a6500; color: #3d2c00; padding: 0.6rem 0.8rem;
  font-weight: 700; font-size: 1.1rem; margin: 1rem 0; }
.lead { font-size: 1.08rem; background: #eef3f9; border-left: 4px solid #2166ac; padding: 0.6rem 0.8rem; }
table { border-collapse: collapse; margin: 0.4rem 0 0.8rem; font-size: 0.92rem; }
caption { text-align: left; font-weight: 600; padding: 0.2rem 0; }
th, td { border: 1px solid #b5b5b5; padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }
thead th { background: #f0f0f0; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 0.6rem 0 1rem; }
figcaption { font-size: 0.9rem; color: #333; margin: 0.2rem 0; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font-family: system-ui, Arial, sans-serif; fill: #111; }
.maps { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
.maps svg { width: 19rem; }
.wide svg { width: 26rem; }
.chart svg { width: 36rem; }
.note { font-size: 0.9rem; color: #333; }
.legend { list-style: none; padding: 0; columns: 3; max-width: 26rem; }
.swatch { display: inline-block; width: 1.2em; height: 0.8em; border: 1px solid #555; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  nav { display: none; }
  section.patch, section.break { break-before: page; page-break-before: always; }
  table, figure, .lead, .synthetic { break-inside: avoid; page-break-inside: avoid; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  .synthetic, .lead, thead th, .swatch { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


# --- numbers, words and reference values --------------------------------------------------


def _num(value: float, decimals: int = 1) -> str:
    return "–" if value is None or pd.isna(value) else f"{round(float(value), decimals) + 0.0:,.{decimals}f}"


def _n(count: int, word: str, plural: str = "") -> str:
    """'1 patch', '3 patches'."""
    return f"{count:,} {word if count == 1 else plural or word + 's'}"


def _signed(value: float) -> str:
    return f"{round(float(value), 2) + 0.0:+.2f}"


def _pct(share: float) -> str:
    return "–" if pd.isna(share) else f"{100 * float(share):.0f}%"


def _value(name: str, value: float) -> str:
    """An indicator value: SMRs whole, others to 1 decimal place (2 below 1)."""
    return _num(value, 0 if name == SMR else 1 if not pd.isna(value) and abs(value) >= 1 else 2)


def _about(population: float) -> str:
    return f"{int(round(float(population), -2)):,}" if population >= 1000 else f"{int(population):,}"


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _compare(value: float, ref: float) -> str:
    if pd.isna(value) or pd.isna(ref):
        return "compared with"
    if abs(value - ref) <= 0.05 * abs(ref):
        return "about the same as"
    return "higher than" if value > ref else "lower than"


def _wmean(values: pd.Series, weights: pd.Series) -> float:
    keep = values.notna()
    w = weights[keep].astype(float)
    return float((values[keep].astype(float) * w).sum() / w.sum()) if w.sum() > 0 else float("nan")


def _label(result: RunResult, name: str) -> str:
    spec = next((s for s in result.config.need.indicators if s.name == name and s.label), None)
    return spec.label if spec else SHIPPED_INDICATORS.get(name, name.replace("_", " "))


def _lower(label: str) -> str:
    """'Preventable mortality' -> 'preventable mortality'; 'IMD score' stays."""
    return label[0].lower() + label[1:] if len(label) > 1 and label[1].islower() else label


@functools.cache
def england_reference(vintage: str) -> dict:
    """England: population-weighted means of the shipped IoD scores (SMR = 100 by definition),
    population share by IMD quintile, and total population."""
    lsoa = pd.read_parquet(datasets.data_file(f"lsoa{vintage[2:]}.parquet"), columns=[POPULATION])
    iod = pd.read_parquet(datasets.data_file(f"{IOD_RELEASE[vintage].lower()}_lsoa{vintage[2:]}.parquet"))
    pop = lsoa[POPULATION].reindex(iod.index).astype(float)
    means = {c: _wmean(iod[c], pop) for c in iod.columns if c.endswith("_score")}
    means[SMR] = 100.0
    quintile = np.ceil(iod[IMD_DECILE].astype(float) / 2)
    shares = {q: float(pop[quintile == q].sum() / pop.sum()) for q in range(1, 6)}
    return {"means": means, "quintile_shares": shares, "population": int(pop.sum())}


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


def read_aloud(r: _Report, pid: str) -> str:
    """A paragraph about one patch, in plain words, from its numbers."""
    row, res = r.patches.loc[pid], r.result
    people = f"about {_about(row[POPULATION])} people in {_n(int(row[N_AREAS]), 'neighbourhood')}"
    out = [f"{E(row[PATCH_NAME])} is home to {people}."]
    shares = {q: float(row[f"share_imd_q{q}"]) for q in range(1, 6)}
    if shares[1] >= 0.005:
        out.append(
            f"{_pct(shares[1])} of them live in the most deprived fifth of neighbourhoods in England "
            f"({_pct(r.la_shares[1])} across {r.la})."
        )
    else:
        q = next(q for q in range(2, 6) if shares[q] >= 0.005)
        out.append(
            "None of them live in the most deprived fifth of neighbourhoods in England; "
            f"{_pct(shares[q])} live in the {FIFTHS[q]} fifth."
        )
    for name, ind in r.values.iterrows():
        v = row.get(f"value_{name}", np.nan)
        label = E(_lower(ind["label"]))
        if pd.isna(v):
            out.append(f"Its {label} is not shown because the numbers are small.")
        elif name == SMR:
            gap = abs(v - 100)
            than = "about the same as" if gap < 2.5 else f"{gap:.0f}% {'higher' if v > 100 else 'lower'} than"
            out.append(
                f"Preventable deaths under 75 are {than} for England as a whole once age is allowed for "
                f"(SMR {v:.0f}; {r.la} {_value(SMR, ind['la'])}; England 100)."
            )
        elif name in res.sources:
            out.append(
                f"{E(ind['label'])}: {_value(name, v)} per 1,000 residents, {_compare(v, ind['la'])} the "
                f"{_value(name, ind['la'])} across {r.la}."
            )
        else:
            eng = "" if pd.isna(ind["eng"]) else f" and {_compare(v, ind['eng'])} England's {_value(name, ind['eng'])}"
            out.append(
                f"Its {label} is {_value(name, v)}, {_compare(v, ind['la'])} the {r.la} average of "
                f"{_value(name, ind['la'])}{eng}."
            )
    rank = int(row[RANK])
    up = [E(_lower(_label(res, n))) for n, d in r.drivers(pid).items() if d > 0.05][:2]
    because = f", mainly because of its {' and '.join(up)}" if up else ""
    out.append(
        f"Taking everything together it has the {'' if rank == 1 else _ordinal(rank) + ' '}highest need of "
        f"{r.la}'s {_n(r.n, 'patch', 'patches')}{because}."
    )
    return " ".join(out)


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


def _money(value: float) -> str:
    return f"£{float(value):,.0f}"


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


def _method_section(r: _Report) -> str:
    res, cfg = r.result, r.result.config
    vintage, (lo, hi), nest = cfg.area.vintage, r.band(), cfg.patches.nest_within
    nest_words = {"none": "", "ward": ", each within one ward", "msoa": ", each within one MSOA", "lad": ""}
    weights = ", ".join(
        f"{E(_label(res, s.name))} × {s.weight:g}{' (higher is better)' if s.direction == 'higher_is_better' else ''}"
        for s in cfg.need.indicators
    )
    steps = [
        f"<strong>Load.</strong> The {_n(len(res.areas), 'neighbourhood')} (Lower-layer Super Output Areas, "
        f"LSOA {vintage}) of {r.la}, their population and the English Indices of Deprivation ({IOD_RELEASE[vintage]})"
        + (", with the council service-demand data listed under Data sources." if res.sources else "."),
        "<strong>Validate.</strong> Codes, populations, geometry and values are checked; any problem stops the run.",
        "<strong>Need index.</strong> Each indicator is put on one scale "
        f"({STANDARDISE_WORDS[cfg.need.standardise]}) so that higher means more need, then combined as a "
        f"weighted average: {weights}.",
        f"<strong>Patches.</strong> Neighbouring LSOAs are grouped into "
        f"{_n(r.n, 'contiguous, compact patch', 'contiguous, compact patches')} of {lo:,} "
        f"to {hi:,} people{nest_words.get(nest, ', each within one of the given boundary areas')}, keeping together "
        f"neighbourhoods of similar need. The best of {cfg.patches.n_starts} seeded starts is kept, and every patch "
        "is checked.",
        f"<strong>Rank and recommend.</strong> Patches are ranked by need index (population-weighted); the top "
        f"{cfg.recommend.n} form phase 1, then phases of {cfg.recommend.phase_size}.",
    ]
    if "p_top_n" in r.patches:
        steps.append(
            "<strong>Robustness.</strong> The ranking is repeated "
            f"{getattr(cfg.recommend, 'robustness_draws', 0):,} times with the indicator weights drawn at random "
            "around the chosen ones"
            + (" and council counts redrawn within their sampling error" if res.sources else "")
            + f"; each patch gets the share of draws in which it is in the top {cfg.recommend.n} and its 95% "
            "range of ranks."
        )
    provenance = (
        f"Made with lacgeo {E(__version__)}, seed {int(cfg.seed)}, LSOA {vintage} with {IOD_RELEASE[vintage]}. "
        "The same inputs and settings give the same results; run.json lists every input file with its checksum."
    )
    items = "".join(f"<li>{s}</li>" for s in steps)
    return (
        f'<section class="break" id="method"><h2>Method</h2><ol>{items}</ol><p class="note">{provenance}</p></section>'
    )


def _caveats_section(r: _Report) -> str:
    res, cfg = r.result, r.result.config
    items = []
    if res.synthetic:
        items.append(
            "<strong>SYNTHETIC data.</strong> Some service-demand data in this run is made up: use this report to "
            "try lacgeo out, never for decisions."
        )
    if cfg.area.vintage == "2021":
        items += [
            "LSOA 2021 boundaries are generalised to 200 m, so maps of small urban neighbourhoods look blocky and a "
            "few neighbour relations may differ from the full-resolution boundaries.",
            "Population per LSOA 2021 is derived by lacgeo from the ONS mid-2020 LSOA 2011 estimates: unchanged LSOAs "
            "keep their value, merged ones are summed and split ones are shared out using the IoD2025 income-domain "
            "denominator. The England total matches the published mid-2020 figure.",
        ]
    else:
        items.append("LSOA 2011 boundaries are generalised to 20 m; populations are ONS mid-2020 small area estimates.")
    if any(s.name == SMR for s in cfg.need.indicators):
        items.append(
            "Preventable mortality is the Local Health under-75 standardised mortality ratio for deaths in 2015–19 "
            "(England = 100), published for MSOAs 2011 and shared out to LSOAs; it is several years old and the "
            "source gives no confidence interval."
        )
    items += [
        f"The need index is relative: it compares places within {r.la}. A patch with high need here is not "
        "necessarily among the most deprived in England; the profiles give the England picture.",
        "The ranking depends on the chosen indicators and weights: patches with similar need indices could swap "
        "places if these change.",
    ]
    if res.sources:
        items.append(
            f"Council service-demand rates are per 1,000 residents. Rates built from 1 to "
            f"{cfg.disclosure.small_count_max} events are not shown anywhere, nor any rate that would let them be "
            "worked out."
        )
    flagged = r.patches[r.patches[BAND_STATUS] != IN_BAND]
    lo, hi = r.band()
    if len(flagged):
        listed = "".join(f"<li>{r.name(p)}: {E(row[BAND_STATUS])}</li>" for p, row in flagged.iterrows())
        items.append(
            f"{len(flagged)} of the {_n(r.n, 'patch', 'patches')} {'is' if len(flagged) == 1 else 'are'} outside "
            f"the band of {lo:,} to {hi:,} people:<ul>{listed}</ul>"
        )
    else:
        items.append(f"Every patch holds {lo:,} to {hi:,} people.")
    if res.warnings:
        items.append("Warnings from the run:<ul>" + "".join(f"<li>{E(w)}</li>" for w in res.warnings) + "</ul>")
    listed = "".join(f"<li>{i}</li>" for i in items)
    return f'<section id="caveats"><h2>Assumptions and caveats</h2><ul>{listed}</ul></section>'


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

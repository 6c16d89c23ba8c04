"""Stage 7c, the words of ``report.html``: its stylesheet, number and word formatting, England reference
values, and the plain-English text (the paragraph read aloud for each patch, the method and the caveats).

:mod:`lacgeo.report_html` assembles the page from these; it re-exports :func:`england_reference`,
:func:`read_aloud`, :data:`CSS` and :data:`DATA_SOURCES`. Every text value that comes from data or config passes
through :func:`lacgeo.maps.escape_text`.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import __version__, datasets
from .maps import escape_text as E
from .need import SHIPPED_INDICATORS
from .rank import IN_BAND
from .schema import BAND_STATUS, IMD_DECILE, IOD_RELEASE, N_AREAS, PATCH_NAME, POPULATION, RANK

if TYPE_CHECKING:
    from .pipeline import RunResult
    from .report_html import _Report

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


def _money(value: float) -> str:
    return f"£{float(value):,.0f}"


# --- plain-English text ------------------------------------------------------------------


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
        f"neighbourhoods of similar need. The best of {cfg.patches.n_starts} seeded search rounds is kept, and "
        "every patch is checked.",
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

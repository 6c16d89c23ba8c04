"""The plain-English text of ``report.html``: the paragraph read aloud for each patch, the method and
the caveats. Every text value that comes from data or config passes through
:func:`~lacgeo.outputs.escape.escape_text`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..._version import __version__
from ...need import in_sentence
from ...need.presets import PRESETS
from ...schema import BAND_STATUS, IN_BAND, N_AREAS, PATCH_NAME
from ..escape import escape_text as E
from .context import ReportContext
from .words import (
    FIFTHS,
    SMR,
    STANDARDISE_WORDS,
    compare_word,
    count_of,
    index_source,
    indicator_label,
    left_out_sentences,
    ordinal,
    pct,
    release_name,
    value_text,
)


def read_aloud(r: ReportContext, pid: str) -> str:
    """A paragraph about one patch, in plain words, from its numbers."""
    row, res = r.patches.loc[pid], r.result
    people = f"about {r.figures[pid]['about']} people in {count_of(int(row[N_AREAS]), 'neighbourhood')}"
    out = [f"{E(row[PATCH_NAME])} is home to {people}."]
    shares = {q: float(row[r.index.share(q)]) for q in range(1, 6)}
    if shares[1] >= 0.005:
        out.append(
            f"{pct(shares[1])} of them live in the most deprived fifth of neighbourhoods in {r.nation} "
            f"({pct(r.la_shares[1])} across {r.la})."
        )
    else:
        q = next(q for q in range(2, 6) if shares[q] >= 0.005)
        out.append(
            f"None of them live in the most deprived fifth of neighbourhoods in {r.nation}; "
            f"{pct(shares[q])} live in the {FIFTHS[q]} fifth."
        )
    for name, ind in r.values.iterrows():
        v = row.get(f"value_{name}", np.nan)
        label = E(in_sentence(ind["label"]))
        if pd.isna(v):
            out.append(f"Its {label} is not shown because the numbers are small.")
        elif name == SMR:
            gap = abs(v - 100)
            than = "about the same as" if gap < 2.5 else f"{gap:.0f}% {'higher' if v > 100 else 'lower'} than"
            out.append(
                f"Preventable deaths under 75 are {than} for England as a whole once age is allowed for "
                f"(SMR {v:.0f}; {r.la} {value_text(SMR, ind['la'])}; England 100)."
            )
        elif name in res.sources:
            out.append(
                f"{E(ind['label'])}: {value_text(name, v)} per 1,000 residents, {compare_word(v, ind['la'])} the "
                f"{value_text(name, ind['la'])} across {r.la}."
            )
        else:
            nat = (
                ""
                if pd.isna(ind["nation"])
                else f" and {compare_word(v, ind['nation'])} {r.nation}'s {value_text(name, ind['nation'])}"
            )
            out.append(
                f"Its {label} is {value_text(name, v)}, {compare_word(v, ind['la'])} the {r.la} average of "
                f"{value_text(name, ind['la'])}{nat}."
            )
    rank = int(r.figures[pid]["rank"])
    up = [E(in_sentence(indicator_label(res, n))) for n, d in r.drivers(pid).items() if pd.notna(d) and d > 0.05][:2]
    because = f", mainly because of its {' and '.join(up)}" if up else ""
    among = (
        f"the {count_of(r.n_ranked, 'patch', 'patches')} of {r.la} without a coordinator in post"
        if r.in_post
        else f"{r.la}'s {count_of(r.n, 'patch', 'patches')}"
    )
    out.append(
        f"Taking everything together it has the {'' if rank == 1 else ordinal(rank) + ' '}highest need of "
        f"{among}{because}."
    )
    return " ".join(out)


def _preset_words(preset: str) -> str:
    """Why the need index is weighted as it is: the preset's reasoning, or that the analyst chose it."""
    if preset in PRESETS:
        return f" This is lacgeo's \u201c{E(preset)}\u201d index ({E(PRESETS[preset].title)}). {E(PRESETS[preset].why)}"
    return " The indicators and weights were chosen by the analyst for this run (no preset)."


def method_section(r: ReportContext) -> str:
    res, cfg = r.result, r.result.config
    vintage, (lo, hi), nest = cfg.area.vintage, r.band(), cfg.patches.nest_within
    nest_words = {"none": "", "ward": ", each within one ward", "msoa": ", each within one MSOA", "lad": ""}
    weights = ", ".join(
        f"{E(indicator_label(res, s.name))} × {s.weight:g}"
        f"{' (higher is better)' if s.direction == 'higher_is_better' else ''}"
        for s in cfg.need.indicators
    )
    steps = [
        f"<strong>Load.</strong> The {count_of(len(res.areas), 'neighbourhood')} (Lower-layer Super Output Areas, "
        f"LSOA {vintage}) of {r.la}, their population and {index_source(r.index)}"
        + (", with the council service-demand data listed under Data sources." if res.sources else "."),
        "<strong>Validate.</strong> Codes, populations, geometry and values are checked; any problem stops the run.",
        "<strong>Need index.</strong> Each indicator is put on one scale "
        f"({STANDARDISE_WORDS[cfg.need.standardise]}) so that higher means more need, then combined as a "
        f"weighted average: {weights}."
        + _preset_words(cfg.need.preset)
        + "".join(f" {E(s)}" for s in left_out_sentences(res)),
        f"<strong>Patches.</strong> Neighbouring LSOAs are grouped into "
        f"{count_of(r.n, 'contiguous, compact patch', 'contiguous, compact patches')} of {lo:,} "
        f"to {hi:,} people{nest_words.get(nest, ', each within one of the given boundary areas')}, keeping together "
        f"neighbourhoods of similar need. The best of {cfg.patches.n_starts} seeded search rounds is kept, and "
        "every patch is checked.",
        f"<strong>Rank and recommend.</strong> Patches are ranked by need index (population-weighted); the top "
        f"{cfg.recommend.n} form phase 1, then phases of {cfg.recommend.phase_size}.",
    ]
    if r.in_post:
        n = len(r.in_post)
        names = "; ".join(r.name(pid) for pid in r.in_post)
        rules = _rule_words(cfg.recommend, n)
        steps.insert(
            3,
            f"<strong>Coordinators in post.</strong> The area{'' if n == 1 else 's'} of the "
            f"{'coordinator' if n == 1 else f'{n} coordinators'} already working ({names}) "
            f"{'is' if n == 1 else 'are'} kept exactly as {r.la} gave {'it' if n == 1 else 'them'}, each as a "
            "patch of its own, even outside the population band or in pieces. New picks never overlap "
            f"{'it' if n == 1 else 'them'}{rules}, and the rest of {r.la} is divided into patches around "
            f"{'it' if n == 1 else 'them'}. {'It is' if n == 1 else 'They are'} not ranked for rollout: the tables "
            "list them as “in post” (phase 0 in the CSV files), after every ranked patch.",
        )
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
        f"Made with lacgeo {E(__version__)}, seed {int(cfg.seed)}, LSOA {vintage} with {release_name(r.index)}. "
        "The same inputs and settings give the same results; run.json lists every input file with its checksum."
    )
    items = "".join(f"<li>{s}</li>" for s in steps)
    return f'<section id="method"><h2>Method</h2><ol>{items}</ol><p class="note">{provenance}</p></section>'


def _rule_words(recommend: object, n: int) -> str:
    """The pick rules that also count the areas in post, as a clause ("" when none is set)."""
    rules = []
    spread = getattr(recommend, "spread", "none")
    if spread != "none":
        unit = {"ward": "ward", "msoa": "neighbourhood (MSOA)", "nest": "boundary area"}.get(spread, spread)
        rules.append(f"at most one coordinator per {unit}")
    if getattr(recommend, "min_distance_km", 0):
        rules.append(f"at least {recommend.min_distance_km:g} km between coordinators")
    if getattr(recommend, "near_km", 0):
        rules.append(f"within {recommend.near_km:g} km of a coordinator already placed")
    return f" and keep the run's rules against {'it' if n == 1 else 'them'} too ({'; '.join(rules)})" if rules else ""


def caveats_section(r: ReportContext) -> str:
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
            "Population per LSOA 2021 is the Census 2021 usual-resident count (21 March 2021), so it is a year "
            "later than the mid-2020 estimates LSOA 2011 runs use; ONS perturbs small Census counts slightly.",
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
        f"necessarily among the most deprived in {r.nation}; the profiles give the {r.nation} picture.",
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
            f"{len(flagged)} of the {count_of(r.n, 'patch', 'patches')} {'is' if len(flagged) == 1 else 'are'} outside "
            f"the band of {lo:,} to {hi:,} people:<ul>{listed}</ul>"
        )
    else:
        items.append(f"Every patch holds {lo:,} to {hi:,} people.")
    if res.warnings:
        items.append("Warnings from the run:<ul>" + "".join(f"<li>{E(w)}</li>" for w in res.warnings) + "</ul>")
    listed = "".join(f"<li>{i}</li>" for i in items)
    return f'<section id="caveats"><h2>Assumptions and caveats</h2><ul>{listed}</ul></section>'

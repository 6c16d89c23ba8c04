"""``report.html``: a printable report for councillors.

One self-contained page: inline CSS (``assets/report.css``), maps and charts as inline
SVG drawn by :mod:`.svg` (no script, no fonts, no images, nothing fetched from the
network). It says what is recommended and why: one section per phase-1 patch (maps, a
paragraph to read aloud, a profile against the local authority and its nation, what
drives its need), the needs-assessment chart of each indicator by local deprivation
quintile, the rollout plan (the coordinators already in post first, as "In post", never "phase 0"),
how to evaluate phase 1 against its comparison patches (:mod:`.evaluation`), the method, caveats and
data attribution. Deprivation is
England's IMD or Wales's WIMD, as the run's areas are (``result.deprivation``), and named
so throughout. The plain-English paragraphs are in :mod:`.prose`, the number and word
formatting in :mod:`.words`.

Every text value that comes from data or config passes through
:func:`~lacgeo.outputs.escape.escape_text`. Council data follows the CSVs' disclosure
control: patch values and the needs assessment come from :mod:`lacgeo.outputs.tables`
(through :class:`.context.ReportContext`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import load
from ..._version import __version__
from ...need import in_sentence
from ...result import RunResult
from ...schema import BAND_STATUS, IN_BAND, N_AREAS, NEED_INDEX, PATCH_ID, PATCH_NAME, PHASE, POPULATION
from ..assets import asset_text
from ..escape import escape_text as E
from ..tables import rollout_table
from .context import ReportContext, html_table
from .evaluation import evaluation_section
from .prose import caveats_section, method_section, read_aloud
from .spine import spine_chart, spread_over_patches
from .svg import IN_POST_FILL, phase_colours, quintile_chart
from .words import (
    FIFTHS,
    bilingual,
    count_of,
    data_periods,
    indicator_label,
    long_date,
    money,
    num,
    pct,
    phase_text,
    report_date,
    signed,
    value_text,
)

CSS = asset_text(__package__, "report.css")


# --- sections -----------------------------------------------------------------------------


def _summary(r: ReportContext) -> str:
    res, cfg = r.result, r.result.config
    lo, hi = r.band()
    picks = "; ".join(
        f"{r.name(pid)} ({r.figures[pid]['population']} people, need index {r.figures[pid]['need']})"
        for pid in r.recommended
    )
    weights = ", ".join(
        f"{E(in_sentence(indicator_label(res, s.name)))} (weight {s.weight:g})" for s in cfg.need.indicators
    )
    later = int(r.patches.loc[r.patches[PHASE] > 1, PHASE].nunique())  # phases after phase 1 (never phase 0)
    divided = (
        f"lacgeo divided {r.la} ({int(res.areas[POPULATION].sum()):,} residents in "
        f"{count_of(len(res.areas), 'neighbourhood')}) into "
        f"{count_of(r.n, 'contiguous patch', 'contiguous patches')} of about "
        f"{cfg.patches.target_population:,} people ({lo:,} to {hi:,}), one for each Local Area Coordinator."
    )
    if r.in_post:
        divided += " " + _in_post_sentence(r)
    if not r.recommended:  # an empty recommendation is a result too: say why
        why = "; ".join(E(w) for w in res.warnings if "pick" in w) or "no patch met the rules for phase 1"
        return (
            f'<section id="summary"><h2>Summary</h2><p class="lead">{divided} No patch could be recommended for '
            f"phase 1: {why}. The rollout plan below still orders every patch by need.</p></section>"
        )
    text = (
        f"{divided} It "
        f"recommends starting in the {count_of(len(r.recommended), 'patch', 'patches')} with the highest need: "
        f"{picks}. Need combines {weights}, and is relative to {r.la}: 0 is about the {r.la} average."
        + (
            f" The other patches follow in {count_of(later, 'further phase')} of up to "
            f"{cfg.recommend.phase_size}, so the "
            "plan covers the whole authority."
            if later
            else ""
        )
    )
    robust = "p_top_n" in r.patches
    rows = [
        [
            r.figures[pid]["rank"],
            f'<a href="#patch-{E(pid)}">{r.name(pid)}</a>',
            r.figures[pid]["population"],
            r.figures[pid]["need"],
            E(r.patches.at[pid, "need_profile"]),
        ]
        + ([r.figures[pid]["top_n"]] if robust else [])
        for pid in r.recommended
    ]
    headers = ["Need rank", "Patch", "Population", "Need index", "Need profile of most residents"]
    if robust:
        headers.append(f"In the top {cfg.recommend.n} when weights vary")
    table = html_table(headers, rows, caption="Recommended for phase 1", numeric=[0, 2, 3, 5])
    numbers = {pid: r.figures[pid]["rank"] for pid in r.recommended}
    svg = r.maps.overview(highlight=r.recommended, svg_id=r.svg_id("overview"), numbers=numbers, in_post=r.in_post)
    return (
        f'<section id="summary"><h2>Summary</h2><p class="lead">{text}</p>{table}<figure class="wide">{svg}'
        f"<figcaption>The phase-1 patches (blue, ringed in red and numbered by need rank) among all "
        f"{count_of(r.n, 'patch', 'patches')} of {r.la}"
        + ("; the areas of coordinators already in post green, cross-hatched" if r.in_post else "")
        + ("; district boundaries dashed." if res.districts is not None else ".")
        + "</figcaption></figure></section>"
    )


def _in_post_sentence(r: ReportContext) -> str:
    """How many coordinators are already in post, named (the method says what the run did with their areas)."""
    n = len(r.in_post)
    names = "; ".join(r.name(pid) for pid in r.in_post)
    return f"{count_of(n, 'coordinator is', 'coordinators are')} already in post, kept as given: {names}."


def _profile(r: ReportContext, pid: str) -> str:
    row, res, nat, fig = r.patches.loc[pid], r.result, r.national, r.figures[pid]
    rows = [
        ["Population", fig["population"], f"{int(res.areas[POPULATION].sum()):,}", f"{nat['population']:,}"],
        ["Neighbourhoods (LSOAs)", str(int(row[N_AREAS])), str(len(res.areas)), "–"],
        [
            "Need index",
            f"{fig['need']} (rank {fig['rank']} of {r.n_ranked}{' ranked' if r.in_post else ''})",
            r.la_need_text,
            "–",
        ],
        ["Need profile", f"{E(row['need_profile'])} ({pct(row['need_profile_share'])} of residents)", "–", "–"],
    ]
    rows += [
        [
            f"In {r.nation}'s {FIFTHS[q]} fifth ({r.index.short} quintile {q})",
            pct(row[r.index.share(q)]),
            pct(r.la_shares[q]),
            pct(nat["quintile_shares"][q]),
        ]
        for q in range(1, 6)
    ]
    spine = set() if res.comparisons is None else set(res.comparisons["indicator"])
    for name, ind in r.values.iterrows():
        if name in spine:  # shown with its significance in the spine chart below
            continue
        council = name in res.sources
        v = row.get(f"value_{name}", np.nan)
        rows.append(
            [
                E(ind["label"]),
                "not shown (small numbers)" if council and pd.isna(v) else value_text(name, v),
                value_text(name, ind["la"]),
                "– (council data)" if council else value_text(name, ind["nation"]),
            ]
        )
    return html_table(
        ["Measure", "This patch", r.la, r.nation],
        rows,
        caption=f"Profile of {r.name(pid)}"
        + (f" (council data has no {r.nation} value)" if any(n in res.sources for n in r.values.index) else ""),
        numeric=[1, 2, 3],
        css_class="profile",
    )


def _drivers(r: ReportContext, pid: str) -> str:
    res, drivers = r.result, r.drivers(pid)
    total = r.need_gap(pid)
    words = [
        f"{E(in_sentence(indicator_label(res, n)))} {'raises' if d > 0 else 'lowers'} it by {abs(d):.2f}"
        for n, d in drivers.items()
        if pd.notna(d) and abs(d) > 0.05
    ]
    withheld = [n for n, d in drivers.items() if pd.isna(d)]
    if pd.isna(total):
        text = (
            "Its need index, or the area average it is measured from, is withheld, with the council data's part "
            "in it: together with the published figures they would give back small council counts. "
        )
    else:  # the patch's own index first, so the difference is not mistaken for it (1.98 vs 1.99 apart)
        text = (
            f"Its need index, {r.figures[pid]['need']}, is {abs(total):.2f} "
            f"{'above' if total >= 0 else 'below'} the {r.la} average of {r.la_need_text}: "
        )
    text += "; ".join(words) + "." if words else "no single published indicator stands out."
    if withheld:
        text += f" The part of {', '.join(E(indicator_label(res, n)) for n in withheld)} is withheld (small numbers)."

    def shown(value: float) -> str:
        return "withheld" if pd.isna(value) else signed(value)

    rows = [
        [
            E(indicator_label(res, n)),
            shown(r.contrib.at[pid, f"contrib_{n}"]),
            shown(r.la_contrib[f"contrib_{n}"]),
            shown(d),
        ]
        for n, d in drivers.items()
    ]
    table = html_table(
        ["Indicator", "In this patch", f"{r.la} average", "Difference"],
        rows,
        caption="Each indicator's weighted contribution to the need index, largest difference first",
        numeric=[1, 2, 3],
    )
    return f"<p>{text}</p>{table}"


def _places(r: ReportContext, pid: str) -> str:
    areas = r.result.areas[r.result.areas[PATCH_ID] == pid]
    items = []
    for col, what in (("msoa_name", "Neighbourhood names (MSOA)"), ("ward_name", "Wards")):
        if col in areas:
            by = areas.groupby(col)[POPULATION].sum().sort_values(ascending=False, kind="stable")
            welsh = areas.groupby(col)[f"{col}_cy"].first() if f"{col}_cy" in areas else {}  # Welsh names
            names = ", ".join(f"{E(bilingual(n, welsh.get(n)))} ({int(p):,} people)" for n, p in by.items())
            items.append(f"<li>{what}: {names}</li>")
    return f"<ul>{''.join(items)}</ul>"


def _robustness(r: ReportContext, pid: str) -> str:
    """How often the patch stays in the top n when weights (and council counts) vary, if the run measured it."""
    row, rec = r.patches.loc[pid], r.result.config.recommend
    if "p_top_n" not in row or pd.isna(row["p_top_n"]):
        return ""
    varied = "indicator weights" + (" and council counts" if r.result.sources else "")
    draws = getattr(rec, "robustness_draws", 0)
    text = (
        f"When the {varied} are varied at random ({draws:,} draws), {E(row[PATCH_NAME])} stays in the top "
        f"{rec.n} in {pct(row['p_top_n'])} of draws, and its need rank is "
        + (
            f"{int(row['rank_low'])} in at least 95% of them."
            if int(row["rank_low"]) == int(row["rank_high"])
            else f"between {int(row['rank_low'])} and {int(row['rank_high'])} in 95% of them."
        )
    )
    flag = row.get("robustness", "")
    if isinstance(flag, str) and flag:
        text += f" <strong>Caution: {E(flag)}.</strong>"
    return f"<h3>How sure is this?</h3><p>{text}</p>"


def _spine_section(r: ReportContext) -> str:
    """Each phase-1 patch against its area and nation on the catalogue indicators, Fingertips-style."""
    comparisons = r.result.comparisons
    if comparisons is None or comparisons.empty or not r.recommended:
        return ""
    spread = spread_over_patches(comparisons)
    figures = []
    for pid in r.recommended:
        chart = spine_chart(
            comparisons[comparisons[PATCH_ID] == pid],
            spread,
            la=r.result.lad_name,
            nation=r.index.nation,
            svg_id=r.svg_id("spine"),
        )
        figures.append(
            f'<figure class="spine"><figcaption><strong>{r.figures[pid]["rank"]}. {r.name(pid)}</strong>'
            f"</figcaption>{chart}</figure>"
        )
    return (
        f'<section id="against-{E(r.index.nation.lower())}"><h2>Phase-1 patches against {r.la} and {r.nation}</h2>'
        f'<p class="intro">Each row sets the patch beside {r.la} and {r.nation}, as OHID\'s Fingertips profiles '
        f"do. A patch is marked significantly worse or better than {r.nation} (95%) only where Census 2021 counts "
        "give it a confidence interval; Local Health ratios and the Indices of Deprivation are published "
        "without intervals, so they are shown as not tested (a hollow circle) and no difference is claimed. "
        "Every value, with its interval and method, is in comparisons.csv and the workbook's Comparisons "
        "sheet.</p>" + "".join(figures) + "</section>"
    )


def _patch_section(r: ReportContext, pid: str) -> str:
    row = r.patches.loc[pid]
    name = E(row[PATCH_NAME])
    band = (
        "" if row[BAND_STATUS] == IN_BAND else f'<p class="note">Outside the population band: {E(row[BAND_STATUS])}</p>'
    )
    return (
        f'<section class="patch" id="patch-{E(pid)}"><h2>{r.figures[pid]["rank"]}. {r.name(pid)}</h2>'
        f'<p class="lead">{read_aloud(r, pid)}</p>{band}<figure class="maps">'
        + r.maps.overview(highlight=[pid], svg_id=r.svg_id("where"))
        + r.maps.closeup(pid, svg_id=r.svg_id("closeup"))
        + f"<figcaption>Where {name} lies in {r.la} (blue, ringed), and a close-up with its neighbourhoods "
        "(LSOAs), the names of places in it (bold) and around it (italics), and the neighbouring patches (grey)."
        "</figcaption></figure>"
        f"<h3>Profile against {r.la} and {r.nation}</h3>{_profile(r, pid)}"
        f'<div class="facts"><div><h3>Where it is</h3>{_places(r, pid)}{_robustness(r, pid)}</div>'
        f"<div><h3>What drives its need</h3>{_drivers(r, pid)}</div></div></section>"
    )


def _districts_section(r: ReportContext) -> str:
    """For an area of several districts: people, patches, coordinators and need by district."""
    table = r.result.districts
    if table is None:
        return ""
    rows = [
        [
            E(row.district) if code != "All" else f"All of {r.la}",
            f"{int(row.population):,}",
            f"{int(row.patches):,}" + (f" ({int(row.patches_crossing)} crossing)" if row.patches_crossing else ""),
            f"{int(row.phase1):,}",
            f"{int(row.phase1_population):,}",
            num(row.need_index, 2),
        ]
        for code, row in table.iterrows()
    ]
    headers = [
        "District",
        "Population",
        "Patches",
        "Phase-1 coordinators",
        "Residents in phase-1 patches",
        "Mean need index",
    ]
    n = len(table) - 1
    text = (
        f"{r.la} spans {count_of(n, 'district')}. Patches may cross a district boundary; each is counted in the "
        "district holding most of its people (the patches table gives that share). The need index is "
        f"standardised over the whole of {r.la}, so a district's mean compares with the last row."
    )
    return (
        f'<section id="districts"><h2>By district</h2><p class="intro">{text}</p>'
        + html_table(
            headers,
            rows,
            caption=f"Patches and phase-1 coordinators by district of {r.la}",
            numeric=range(1, 6),
            css_class="keep",  # a district table is short: on one page
        )
        + "</section>"
    )


def _needs_section(r: ReportContext) -> str:
    head = '<section class="break" id="needs"><h2>Needs assessment</h2>'
    if r.assessment is None or r.assessment.empty:
        return head + "<p>Not available for this run.</p></section>"
    intro = (
        '<p class="intro">'
        f"Each indicator for five fifths of {r.la}'s residents, from those in the most deprived neighbourhoods "
        f"(quintile 1) to the least deprived (quintile 5), by {r.index.short} score within {r.la}. Whiskers are "
        "95% confidence intervals: where two do not overlap, the difference is unlikely to be chance. The dashed "
        f"line is the value for all of {r.la}. Values from 1 to {r.result.config.disclosure.small_count_max} "
        "council events are not shown.</p>"
    )
    figures = []
    for name, rows in r.assessment.groupby("indicator", sort=False):
        label = str(rows["label"].iloc[0])
        unit = ", per 1,000 residents" if str(rows["method"].iloc[0]).startswith("rate per 1,000") else ""
        svg = quintile_chart(
            rows, label=label, la_name=r.result.lad_name, svg_id=r.svg_id("chart"), unit=unit, index=r.index.short
        )
        quintile = {"1": "1 (most deprived)", "5": "5 (least deprived)", "All": f"All of {r.la}"}
        table_rows = [
            [
                quintile.get(row["quintile"], E(row["quintile"])),
                "not shown" if pd.isna(row["value"]) else num(row["value"], 2),
                "–" if pd.isna(row["lower"]) else f"{num(row['lower'], 2)} to {num(row['upper'], 2)}",
                str(int(row["n_areas"])),
                f"{int(row['population']):,}",
            ]
            for _, row in rows.iterrows()
        ]
        table = html_table(
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


def _rollout_section(r: ReportContext) -> str:
    plan = rollout_table(r.result).set_index(PHASE)
    costed = "annual_cost" in plan
    rows, members = [], []
    for phase, row in plan.iterrows():
        label = phase_text(phase, capital=True).replace(" ", "&nbsp;")  # phase 0: "In post", never "phase 0"
        cells = [label, str(int(row["n_patches"])), f"{int(row[POPULATION]):,}", num(row[NEED_INDEX], 2)]
        if costed:
            cells += [
                money(row["annual_cost"]),
                str(int(row["coordinators_to_date"])),
                money(row["annual_cost_to_date"]),
                pct(row["population_share_to_date"]),
            ]
        rows.append(cells)
        members.append([label, "; ".join(r.name(p) for p in str(row["patch_ids"]).split(", "))])
    headers = ["Phase", "Patches", "Population", "Mean need index"]
    if costed:
        headers += ["Yearly cost", "Coordinators to date", "Yearly cost to date", "Residents covered to date"]
    table = html_table(
        headers,
        rows,
        caption="Rollout plan (mean need index weighted by population)",
        numeric=range(len(headers)),
        css_class="rollout keep",  # the plan's numbers on one page
    )
    # the patch names in a table of their own, across the page's width, rather than squeezed beside the numbers
    names = html_table(
        ["Phase", "Patches, highest need first"], members, caption="The patches in each phase", css_class="members"
    )
    rec = r.result.config.recommend
    cost = getattr(rec, "cost_per_coordinator", None)
    notes = []
    if costed and cost:
        notes.append(
            f"Costs assume {money(cost)} a year per coordinator, including on-costs and a share of management "
            "(a setting of the run)."
        )
    answer = r.result.budget
    if answer is not None:
        setup = f" after {answer.setup_months} months of set-up" if answer.setup_months else ""
        per_resident = (
            f", {money(answer.cost_per_resident)} per resident covered per year" if answer.coordinators else ""
        )
        paid = min(answer.in_post, answer.coordinators)
        notes.append(
            f"A budget of {money(answer.total)} over {answer.months} months{setup} pays for "
            f"{count_of(answer.coordinators, 'coordinator')}"
            + (f" ({paid} of them in post already)" if paid else "")
            + f" for {answer.months} months "
            f"({money(answer.per_coordinator)} each, after {money(answer.fixed)} of other costs; "
            f"{money(answer.left_over)} left over{per_resident}): "
            + ("; ".join(r.name(p) for p in answer.patches.index) or "none")
            + "."
        )
    notes_html = "".join(f"<p>{n}</p>" for n in notes)
    ranked = [p for p in plan.index if p > 0]
    colours = dict(zip(ranked, phase_colours(len(ranked)), strict=True))
    if 0 in plan.index:  # in post: a look of its own, not the first step of the phases' ramp
        colours = {0: IN_POST_FILL, **colours}
    svg = r.maps.phases(r.result.patches[PHASE], colours, svg_id=r.svg_id("phases"))
    legend = "".join(
        f'<li><span class="swatch crosshatch" style="background-color:{c}"></span> In post</li>'
        if p == 0
        else f'<li><span class="swatch{" hatch" if p % 2 == 0 else ""}" style="background-color:{c}"></span> '
        f"Phase {p}</li>"
        for p, c in colours.items()
    )
    post = (
        f"The {count_of(len(r.in_post), 'coordinator', 'coordinators')} already in post come first, in the costs "
        f"too; their areas are kept as given and are no phase of the rollout. "
        if r.in_post
        else ""
    )
    return (
        f'<section id="rollout"><h2>Rollout plan</h2><p class="intro">{post}Phase 1 is the '
        f"{count_of(len(r.recommended), 'patch', 'patches')} with the highest need; each later phase adds up to "
        f"{r.result.config.recommend.phase_size} more, in order of need, until all "
        f"{count_of(r.n, 'patch', 'patches')} of "
        f'{r.la} are covered.</p>{table}{notes_html}<figure class="wide phases">{svg}'
        "<figcaption>Patches by phase, numbered on the map; phase 1 darkest"
        + ("; the areas in post green, cross-hatched and marked “In post”" if r.in_post else "")
        + f'.</figcaption><ul class="legend note">{legend}</ul></figure>{names}</section>'
    )


def _sources_section(r: ReportContext) -> str:
    shipped = "".join(f"<li>{E(s)}</li>" for s in load.DATA_SOURCES)
    council = "".join(
        f"<li>{E(s.label or s.name)}: file {E(s.path.replace(chr(92), '/').rsplit('/', 1)[-1])}"
        f"{' (SYNTHETIC: made up for the example)' if s.synthetic else ''}</li>"
        for s in r.result.config.sources
    )
    return (
        f'<section id="sources"><h2>Data sources and attribution</h2><p>{E(load.ATTRIBUTION)}</p>'
        f"<ul>{shipped}</ul>" + (f"<h3>Council data</h3><ul>{council}</ul>" if council else "") + "</section>"
    )


def _cover(r: ReportContext) -> str:
    """The cover block committee papers need: the area, the date, who prepared it, what data it
    uses and from when, and the lacgeo version that made it."""
    res = r.result
    places = res.area.places if res.area is not None else ()
    area = "; ".join(E(p.label) for p in places) if places else f"{r.la} ({E(res.lad_code)})"
    if res.area is not None and len(places) > 1:
        area = f"{r.la}: {area}"
    prepared = (res.config.report.prepared_by or "").strip()
    periods = "".join(f"<li>{E(line)}</li>" for line in data_periods(res))
    items = [
        ("Area", area),
        ("Date", long_date(report_date())),
        ("Prepared by", E(prepared) if prepared else "not stated"),
        ("Data", f"<ul>{periods}</ul>"),
        ("Made with", f"lacgeo {E(__version__)}, seed {int(res.config.seed)}"),
    ]
    rows = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in items)
    return f'<dl class="cover">{rows}</dl>'


def render_report(result: RunResult) -> str:
    """The whole ``report.html``: self-contained, printable, and it makes no network request."""
    r = ReportContext(result)
    evaluation = evaluation_section(r)
    title = f"Where to start Local Area Coordination in {r.la}" + (" (SYNTHETIC data)" if result.synthetic else "")
    banner = (
        '<p class="synthetic">SYNTHETIC: this report is built from made-up service-demand data. It is for trying '
        "lacgeo out and must not be used for decisions.</p>"
        if result.synthetic
        else ""
    )
    contents = (
        [("summary", "Summary")]
        + ([("districts", "By district")] if result.districts is not None else [])
        + [(f"patch-{E(p)}", r.name(p)) for p in r.recommended]
        + [("needs", "Needs assessment"), ("rollout", "Rollout plan")]
        + ([("evaluation", "Evaluating phase 1")] if evaluation else [])
        + [("method", "Method")]
        + [("caveats", "Assumptions and caveats"), ("sources", "Data sources and attribution")]
    )
    toc = "".join(f'<li><a href="#{a}">{t}</a></li>' for a, t in contents)
    body = (
        f"<header>{banner}<h1>{title}</h1><p>A recommendation from lacgeo, using open data"
        f"{' and council service-demand data' if result.sources else ''}.</p>{_cover(r)}</header>"
        f'<nav aria-label="Contents"><h2>Contents</h2><ol>{toc}</ol></nav><main>'
        + _summary(r)
        + _districts_section(r)
        + "".join(_patch_section(r, pid) for pid in r.recommended)
        + _spine_section(r)
        + _needs_section(r)
        + _rollout_section(r)
        + evaluation
        + method_section(r)
        + caveats_section(r)
        + _sources_section(r)
        + f'</main><footer><p class="note">{"SYNTHETIC data. " if result.synthetic else ""}'
        f"lacgeo {E(__version__)}</p></footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


__all__ = ["render_report"]

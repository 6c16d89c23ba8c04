"""report.html: self-contained, complete, escaped, printable.

First as text, then opened in headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright, launched as in test_maps.py) from file:// with every other request blocked:
it must draw its SVG maps and charts, log no errors, try no network request, run no
injected script, print, and pass axe-core with no violation of any impact.
"""

from __future__ import annotations

import dataclasses
import html
import re

import numpy as np
import pandas as pd
import pytest

from lacgeo import load
from lacgeo.outputs.escape import escape_text
from lacgeo.outputs.report import england_reference, read_aloud, render_report
from lacgeo.outputs.tables import rollout_table
from lacgeo.schema import AREA_NAME, BAND_STATUS, PATCH_ID, PATCH_NAME, PHASE, POPULATION, RANK

from .conftest import AXE_JS, with_small_patch_count

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "{{ 7*7 }} {% if 1 %}jinja{% endif %}",
    "`${alert(2)}` back`tick",
    "</script><script>alert(3)</script>",
]
HOSTILE_ID = 'P"><svg onload=alert(4)>'
HOSTILE_LA = "</title><script>alert(5)</script> & {{ 6*6 }}"
HOSTILE_LABEL = "<b onmouseover=alert(6)>IMD</b> `${x}`"


@pytest.fixture(scope="module", autouse=True)
def source_date_epoch():
    """A fixed report date (the reproducible-builds convention), so a report made just before
    midnight equals one made after it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", "1796000000")
        yield


@pytest.fixture(scope="module")
def solihull_html(solihull_run) -> str:
    return render_report(solihull_run)


@pytest.fixture(scope="module")
def synthetic_html(synthetic_run) -> str:
    return render_report(synthetic_run)


@pytest.fixture(scope="module")
def hostile_run(solihull_run):
    """Solihull with hostile names: the phase-1 patches, a patch id, areas, neighbourhoods, the LA, a label."""
    patches = solihull_run.patches.copy()
    areas = solihull_run.areas.copy()
    top = list(patches.sort_values(RANK).index)
    patches.loc[top[: len(HOSTILE) - 1], PATCH_NAME] = HOSTILE[:-1]
    patches.loc[top[-1], PATCH_NAME] = HOSTILE[-1]  # the lowest-ranked patch, in the rollout table
    for pid, name in zip(top[: len(HOSTILE) - 1], HOSTILE, strict=False):
        inside = areas[PATCH_ID] == pid
        areas.loc[inside, AREA_NAME] = name
        areas.loc[inside, "msoa_name"] = name
        areas.loc[inside, "ward_name"] = HOSTILE[-1]
    patches = patches.rename(index={top[0]: HOSTILE_ID})
    areas[PATCH_ID] = areas[PATCH_ID].replace({top[0]: HOSTILE_ID})
    patches.loc[top[1], BAND_STATUS] = HOSTILE[0]  # a flagged patch with a hostile reason
    config = solihull_run.config
    specs = tuple(
        dataclasses.replace(s, label=HOSTILE_LABEL) if s.name == "imd_score" else s for s in config.need.indicators
    )
    config = dataclasses.replace(config, need=dataclasses.replace(config.need, indicators=specs))
    assessment = solihull_run.needs_assessment.copy()
    assessment.loc[assessment["indicator"] == "imd_score", "label"] = HOSTILE_LABEL
    stale = {f.name: None for f in dataclasses.fields(solihull_run) if f.name == "rollout"}  # built from old ids
    return dataclasses.replace(
        solihull_run,
        **stale,
        config=config,
        lad_name=HOSTILE_LA,
        areas=areas,
        patches=patches,
        needs_assessment=assessment,
        warnings=[HOSTILE[1]],
    )


@pytest.fixture(scope="module")
def hostile_html(hostile_run) -> str:
    return render_report(hostile_run)


# --- the HTML as text -----------------------------------------------------------------------


def test_report_is_one_self_contained_page(solihull_html):
    page = solihull_html
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">')
    assert page.count("<title>") == 1
    assert "<title>Where to start Local Area Coordination in Solihull</title>" in page
    assert "http" not in page  # no external links, scripts, styles, fonts or images at all
    for tag in ("<script", "<link", "<img", "<iframe", "<object", "<embed", "@import"):
        assert tag not in page.lower()
    assert not re.search(r"url\((?!#)", page)  # only the phase map's hatching, defined in the page
    assert not re.search(r"\ssrc\s*=", page)
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs and all(h.startswith("#") for h in hrefs)  # in-page links only
    targets = set(re.findall(r'\sid="([^"]*)"', page))
    assert {h[1:] for h in hrefs} <= targets
    assert len(targets) == len(re.findall(r'\sid="', page))  # ids are unique


def test_sections_come_in_order_with_headings_in_order(solihull_run, solihull_html):
    page = solihull_html
    patches = [f"patch-{pid}" for pid in solihull_run.recommended.index]
    ids = re.findall(r'<section[^>]*\sid="([^"]+)"', page)
    assert ids == [
        "summary",
        *patches,
        "against-england",
        "needs",
        "rollout",
        "evaluation",  # the run matched comparison patches to its picks (recommend.comparators)
        "method",
        "caveats",
        "sources",
    ]
    levels = [int(n) for n in re.findall(r"<h([1-6])\b", page)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))


def test_summary_names_each_phase_1_pick_with_population_and_need(solihull_run, solihull_html):
    summary = solihull_html.split('id="summary"')[1].split("</section>")[0]
    assert "Solihull" in summary and f"{len(solihull_run.patches)} contiguous patches" in summary
    for pid, row in solihull_run.recommended.iterrows():
        assert f"{pid} {escape_text(row[PATCH_NAME])} ({row[POPULATION]:,} people, need index " in summary
        assert f"{row['need_index']:.2f}" in summary
    assert summary.count("<svg") == 1 and summary.count('stroke="#b2182b"') == len(solihull_run.recommended)


def cells(page: str) -> str:
    """The page without the column labels its data cells carry for the phone layout."""
    return re.sub(r' data-label="[^"]*"', "", page)


def test_one_section_per_phase_1_patch_with_maps_profile_drivers_and_words(solihull_run, solihull_html):
    sections = re.findall(r'<section class="patch" id="patch-([^"]+)">(.*?)</section>', cells(solihull_html), re.S)
    assert [pid for pid, _ in sections] == list(solihull_run.recommended.index)
    eng = england_reference("2021")["means"]
    for pid, body in sections:
        row = solihull_run.patches.loc[pid]
        name = escape_text(row[PATCH_NAME])
        assert body.count("<svg") == 2 and 'role="img"' in body  # where it lies in the LA, and a close-up
        lead = re.search(r'<p class="lead">(.*?)</p>', body).group(1)
        assert lead.startswith(f"{name} is home to about {round(row[POPULATION], -2):,.0f} people in ")
        assert f"{row['share_imd_q1']:.0%} of them live in the most deprived fifth" in lead or "None of them" in lead
        assert f"England's {eng['imd_score']:.1f}" in lead
        assert f"{int(row[RANK])}" in lead.split("Taking everything together")[1] or row[RANK] == 1
        for heading in ("Profile against Solihull and England", "Where it is", "What drives its need"):
            assert f"<h3>{heading}</h3>" in body
        profile = body.split("<h3>Profile")[1].split("</table>")[0]
        assert f'<td class="num">{row[POPULATION]:,}</td>' in profile
        assert f"{row['need_index']:.2f} (rank {row[RANK]} of {len(solihull_run.patches)})" in profile
        # the need index's indicators are in the spine chart below, not repeated in the profile table
        assert "IMD score" not in profile.split("Need profile")[0]
        for q in range(1, 6):
            assert f'(IMD quintile {q})</th><td class="num">{row[f"share_imd_q{q}"]:.0%}</td>' in profile
        assert "In England's most deprived fifth (IMD quintile 1)" in profile
        drivers = body.split("What drives its need")[1]
        assert "IMD score" in drivers and "Preventable mortality (SMR)" in drivers


def test_drivers_add_up_to_the_patch_need_above_the_la_average(solihull_run, solihull_html):
    pid = solihull_run.recommended.index[0]
    body = cells(solihull_html).split(f'id="patch-{pid}"')[1].split("</section>")[0]
    above = float(re.search(r"Its need index, -?[\d.]+, is (-?[\d.]+) above", body).group(1))
    diffs = re.findall(r'<td class="num">([+-][\d.]+)</td></tr>', body.split("What drives its need")[1])
    assert len(diffs) == len(solihull_run.config.need.indicators)
    assert sum(map(float, diffs)) == pytest.approx(above, abs=0.02)


def test_england_reference_is_the_population_weighted_mean_over_england():
    lsoa = pd.read_parquet(load.data_file("lsoa21.parquet"), columns=[POPULATION])
    iod = pd.read_parquet(load.data_file("iod2025_lsoa21.parquet"), columns=["imd_score", "imd_decile"])
    pop = lsoa[POPULATION].reindex(iod.index)
    ref = england_reference("2021")
    assert ref["means"]["imd_score"] == pytest.approx(np.average(iod["imd_score"], weights=pop))
    assert ref["means"]["preventable_mortality_smr"] == 100.0
    assert ref["population"] == 56_490_046  # Census 2021 usual residents on LSOA 2021
    assert sum(ref["quintile_shares"].values()) == pytest.approx(1.0)
    old = england_reference("2011")
    assert 15 < old["means"]["imd_score"] < 30 and old["population"] == 56_550_138


def test_needs_assessment_has_a_chart_and_table_per_indicator(solihull_run, solihull_html):
    needs = solihull_html.split('id="needs"')[1].split("</section>")[0]
    figures = re.findall(r'<figure class="chart" id="chart-([^"]+)">(.*?)</figure>', needs, re.S)
    assert [name for name, _ in figures] == [s.name for s in solihull_run.config.need.indicators]
    assessment = solihull_run.needs_assessment
    for name, body in figures:
        rows = assessment[assessment["indicator"] == name].set_index("quintile")
        assert body.count('<rect class="bar"') == 5 and body.count('<g class="ci"') == 5
        assert "Local deprivation quintile" in body and "most deprived" in body and "stroke-dasharray" in body
        assert "<figcaption>" in body and body.count("<tr>") == 1 + 6  # header, quintiles 1-5, All
        assert f"{rows.at['1', 'value']:.2f}</td>" in body
        assert f"{rows.at['1', 'lower']:.2f} to {rows.at['1', 'upper']:.2f}" in body


def test_rollout_plan_covers_every_patch(solihull_run, solihull_html):
    plan = rollout_table(solihull_run)
    assert plan["n_patches"].sum() == len(solihull_run.patches)
    assert plan[POPULATION].sum() == solihull_run.patches[POPULATION].sum()
    assert list(plan[PHASE]) == sorted(solihull_run.patches[PHASE].unique())
    rollout = solihull_html.split('id="rollout"')[1].split("</section>")[0]
    for pid in solihull_run.patches.index:
        assert f"{pid} {escape_text(solihull_run.patches.at[pid, PATCH_NAME])}" in rollout
    assert rollout.count('<span class="swatch') == len(plan)
    assert rollout.count('<span class="swatch hatch"') == len(plan) // 2  # even phases hatched, as on the map


def test_method_caveats_and_attribution(solihull_run, solihull_html):
    page = solihull_html
    assert "LSOA 2021 boundaries are generalised to 200 m" in page
    assert "Population per LSOA 2021 is the Census 2021 usual-resident count" in page
    assert "deaths in 2015–19" in page
    assert "The need index is relative" in page
    assert "Every patch holds 8,000 to 12,000 people." in page
    assert escape_text(load.ATTRIBUTION) in page
    assert "Open Government Licence v3.0" in page and "House of Commons Library" in page
    assert f"seed {solihull_run.config.seed}" in page and "SYNTHETIC" not in page


def test_print_stylesheet_for_a4(solihull_html):
    css = solihull_html.split("<style>")[1].split("</style>")[0]
    assert "@page { size: A4;" in css
    printing = css.split("@media print")[1]
    assert "section.patch, section.break { break-before: page;" in printing
    assert "thead { display: table-header-group; }" in printing  # a split table repeats its header row
    assert "table.split:not(.keep) { break-inside: auto;" in printing and "tr, figure" in printing
    assert "h2, h3, caption, .intro { break-after: avoid;" in css  # no heading alone at a page's foot


def test_rendering_does_not_change_the_result(solihull_run):
    before = solihull_run.patches.copy(), solihull_run.areas.copy()
    render_report(solihull_run)
    pd.testing.assert_frame_equal(solihull_run.patches, before[0])
    pd.testing.assert_frame_equal(solihull_run.areas, before[1])


def test_same_result_gives_the_same_report(solihull_run, solihull_html):
    assert render_report(solihull_run) == solihull_html


def test_hostile_names_never_reach_the_page_raw(hostile_run, hostile_html):
    page = hostile_html
    for text in [*HOSTILE, HOSTILE_ID, HOSTILE_LA, HOSTILE_LABEL]:
        assert text not in page
        assert escape_text(text) in page
    assert "{{" not in page and "{%" not in page and "`" not in page and "${" not in page
    assert "<script" not in page and "<img" not in page and "<svg onload" not in page
    assert f"<title>Where to start Local Area Coordination in {escape_text(HOSTILE_LA)}</title>" in page
    assert f'id="patch-{escape_text(HOSTILE_ID)}"' in page
    assert html.unescape(escape_text(HOSTILE_ID)) == HOSTILE_ID
    caveats = page.split('id="caveats"')[1]
    assert (
        f"{escape_text(hostile_run.patches.index[1])} {escape_text(HOSTILE[1])}: {escape_text(HOSTILE[0])}" in caveats
    )


def test_read_aloud_paragraph_is_plain_words(hostile_run):
    from lacgeo.outputs.report.context import ReportContext

    report = ReportContext(hostile_run)
    text = read_aloud(report, HOSTILE_ID)
    assert text.startswith(escape_text(HOSTILE[0]) + " is home to about ")
    assert not set(text) & set("<>`{}$")  # words and entities only, no markup
    assert escape_text(HOSTILE_LA) in text and escape_text(HOSTILE_LABEL) in text


# --- SYNTHETIC data and council sources -------------------------------------------------------


def test_synthetic_report_says_so_at_the_top_and_in_the_title(synthetic_run, synthetic_html):
    page = synthetic_html
    assert "<title>Where to start Local Area Coordination in Wiltshire (SYNTHETIC data)</title>" in page
    body = page.split("<body>")[1]
    assert body.lstrip().startswith('<header><p class="synthetic">SYNTHETIC: this report is built from made-up')
    assert "<h1>Where to start Local Area Coordination in Wiltshire (SYNTHETIC data)</h1>" in page
    assert "<strong>SYNTHETIC data.</strong>" in page.split('id="caveats"')[1]
    assert "(SYNTHETIC: made up for the example)" in page.split('id="sources"')[1]


def test_council_indicators_are_rates_without_an_england_value(synthetic_run, synthetic_html):
    pid = synthetic_run.recommended.index[0]
    body = synthetic_html.split(f'id="patch-{pid}"')[1].split("</section>")[0]
    assert body.count("– (council data)</td>") == len(synthetic_run.sources)
    assert "(council data has no England value)</caption>" in body
    assert "Adult social care referrals (SYNTHETIC): " in body and "per 1,000 residents" in body
    chart = synthetic_html.split('id="chart-asc_referrals"')[1].split("</figure>")[0]
    assert ", per 1,000 residents</text>" in chart and "byars" in chart


def test_small_council_counts_are_not_shown(synthetic_run):
    """A phase-1 patch whose referrals add up to 1-7 has its rate withheld, as in patches.csv."""
    pid, result = with_small_patch_count(synthetic_run)
    page = render_report(result)
    body = page.split(f'id="patch-{pid}"')[1].split("</section>")[0]
    assert "not shown (small numbers)" in body
    assert "adult social care referrals (SYNTHETIC) is not shown because the numbers are small" in body


def test_wiltshire_report_is_small(synthetic_html):
    assert 50_000 < len(synthetic_html.encode("utf-8")) < 1_500_000


# --- in the browser ---------------------------------------------------------------------------


@pytest.fixture
def open_report(browser, tmp_path):
    contexts = []

    def _open(page_html: str) -> tuple:
        path = tmp_path / f"report{len(contexts)}.html"
        path.write_text(page_html, encoding="utf-8")
        context = browser.new_context(viewport={"width": 1200, "height": 900}, service_workers="block")
        contexts.append(context)
        seen = {"requests": [], "external": [], "errors": [], "dialogs": []}

        def guard(route):
            url = route.request.url
            if url.startswith(("file:", "data:")):
                route.continue_()
            else:
                seen["external"].append(url)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        page.on("request", lambda request: seen["requests"].append(request.url))
        page.on("console", lambda msg: seen["errors"].append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))

        def on_dialog(dialog):
            seen["dialogs"].append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(path.resolve().as_uri())
        page.wait_for_load_state("load")
        seen["self"] = path.resolve().as_uri()
        return page, seen

    yield _open
    for context in contexts:
        context.close()


BOXES = """(selector) => [...document.querySelectorAll(selector)].map(e => {
    const b = e.getBoundingClientRect(); return [b.width, b.height];
})"""


def test_report_draws_offline_and_prints(open_report, solihull_run, solihull_html):
    page, seen = open_report(solihull_html)
    n_indicators = len(solihull_run.config.need.indicators)
    n_rec = len(solihull_run.recommended)
    svgs = page.evaluate(BOXES, "svg")
    # overview, 2 per patch, a spine chart per patch, charts, rollout map
    assert len(svgs) == 1 + 3 * n_rec + n_indicators + 1
    assert all(w > 100 and h > 100 for w, h in svgs), svgs
    bars = page.evaluate(BOXES, "figure.chart rect.bar")
    assert len(bars) == 5 * n_indicators and all(w > 5 and h > 0 for w, h in bars), bars
    patches = page.evaluate(BOXES, "section.patch svg path")
    assert patches and all(w > 0 and h > 0 for w, h in patches)
    assert page.locator("figure.chart figcaption").count() == n_indicators
    assert page.locator("section.patch").count() == n_rec
    assert seen["requests"] == [seen["self"]]  # the page itself, nothing else
    assert seen["external"] == [] and seen["errors"] == [] and seen["dialogs"] == []

    page.emulate_media(media="print")
    style = "(s) => { const c = getComputedStyle(document.querySelector(s)); return [c.display, c.breakBefore]; }"
    assert page.evaluate(style, "nav")[0] == "none"
    assert page.evaluate(style, "section.patch")[1] == "page"
    assert page.evaluate(BOXES, "figure.chart svg")[0][0] > 100
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF-") and len(pdf) > 20_000
    assert seen["external"] == [] and seen["errors"] == []


def test_hostile_names_render_as_literal_text(open_report, hostile_html):
    page, seen = open_report(hostile_html)
    assert page.title() == f"Where to start Local Area Coordination in {HOSTILE_LA}"
    headings = page.locator("section.patch h2").all_text_contents()
    assert headings[0] == f"1. {HOSTILE_ID} {HOSTILE[0]}"
    assert any(HOSTILE[1] in h for h in headings)
    assert HOSTILE_LABEL in page.locator("#needs").inner_text()
    assert HOSTILE[-1] in page.locator("#rollout").inner_text()
    assert page.locator("img").count() == 0 and page.locator("script").count() == 0
    page.mouse.move(300, 300)
    page.wait_for_timeout(100)  # give any injected handler a chance to fire
    assert seen["dialogs"] == [] and seen["errors"] == [] and seen["external"] == []


def all_axe_violations(page) -> list[str]:
    """axe-core's violations of any impact: minor and moderate as well as serious and critical."""
    page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    violations = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [f"{v['impact']} {v['id']}: {v['help']} ({[n['target'] for n in v['nodes']][:3]})" for v in violations]


def test_axe_finds_no_violations_of_any_impact(open_report, synthetic_html):
    page, seen = open_report(synthetic_html)
    violations = all_axe_violations(page)
    assert violations == [], violations
    assert seen["errors"] == [] and seen["external"] == []


def test_the_patch_index_and_its_difference_from_the_average_are_not_confused(solihull_run, solihull_html):
    """The summary said need index 1.98 and the section '1.99 above the average' (the LA average is not 0)."""
    import html as html_lib
    import re

    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", solihull_html))
    for _, row in solihull_run.recommended.iterrows():
        assert f"Its need index, {row['need_index']:.2f}, is " in text
        if row["rank_low"] == row["rank_high"]:
            assert f"its need rank is {int(row['rank_low'])} in at least 95% of them" in text
    assert not re.search(r"between (\d+) and \1 in 95%", text)


def test_each_pick_has_a_spine_chart_against_england(solihull_run, solihull_html):
    """Fingertips-style: one row per compared indicator with the patch, area and England values, and a
    marker whose shape says worse, similar, better or not tested, as comparisons.csv does."""
    section = solihull_html.split('id="against-england"')[1].split("</section>")[0]
    charts = section.split('<figure class="spine">')[1:]
    assert len(charts) == len(solihull_run.recommended)
    table = solihull_run.comparisons
    for pid, chart in zip(solihull_run.recommended.index, charts, strict=True):
        rows = table[table["patch_id"] == pid]
        assert escape_text(pid) in chart.split("</figcaption>")[0]
        desc = re.search(r"<desc[^>]*>(.*?)</desc>", chart).group(1)
        for row in rows.itertuples():
            verdict = row.compared_with_nation.split(":")[0]
            assert f"{escape_text(row.label)}: " in desc and f"({verdict} England)" in desc
        kinds = rows["compared_with_nation"].map(
            lambda v: (
                "open"
                if v.startswith("not tested")
                else {"worse than": "worse", "better than": "better"}.get(v, "similar")
            )
        )
        # markers: triangles (paths) for worse/better, circles for similar/not tested, plus the legend's four
        body = chart.split("</desc>")[1]
        assert body.count("<circle") == (kinds.isin(["open", "similar"])).sum() + 2
        assert body.count('fill="#b2182b"') == (kinds == "worse").sum() + 1  # triangles pointing right
        assert body.count('fill="#2166ac"') == (kinds == "better").sum() + 1  # triangles pointing left
    assert "not tested" in section and "comparisons.csv" in section

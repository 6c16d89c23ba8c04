"""report.html on paper, on a phone and without colour.

The cover block (area, date, author, data periods, version), the date taken from
``SOURCE_DATE_EPOCH``, headline figures printed the same everywhere, close-up maps with
place names and a scale bar, and a phase map told apart in grey. Then in headless
Chromium: Wiltshire printed to A4 in at most 10 pages with no page under half full except
where a section ends, no sideways scrolling at 390×844, and axe-core with no violation of
any impact.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

import lacgeo
from lacgeo.outputs.escape import escape_text
from lacgeo.outputs.report import render_report
from lacgeo.outputs.report.context import ReportContext
from lacgeo.outputs.report.svg import phase_colours
from lacgeo.outputs.report.words import report_date
from lacgeo.schema import NEED_INDEX, PATCH_NAME, PHASE

from .test_report_html import all_axe_violations

EPOCH = "1796000000"  # 30 November 2026, 06:13 UTC
HOSTILE_AUTHOR = "<script>alert(1)</script> Public Health & {{ team }}"


@pytest.fixture(scope="module", autouse=True)
def source_date_epoch():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        yield


@pytest.fixture(scope="module")
def wiltshire_run():
    """Wiltshire with the default settings: the area whose printout was 16 pages."""
    return lacgeo.run(lacgeo.make_config(la="Wiltshire"))


@pytest.fixture(scope="module")
def wiltshire_html(wiltshire_run) -> str:
    return render_report(wiltshire_run)


def text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment)))


def cover_of(page: str) -> str:
    return page.split('<dl class="cover">')[1].split("</dl>")[0]


# --- the cover block --------------------------------------------------------------------------


def test_cover_names_area_date_author_data_periods_and_version(wiltshire_run, wiltshire_html):
    cover = text_of(cover_of(wiltshire_html))
    assert "Area Wiltshire (district or unitary council, E06000054)" in cover
    assert "Date 30 November 2026" in cover
    assert "Prepared by not stated" in cover
    assert "Deprivation: English Indices of Deprivation (IoD2025)" in cover
    assert "ONS LSOA 2021 boundaries" in cover and "Census 2021 usual residents" in cover
    assert "Preventable mortality (SMR):" in cover and "deaths registered 2015–19" in cover
    assert f"Made with lacgeo {lacgeo.__version__}, seed {wiltshire_run.config.seed}" in cover
    assert wiltshire_html.index('<dl class="cover">') < wiltshire_html.index('id="summary"')


def test_cover_prepared_by_is_escaped(wiltshire_run):
    config = wiltshire_run.config
    config = dataclasses.replace(config, report=dataclasses.replace(config.report, prepared_by=HOSTILE_AUTHOR))
    page = render_report(dataclasses.replace(wiltshire_run, config=config))
    assert f"<dt>Prepared by</dt><dd>{escape_text(HOSTILE_AUTHOR)}</dd>" in cover_of(page)
    assert HOSTILE_AUTHOR not in page and "<script" not in page


def test_cover_lists_council_data_and_says_synthetic(synthetic_run):
    cover = text_of(cover_of(render_report(synthetic_run)))
    labels = "; ".join(spec.label for spec in synthetic_run.config.sources)
    assert f"Council data: {labels} (SYNTHETIC: made up for the example); the files are listed under" in cover


def test_report_date_comes_from_source_date_epoch():
    assert report_date({"SOURCE_DATE_EPOCH": EPOCH}) == dt.date(2026, 11, 30)
    assert report_date({"SOURCE_DATE_EPOCH": "0"}) == dt.date(1970, 1, 1)
    assert report_date({}) == dt.date.today()
    assert report_date({"SOURCE_DATE_EPOCH": "yesterday"}) == dt.date.today()


def test_same_result_gives_the_same_bytes_on_another_day(wiltshire_run, wiltshire_html, monkeypatch):
    assert render_report(wiltshire_run) == wiltshire_html
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(EPOCH) + 86_400))
    later = render_report(wiltshire_run)
    assert later.replace("1 December 2026", "30 November 2026") == wiltshire_html


# --- one figure, one formatting ---------------------------------------------------------------


def test_headline_figures_are_printed_the_same_everywhere(wiltshire_run, wiltshire_html):
    text = text_of(wiltshire_html)
    report = ReportContext(wiltshire_run)
    la = report.la_need_text
    for pid in wiltshire_run.recommended.index:
        need = report.figures[pid]["need"]
        population = report.figures[pid]["population"]
        name = wiltshire_run.patches.at[pid, PATCH_NAME]
        assert f"{pid} {name} ({population} people, need index {need})" in text  # the summary
        assert f"{need} (rank {report.figures[pid]['rank']} of {len(wiltshire_run.patches)})" in text  # profile
        gap = re.search(
            rf"Its need index, {re.escape(need)}, is ([\d.]+) (above|below) the Wiltshire average of "
            rf"{re.escape(la)}",
            text,
        )
        assert gap, pid
        sign = 1 if gap.group(2) == "above" else -1
        assert float(need) - float(la) == pytest.approx(sign * float(gap.group(1)), abs=1e-9)  # adds up as printed
        for other in {f"{wiltshire_run.patches.at[pid, NEED_INDEX]:.{k}f}" for k in (1, 3)} - {need}:
            assert not re.search(rf"need index,? {re.escape(other)}(?!\d)", text)


# --- maps -------------------------------------------------------------------------------------


def closeups(page: str) -> list[str]:
    return re.findall(r'<svg [^>]*aria-labelledby="closeup-[^"]*".*?</svg>', page, re.S)


def test_closeups_name_places_and_carry_a_scale_bar(wiltshire_run, wiltshire_html):
    maps = closeups(wiltshire_html)
    assert len(maps) == len(wiltshire_run.recommended)
    msoas = set(wiltshire_run.areas["msoa_name"])
    for svg, (pid, _) in zip(maps, wiltshire_run.recommended.iterrows(), strict=True):
        labels = re.findall(r"<text([^>]*)>([^<]*)</text>", re.search(r'<g class="places">(.*?)</g>', svg).group(1))
        names = [html.unescape(name) for _, name in labels]
        assert names and set(names) <= msoas, names
        assert re.search(r'<g class="scale">.*?>\d+(\.\d+)? k?m</text></g>', svg)
        assert "places named:" in svg and "scale bar" in svg  # said in the description too
        inside = set(wiltshire_run.areas.loc[wiltshire_run.areas["patch_id"] == pid, "msoa_name"])
        bold = {html.unescape(name) for attrs, name in labels if 'font-weight="700"' in attrs}
        assert bold and bold <= inside  # the places in the patch, in bold


def test_the_pick_ring_goes_around_a_patch_never_over_it(wiltshire_run, wiltshire_html):
    report = ReportContext(wiltshire_run)
    summary = wiltshire_html.split('id="summary"')[1].split("</section>")[0]
    rings = [tuple(map(float, m)) for m in re.findall(r'<circle class="ring" cx="(\d+)" cy="(\d+)" r="(\d+)"', summary)]
    assert len(rings) == len(wiltshire_run.recommended)
    canvas = report.maps.canvas
    for (cx, cy, r), pid in zip(rings, wiltshire_run.recommended.index, strict=True):
        minx, miny, maxx, maxy = wiltshire_run.patches.geometry[pid].bounds
        for x, y in ((minx, miny), (minx, maxy), (maxx, miny), (maxx, maxy)):
            px, py = (
                (x - canvas.origin[0]) * canvas.scale + canvas.pad,
                (canvas.origin[1] - y) * canvas.scale + canvas.pad,
            )
            assert np.hypot(px - cx, py - cy) < r, pid  # every corner of the patch lies inside the ring


def relative_luminance(colour: str) -> float:
    rgb = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def test_phase_map_reads_in_greyscale(wiltshire_run, wiltshire_html):
    n = int(wiltshire_run.patches[PHASE].max())
    greys = [relative_luminance(c) for c in phase_colours(n)]
    assert all(b > a for a, b in zip(greys, greys[1:], strict=False))  # a lightness ramp, phase 1 darkest
    rollout = wiltshire_html.split('id="rollout"')[1].split("</section>")[0]
    svg = re.search(r"<svg .*?</svg>", rollout, re.S).group(0)
    assert '<pattern id="' in svg and 'class="hatch" fill="url(#' in svg  # even phases hatched
    numbers = re.findall(r'<g class="places">(.*?)</g>', svg, re.S)[0]
    assert {int(t) for t in re.findall(r">(\d+)</text>", numbers)} == set(range(1, n + 1))  # every phase numbered
    assert rollout.count('class="swatch hatch"') == n // 2


# --- in the browser ---------------------------------------------------------------------------


def open_page(browser, tmp_path, page_html: str, *, width: int, height: int):
    path = tmp_path / f"report-{width}.html"
    path.write_text(page_html, encoding="utf-8")
    context = browser.new_context(viewport={"width": width, "height": height}, service_workers="block")
    external = []

    def guard(route):
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            external.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    return context, page, external


def _read_pgm(path) -> np.ndarray:
    """A binary greyscale PGM (P5, 8-bit) as a 2-D array: what pdftoppm -gray writes, read without Pillow."""
    data = path.read_bytes()
    fields, pos = [], 0
    while len(fields) < 4:  # magic, width, height, maximum, separated by whitespace (no comments from pdftoppm)
        while data[pos : pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P5" and int(fields[3]) < 256, fields
    width, height = int(fields[1]), int(fields[2])
    return np.frombuffer(data, dtype=np.uint8, count=width * height, offset=pos + 1).reshape(height, width)


def pdf_pages(pdf: bytes, tmp_path) -> list[tuple[str, float]]:
    """Each printed page's text and how far down it its content reaches (0 to 1)."""
    if not (shutil.which("pdftoppm") and shutil.which("pdftotext")):
        pytest.fail("the print test needs poppler's pdftoppm and pdftotext: `apt-get install poppler-utils`", False)
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "30", "-gray", str(path), str(tmp_path / "page")], check=True)  # PGM files
    pages = []
    for i, pgm in enumerate(sorted(tmp_path.glob("page-*.pgm")), 1):
        pixels = _read_pgm(pgm)
        inked = np.nonzero((pixels < 200).any(axis=1))[0]
        margin = round(pixels.shape[0] * 11 / 297)  # the bottom margin, in pixels
        depth = (inked.max() + 1) / (pixels.shape[0] - margin) if len(inked) else 0.0
        text = subprocess.run(
            ["pdftotext", "-f", str(i), "-l", str(i), "-layout", str(path), "-"], capture_output=True, text=True
        ).stdout
        pages.append((text, depth))
    return pages


def section_starts(run) -> list[str]:
    """The headings that start a printed page: each phase-1 patch and the needs assessment."""
    return [f"{int(row['rank'])}. {pid} " for pid, row in run.recommended.iterrows()] + ["Needs assessment"]


def test_wiltshire_prints_on_at_most_10_full_pages(browser, tmp_path, wiltshire_run, wiltshire_html):
    context, page, external = open_page(browser, tmp_path, wiltshire_html, width=1200, height=900)
    pdf = page.pdf(format="A4", print_background=True)
    context.close()
    pages = pdf_pages(pdf, tmp_path)
    assert len(pages) <= 10, len(pages)
    starts = section_starts(wiltshire_run)
    first_lines = [text.strip().splitlines()[0].strip() if text.strip() else "" for text, _ in pages]
    opened = [i for i, line in enumerate(first_lines) if any(line.startswith(s) for s in starts)]
    assert len(opened) == len(starts), first_lines  # each section starts its own page
    ends = {i - 1 for i in opened} | {len(pages) - 1}
    for i, (text, depth) in enumerate(pages):
        if i not in ends:
            assert depth >= 0.5, f"page {i + 1} is only {depth:.0%} full: {first_lines[i]!r}"
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        assert lines[-1] not in ("Rollout plan", "Method", "Needs assessment", "What drives its need"), i + 1
    assert external == []


def test_a_phone_never_scrolls_sideways(browser, tmp_path, wiltshire_html, synthetic_run):
    for page_html in (wiltshire_html, render_report(synthetic_run)):
        context, page, external = open_page(browser, tmp_path, page_html, width=390, height=844)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)"
            ".map(e => e.tagName + '.' + e.className).slice(0, 5)"
        )
        assert wide == []
        label = page.evaluate("getComputedStyle(document.querySelector('table.profile td'), '::before').content")
        assert label.startswith('"This patch')  # a stacked cell says which column it is
        context.close()
        assert external == []


def test_axe_finds_no_violations_of_any_impact(browser, tmp_path, synthetic_run, wiltshire_html):
    for page_html in (render_report(synthetic_run), wiltshire_html):
        for width, height in ((1200, 900), (390, 844)):
            context, page, _ = open_page(browser, tmp_path, page_html, width=width, height=height)
            violations = all_axe_violations(page)
            context.close()
            assert violations == [], (width, violations)


def test_national_values_for_catalogue_indicators():
    """The England column is filled for every shipped indicator, not only the IoD scores."""
    from lacgeo import load
    from lacgeo.catalogue import CATALOGUE
    from lacgeo.outputs.report.words import national_value

    share = CATALOGUE["disability_pct"]
    counts = pd.read_parquet(load.data_file(share.file_for("2021")), columns=[share.column, share.denominator])
    iod = pd.read_parquet(load.data_file("iod2025_lsoa21.parquet"), columns=[]).index
    counts = counts.reindex(iod)
    expected = 100 * counts[share.column].sum() / counts[share.denominator].sum()
    assert national_value("England", "2021", "disability_pct") == pytest.approx(expected)
    assert 10 < national_value("England", "2021", "disability_pct") < 25
    assert national_value("England", "2021", "preventable_mortality_smr") == 100.0
    assert 50 < national_value("England", "2021", "acute_morbidity") < 150
    assert np.isnan(national_value("Wales", "2011", "preventable_mortality_smr"))  # England only


def test_every_profile_row_of_the_default_run_has_an_england_value(wiltshire_run, wiltshire_html):
    pid = wiltshire_run.recommended.index[0]
    rows = wiltshire_run.comparisons[wiltshire_run.comparisons["patch_id"] == pid].set_index("indicator")
    for spec in wiltshire_run.config.need.indicators:  # each shown in the spine chart with its England value
        assert pd.notna(rows.loc[spec.name, "national_value"]), spec.name
    spine = wiltshire_html.split('id="against-england"')[1].split("</figure>")[0]
    for value in rows["national_value"]:
        assert f">{value:,.1f}<" in spine or f">{value:,.0f}<" in spine or f">{value:.2f}<" in spine

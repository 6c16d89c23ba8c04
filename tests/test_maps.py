"""map.html: self-contained, accessible and escaped.

First as text, then opened in headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright) from file:// with every other request blocked: it must draw the patches,
show tooltips, obey the layer control, log no errors, try no network request, run no
injected script, and pass axe-core with no serious or critical violations.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pytest
from branca.element import JavascriptLink
from playwright.sync_api import expect, sync_playwright

import lacgeo
from lacgeo import maps
from lacgeo.schema import AREA_NAME, PATCH_ID, PATCH_NAME, PHASE, RANK, WGS84

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"  # axe-core 4.14.1 from npm, MPL-2.0

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "{{ 7*7 }} {% if 1 %}jinja{% endif %}",
    "`${alert(2)}` back`tick",
    "</script><script>alert(3)</script>",
]


# --- the HTML as text -----------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE + ["Smith's Wood & Fordbridge", "naïve – café"])
def test_escape_text_neutralises_html_js_templates_and_jinja(text):
    safe = maps.escape_text(text)
    assert not set(safe) & set("<>\"'`{}$")
    assert html.unescape(safe) == text


def test_map_html_is_self_contained(solihull_out):
    page = (solihull_out / "map.html").read_text(encoding="utf-8")
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:", page)  # base64 may spell anything
    assert "cdn" not in text.lower()
    assert re.findall(r"<script\b[^>]*>", page, re.I) == ["<script>"] * 3  # Leaflet, folium's switches, the map
    assert re.findall(r"<link\b[^>]*>", page, re.I) == ['<link rel="icon" href="data:,">']
    assert not re.search(r"\bsrc\s*=\s*[\"']?(https?:)?//", page, re.I)
    styles = "".join(re.findall(r"<style>(.*?)</style>", page, re.S))
    assert not re.search(r"@import|url\((?!data:|#default#VML)", styles, re.I)
    assert f"Leaflet {maps.LEAFLET_VERSION}" in page
    for library in ("jquery", "bootstrap", "awesome-markers", "d3.min"):
        assert library not in text.lower()


def test_map_html_has_lang_title_and_a_zoomable_viewport(solihull_out):
    page = (solihull_out / "map.html").read_text(encoding="utf-8")
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert page.count("<title>") == 1
    assert "<title>lacgeo: Local Area Coordination patches for Solihull</title>" in page
    viewports = re.findall(r"<meta\s+name=\"viewport\"[^>]*>", page)
    assert viewports == ['<meta name="viewport" content="width=device-width, initial-scale=1">']
    assert "user-scalable" not in page and "maximum-scale" not in page


def test_map_html_has_a_table_of_every_patch(solihull_run, solihull_out):
    page = (solihull_out / "map.html").read_text(encoding="utf-8")
    table = page[page.index('<details class="lacgeo-table">') : page.index("</details>")]
    assert table.count("<tr") == len(solihull_run.patches) + 1
    for pid, row in solihull_run.patches.iterrows():
        assert f"<td>{pid}</td><td>{maps.escape_text(row[PATCH_NAME])}</td>" in table


def test_map_refuses_to_load_anything_from_the_network(solihull_run):
    fmap = maps.make_map(solihull_run.areas, solihull_run.patches, title="t")
    fmap.get_root().header.add_child(JavascriptLink("https://example.invalid/lib.js"), name="lib")
    with pytest.raises(ValueError, match=r"must draw offline, but would load lib \(https://example.invalid/lib.js\)"):
        fmap.get_root().render()


def test_synthetic_data_is_flagged_on_the_page(solihull_run):
    page = maps.make_map(solihull_run.areas, solihull_run.patches, title="t", synthetic=True).get_root().render()
    assert '<p class="lacgeo-warning">SYNTHETIC service-demand data: not for decisions</p>' in page


@pytest.mark.slow
def test_wiltshire_map_is_under_3_mb(tmp_path):
    result = lacgeo.run(lacgeo.make_config(la="Wiltshire"))
    maps.make_map(result.areas, result.patches, title="Wiltshire").save(str(tmp_path / "map.html"))
    size = (tmp_path / "map.html").stat().st_size
    assert 300_000 < size < 3_000_000


# --- hostile names --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(solihull_run, tmp_path_factory):
    """Solihull with hostile patch names (top-ranked patches), area names and title."""
    areas = solihull_run.areas.copy()
    patches = solihull_run.patches.copy()
    top = patches.sort_values(RANK).index[: len(HOSTILE)]
    patches.loc[top, PATCH_NAME] = HOSTILE
    for pid, name in zip(top, HOSTILE, strict=True):
        areas.loc[areas[PATCH_ID] == pid, AREA_NAME] = name
    path = tmp_path_factory.mktemp("hostile") / "map.html"
    maps.make_map(areas, patches, title=HOSTILE[0] + " " + HOSTILE[1]).save(str(path))
    return path, areas, patches


def test_hostile_names_never_reach_the_page_raw(hostile):
    path, _, _ = hostile
    page = path.read_text(encoding="utf-8")
    for text in HOSTILE:
        assert text not in page
        assert maps.escape_text(text) in page  # there, as entities, not evaluated away by a template engine
    assert "{{" not in page and "{%" not in page


# --- in the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"the map tests need headless Chromium at {CHROMIUM}: install Debian's package with "
            "`apt-get install -y chromium` (Playwright drives it; never run `playwright install`)",
            pytrace=False,
        )
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Opened:
    """A map page opened with the network blocked, and what it tried to do."""

    page: object
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.errors == [], f"console errors: {self.errors}"
        assert self.external == [], f"attempted network requests: {self.external}"
        assert self.dialogs == [], f"script ran from data (dialogs): {self.dialogs}"

    def to_screen(self, lat: float, lon: float, zoom: float) -> tuple[float, float]:
        """Centre the map on (lat, lon) at ``zoom``; the point's page coordinates."""
        return self.page.evaluate(
            """([lat, lon, zoom]) => {
                const map = window[document.querySelector('.folium-map').id];
                map.setView([lat, lon], zoom, {animate: false});
                const p = map.latLngToContainerPoint([lat, lon]);
                const box = map.getContainer().getBoundingClientRect();
                return [box.left + p.x, box.top + p.y];
            }""",
            [lat, lon, zoom],
        )

    def hover(self, lat: float, lon: float, *, zoom: float = 15) -> tuple[str, str]:
        """Move the mouse onto (lat, lon): the class of the path under it and the tooltip's text."""
        tooltip = self.page.locator(".leaflet-tooltip-pane .leaflet-tooltip")
        self.page.mouse.move(1, 1)  # off the map: any open tooltip closes
        expect(tooltip).to_have_count(0)
        x, y = self.to_screen(lat, lon, zoom)
        self.page.mouse.move(x, y, steps=4)
        under = self.page.evaluate("([x, y]) => document.elementFromPoint(x, y).getAttribute('class')", [x, y])
        expect(tooltip).to_have_count(1)
        return under or "", tooltip.inner_text()


@pytest.fixture
def open_map(browser):
    contexts = []

    def _open(path: Path) -> Opened:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page)

        def guard(route):
            url = route.request.url
            if url.startswith(("file:", "data:")):
                route.continue_()
            else:
                opened.external.append(url)
                route.abort()

        context.route("**/*", guard)
        page.on("request", lambda request: opened.requests.append(request.url))
        page.on("console", lambda msg: opened.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: opened.errors.append(str(exc)))

        def on_dialog(dialog):
            opened.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(path.resolve().as_uri())
        page.wait_for_selector(f"path.{maps.CLASS_PATCH}", state="attached")
        return opened

    yield _open
    for context in contexts:
        context.close()


def _point(frame: gpd.GeoDataFrame, key: str) -> tuple[float, float]:
    point = frame.loc[[key]].geometry.representative_point().to_crs(WGS84).iloc[0]
    return point.y, point.x


def test_network_guard_catches_requests(open_map, solihull_out):
    opened = open_map(solihull_out / "map.html")
    opened.page.evaluate("() => fetch('https://cdn.example.invalid/x.js').catch(() => null)")
    assert opened.external == ["https://cdn.example.invalid/x.js"]


def test_map_draws_every_patch_offline(open_map, solihull_run, solihull_out):
    opened = open_map(solihull_out / "map.html")
    page = opened.page
    n_patches = len(solihull_run.patches)
    n_recommended = int((solihull_run.patches[PHASE] == 1).sum())
    assert page.locator(f"path.{maps.CLASS_PATCH}").count() == n_patches
    assert page.locator("table.lacgeo-patches tbody tr").count() == n_patches
    assert page.locator(f"path.{maps.CLASS_RECOMMENDED}").count() == n_recommended
    assert page.locator(f"path.{maps.CLASS_AREA}").count() == len(solihull_run.areas)
    assert page.locator(f"path.{maps.CLASS_OUTLINE}").count() == 1
    assert page.locator(f".{maps.CLASS_LABEL} span").count() == n_patches
    # every patch is actually drawn inside the map: a real outline, within the map's box
    boxes = page.evaluate(
        """(cls) => {
            const map = document.querySelector('.folium-map').getBoundingClientRect();
            return [...document.querySelectorAll('path.' + cls)].map(p => {
                const b = p.getBoundingClientRect();
                return [p.getAttribute('d').length, b.width, b.height,
                        b.left >= map.left - 1 && b.right <= map.right + 1 &&
                        b.top >= map.top - 1 && b.bottom <= map.bottom + 1];
            });
        }""",
        maps.CLASS_PATCH,
    )
    assert all(d > 20 and w > 3 and h > 3 and inside for d, w, h, inside in boxes), boxes
    labels = page.locator(f".{maps.CLASS_LABEL} span").all_text_contents()
    assert sorted(labels) == sorted(solihull_run.patches[PATCH_NAME])
    assert page.locator("img").count() == 0
    assert opened.requests == [(solihull_out / "map.html").resolve().as_uri()]  # the page itself, nothing else
    opened.assert_clean()


def test_hovering_shows_patch_and_area_tooltips(open_map, solihull_run, solihull_out):
    opened = open_map(solihull_out / "map.html")
    patches, areas = solihull_run.patches, solihull_run.areas
    top = patches.sort_values(RANK).index[0]
    under, text = opened.hover(*_point(patches, top), zoom=14)
    assert maps.CLASS_RECOMMENDED in under
    assert top in text and patches.at[top, PATCH_NAME] in text
    assert "Need rank" in text and "Population band" in text
    # an area in a patch that is not recommended shows its own tooltip, with its patch
    code = areas.index[areas[PATCH_ID].map(patches[PHASE]) > 1][0]
    under, text = opened.hover(*_point(areas, code), zoom=16)
    assert maps.CLASS_AREA in under
    assert code in text and areas.at[code, AREA_NAME] in text
    assert patches.at[areas.at[code, PATCH_ID], PATCH_NAME] in text
    opened.assert_clean()


def test_layer_control_hides_and_shows_layers(open_map, solihull_run, solihull_out):
    opened = open_map(solihull_out / "map.html")
    page = opened.page
    patches = page.locator(f"path.{maps.CLASS_PATCH}")
    labels = page.locator(f".{maps.CLASS_LABEL}")
    page.get_by_label(maps.LAYER_PATCHES).uncheck()
    assert patches.count() == 0
    page.get_by_label(maps.LAYER_LABELS).uncheck()
    assert labels.count() == 0
    page.get_by_label(maps.LAYER_PATCHES).check()
    assert patches.count() == len(solihull_run.patches)
    assert labels.count() == 0
    # the two shadings are radio buttons: one replaces the other
    fills = "(cls) => [...new Set([...document.querySelectorAll('path.' + cls)].map(p => p.getAttribute('fill')))]"
    assert not set(page.evaluate(fills, maps.CLASS_AREA)) <= set(maps.QUINTILE_COLOURS.values())
    page.get_by_label(maps.LAYER_QUINTILE).check()
    assert page.locator(f"path.{maps.CLASS_AREA}").count() == len(solihull_run.areas)
    assert set(page.evaluate(fills, maps.CLASS_AREA)) <= set(maps.QUINTILE_COLOURS.values())
    assert not page.get_by_label(maps.LAYER_NEED).is_checked()
    opened.assert_clean()


def test_hostile_names_render_as_literal_text(open_map, hostile):
    path, areas, patches = hostile
    opened = open_map(path)
    page = opened.page
    assert page.title() == HOSTILE[0] + " " + HOSTILE[1]
    labels = page.locator(f".{maps.CLASS_LABEL} span").all_text_contents()
    cells = page.locator("table.lacgeo-patches tbody td:nth-child(2)").all_text_contents()
    for text in HOSTILE:
        assert text in labels
        assert text in cells
    for pid in patches.sort_values(RANK).index[: len(HOSTILE)]:
        _, text = opened.hover(*_point(patches, pid), zoom=14)
        assert patches.at[pid, PATCH_NAME] in text
    code = areas.index[areas[AREA_NAME] == HOSTILE[-1]][0]
    _, text = opened.hover(*_point(areas, code), zoom=16)
    assert HOSTILE[-1] in text
    assert page.locator("img").count() == 0
    assert "49" not in " ".join(labels)
    page.wait_for_timeout(200)  # give any injected handler a chance to fire
    opened.assert_clean()


def test_axe_finds_no_serious_or_critical_violations(open_map, solihull_out):
    opened = open_map(solihull_out / "map.html")
    page = opened.page
    page.locator("details.lacgeo-table summary").click()  # check the table too
    page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    violations = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    serious = [
        f"{v['impact']} {v['id']}: {v['help']} ({[n['target'] for n in v['nodes']][:3]})"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], serious
    opened.assert_clean()

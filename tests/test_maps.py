"""map.html: self-contained, accessible and escaped.

First as text, then opened in headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright) from file:// with every other request blocked: it must draw the patches,
show tooltips, obey the layer control, log no errors, try no network request, run no
injected script, and pass axe-core with no violations of any impact.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from branca.element import JavascriptLink
from playwright.sync_api import expect

import lacgeo
from lacgeo import load
from lacgeo.config import config_from_dict
from lacgeo.outputs import area_table
from lacgeo.outputs import map as maps
from lacgeo.outputs.escape import escape_text
from lacgeo.outputs.map import widgets as map_widgets
from lacgeo.outputs.map.page import LEAFLET_VERSION
from lacgeo.schema import AREA_NAME, MSOA_NAME, PATCH_ID, PATCH_NAME, PHASE, RANK, WARD_NAME, WGS84

from .conftest import AXE_JS

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "{{ 7*7 }} {% if 1 %}jinja{% endif %}",
    "`${alert(2)}` back`tick",
    "</script><script>alert(3)</script>",
]


# --- the HTML as text -----------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE + ["Smith's Wood & Fordbridge", "naïve – café"])
def test_escape_text_neutralises_html_js_templates_and_jinja(text):
    safe = escape_text(text)
    assert not set(safe) & set("<>\"'`{}$")
    assert html.unescape(safe) == text


@pytest.mark.parametrize("which", ["solihull_out", "full_map"])
def test_map_html_is_self_contained(which, request):
    path = request.getfixturevalue(which)
    page = (path / "map.html" if path.is_dir() else path).read_text(encoding="utf-8")
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:", page)  # base64 may spell anything
    assert "cdn" not in text.lower()
    assert re.findall(r"<script\b[^>]*>", page, re.I) == ["<script>"] * 3  # Leaflet, folium's switches, the map
    assert re.findall(r"<link\b[^>]*>", page, re.I) == ['<link rel="icon" href="data:,">']
    assert not re.search(r"\bsrc\s*=\s*[\"']?(https?:)?//", page, re.I)
    styles = "".join(re.findall(r"<style>(.*?)</style>", page, re.S))
    assert not re.search(r"@import|url\((?!data:|#default#VML)", styles, re.I)
    assert f"Leaflet {LEAFLET_VERSION}" in page
    for library in ("jquery", "bootstrap", "awesome-markers", "d3.min"):
        assert library not in text.lower()
    for script in re.findall(r"<script>(.*?)</script>", page, re.S):
        assert "<!--" not in script and "<script" not in script.lower()


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
    table = page[page.index('<details class="lacgeo-table"') : page.index("</details>")]
    assert table.count("<tr") == len(solihull_run.patches) + 1
    for pid, row in solihull_run.patches.iterrows():
        assert f"<td>{pid}</td><td>{escape_text(row[PATCH_NAME])}</td>" in table


def test_map_refuses_to_load_anything_from_the_network(solihull_run):
    fmap = maps.make_map(solihull_run.areas, solihull_run.patches, title="t")
    fmap.get_root().header.add_child(JavascriptLink("https://example.invalid/lib.js"), name="lib")
    with pytest.raises(ValueError, match=r"must draw offline, but would load lib \(https://example.invalid/lib.js\)"):
        fmap.get_root().render()


def test_synthetic_data_is_flagged_on_the_page(solihull_run):
    page = maps.make_map(solihull_run.areas, solihull_run.patches, title="t", synthetic=True).get_root().render()
    assert '<p class="lacgeo-warning">SYNTHETIC service-demand data: not for decisions</p>' in page


def test_wiltshire_map_is_under_3_mb(synthetic_run, synthetic_out):
    """Wiltshire (307 LSOAs) with every layer, council indicators included, stays small enough to email."""
    size = (synthetic_out / "map.html").stat().st_size
    assert 300_000 < size < 3_000_000
    page = (synthetic_out / "map.html").read_text(encoding="utf-8")
    for spec in synthetic_run.config.need.indicators:
        assert json.dumps(spec.label or spec.name) in page  # a layer per indicator


# --- the full map: indicator and profile layers, withheld values, the search index ------------


@pytest.fixture(scope="module")
def full_map(solihull_run, tmp_path_factory):
    """Solihull drawn as a run draws it: every indicator, need profiles, the search box."""
    path = tmp_path_factory.mktemp("full") / "map.html"
    maps.make_result_map(solihull_run, title="Solihull").save(str(path))
    return path


COUNCIL_LABEL = "Council <i>demand</i> {{ 7*7 }}"


@pytest.fixture(scope="module")
def council(tmp_path_factory):
    """Solihull with a council source of counts (40 per LSOA, 3 in one): the map and the run."""
    folder = tmp_path_factory.mktemp("council")
    areas = load.read_areas("E08000029")
    counts = pd.Series(40, index=areas.index)
    small = areas.index[10]
    counts[small] = 3
    pd.DataFrame({"code": counts.index, "n": counts.to_numpy()}).to_csv(folder / "demand.csv", index=False)
    config = config_from_dict(
        {
            "area": {"la": "Solihull"},
            "sources": [{"name": "demand", "path": str(folder / "demand.csv"), "code_col": "code", "value_col": "n"}],
            "need": {"indicators": [{"name": "imd_score", "weight": 2}, {"name": "demand", "label": COUNCIL_LABEL}]},
            "recommend": {"robustness_draws": 0},
        }
    )
    result = lacgeo.run(config)
    maps.make_result_map(result, title="Solihull with council data").save(str(folder / "map.html"))
    return folder / "map.html", result, small


def _embedded(page: str, name: str):
    """A JSON literal the page script declares as ``var <name> = ...;``."""
    match = re.search(rf"\n  var {name} = (.*);\n", page)
    assert match, f"no var {name} in the page script"
    return json.loads(match.group(1))


def test_every_indicator_and_the_profiles_get_a_layer_and_a_legend(solihull_run, full_map):
    page = full_map.read_text(encoding="utf-8")
    specs = solihull_run.config.need.indicators
    names = [maps.LAYER_NEED, maps.LAYER_QUINTILE] + [s.label or s.name for s in specs] + [maps.LAYER_PROFILES]
    control = re.search(r"base_layers : \{(.*?)\}", page, re.S).group(1)
    assert re.findall(r'"([^"]+)" : ', control) == names  # radio buttons, in this order
    legend = page[page.index('<div class="lacgeo-legend"') : page.index("</div><svg")]
    sections = re.findall(r'<div class="shading" data-shading="(\d+)"( hidden)?><h2>([^<]*)</h2>', legend)
    assert [int(k) for k, _, _ in sections] == list(range(len(names)))
    assert [h for _, h, _ in sections] == [""] + [" hidden"] * (len(names) - 1)  # the need index shows first
    for spec in specs:
        assert any(title == escape_text(spec.label or spec.name) for _, _, title in sections)
    profiles = solihull_run.areas["need_profile"].unique()  # the run's names, as in every other output
    for profile in profiles:
        assert escape_text(profile) in legend
        assert "group" not in profile
    data = _embedded(page, "data")
    assert len(data["features"]) == len(solihull_run.areas)  # the area shapes, once for every shading
    assert all(len(f["properties"]["fill"]) == len(names) for f in data["features"])


def test_indicator_layers_need_the_controlled_values(solihull_run):
    spec = solihull_run.config.need.indicators[0]
    with pytest.raises(ValueError, match=rf"no value_ column for indicator\(s\) {spec.name}; pass the disclosure"):
        maps.make_map(solihull_run.areas, solihull_run.patches, title="t", indicators=[spec])


def test_withheld_council_values_never_reach_the_page(council):
    path, result, small = council
    page = path.read_text(encoding="utf-8")
    table = area_table(result)
    withheld = set(table.index[table["value_demand"].isna()])
    assert small in withheld and len(withheld) >= 2  # primary and secondary suppression
    data = _embedded(page, "data")
    shadings = _embedded(page, "shadings")
    k = [row[0] for rows in shadings for row in rows[2:3]].index(escape_text(COUNCIL_LABEL))
    col = [row[1] for row in shadings[k] if isinstance(row[1], int)][0]
    for feature in data["features"]:
        props = feature["properties"]
        code = html.unescape(props["code"])
        if code in withheld:
            assert props["v"][col] == map_widgets.WITHHELD_TEXT
            assert props["fill"][k] == map_widgets.WITHHELD_FILL
        else:
            assert props["v"][col] == maps.format_value(table.at[code, "value_demand"])
            assert props["fill"][k].startswith("#")
    assert COUNCIL_LABEL not in page and "{{" not in page
    assert f"Withheld (small number): {len(withheld)} areas" in page


def test_search_index_lists_patches_wards_neighbourhoods_and_lsoas(solihull_run, full_map):
    places = _embedded(full_map.read_text(encoding="utf-8"), "places")
    areas, patches = solihull_run.areas, solihull_run.patches
    kinds = [p["k"] for p in places]
    assert kinds.count(map_widgets.KIND_PATCH) == len(patches)
    assert kinds.count(map_widgets.KIND_WARD) == areas[WARD_NAME].nunique()
    assert kinds.count(map_widgets.KIND_MSOA) == areas[MSOA_NAME].nunique()
    assert kinds.count(map_widgets.KIND_AREA) == len(areas)
    lsoas = {html.unescape(p["c"]): p for p in places if p["k"] == map_widgets.KIND_AREA}
    assert set(lsoas) == set(areas.index)
    for code, place in list(lsoas.items())[:10]:
        (south, west), (north, east) = place["b"]
        lat, lon = _point(areas, code)
        assert south <= lat <= north and west <= lon <= east


# --- hostile names --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(solihull_run, tmp_path_factory):
    """Solihull with hostile patch names (top-ranked patches), area names and title."""
    areas = solihull_run.areas.copy()
    patches = solihull_run.patches.copy()
    top = patches.sort_values(RANK).index[: len(HOSTILE)]
    patches.loc[top, PATCH_NAME] = HOSTILE
    for pid, name in zip(top, HOSTILE, strict=True):
        areas.loc[areas[PATCH_ID] == pid, [AREA_NAME, WARD_NAME, MSOA_NAME]] = name
    path = tmp_path_factory.mktemp("hostile") / "map.html"
    maps.make_map(areas, patches, title=HOSTILE[0] + " " + HOSTILE[1]).save(str(path))
    return path, areas, patches


def test_hostile_names_never_reach_the_page_raw(hostile):
    path, _, _ = hostile
    page = path.read_text(encoding="utf-8")
    for text in HOSTILE:
        assert text not in page
        assert escape_text(text) in page  # there, as entities, not evaluated away by a template engine
    assert "{{" not in page and "{%" not in page
    assert len(re.findall(r"</script", page, re.I)) == 3  # no name closes a script early
    places = _embedded(page, "places")
    for text in HOSTILE:
        assert {p["k"] for p in places if p["n"] == escape_text(text)} >= {
            map_widgets.KIND_PATCH,
            map_widgets.KIND_WARD,
            map_widgets.KIND_MSOA,
            map_widgets.KIND_AREA,
        }


# --- in the browser ---------------------------------------------------------------------------


def axe_violations(page) -> list[str]:
    """Inject axe-core into ``page`` and list every violation, of any impact."""
    page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    violations = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [f"{v['impact']} {v['id']}: {v['help']} ({[n['target'] for n in v['nodes']][:3]})" for v in violations]


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

    def _open(path: Path, *, viewport: tuple[int, int] = (1280, 900), bypass_csp: bool = False) -> Opened:
        context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, service_workers="block", bypass_csp=bypass_csp
        )
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
    """The test's guard sees any request (the page's own policy set aside), and the page's
    content security policy refuses it before it leaves."""
    opened = open_map(solihull_out / "map.html", bypass_csp=True)
    opened.page.evaluate("() => fetch('https://cdn.example.invalid/x.js').catch(() => null)")
    assert opened.external == ["https://cdn.example.invalid/x.js"]
    opened = open_map(solihull_out / "map.html")
    opened.page.evaluate("() => fetch('https://cdn.example.invalid/x.js').catch(() => null)")
    assert opened.external == []
    assert any("Content Security Policy" in e for e in opened.errors), opened.errors


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
    assert page.locator(f".{maps.CLASS_LABEL} .name").count() == n_patches
    assert page.locator(f".{maps.CLASS_PICK} .pin").all_text_contents() == [str(n) for n in range(1, n_recommended + 1)]
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
    labels = page.locator(f".{maps.CLASS_LABEL} .name").all_text_contents()
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
    n_picks = int((solihull_run.patches[PHASE] == 1).sum())
    page.get_by_label(maps.LAYER_PATCHES).uncheck()
    assert patches.count() == 0
    page.get_by_label(maps.LAYER_LABELS).uncheck()
    assert labels.count() == n_picks  # the picks' numbered names stay
    page.get_by_label(maps.LAYER_PATCHES).check()
    assert patches.count() == len(solihull_run.patches)
    assert labels.count() == n_picks
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
    labels = page.locator(f".{maps.CLASS_LABEL} .name").all_text_contents()
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


FILLS = "(cls) => [...document.querySelectorAll('path.' + cls)].map(p => p.getAttribute('fill'))"
SHOWN_LEGEND = "() => [...document.querySelectorAll('.lacgeo-legend [data-shading]')].filter(s => !s.hidden)"


def _legend_shown(page) -> list[str]:
    """The text of each legend section on show (one: the chosen shading's)."""
    return page.evaluate(SHOWN_LEGEND + ".map(s => s.innerText)")


def _map_view(page) -> dict:
    return page.evaluate(
        """() => {
            const map = window[document.querySelector('.folium-map').id];
            const b = map.getBounds();
            return {zoom: map.getZoom(), south: b.getSouth(), west: b.getWest(),
                    north: b.getNorth(), east: b.getEast()};
        }"""
    )


def _popup_text(page) -> str:
    """The text of the one popup open (a popup closed a moment ago fades out first)."""
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_have_count(1)
    expect(popup).to_be_visible()
    return popup.inner_text()


def test_indicator_layers_recolour_the_areas(open_map, solihull_run, full_map):
    opened = open_map(full_map)
    page = opened.page
    table = area_table(solihull_run)
    n_areas = len(solihull_run.areas)
    patches = solihull_run.patches
    open_areas = table.index[table[PATCH_ID].map(patches[PHASE]) > 1]  # not under a recommended patch's fill
    need_fills = page.evaluate(FILLS, maps.CLASS_AREA)
    assert len(need_fills) == n_areas
    assert _legend_shown(page)[0].startswith(maps.LAYER_NEED)
    # the map opens fitted to the LA: every area is drawn inside the map's box
    view = _map_view(page)
    west, south, east, north = solihull_run.areas.to_crs(WGS84).total_bounds
    assert view["south"] <= south and view["west"] <= west and view["north"] >= north and view["east"] >= east
    seen = [need_fills]
    for spec in solihull_run.config.need.indicators:
        label = spec.label or spec.name
        page.get_by_label(label, exact=True).check()
        fills = page.evaluate(FILLS, maps.CLASS_AREA)
        assert len(fills) == n_areas
        assert all(fills != other for other in seen)  # a new colouring, not the last one again
        assert all(f.startswith("#") for f in fills)
        seen.append(fills)
        shown = _legend_shown(page)
        assert len(shown) == 1 and shown[0].startswith(label)
        code = table.loc[open_areas, f"value_{spec.name}"].idxmax()  # a dark area: its value in the tooltip
        _, text = opened.hover(*_point(solihull_run.areas, code), zoom=16)
        assert code in text and f"{label}\t{maps.format_value(table.at[code, f'value_{spec.name}'])}" in text
    page.get_by_label(maps.LAYER_NEED).check()
    assert page.evaluate(FILLS, maps.CLASS_AREA) == need_fills
    opened.assert_clean()


def test_profiles_layer_shows_its_legend(open_map, solihull_run, full_map):
    opened = open_map(full_map)
    page = opened.page
    profiles = solihull_run.areas["need_profile"]
    page.get_by_label(maps.LAYER_PROFILES).check()
    shown = _legend_shown(page)
    assert len(shown) == 1 and shown[0].startswith(maps.LAYER_PROFILES)
    for name, n in profiles.value_counts().items():
        assert f"{name} ({n} areas)" in shown[0]
    fills = page.evaluate(FILLS, maps.CLASS_AREA)
    assert set(fills) <= set(maps.PROFILE_COLOURS) and len(set(fills)) == profiles.nunique()
    code = profiles.index[profiles.index.map(solihull_run.areas[PATCH_ID].map(solihull_run.patches[PHASE])) > 1][0]
    _, text = opened.hover(*_point(solihull_run.areas, code), zoom=16)
    assert f"Need profile\t{profiles[code]}" in text
    opened.assert_clean()


def test_search_finds_a_patch_and_zooms_to_it(open_map, solihull_run, full_map):
    opened = open_map(full_map)
    page = opened.page
    patches = solihull_run.patches
    pid = patches.sort_values(RANK).index[-1]
    name = patches.at[pid, PATCH_NAME]
    before = _map_view(page)
    box = page.get_by_label("Find a place")
    box.fill(name[1:8].upper())  # part of the name, any case
    result = page.get_by_role("button", name=f"{pid} {name}")
    expect(result).to_be_visible()
    expect(page.locator("#lacgeo-search-status")).to_contain_text("match")
    result.click()
    after = _map_view(page)
    assert after["zoom"] > before["zoom"]
    lat, lon = _point(patches, pid)
    assert after["south"] < lat < after["north"] and after["west"] < lon < after["east"]
    text = _popup_text(page)
    assert pid in text and name in text and "Need rank" in text and "Population band" in text  # the patch's tooltip
    opened.assert_clean()


def test_search_works_from_the_keyboard(open_map, solihull_run, full_map):
    opened = open_map(full_map)
    page = opened.page
    areas = solihull_run.areas
    code = areas.index[len(areas) // 2]
    before = _map_view(page)
    page.get_by_label("Find a place").focus()
    page.keyboard.type(code.lower())
    expect(page.locator("#lacgeo-search-results button")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("() => document.activeElement.textContent")
    assert focused.startswith(f"{areas.at[code, AREA_NAME]} ({code})")
    page.keyboard.press("Enter")
    assert _map_view(page)["zoom"] > before["zoom"]
    text = _popup_text(page)
    assert code in text and areas.at[code, AREA_NAME] in text and "Need index" in text
    page.keyboard.press("Escape")  # back to the box
    assert page.evaluate("() => document.activeElement.id") == "lacgeo-search-input"
    # a ward: no shape of its own, a popup naming it
    ward = areas[WARD_NAME].iloc[0]
    page.get_by_label("Find a place").fill(ward)
    page.get_by_role("button", name=f"{ward} ({map_widgets.KIND_WARD})").click()
    assert f"{ward}\n{map_widgets.KIND_WARD}: " in _popup_text(page)
    page.get_by_label("Find a place").fill("zzzz no such place")
    expect(page.locator("#lacgeo-search-status")).to_have_text("No place matches.")
    opened.assert_clean()


def test_search_shows_hostile_names_as_text(open_map, hostile):
    path, areas, patches = hostile
    opened = open_map(path)
    page = opened.page
    box = page.get_by_label("Find a place")
    for text in HOSTILE:
        box.fill(text[:12])
        buttons = page.locator("#lacgeo-search-results button").all_text_contents()
        assert any(b.startswith(text) for b in buttons), buttons  # a ward, a neighbourhood, an LSOA of that name
        pid = patches.index[patches[PATCH_NAME] == text][0]
        page.get_by_role("button", name=f"{pid} {text}").click()
        assert text in _popup_text(page)
    assert page.locator("img").count() == 0
    page.wait_for_timeout(200)  # give any injected handler a chance to fire
    opened.assert_clean()


def test_withheld_council_value_shows_withheld(open_map, council):
    path, result, small = council
    opened = open_map(path)
    page = opened.page
    page.get_by_label(COUNCIL_LABEL, exact=True).check()  # the label is text, not markup
    shown = _legend_shown(page)
    assert len(shown) == 1 and shown[0].startswith(COUNCIL_LABEL) and "Withheld (small number)" in shown[0]
    under, text = opened.hover(*_point(result.areas, small), zoom=16)
    assert maps.CLASS_AREA in under
    assert small in text and f"{COUNCIL_LABEL}\t{map_widgets.WITHHELD_TEXT}" in text
    fill = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).getAttribute('fill')",
        opened.to_screen(*_point(result.areas, small), 16),
    )
    assert fill == map_widgets.WITHHELD_FILL
    # an area whose value is shown
    table = area_table(result)
    code = table["value_demand"].dropna().index[0]
    _, text = opened.hover(*_point(result.areas, code), zoom=16)
    assert f"{COUNCIL_LABEL}\t{maps.format_value(table.at[code, 'value_demand'])}" in text
    assert page.locator("i").count() == 0
    opened.assert_clean()


@pytest.mark.parametrize("which", ["solihull_out", "full_map"])
def test_axe_finds_no_violations(open_map, which, request):
    path = request.getfixturevalue(which)
    opened = open_map(path / "map.html" if path.is_dir() else path)
    page = opened.page
    page.locator("details.lacgeo-table summary").click()  # check the table too
    if which == "full_map":
        page.get_by_label("Find a place").fill("sh")  # and the search results
        expect(page.locator("#lacgeo-search-results button").first).to_be_visible()
    found = axe_violations(page)
    assert found == [], found
    opened.assert_clean()


def test_patch_tooltips_carry_profile_and_robustness(solihull_run):
    from lacgeo.outputs.map import make_result_map

    html = make_result_map(solihull_run, title="t").get_root().render()
    assert "When weights and data vary" in html and "Need profile of most residents" in html
    top = solihull_run.recommended.iloc[0]
    assert f"in the top 3 in {top['p_top_n']:.0%} of draws; rank {top['rank_low']}-{top['rank_high']}" in html


@pytest.mark.slow
def test_an_empty_recommendation_is_written_and_drawn(open_map, tmp_path):
    """The Isles of Scilly (2,226 people) cannot hold one patch in the band: no pick is possible,
    and every writer still works; the map draws its one patch offline, with no script error."""
    result = lacgeo.run(lacgeo.make_config(la="E06000053"), out=tmp_path / "scilly")
    assert result.recommended.empty and len(result.patches) == 1
    assert result.summary().splitlines()[1] == "Phase 1: no patch could be recommended"
    out = tmp_path / "scilly"
    assert {p.name for p in out.iterdir()} >= {"map.html", "report.html", "lacgeo.xlsx", "lacgeo.gpkg", "run.json"}
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "No patch could be recommended for phase 1: only 0 of the 3 requested picks could be placed" in report
    opened = open_map(out / "map.html")
    assert opened.page.locator(f"path.{maps.CLASS_PATCH}").count() == 1
    assert opened.page.locator(f"path.{maps.CLASS_RECOMMENDED}").count() == 0
    opened.assert_clean()


def test_the_map_draws_district_boundaries(two_districts, open_map):
    _, out = two_districts
    page = open_map(out / "map.html").page
    assert page.locator("path.lacgeo-district").count() == 2
    assert "District boundaries" in page.locator(".leaflet-control-layers").inner_text()
